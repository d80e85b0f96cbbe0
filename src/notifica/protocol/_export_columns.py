"""Diagnosis keys of an export as columns, read without one Python object per key.

A file may hold 10⁵–10⁶ keys (protocol.md §12.10, §15.3). protobuf's parser (upb, in C) reads
the whole message quickly, but touching each key through its Python wrapper costs about 2 µs,
seconds per million keys. So, after upb has parsed and validated the message, the key columns
are cut straight out of the wire bytes when the keys share one layout, which is what
serializers emit for files whose keys carry the same fields:

    3a L | 0a 10 <16 bytes key_data> | 10 <trl> | 18 <rsin> | 20 <period> | 28 <type> | 30 <onset>

(each of the last five optional, in that order, varints of fixed width). Every fixed byte and
every varint continuation bit of all N records is compared at once with strided slices,
and varints are decoded for all keys together by shifting one big integer per byte position.
This is exact, not a heuristic: when the N records starting at the first field-7 tag all
match the layout and upb counts N keys in total, these records are all the keys and the
layout fixes every value. Anything else — mixed layouts (ENS omits rolling_period when it is
144), unknown or repeated fields, out-of-range values — takes the general path, which reads
upb's per-key objects and validates each key like `TemporaryExposureKey` does, skipping (with
a reason) the keys that cannot be one.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, methodcaller
from typing import Any

from notifica.protocol._export_types import SkippedKey
from notifica.protocol._intervals import TEK_ROLLING_PERIOD
from notifica.protocol._key_batch import DiagnosisKeyBatch
from notifica.protocol._keys import KEY_LENGTH, ReportType, TemporaryExposureKey

__all__ = ["KeyColumns", "read_key_columns"]

_INT32_MAX = 2**31 - 1
_MAX_TRL = 8
_MAX_REPORT_TYPE = max(ReportType)
_HIGH_BIT = bytes(b & 0x80 for b in range(256))
_LOW_BITS = bytes(b & 0x7F for b in range(256))
_ZIGZAG_TO_INT8 = bytes(((b >> 1) ^ -(b & 1)) & 0xFF for b in range(128)) + bytes(128)
"""sint32 zigzag (protocol.md §12.5) of a one-byte varint, as the byte of a signed char."""

_TAG_KEY_DATA = 0x0A
_VARINT_FIELDS = {0x10: "trl", 0x18: "rsin", 0x20: "period", 0x28: "report_type", 0x30: "onset"}
"""Tags (field << 3 | wire type 0) of a key's varint fields, in field order (protocol.md §12.5)."""
_MAX_VARINT_WIDTH = {"trl": 4, "rsin": 4, "period": 4, "report_type": 1, "onset": 1}
"""Four 7-bit groups hold any value below 2^28 (rsin up to year 7074), so every column stays
non-negative int32; wider or signed encodings go to the general path."""


@dataclass(frozen=True, slots=True, eq=False)
class KeyColumns:
    """The valid keys of one list of an export (``keys`` or ``revised_keys``), as columns.

    ``batch`` has key data, start intervals and periods for derivation and matching; the other
    columns hold what scoring needs for the few keys that match. ``has_onset[i]`` is 1 when
    key i carries ``days_since_onset_of_symptoms``. ``file_indices`` maps each column position
    to the key's index in the file, or is None when no key was skipped (the identity).
    """

    batch: DiagnosisKeyBatch
    transmission_risk_levels: array[int]
    report_types: array[int]
    days_since_onset: array[int]
    has_onset: bytes
    file_indices: array[int] | None = None

    def __len__(self) -> int:
        return len(self.batch)

    def key_at(self, index: int) -> TemporaryExposureKey:
        """Key `index` (a column position) as a value object."""
        key_data = self.batch.key_data_at(index)
        return TemporaryExposureKey(
            key_data=key_data,
            rolling_start_interval_number=self.batch.rolling_start_interval_numbers[index],
            rolling_period=self.batch.rolling_periods[index],
            transmission_risk_level=self.transmission_risk_levels[index],
            report_type=ReportType(self.report_types[index]),
            days_since_onset_of_symptoms=(
                self.days_since_onset[index] if self.has_onset[index] else None
            ),
        )

    def to_keys(self) -> tuple[TemporaryExposureKey, ...]:
        """Every key as a value object: about 5 µs a key, so only for small files."""
        return tuple(self.key_at(i) for i in range(len(self)))


def _int_column(values: Sequence[int] | bytes) -> array[int]:
    return array("i", values)


def _filled(value: int, count: int) -> array[int]:
    return array("i", [value]) * count


def _varint_column(region: bytes, offset: int, width: int, stride: int, count: int) -> array[int]:
    """The values of a `width`-byte varint at `offset` of every record, or an empty array if
    some record's continuation bits do not give exactly that width."""
    lanes = bytearray(4 * count)
    total = 0
    for k in range(width):
        column = region[offset + k :: stride]
        expected = b"\x80" * count if k < width - 1 else bytes(count)
        if column.translate(_HIGH_BIT) != expected:
            return array("i")
        lanes[0::4] = column.translate(_LOW_BITS)
        total += int.from_bytes(lanes, "little") << (7 * k)
    values = array("i")
    values.frombytes(total.to_bytes(4 * count, "little"))
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _record_layout(record: bytes) -> list[tuple[str, int, int]] | None:
    """(field, offset, width) of each varint of one record, or None if it is not canonical."""
    if len(record) < 4 + KEY_LENGTH or record[2] != _TAG_KEY_DATA or record[3] != KEY_LENGTH:
        return None
    layout, position, names = [], 4 + KEY_LENGTH, list(_VARINT_FIELDS.items())
    while position < len(record):
        while names and names[0][0] != record[position]:
            names.pop(0)
        if not names:
            return None
        _, name = names.pop(0)
        start = position + 1
        end = start
        while end < len(record) and record[end] & 0x80:
            end += 1
        width = end + 1 - start
        if end >= len(record) or width > _MAX_VARINT_WIDTH[name]:
            return None
        layout.append((name, start, width))
        position = end + 1
    return layout


def _uniform_columns(
    data: bytes, start: int, count: int, tag: int
) -> tuple[KeyColumns, int] | None:
    """Columns of `count` same-layout records of field `tag` from `start` and the offset after
    them, or None."""
    if start + 2 > len(data) or data[start] != tag or data[start + 1] >= 0x80:
        return None
    stride = data[start + 1] + 2
    layout = _record_layout(data[start : start + stride])
    end = start + count * stride
    if layout is None or end > len(data):
        return None
    region = data[start:end]
    fixed = [(0, tag), (1, stride - 2), (2, _TAG_KEY_DATA), (3, KEY_LENGTH)]
    fixed += [(offset - 1, region[offset - 1]) for _, offset, _ in layout]
    if any(region[offset::stride] != bytes([value]) * count for offset, value in fixed):
        return None
    decoded: dict[str, array[int]] = {}
    for name, offset, width in layout:
        if len(values := _varint_column(region, offset, width, stride, count)) != count:
            return None
        decoded[name] = values
    key_data = bytearray(KEY_LENGTH * count)
    for j in range(KEY_LENGTH):
        key_data[j::KEY_LENGTH] = region[4 + j :: stride]
    trl = decoded.get("trl", _filled(0, count))
    rsin = decoded.get("rsin", _filled(0, count))
    period = decoded.get("period", _filled(TEK_ROLLING_PERIOD, count))
    report_type = decoded.get("report_type", _filled(0, count))
    if (
        max(trl) > _MAX_TRL
        or not 1 <= min(period) <= max(period) <= TEK_ROLLING_PERIOD
        or max(report_type) > _MAX_REPORT_TYPE  # proto2 closed enum: upb's rules apply
    ):
        return None
    if "onset" in decoded:
        onset_offset = {name: offset for name, offset, _ in layout}["onset"]
        onset_bytes = region[onset_offset::stride]
        onset = _int_column(array("b", onset_bytes.translate(_ZIGZAG_TO_INT8)))
        has_onset = b"\x01" * count
    else:
        onset, has_onset = _filled(0, count), bytes(count)
    columns = KeyColumns(
        batch=DiagnosisKeyBatch(
            key_data=bytes(key_data), rolling_start_interval_numbers=rsin, rolling_periods=period
        ),
        transmission_risk_levels=trl,
        report_types=report_type,
        days_since_onset=onset,
        has_onset=has_onset,
    )
    return columns, end


def _invalid_reason(key_data: bytes, rsin: int, period: int, trl: int) -> str | None:
    problems = []
    if len(key_data) != KEY_LENGTH:
        problems.append(f"key_data is {len(key_data)} bytes, expected {KEY_LENGTH}")
    if not 0 <= rsin <= _INT32_MAX:
        problems.append(f"rolling_start_interval_number is {rsin}, expected 0..2^31-1")
    if not 1 <= period <= TEK_ROLLING_PERIOD:
        problems.append(f"rolling_period is {period}, expected 1..{TEK_ROLLING_PERIOD}")
    if not 0 <= trl <= _MAX_TRL:
        problems.append(f"transmission_risk_level is {trl}, expected 0..{_MAX_TRL}")
    return "; ".join(problems) or None


_HAS_ONSET = methodcaller("HasField", "days_since_onset_of_symptoms")
_KEY_DATA = attrgetter("key_data")
_INT_FIELDS = tuple(
    attrgetter(name)
    for name in (
        "rolling_start_interval_number",
        "rolling_period",
        "transmission_risk_level",
        "report_type",
        "days_since_onset_of_symptoms",
    )
)
"""In `_general_columns`'s column order; `_invalid_reason` takes key data and the first three."""


def _general_columns(messages: Sequence[Any], field: str) -> tuple[KeyColumns, list[SkippedKey]]:
    """Columns from upb's per-key messages, with a reason for every key left out.

    The per-key work runs inside `map` (attribute getters, no Python loop body); only a file
    that has invalid keys pays for a Python loop, to name them.
    """
    if not messages:
        return _empty_columns(), []
    key_data = list(map(_KEY_DATA, messages))
    columns = [array("i", map(getter, messages)) for getter in _INT_FIELDS]
    has_onset = bytes(map(_HAS_ONSET, messages))
    skipped: list[SkippedKey] = []
    kept: array[int] | None = None
    if (
        set(map(len, key_data)) != {KEY_LENGTH}
        or min(columns[0]) < 0
        or not 1 <= min(columns[1]) <= max(columns[1]) <= TEK_ROLLING_PERIOD
        or not 0 <= min(columns[2]) <= max(columns[2]) <= _MAX_TRL
    ):
        kept = array("i")
        for index, values in enumerate(zip(key_data, *columns[:3], strict=True)):
            if (reason := _invalid_reason(*values)) is None:
                kept.append(index)
            else:
                skipped.append(SkippedKey(field=field, index=index, reason=reason))
        key_data = [key_data[i] for i in kept]
        columns = [array("i", (column[i] for i in kept)) for column in columns]
        has_onset = bytes(has_onset[i] for i in kept)
    rsin_column, period_column, trl_column, type_column, onset_column = columns
    return KeyColumns(
        batch=DiagnosisKeyBatch(
            key_data=b"".join(key_data),
            rolling_start_interval_numbers=rsin_column,
            rolling_periods=period_column,
        ),
        transmission_risk_levels=trl_column,
        report_types=type_column,
        days_since_onset=onset_column,
        has_onset=has_onset,
        file_indices=kept,
    ), skipped


def _empty_columns() -> KeyColumns:
    return KeyColumns(
        batch=DiagnosisKeyBatch(
            key_data=b"", rolling_start_interval_numbers=array("i"), rolling_periods=array("i")
        ),
        transmission_risk_levels=array("i"),
        report_types=array("i"),
        days_since_onset=array("i"),
        has_onset=b"",
    )


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
    return -1, len(data)


def _skip_field(data: bytes, tag: int, position: int) -> int | None:
    """The offset after the value of a field whose tag ended at `position` (None: a group)."""
    wire_type = tag & 7
    if wire_type == 0:
        return _read_varint(data, position)[1]
    if wire_type == 1:
        return position + 8
    if wire_type == 2:
        length, position = _read_varint(data, position)
        return position + length
    if wire_type == 5:
        return position + 4
    return None


_FIELDS = {0x3A: "keys", 0x42: "revised_keys"}
"""Tags of fields 7 and 8, wire type 2 (protocol.md §12.3)."""


def read_key_columns(
    export_bin: bytes, message: Any, *, header_length: int
) -> tuple[dict[str, KeyColumns], list[SkippedKey]]:
    """The valid ``keys`` and ``revised_keys`` of an export, and the keys skipped as invalid.

    `message` is upb's parse of ``export_bin[header_length:]``. The walk over top-level fields
    jumps over a uniform run of keys in one step, so it stays cheap; it stops at the first run
    it cannot take whole, and what is left takes the general path.
    """
    counts = {tag: len(getattr(message, name)) for tag, name in _FIELDS.items()}
    pending = {tag for tag, count in counts.items() if count}
    result: dict[str, KeyColumns] = {}
    position: int | None = header_length
    while pending and position is not None and position < len(export_bin):
        tag_start = position
        tag, position = _read_varint(export_bin, position)
        if tag in pending:
            pending.discard(tag)
            fast = _uniform_columns(export_bin, tag_start, counts[tag], tag)
            if fast is None:
                break
            result[_FIELDS[tag]], position = fast
        else:
            position = _skip_field(export_bin, tag, position)
    skipped: list[SkippedKey] = []
    for name in _FIELDS.values():
        if name not in result:
            result[name], skipped_here = _general_columns(getattr(message, name), name)
            skipped += skipped_here
    return result, skipped
