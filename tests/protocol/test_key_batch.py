from __future__ import annotations

from array import array

import pytest

from notifica.protocol import DiagnosisKeyBatch, TemporaryExposureKey


def _key(n: int, period: int = 144) -> TemporaryExposureKey:
    return TemporaryExposureKey(
        key_data=bytes([n]) * 16,
        rolling_start_interval_number=2642976 + 144 * n,
        rolling_period=period,
    )


def test_batch_keeps_columns_and_objects() -> None:
    keys = [_key(1), _key(2, period=32)]
    batch = DiagnosisKeyBatch.from_keys(keys)
    assert len(batch) == 2
    assert list(batch) == [
        (bytes([1]) * 16, 2642976 + 144, 144),
        (bytes([2]) * 16, 2642976 + 288, 32),
    ]
    assert batch.keys == tuple(keys)
    assert batch.key_data_at(1) == bytes([2]) * 16


def test_concatenate_preserves_order() -> None:
    joined = DiagnosisKeyBatch.concatenate(
        [DiagnosisKeyBatch.from_keys([_key(1)]), DiagnosisKeyBatch.from_keys([_key(2)])]
    )
    assert [k for k, _, _ in joined] == [bytes([1]) * 16, bytes([2]) * 16]
    assert joined.keys is not None
    assert len(joined.keys) == 2


@pytest.mark.parametrize(
    ("key_data", "starts", "periods", "message"),
    [
        (bytes(15), [0], [144], "multiple of 16"),
        (bytes(16), [0, 1], [144], "entries"),
        (bytes(16), [0], [0], "rolling period"),
        (bytes(16), [-1], [144], "non-negative"),
    ],
)
def test_batch_rejects_inconsistent_columns(
    key_data: bytes, starts: list[int], periods: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DiagnosisKeyBatch(
            key_data=key_data,
            rolling_start_interval_numbers=array("i", starts),
            rolling_periods=array("i", periods),
        )


def test_batch_index_out_of_range() -> None:
    with pytest.raises(IndexError):
        DiagnosisKeyBatch.from_keys([_key(1)]).key_data_at(1)
