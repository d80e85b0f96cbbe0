from __future__ import annotations

import pytest

from notifica.sim._units import TIME_OF_DAY, UnitError, format_quantity, parse_quantity


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("2 m", "m", 2.0),
        ("150 cm", "m", 1.5),
        ("15 min", "s", 900.0),
        ("4 h", "s", 14400.0),
        ("1.5 d", "d", 1.5),
        ("36 h", "d", 1.5),
        ("250 ms", "s", 0.25),
        ("-3 dB", "dB", -3.0),
        ("0.1 /min", "/min", 0.1),
        ("6 /h", "/min", 0.1),
        ("14 yr", "yr", 14.0),
        ("1e-3 /min", "/min", 0.001),
        ("07:30", TIME_OF_DAY, 27000.0),
        ("24:00", TIME_OF_DAY, 86400.0),
    ],
)
def test_parse_quantity_converts_to_the_canonical_unit(
    text: str, unit: str, expected: float
) -> None:
    assert parse_quantity(text, unit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "unit", "fragment"),
    [
        (2, "m", "e.g. '2 m'"),
        ("2", "m", "expected a length"),
        ("2 s", "m", "'2 s' is a time"),
        ("2 meters", "m", "unknown unit 'meters'"),
        ("fast", "s", "expected a time"),
        (True, "s", "got True"),
        ("25:00", TIME_OF_DAY, "time of day"),
        ("24:30", TIME_OF_DAY, "no later than '24:00'"),
        ("7h30", TIME_OF_DAY, "time of day"),
    ],
)
def test_parse_quantity_rejects_values_without_the_right_unit(
    value: object, unit: str, fragment: str
) -> None:
    with pytest.raises(UnitError, match=fragment):
        parse_quantity(value, unit)


def test_format_quantity_round_trips() -> None:
    for value, unit in (
        (2.0, "m"),
        (0.25, "s"),
        (-8.0, "dBm"),
        (27000.0, TIME_OF_DAY),
        (1.8e-3, "/min"),
    ):
        assert parse_quantity(format_quantity(value, unit), unit) == pytest.approx(value)
