"""Cost of the Bluetooth advertisement, OTP and calibration-table code against plain baselines.

Each line prints the time per call and its ratio to a baseline measured in the same run, so
the figures compare across machines:

- advertisement parse vs slicing RPI and AEM at fixed offsets (what a parser that trusted its
  input would do); build vs one ``bytes`` concatenation;
- OTP validate vs one SHA-256 of the code; generate vs drawing 18 bytes from ``secrets``;
- calibration table from_csv (11,809 rows) vs ``csv.reader`` over the same text.

    python bench/bench_ble_otp.py [--quick]
"""

from __future__ import annotations

import csv
import hashlib
import io
import platform
import secrets
import sys
import timeit
from collections.abc import Callable
from importlib import resources

from notifica.phone.calibration import DEFAULT_TABLE_NAME, CalibrationTable
from notifica.protocol import build_advertisement, generate_otp, parse_advertisement, validate_otp

RPI = bytes.fromhex("8be6cd371c5c891604bfbe49df845096")
AEM = bytes.fromhex("72033874")
ADVERTISEMENT = build_advertisement(RPI, AEM)
HEADER = bytes.fromhex("02011a03036ffd17166ffd")


def _per_call(func: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=5)) / number


def _line(name: str, func: Callable[[], object], baseline: Callable[[], object], n: int) -> None:
    took, base = _per_call(func, n), _per_call(baseline, n)
    print(f"{name:<34} {took * 1e6:9.2f} µs   baseline {base * 1e6:9.2f} µs   ×{took / base:6.1f}")


def main(argv: list[str]) -> None:
    scale = 10 if "--quick" in argv else 1
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    _line(
        "parse_advertisement",
        lambda: parse_advertisement(ADVERTISEMENT),
        lambda: (ADVERTISEMENT[11:27], ADVERTISEMENT[27:31]),
        50_000 // scale,
    )
    _line(
        "build_advertisement",
        lambda: build_advertisement(RPI, AEM),
        lambda: HEADER + RPI + AEM,
        50_000 // scale,
    )
    _line(
        "validate_otp",
        lambda: validate_otp("9K2-RAY8-UUQ"),
        lambda: hashlib.sha256(b"9K2RAY8UUQ").hexdigest(),
        20_000 // scale,
    )
    _line("generate_otp", generate_otp, lambda: secrets.token_bytes(18), 20_000 // scale)
    text = resources.files("notifica.phone").joinpath("data", DEFAULT_TABLE_NAME).read_text()
    _line(
        "CalibrationTable.from_csv",
        lambda: CalibrationTable.from_csv(text),
        lambda: list(csv.reader(io.StringIO(text))),
        max(1, 5 // scale),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
