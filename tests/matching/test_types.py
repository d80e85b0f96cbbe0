"""Observations: the columnar sightings of one phone, and the errors for bad ones."""

from __future__ import annotations

from array import array

import pytest

from notifica.matching import Observations


def test_observations_from_sightings_and_unix_time() -> None:
    obs = Observations.from_sightings([(b"\x01" * 16, 5), (b"\x02" * 16, 2**32 - 1)])
    assert len(obs) == 2
    assert obs.rpi_at(1) == b"\x02" * 16
    assert obs.intervals.tolist() == [5, 2**32 - 1]
    timed = Observations.from_unix_s(b"\x01" * 32, [1_585_785_600, 1_585_785_600 + 599.9])
    assert timed.intervals.tolist() == [2_642_976, 2_642_976]


@pytest.mark.parametrize(
    ("rpis", "intervals", "error", "message"),
    [
        (bytearray(16), array("I", [0]), TypeError, "rpis must be bytes"),
        (bytes(15), array("I", [0]), ValueError, "multiple of 16 bytes, got 15"),
        (bytes(16), array("i", [0]), TypeError, r"array\('I'\)"),
        (bytes(16), [0], TypeError, r"array\('I'\)"),
        (bytes(32), array("I", [0]), ValueError, "intervals has 1 entries for 2 RPIs"),
    ],
)
def test_bad_observations_are_refused(
    rpis: object, intervals: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        Observations(rpis=rpis, intervals=intervals)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sightings", "message"),
    [
        ([(b"\x00" * 15, 0)], "sighting 0: rpi must be 16 bytes, got 15"),
        ([(b"\x00" * 16, 0), (b"\x00" * 16, 2**32)], "sighting 1: interval 4294967296 is outside"),
        ([(b"\x00" * 16, -1)], "sighting 0: interval -1 is outside uint32"),
    ],
)
def test_bad_sightings_name_the_row(sightings: list[tuple[bytes, int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Observations.from_sightings(sightings)


def test_out_of_range_times_and_indices_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the ENIntervalNumber range"):
        Observations.from_unix_s(bytes(16), [-1])
    with pytest.raises(IndexError, match="observation index 1 out of range for 1"):
        Observations.from_sightings([(bytes(16), 0)]).rpi_at(1)
