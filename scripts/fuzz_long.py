#!/usr/bin/env python3
"""The long variant of the CI fuzzers: the same tests with a bigger Hypothesis budget.

Runs ``tests/reliability/test_fuzz.py`` (export reader, advertisement parser, OTP
validator, attestation verifier) with ``--examples`` examples per test, and schemathesis
over every operation of ``/openapi.json`` (``tests/server/test_openapi.py``) and along its
links (``tests/reliability/test_api_stateful.py``) with ``--api-examples`` per operation
and state-machine run. Exit status is pytest's.

    .venv/bin/python scripts/fuzz_long.py --examples 20000 --api-examples 500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="per parser test")
    parser.add_argument("--api-examples", type=int, default=300, help="per API operation")
    parser.add_argument("--skip-api", action="store_true", help="parsers only")
    args = parser.parse_args()
    env = dict(
        os.environ,
        NOTIFICA_FUZZ_EXAMPLES=str(args.examples),
        NOTIFICA_SCHEMATHESIS_EXAMPLES=str(args.api_examples),
    )
    targets = ["tests/reliability/test_fuzz.py"]
    if not args.skip_api:
        targets += ["tests/server/test_openapi.py", "tests/reliability/test_api_stateful.py"]
    command = [sys.executable, "-m", "pytest", *targets, "-n", "0", "-q", "--durations=0"]
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
