"""Rolling keys and the identifiers a phone broadcasts."""

from __future__ import annotations

import random
from typing import Any

import pytest

from notifica.phone._advertising import (
    current_key,
    day_identifiers,
    keep_recent_keys,
)
from notifica.protocol import (
    BluetoothMetadata,
    TemporaryExposureKey,
    derive_aemk,
    derive_rpik,
    encrypt_aem,
    rolling_proximity_identifiers,
)

DAY0 = 2_642_976  # 2020-04-02T00:00Z, protocol.md §2


def test_day_identifiers_match_the_one_at_a_time_functions() -> None:
    tek = TemporaryExposureKey(key_data=bytes(range(16)), rolling_start_interval_number=DAY0)
    metadata = BluetoothMetadata(tx_power_dbm=-24, calibration_confidence=3)
    day = day_identifiers(tek, metadata)
    rpis = rolling_proximity_identifiers(derive_rpik(tek.key_data), DAY0)
    assert len(day) == 144
    aemk = derive_aemk(tek.key_data)
    for offset in (0, 1, 77, 143):
        rpi, aem = day.at(DAY0 + offset)
        assert rpi == rpis[offset]
        assert aem == encrypt_aem(aemk, rpi, metadata.to_bytes())
    with pytest.raises(ValueError, match="outside"):
        day.at(DAY0 + 144)


def test_day_identifiers_reproduce_the_official_vectors(gaen_vectors: dict[str, Any]) -> None:
    vectors = gaen_vectors["crypto_v1_2_test_vectors"]
    tek = TemporaryExposureKey(
        key_data=bytes.fromhex(vectors["tek"]),
        rolling_start_interval_number=int(vectors["rolling_start_interval_number"]),
    )
    metadata = BluetoothMetadata.from_bytes(bytes.fromhex(vectors["ble_metadata"]))
    day = day_identifiers(tek, metadata)
    for row in vectors["rows"]:
        rpi, aem = day.at(row["en_interval_number"])
        assert rpi.hex() == row["rpi"]
        assert aem.hex() == row["aem"]


def test_a_new_key_starts_at_utc_midnight_and_lasts_the_day() -> None:
    records: list[tuple[str, int, int]] = []
    rng = random.Random(1)
    tek, new = current_key(records, DAY0 + 100, rng.randbytes)
    assert new
    assert tek.rolling_start_interval_number == DAY0
    assert tek.rolling_period == 144
    again, new_again = current_key(records, DAY0 + 143, rng.randbytes)
    assert not new_again
    assert again == tek
    tomorrow, new_tomorrow = current_key(records, DAY0 + 144, rng.randbytes)
    assert new_tomorrow
    assert tomorrow.rolling_start_interval_number == DAY0 + 144
    assert tomorrow.key_data != tek.key_data
    assert len(records) == 2


def test_keys_older_than_14_days_are_dropped() -> None:
    records = [(f"{d:032x}", DAY0 + 144 * d, 144) for d in range(20)]
    kept = keep_recent_keys(records, DAY0 + 144 * 19 + 5)
    assert [r[1] for r in kept] == [DAY0 + 144 * d for d in range(5, 20)]
