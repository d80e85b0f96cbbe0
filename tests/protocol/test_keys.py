from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import (
    BluetoothMetadata,
    ReportType,
    TemporaryExposureKey,
    decrypt_aem,
    derive_aemk,
    derive_rpik,
    encrypt_aem,
    padded_data,
    rolling_proximity_identifier,
    rolling_proximity_identifiers,
)


def test_derivations_match_official_vectors(gaen_vectors: dict[str, Any]) -> None:
    v = gaen_vectors["crypto_v1_2_test_vectors"]
    tek = bytes.fromhex(v["tek"])
    assert derive_rpik(tek).hex() == v["rpik"]
    assert derive_aemk(tek).hex() == v["aemk"]


def test_all_144_rpis_and_aems_match_official_vectors(gaen_vectors: dict[str, Any]) -> None:
    v = gaen_vectors["crypto_v1_2_test_vectors"]
    tek = bytes.fromhex(v["tek"])
    rpik, aemk = derive_rpik(tek), derive_aemk(tek)
    metadata = bytes.fromhex(v["ble_metadata"])
    rpis = rolling_proximity_identifiers(rpik, v["rolling_start_interval_number"])
    assert len(v["rows"]) == len(rpis) == 144
    for row, rpi in zip(v["rows"], rpis, strict=True):
        interval = row["en_interval_number"]
        assert padded_data(interval).hex() == row["padded_data"]
        assert rpi.hex() == row["rpi"]
        assert rolling_proximity_identifier(rpik, interval) == rpi
        assert encrypt_aem(aemk, rpi, metadata).hex() == row["aem"]
        assert decrypt_aem(aemk, rpi, bytes.fromhex(row["aem"])) == metadata


def test_padded_data_is_little_endian_far_from_the_vectors() -> None:
    # protocol.md §16.3: GL's hex-string packing broke outside 6-hex-digit intervals.
    assert padded_data(0x01).hex() == "454e2d525049000000000000" + "01000000"
    assert padded_data(0x0ABCDEF1).hex().endswith("f1debc0a")
    assert padded_data(2642976).hex() == "454e2d52504900000000000020542800"


def test_aem_roundtrip_extra_vector(gaen_vectors: dict[str, Any]) -> None:
    v = gaen_vectors["aem_roundtrip_extra"]
    aemk = derive_aemk(bytes.fromhex(v["tek"]))
    rpi, metadata = bytes.fromhex(v["rpi"]), bytes.fromhex(v["metadata"])
    assert aemk.hex() == v["derived"]["aemk"]
    aem = encrypt_aem(aemk, rpi, metadata)
    assert aem.hex() == v["derived"]["aem"]
    assert decrypt_aem(aemk, rpi, aem) == metadata


@given(
    tek=st.binary(min_size=16, max_size=16),
    rpi=st.binary(min_size=16, max_size=16),
    metadata=st.binary(min_size=4, max_size=4),
)
def test_aem_round_trips(tek: bytes, rpi: bytes, metadata: bytes) -> None:
    aemk = derive_aemk(tek)
    assert decrypt_aem(aemk, rpi, encrypt_aem(aemk, rpi, metadata)) == metadata


def test_metadata_layout(gaen_vectors: dict[str, Any]) -> None:
    vector = bytes.fromhex(gaen_vectors["crypto_v1_2_test_vectors"]["ble_metadata"])
    parsed = BluetoothMetadata.from_bytes(vector)
    assert (parsed.major_version, parsed.minor_version, parsed.tx_power_dbm) == (1, 0, 8)
    assert BluetoothMetadata(tx_power_dbm=8, minor_version=0).to_bytes() == vector
    v11 = BluetoothMetadata(tx_power_dbm=-15, calibration_confidence=3)
    assert v11.to_bytes() == bytes([0x5C, 0xF1, 0, 0])
    assert BluetoothMetadata.from_bytes(v11.to_bytes()) == v11


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("key_data", b"\x00" * 15, "16 bytes"),
        ("key_data", b"\x00" * 53, "16 bytes"),
        ("rolling_period", 0, "rolling_period"),
        ("rolling_period", 145, "rolling_period"),
        ("rolling_start_interval_number", -1, "rolling_start_interval_number"),
        ("transmission_risk_level", 9, "transmission_risk_level"),
    ],
)
def test_temporary_exposure_key_rejects_bad_fields(field: str, value: object, message: str) -> None:
    fields: dict[str, Any] = {"key_data": bytes(16), "rolling_start_interval_number": 2642976}
    fields[field] = value
    with pytest.raises(ValueError, match=message):
        TemporaryExposureKey(**fields)


def test_temporary_exposure_key_rejects_bad_report_type() -> None:
    with pytest.raises(ValueError, match="ReportType"):
        TemporaryExposureKey(
            key_data=bytes(16),
            rolling_start_interval_number=0,
            report_type=9,  # type: ignore[arg-type]
        )


def test_generated_keys_are_random_and_expire() -> None:
    a = TemporaryExposureKey.generate(rolling_start_interval_number=2642976)
    b = TemporaryExposureKey.generate(rolling_start_interval_number=2642976)
    assert a.key_data != b.key_data
    assert a.report_type is ReportType.UNKNOWN
    assert not a.is_expired_at(2642976 + 143)
    assert a.is_expired_at(2642976 + 144)


def test_key_repr_hides_key_material() -> None:
    key = TemporaryExposureKey(
        key_data=bytes.fromhex("75c734c6dd1a782de7a965da5eb93125"), rolling_start_interval_number=1
    )
    assert "75c7" not in repr(key)
