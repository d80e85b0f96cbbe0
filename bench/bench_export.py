"""Key-export files at scale: write + sign, then read into a DiagnosisKeyBatch.

    python bench/bench_export.py [--keys 1000000]

Baselines, measured in the same run on the same bytes:
- "protobuf parse": upb's ParseFromString of export.bin alone (no key reaches Python);
- "per-key objects": parse and touch every key through its protobuf wrapper, as Python GAEN
  readers do (protocol.md §16.1 "object per key").
Reading is shown for a uniform file (every key carries the same fields, as Immuni writes them)
and a mixed one (rolling periods below and above 127 mix varint widths: the general path).
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from notifica.protocol import (
    IMMUNI_SIGNATURE_INFO,
    EcdsaSigner,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    generate_signing_key_pem,
    read_export,
    write_export_bin,
    write_export_zip,
)
from notifica.protocol import _export_pb2 as pb

T = TypeVar("T")


def timed(label: str, function: Callable[[], T], count: int) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:8.3f} s  {count / elapsed:>12,.0f} keys/s")
    return result, elapsed


def make_keys(count: int, *, mixed: bool) -> tuple[TemporaryExposureKey, ...]:
    rng = random.Random(7)
    day = 2_663_136
    return tuple(
        TemporaryExposureKey(
            key_data=rng.randbytes(16),
            rolling_start_interval_number=day - 144 * rng.randrange(14),
            rolling_period=rng.choice((144, 60)) if mixed else 144,
            transmission_risk_level=8,
        )
        for _ in range(count)
    )


def per_key_objects(export_bin: bytes) -> int:
    message = pb.TemporaryExposureKeyExport()
    message.ParseFromString(export_bin[16:])
    total = 0
    for key in message.keys:
        total += len(key.key_data) + key.rolling_start_interval_number + key.rolling_period
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    count = parser.parse_args().keys
    print(f"{count:,} keys; Python {platform.python_version()} on {platform.machine()}")

    keys, _ = timed(
        "build TemporaryExposureKey objects", lambda: make_keys(count, mixed=False), count
    )
    export = TemporaryExposureKeyExport(
        start_timestamp=1598194804, end_timestamp=1598209206, region="222", keys=keys
    )
    signer = EcdsaSigner.from_pem(generate_signing_key_pem(), signature_info=IMMUNI_SIGNATURE_INFO)
    export_bin, _ = timed("write_export_bin", lambda: write_export_bin(export), count)
    zipped, write_s = timed(
        "write_export_zip (serialize + sign + DEFLATE)",
        lambda: write_export_zip(export, [signer]),
        count,
    )
    print(f"  export.bin {len(export_bin):,} bytes, zip {len(zipped):,} bytes")

    def parse_only() -> object:
        message = pb.TemporaryExposureKeyExport()
        message.ParseFromString(export_bin[16:])
        return message

    _, parse_s = timed("baseline: protobuf parse of export.bin", parse_only, count)
    _, objects_s = timed(
        "baseline: per-key protobuf objects", lambda: per_key_objects(export_bin), count
    )
    file, _ = timed("read_export(zip) -> key_batch, uniform", lambda: read_export(zipped), count)
    assert len(file.key_batch) == count
    _, bin_s = timed("read_export(export.bin), uniform", lambda: read_export(export_bin), count)

    mixed = write_export_bin(replace(export, keys=make_keys(count, mixed=True)))
    mixed_file, mixed_s = timed(
        "read_export(export.bin), mixed layouts", lambda: read_export(mixed), count
    )
    assert len(mixed_file.key_batch) == count

    print(f"read uniform / protobuf parse: {bin_s / parse_s:5.2f}x the time")
    print(f"per-key objects / read uniform: {objects_s / bin_s:5.2f}x faster")
    print(f"per-key objects / read mixed:   {objects_s / mixed_s:5.2f}x")
    print(f"write + sign + zip: {write_s:.2f} s for {count:,} keys")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
