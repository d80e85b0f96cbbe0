"""Quantities with units, as scenario files write them: ``"2 m"``, ``"15 min"``, ``"-3 dB"``.

Every dimensional parameter of a scenario is written with its unit, so that a duration given
where a distance is expected is an error instead of a silent misreading. A parameter declares
its *canonical* unit (the one in its Python name: ``max_distance_m``); any unit of the same
dimension is accepted and converted.
"""

from __future__ import annotations

import re

__all__ = ["DIMENSIONS", "UnitError", "dimension_of", "format_quantity", "parse_quantity"]

#: Units by dimension, each with its factor to the dimension's base unit.
DIMENSIONS: dict[str, dict[str, float]] = {
    "length": {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0},
    "time": {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0},
    "age": {"yr": 1.0},
    "level": {"dB": 1.0},
    "power": {"dBm": 1.0},
    "rate": {"/s": 1.0, "/min": 1 / 60, "/h": 1 / 3600, "/d": 1 / 86400},
    "inverse_length": {"/m": 1.0, "/cm": 100.0},
}

#: A time of day ``"HH:MM"``; its canonical value is seconds after midnight.
TIME_OF_DAY = "hh:mm"

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S+)\s*$")
_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class UnitError(ValueError):
    """A value is not a quantity of the expected dimension (the message says what was expected)."""


def dimension_of(unit: str) -> str:
    """The dimension (``"length"``, ``"time"``, ...) a unit belongs to.

    Raises:
        KeyError: for an unknown unit.
    """
    if unit == TIME_OF_DAY:
        return "time of day"
    for dimension, units in DIMENSIONS.items():
        if unit in units:
            return dimension
    raise KeyError(unit)


def _expected(unit: str) -> str:
    if unit == TIME_OF_DAY:
        return "a time of day like '18:30'"
    dimension = dimension_of(unit)
    return f"a {dimension.replace('_', ' ')} with a unit ({', '.join(DIMENSIONS[dimension])})"


def parse_quantity(value: object, unit: str) -> float:
    """Convert a scenario value to `unit`.

    Args:
        value: what the TOML file holds, e.g. ``"15 min"`` or ``"07:30"``.
        unit: the canonical unit of the parameter (``"s"``, ``"m"``, ``TIME_OF_DAY``, ...).

    Raises:
        UnitError: not a string, not a number followed by a unit, an unknown unit, or a unit of
            another dimension. The message says what was expected.
    """
    if not isinstance(value, str):
        example = "'18:30'" if unit == TIME_OF_DAY else f"'{_example_number(value)} {unit}'"
        raise UnitError(f"expected {_expected(unit)}, e.g. {example}; got {value!r}")
    if unit == TIME_OF_DAY:
        match = _TIME_OF_DAY.match(value)
        if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
            raise UnitError(f"expected {_expected(unit)}, got {value!r}")
        seconds = int(match.group(1)) * 3600 + int(match.group(2)) * 60
        if seconds > 86400:
            raise UnitError(f"expected a time of day no later than '24:00', got {value!r}")
        return float(seconds)
    match = _QUANTITY.match(value)
    if not match:
        raise UnitError(f"expected {_expected(unit)}, got {value!r}")
    number, given = float(match.group(1)), match.group(2)
    dimension = dimension_of(unit)
    try:
        given_dimension = dimension_of(given)
    except KeyError:
        message = f"unknown unit {given!r} in {value!r}; expected {_expected(unit)}"
        raise UnitError(message) from None
    if given_dimension != dimension:
        raise UnitError(
            f"{value!r} is a {given_dimension.replace('_', ' ')}; expected {_expected(unit)}"
        )
    return number * DIMENSIONS[dimension][given] / DIMENSIONS[dimension][unit]


def _example_number(value: object) -> object:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 1


def format_quantity(value: float, unit: str) -> str:
    """The scenario-file spelling of `value` in `unit` (the inverse of `parse_quantity`)."""
    if unit == TIME_OF_DAY:
        seconds = round(value)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    text = f"{value:.6g}" if value != int(value) else str(int(value))
    return f"{text} {unit}"
