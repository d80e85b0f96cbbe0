from __future__ import annotations

from fractions import Fraction
from math import floor

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import KeyExposure, Sighting, attenuation_db
from notifica.protocol._risk_inputs import round_half_up_ratio
from tests.protocol.risk_support import NOON, make_key


@pytest.mark.parametrize(
    ("tx", "rssi", "offset", "expected"),
    [
        (-15, -75, 0, 60),  # TX − RSSI
        (-15, -80, 5, 60),  # the receiver's offset is added to the measured RSSI
        (-15, -10, 0, 0),  # louder than sent: clamped at 0 as INT does
        (-15, -16, 0, 1),
        (127, -200, 0, 254),  # offset RSSI clamped to −127 first
        (-128, 200, 0, 0),  # and to 126
        (0, -127, -10, 127),
    ],
)
def test_attenuation_db_follows_int(tx: int, rssi: int, offset: int, expected: int) -> None:
    assert attenuation_db(tx, rssi, offset) == expected


@pytest.mark.parametrize("tx", [-129, 128])
def test_attenuation_db_rejects_tx_power_outside_a_signed_byte(tx: int) -> None:
    with pytest.raises(ValueError, match="tx_power_dbm"):
        attenuation_db(tx, -70)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 2, 1), (5, 2, 3), (113, 2, 57), (7, 2, 4), (-1, 2, 0), (-3, 2, -1), (188, 56, 3)],
)
def test_round_half_up_ratio_rounds_halves_up_like_java(
    numerator: int, denominator: int, expected: int
) -> None:
    assert round_half_up_ratio(numerator, denominator) == expected


def test_round_half_up_differs_from_python_round_on_even_halves() -> None:
    assert round(56.5) == 56
    assert round_half_up_ratio(113, 2) == 57


@given(st.integers(-(10**9), 10**9), st.integers(1, 10**6))
def test_round_half_up_ratio_is_floor_of_value_plus_half(numerator: int, denominator: int) -> None:
    assert round_half_up_ratio(numerator, denominator) == floor(
        Fraction(numerator, denominator) + Fraction(1, 2)
    )


def test_round_half_up_ratio_rejects_non_positive_denominator() -> None:
    with pytest.raises(ValueError, match="denominator"):
        round_half_up_ratio(1, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"unix_s": -1}, "unix_s"),
        ({"unix_s": 2**32}, "unix_s"),
        ({"attenuation_db": -1}, "attenuation_db"),
        ({"attenuation_db": 256}, "attenuation_db"),
        ({"calibration_confidence": 4}, "calibration_confidence"),
        ({"previous_scan_unix_s": NOON + 1}, "previous_scan_unix_s"),
        ({"previous_scan_unix_s": -5}, "previous_scan_unix_s"),
    ],
)
def test_sighting_rejects_out_of_range_fields(fields: dict[str, int], message: str) -> None:
    values = {"unix_s": NOON, "attenuation_db": 60, **fields}
    with pytest.raises(ValueError, match=message):
        Sighting(**values)


@pytest.mark.parametrize("field", ["unix_s", "attenuation_db", "calibration_confidence"])
def test_sighting_rejects_non_int_fields(field: str) -> None:
    values: dict[str, object] = {"unix_s": NOON, "attenuation_db": 60, field: 1.5}
    with pytest.raises(TypeError, match=field):
        Sighting(**values)  # type: ignore[arg-type]


def test_sighting_rejects_booleans() -> None:
    with pytest.raises(TypeError, match="attenuation_db"):
        Sighting(unix_s=NOON, attenuation_db=True)


def test_sighting_accepts_previous_scan_at_zero_and_at_its_own_time() -> None:
    assert Sighting(unix_s=NOON, attenuation_db=0, previous_scan_unix_s=0).previous_scan_unix_s == 0
    Sighting(unix_s=NOON, attenuation_db=255, previous_scan_unix_s=NOON)


def test_key_exposure_sorts_sightings_by_time_then_by_their_other_fields() -> None:
    a = Sighting(unix_s=NOON + 10, attenuation_db=3)
    b = Sighting(unix_s=NOON, attenuation_db=2)
    c = Sighting(unix_s=NOON + 10, attenuation_db=1, calibration_confidence=2)
    d = Sighting(unix_s=NOON + 10, attenuation_db=1, calibration_confidence=1)
    exposure = KeyExposure(key=make_key(), sightings=iter([a, b, c, d]))
    assert exposure.sightings == (b, d, c, a)


def test_key_exposure_keeps_sorted_input_and_allows_no_sightings() -> None:
    ordered = (Sighting(unix_s=NOON, attenuation_db=1), Sighting(unix_s=NOON, attenuation_db=2))
    assert KeyExposure(key=make_key(), sightings=ordered).sightings == ordered
    assert KeyExposure(key=make_key()).sightings == ()


def test_key_exposure_rejects_foreign_objects() -> None:
    with pytest.raises(TypeError, match=r"sightings\[1\]"):
        KeyExposure(key=make_key(), sightings=[Sighting(unix_s=0, attenuation_db=0), (0, 0)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="key"):
        KeyExposure(key=b"\x00" * 16, sightings=[])  # type: ignore[arg-type]


def test_key_exposure_is_frozen() -> None:
    exposure = KeyExposure(key=make_key())
    with pytest.raises(AttributeError):
        exposure.sightings = ()  # type: ignore[misc]


def test_sighting_accepts_integer_types_and_stores_plain_ints() -> None:
    sighting = Sighting(
        unix_s=numpy.int64(NOON),
        attenuation_db=numpy.uint8(60),
        previous_scan_unix_s=numpy.int32(0),
        calibration_confidence=numpy.int8(2),
    )
    assert sighting == Sighting(
        unix_s=NOON, attenuation_db=60, previous_scan_unix_s=0, calibration_confidence=2
    )
    assert type(sighting.unix_s) is int
