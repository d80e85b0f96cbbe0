"""Fuzzing: mutated and truncated exports raise only the documented errors, and both key readers
agree on whatever still parses (h11's fuzz idea, with Hypothesis driving the mutations)."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifica.protocol import (
    EXPORT_HEADER,
    IMMUNI_SIGNATURE_INFO,
    ExportLimits,
    MalformedExport,
    ProtocolError,
    ReportType,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    check_export_signature,
    read_export,
    write_export_bin,
)
from notifica.protocol import _export_columns as columns_module
from notifica.protocol import _export_pb2 as pb

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gaen-exports"
LIMITS = ExportLimits(max_file_bytes=1 << 20, max_export_bin_bytes=1 << 20)
PUBLIC_KEY = (FIXTURES / "google-exposure-notifications-internals/310-v1_public.pem").read_bytes()

GENERATED = write_export_bin(
    TemporaryExposureKeyExport(
        start_timestamp=1598194804,
        end_timestamp=1598209206,
        region="222",
        signature_infos=(IMMUNI_SIGNATURE_INFO,),
        keys=tuple(
            TemporaryExposureKey(
                key_data=bytes([i]) * 16,
                rolling_start_interval_number=2663136 + i,
                rolling_period=144 - i,
                transmission_risk_level=i % 9,
                report_type=ReportType(i % 6),
                days_since_onset_of_symptoms=i - 5 if i % 2 else None,
            )
            for i in range(12)
        ),
        revised_keys=(TemporaryExposureKey(key_data=b"r" * 16, rolling_start_interval_number=5),),
    )
)
SEEDS = sorted(p.read_bytes() for p in FIXTURES.glob("*/*") if p.suffix in (".zip", ".bin"))
BINS = [s for s in SEEDS if s.startswith(EXPORT_HEADER)] + [GENERATED]
SIGS = [zipfile.ZipFile(io.BytesIO(s)).read("export.sig") for s in SEEDS if s.startswith(b"PK")]


def zip_of(export_bin: bytes, export_sig: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.bin", export_bin)
        if export_sig is not None:
            archive.writestr("export.sig", export_sig)
    return buffer.getvalue()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "copy"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if operation == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "set" and data:
            data[position] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x3A, 0x0A, 0x10]))
        elif operation == "truncate":
            del data[position:]
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=12))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        elif operation == "copy" and data:
            length = draw(st.integers(1, 64))
            data[position:position] = data[position : position + length]
    return bytes(data)


def exercise(data: bytes) -> None:
    """Everything a phone or `keys inspect` does with a downloaded file."""
    try:
        file = read_export(data, limits=LIMITS, allow_extra_entries=True)
    except MalformedExport:
        return
    file.export  # noqa: B018 - every parsed key must make a valid value object
    with contextlib.suppress(ProtocolError):
        check_export_signature(
            file,
            {("310", "v1"): PUBLIC_KEY},
            fallback_keys=[PUBLIC_KEY],
            allowed_curves=("secp256r1", "secp256k1"),
        )
    message = pb.TemporaryExposureKeyExport()
    message.ParseFromString(file.export_bin[16:])
    for name in ("keys", "revised_keys"):
        general, _ = columns_module._general_columns(getattr(message, name), name)
        fast = getattr(file, name)
        assert fast.batch.key_data == general.batch.key_data
        assert fast.batch.rolling_periods == general.batch.rolling_periods
        assert fast.batch.rolling_start_interval_numbers == (
            general.batch.rolling_start_interval_numbers
        )
        assert fast.report_types == general.report_types
        assert fast.has_onset == general.has_onset


FUZZ = settings(
    max_examples=3500,  # three tests: 10,500 mutated files in all
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@given(mutated(SEEDS))
@FUZZ
def test_mutated_files_raise_only_documented_errors(data: bytes) -> None:
    exercise(data)


@given(mutated(BINS))
@FUZZ
def test_mutated_export_bins_in_valid_zips_raise_only_documented_errors(data: bytes) -> None:
    exercise(data)
    exercise(zip_of(data))


@given(mutated(BINS), mutated(SIGS))
@FUZZ
def test_mutated_signature_lists_raise_only_documented_errors(
    export_bin: bytes, export_sig: bytes
) -> None:
    exercise(zip_of(export_bin, export_sig))
