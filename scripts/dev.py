"""The project's own set-up and entry points: `make demo`, `make test`, `make bench`.

Creates `.venv` beside this checkout with the Python that runs this script (3.11+), installs
notifica and its development tools into it (again whenever the packaging files change), then
runs the requested job inside it. Only the standard library is used here, so a fresh machine
needs nothing but Python.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".notifica-install-stamp"
PACKAGING = ["pyproject.toml", "setup.py"]
NATIVE_SOURCES = "src/notifica/matching/_native"


def _packaging_digest() -> str:
    digest = hashlib.sha256(sys.version.encode())
    paths = [ROOT / name for name in PACKAGING]
    native = ROOT / NATIVE_SOURCES
    if native.is_dir():
        paths += sorted(p for p in native.rglob("*") if p.is_file())
    for path in paths:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may run under an older python3
        sys.exit(f"notifica needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = _packaging_digest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing notifica and its development tools into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def run(*argv: str) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(list(argv), cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def check_static() -> None:
    run("ruff", "check", "src", "tests", "bench", "scripts")
    run("ruff", "format", "--check", "src", "tests", "bench", "scripts")
    run("mypy")
    run("lint-imports")


def main(argv: list[str]) -> None:
    job, rest = (argv[0], argv[1:]) if argv else ("test", [])
    ensure_environment()
    if job == "setup":
        return
    if job == "test":
        check_static()
        run("python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", *rest)
    elif job == "test-fast":
        run("python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-m", "not slow", *rest)
    elif job == "lint":
        check_static()
    elif job == "demo":
        run("notifica", "sim", "run", *rest)
    elif job == "bench":
        for script in sorted((ROOT / "bench").glob("*.py")):
            run("python", str(script), *rest)
    else:
        sys.exit(f"unknown job {job!r}: use setup, test, test-fast, lint, demo or bench")


if __name__ == "__main__":
    main(sys.argv[1:])
