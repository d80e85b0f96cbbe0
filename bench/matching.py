"""Matching throughput: pure path, native kernel, exponot and the C limit, in one run.

Prints, for deriving the 144 RPIs of each key (HKDF + AES, the work `openssl speed` bounds):
pure-path keys/s, native keys/s, exponot keys/s (PyPI, a published Python GAEN implementation,
installed only into `.venv-bench` and run with TZ=UTC), and the C limit from `openssl speed`
measured in this same run (two HMAC-SHA256 over 16 bytes plus AES-128-ECB over 2,304 bytes per
key, peers.md §6.1), each as a ratio to the limit; then the time for one phone to match
1,000,000 keys against 50,000 observed identifiers. Everything runs on one core (one thread).

    python bench/matching.py [--keys 1000000] [--observations 50000] [--pure-keys 20000]
                             [--exponot-keys 300] [--no-exponot] [--openssl-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import venv
from array import array
from collections.abc import Callable
from pathlib import Path

from notifica.matching import (
    DerivedIdentifiers,
    NativeBackend,
    Observations,
    PythonBackend,
    backend_info,
)
from notifica.matching._native import load_kernel
from notifica.protocol import DiagnosisKeyBatch

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
START = 2_650_032  # a UTC-midnight-aligned ENIN in 2020 (2,650,032 mod 144 = 0)

EXPONOT_SNIPPET = """
import json, os, sys, time
from exponot.exponot import rolling_proximity_identifier
keys = [os.urandom(16) for _ in range(int(sys.argv[1]))]
seen = set(os.urandom(16) for _ in range(50_000))
start = 2_650_032
t = time.perf_counter()
for tek in keys:
    # exponot's API derives one RPI per call (HKDF + AES each time): 144 calls per key.
    for interval in range(start, start + 144):
        rolling_proximity_identifier(interval, tek)
derive = time.perf_counter() - t
t = time.perf_counter()
for tek in keys:
    for interval in range(start, start + 144):
        if rolling_proximity_identifier(interval, tek) in seen:
            pass
match = time.perf_counter() - t
print(json.dumps({"derive_keys_per_s": len(keys) / derive, "match_keys_per_s": len(keys) / match}))
"""


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    flags = re.search(r"flags\s*:\s*(.+)", cpuinfo)
    wanted = ("aes", "sha_ni", "avx2", "avx512f", "vaes", "pclmulqdq")
    present = [f for f in wanted if flags and f in flags.group(1).split()]
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False)
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "flags": present,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "openssl": openssl.stdout.strip(),
        "load_average_at_start": os.getloadavg(),
    }


def openssl_rate(args: list[str], seconds: int) -> float:
    """Bytes per second from the last row of `openssl speed` (figures are in 1000s of B/s)."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    last = [line for line in out.splitlines() if line.strip()][-1]
    return float(last.split()[-1].rstrip("k")) * 1000


def c_limit(seconds: int) -> dict[str, float]:
    hmac_bps = openssl_rate(["-bytes", "16", "-hmac", "sha256"], seconds)
    aes_bps = openssl_rate(["-bytes", "2304", "-evp", "aes-128-ecb"], seconds)
    hmac_per_s, aes_per_s = hmac_bps / 16, aes_bps / 2304
    return {
        "hmac_sha256_16B_per_s": hmac_per_s,
        "aes128_ecb_2304B_per_s": aes_per_s,
        "keys_per_s": 1 / (2 / hmac_per_s + 1 / aes_per_s),
    }


def random_batch(rng: random.Random, count: int) -> DiagnosisKeyBatch:
    return DiagnosisKeyBatch(
        key_data=rng.randbytes(16 * count),
        rolling_start_interval_numbers=array("i", [START]) * count,
        rolling_periods=array("i", [144]) * count,
    )


def phone(rng: random.Random, derived: DerivedIdentifiers, count: int) -> Observations:
    """A phone that saw `count` identifiers: 1 % of them RPIs of the keys, the rest strangers."""
    rows = [rng.randbytes(16) for _ in range(count)]
    for i in range(0, count, 100):
        rpis = derived.rpis_of(rng.randrange(len(derived)))
        j = rng.randrange(144)
        rows[i] = rpis[j * 16 : (j + 1) * 16]
    return Observations(rpis=b"".join(rows), intervals=array("I", [START + 72]) * count)


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run_exponot(keys: int) -> dict[str, float]:
    python = BENCH_VENV / "bin" / "python"
    probe = [str(python), "-c", "import exponot.exponot"]
    if not python.exists() or subprocess.run(probe, capture_output=True, check=False).returncode:
        print(f"creating {BENCH_VENV} with exponot (bench only, not a notifica dependency)")
        venv.EnvBuilder(with_pip=True, clear=True).create(BENCH_VENV)
        # exponot 0.0.5 imports pycryptodome and cryptography without declaring them.
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "exponot==0.0.5", "pycryptodome", "cryptography"], check=True)
    out = subprocess.run(
        [str(python), "-c", EXPONOT_SNIPPET, str(keys)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": "UTC"},
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--observations", type=int, default=50_000)
    parser.add_argument("--pure-keys", type=int, default=20_000)
    parser.add_argument("--exponot-keys", type=int, default=300)
    parser.add_argument("--no-exponot", action="store_true")
    parser.add_argument("--openssl-seconds", type=int, default=2)
    args = parser.parse_args()
    kernel = load_kernel()
    if kernel is None:
        sys.exit("the native kernel is not built: run `make setup` with a C compiler")
    rng = random.Random(2020_04_02)
    results: dict[str, object] = {"machine": machine(), "backend_info": dict(backend_info())}
    limit = c_limit(args.openssl_seconds)
    results["c_limit"] = limit

    pure, native = PythonBackend(), NativeBackend()
    pure_batch = random_batch(rng, args.pure_keys)
    rates = {"pure": args.pure_keys / timed(lambda: pure.derive(pure_batch))}

    # The kernel on 200,000 keys into a reused buffer, best of 3 (the figure openssl bounds).
    sample = random_batch(rng, min(args.keys, 200_000))
    out = bytearray(len(sample) * 2304)
    keys, starts = sample.key_data, sample.rolling_start_interval_numbers
    best = min(timed(lambda: kernel.derive_rpis(keys, starts, out)) for _ in range(3))
    rates["native"] = len(sample) / best

    if not args.no_exponot:
        exponot = run_exponot(args.exponot_keys)
        rates["exponot"] = exponot["derive_keys_per_s"]
        results["exponot_match_keys_per_s"] = exponot["match_keys_per_s"]

    results["derive_keys_per_s"] = rates
    results["ratio_to_c_limit"] = {k: rate / limit["keys_per_s"] for k, rate in rates.items()}
    results["native_vs_pure"] = rates["native"] / rates["pure"]

    # One phone, --keys keys, --observations sightings.
    batch = random_batch(rng, args.keys)
    start = time.perf_counter()
    derived = native.derive(batch)
    derive_s = time.perf_counter() - start
    obs = phone(rng, derived, args.observations)
    pure_sample = random_batch(rng, args.pure_keys)
    results["phone"] = {
        "keys": args.keys,
        "observations": args.observations,
        "native_one_pass_s": timed(lambda: native.match_batch(batch, obs)),
        "native_derive_shared_table_s": derive_s,
        "native_scan_of_shared_table_s": timed(
            lambda: native.match(derived, obs, direction="scan")
        ),
        "native_index_build_plus_first_phone_s": timed(lambda: native.match(derived, obs)),
        "native_each_further_phone_s": timed(lambda: native.match(derived, obs)),
        "pure_one_pass_s_extrapolated": timed(lambda: pure.match_batch(pure_sample, obs))
        * args.keys
        / args.pure_keys,
        "load_average_at_end": os.getloadavg(),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
