"""The fast columnar key reader agrees with the per-key reader, and is taken when it should be."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifica.protocol import (
    EXPORT_HEADER,
    KeyColumns,
    ReportType,
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    read_export,
    write_export_bin,
)
from notifica.protocol import _export_columns as columns_module
from notifica.protocol import _export_pb2 as pb


def as_tuple(columns: KeyColumns) -> tuple[Any, ...]:
    batch = columns.batch
    return (
        batch.key_data,
        list(batch.rolling_start_interval_numbers),
        list(batch.rolling_periods),
        list(columns.transmission_risk_levels),
        list(columns.report_types),
        [
            d if h else None
            for d, h in zip(columns.days_since_onset, columns.has_onset, strict=True)
        ],
    )


def both_paths(export_bin: bytes) -> tuple[dict[str, KeyColumns], dict[str, KeyColumns]]:
    message = pb.TemporaryExposureKeyExport()
    message.ParseFromString(export_bin[16:])
    fast, _ = columns_module.read_key_columns(export_bin, message, header_length=16)
    general = {
        name: columns_module._general_columns(getattr(message, name), name)[0]
        for name in ("keys", "revised_keys")
    }
    return fast, general


@st.composite
def uniform_keys(draw: st.DrawFn) -> tuple[TemporaryExposureKey, ...]:
    """Keys that share one wire layout, as an Immuni-like publisher writes them."""
    report_type = draw(st.none() | st.sampled_from(list(ReportType)[1:]))
    with_onset = draw(st.booleans())
    short_period = draw(st.booleans())
    count = draw(st.integers(1, 40))
    return tuple(
        TemporaryExposureKey(
            key_data=draw(st.binary(min_size=16, max_size=16)),
            rolling_start_interval_number=draw(st.integers(2**21, 2**28 - 1)),
            rolling_period=draw(st.integers(1, 127) if short_period else st.integers(128, 144)),
            transmission_risk_level=draw(st.integers(0, 8)),
            report_type=report_type or ReportType.UNKNOWN,
            days_since_onset_of_symptoms=draw(st.integers(-14, 14)) if with_onset else None,
        )
        for _ in range(count)
    )


def export_of(
    keys: tuple[TemporaryExposureKey, ...], revised: tuple[TemporaryExposureKey, ...] = ()
) -> bytes:
    return write_export_bin(
        TemporaryExposureKeyExport(
            start_timestamp=1, end_timestamp=2, region="IT", keys=keys, revised_keys=revised
        )
    )


@given(uniform_keys(), uniform_keys())
@settings(max_examples=100, deadline=None)
def test_uniform_layouts_take_the_fast_path_and_agree(
    keys: tuple[TemporaryExposureKey, ...], revised: tuple[TemporaryExposureKey, ...]
) -> None:
    data = export_of(keys, revised)
    start = data.index(b"\x3a", 16 + 6)  # after start/end timestamps and region
    assert columns_module._uniform_columns(data, start, len(keys), 0x3A) is not None
    fast, general = both_paths(data)
    for name in ("keys", "revised_keys"):
        assert as_tuple(fast[name]) == as_tuple(general[name])
    assert read_export(data).export.keys == keys


any_keys = st.lists(
    st.builds(
        TemporaryExposureKey,
        key_data=st.binary(min_size=16, max_size=16),
        rolling_start_interval_number=st.integers(0, 2**31 - 1),
        rolling_period=st.integers(1, 144),
        transmission_risk_level=st.integers(0, 8),
        report_type=st.sampled_from(ReportType),
        days_since_onset_of_symptoms=st.none() | st.integers(-(2**31), 2**31 - 1),
    ),
    max_size=30,
).map(tuple)


@given(any_keys, any_keys)
@settings(max_examples=100, deadline=None)
def test_any_layout_reads_the_same_on_both_paths(
    keys: tuple[TemporaryExposureKey, ...], revised: tuple[TemporaryExposureKey, ...]
) -> None:
    fast, general = both_paths(export_of(keys, revised))
    for name in ("keys", "revised_keys"):
        assert as_tuple(fast[name]) == as_tuple(general[name])


def record(fields: bytes) -> bytes:
    return b"\x3a" + bytes([len(fields)]) + fields


def test_layout_break_in_the_middle_falls_back_to_the_general_path() -> None:
    base = b"\x0a\x10" + bytes(16) + b"\x10\x08\x18\xf0\xe9\xa1\x01"
    odd = b"\x0a\x10" + bytes(16) + b"\x10\x08\x18\xf0\xe9\xa1\x01\x20\x05"
    data = EXPORT_HEADER + record(base) * 3 + record(odd) + record(base)
    file = read_export(data)
    assert list(file.key_batch.rolling_periods) == [144, 144, 144, 5, 144]


def test_duplicate_and_unknown_fields_follow_protobuf_semantics() -> None:
    # Last value wins for a repeated scalar; unknown field 8 (ENS variant_of_concern) ignored.
    twice = b"\x0a\x10" + bytes(16) + b"\x20\x05\x20\x07"
    unknown = b"\x0a\x10" + bytes(16) + b"\x40\x02"
    data = EXPORT_HEADER + record(twice) * 2 + record(unknown) * 2
    file = read_export(data)
    assert list(file.key_batch.rolling_periods) == [7, 7, 144, 144]


def test_out_of_range_report_type_reads_as_unknown_like_upb() -> None:
    # proto2 enums are closed: an unknown value is not the field's value.
    fields = b"\x0a\x10" + bytes(16) + b"\x28\x09"
    file = read_export(EXPORT_HEADER + record(fields) * 3)
    assert list(file.keys.report_types) == [0, 0, 0]


def test_keys_after_revised_keys_and_interleaved_fields_read_correctly() -> None:
    key = b"\x0a\x10" + bytes(range(16)) + b"\x10\x01"
    revised = b"\x42" + bytes([len(key)]) + key
    data = EXPORT_HEADER + revised + record(key) + b"\x1a\x02IT" + record(key) + revised
    file = read_export(data)
    assert len(file.key_batch) == 2
    assert len(file.revised_key_batch) == 2
    assert file.metadata.region == "IT"


def test_read_export_does_not_touch_per_key_objects_for_a_uniform_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = tuple(
        TemporaryExposureKey(
            key_data=bytes([i]) * 16, rolling_start_interval_number=2650000 + 144 * (i % 14)
        )
        for i in range(200)
    )
    data = export_of(keys)
    real = columns_module._general_columns

    def only_empty(messages: Any, field: str) -> Any:
        assert len(messages) == 0, f"general path used for {len(messages)} {field}"
        return real(messages, field)

    monkeypatch.setattr(columns_module, "_general_columns", only_empty)
    assert read_export(data).export.keys == keys
