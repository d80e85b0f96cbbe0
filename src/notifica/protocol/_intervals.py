"""Time in GAEN units: 10-minute ENIntervalNumbers and day-aligned rolling periods.

protocol.md §2: ``ENIN(t) = floor(unix_s / 600)``, a uint32 little-endian on the wire; a TEK
covers ``TEK_ROLLING_PERIOD = 144`` intervals (24 h) from a start aligned to UTC midnight. Keys
read from outside may start anywhere and be shorter (API v1.5), so nothing here assumes
alignment of values it did not make.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = [
    "INTERVAL_SECONDS",
    "MAX_INTERVAL_NUMBER",
    "TEK_ROLLING_PERIOD",
    "date_of_interval",
    "interval_number",
    "interval_number_at",
    "interval_start_unix_s",
    "rolling_start",
]

INTERVAL_SECONDS = 600
"""Length of one ENIntervalNumber (protocol.md §2)."""

TEK_ROLLING_PERIOD = 144
"""Intervals per TEK: 144 × 10 min = 24 h (protocol.md §2, INT ``kIdPerKey``)."""

MAX_INTERVAL_NUMBER = 2**32 - 1
"""ENINs are uint32 on the wire (protocol.md §2)."""


def interval_number(unix_s: float) -> int:
    """The ENIntervalNumber containing the instant `unix_s` (seconds since the epoch).

    Raises:
        ValueError: if the instant is before the epoch or past the uint32 range.
    """
    interval = int(unix_s // INTERVAL_SECONDS)
    if not 0 <= interval <= MAX_INTERVAL_NUMBER:
        raise ValueError(f"unix time {unix_s} is outside the ENIntervalNumber range")
    return interval


def interval_number_at(moment: datetime) -> int:
    """The ENIntervalNumber containing an aware datetime.

    Raises:
        ValueError: for a naive datetime (local time would silently shift the interval,
            the bug protocol.md §16.3 found in exponot).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware UTC datetime")
    return interval_number(moment.timestamp())


def interval_start_unix_s(interval: int) -> int:
    """Unix seconds at which `interval` begins."""
    _check_interval(interval)
    return interval * INTERVAL_SECONDS


def rolling_start(interval: int) -> int:
    """The UTC-midnight-aligned start of the TEK period containing `interval`.

    ``144 × floor(i / 144)`` (INT ``getAlignedEnIntervalNumber``).
    """
    _check_interval(interval)
    return interval - interval % TEK_ROLLING_PERIOD


def date_of_interval(interval: int) -> date:
    """The UTC calendar day on which `interval` begins."""
    return datetime.fromtimestamp(interval_start_unix_s(interval), UTC).date()


def _check_interval(interval: int) -> None:
    if not 0 <= interval <= MAX_INTERVAL_NUMBER:
        raise ValueError(f"interval number {interval} is outside 0..{MAX_INTERVAL_NUMBER}")
