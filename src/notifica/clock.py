"""Time, injected: the only place in notifica that may read the system clock.

Every component above the sans-IO protocol takes a `Clock`. Production uses `SystemClock`,
tests a `FixedClock`, the simulator a `SimClock` that it advances itself. All datetimes are
timezone-aware UTC; naive datetimes are refused so that local time can never leak in (the
bug that Immuni's batch timestamps and exponot's interval numbers both had).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SimClock", "SystemClock", "ensure_utc"]


def ensure_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC, refusing naive datetimes.

    Raises:
        ValueError: if `moment` has no timezone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: notifica works in aware UTC only")
    return moment.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring durations."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FixedClock:
    """A clock that stays where it is put: for tests."""

    def __init__(self, moment: datetime) -> None:
        self._now = ensure_utc(moment)

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._now.timestamp()

    def set(self, moment: datetime) -> None:
        self._now = ensure_utc(moment)


class SimClock(FixedClock):
    """A clock that a simulation (or a test) moves forward explicitly."""

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by `delta` (a timedelta or seconds) and return the new time.

        Raises:
            ValueError: if `delta` is negative; simulated time never runs backwards.
        """
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError(f"cannot move a SimClock backwards by {step}")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> None:
        target = ensure_utc(moment)
        if target < self._now:
            raise ValueError(f"cannot move a SimClock back from {self._now} to {target}")
        self._now = target
