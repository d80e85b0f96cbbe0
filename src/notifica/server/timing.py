"""The timing defence of the ingestion service: one release schedule for real and dummy requests.

An observer who times check-otp and upload responses must not learn whether a request was a
dummy, whether the OTP was right, or how long the database took (immuni-api.md §6.1; peers.md
§0: Google caps chaff latency, CWA mimics the moving average of real durations, DP-3T pads
every POST to 1.5 s). notifica draws, on arrival, a *release time* from one distribution
(normal, mean and sigma from the settings, Immuni's 150 ms and 20 ms by default) and holds
every response — real, dummy or error — until then. Processing time leaks only when it exceeds
the drawn delay.

Sleeping is behind `Sleeper`, so tests and the simulator (on a simulated clock) do not wait.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from notifica.clock import Clock

__all__ = ["AsyncioSleeper", "NoSleep", "RecordingSleeper", "ReleaseSchedule", "Sleeper"]


class Sleeper(Protocol):
    """Waits for a number of seconds."""

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds` (or at once, for a sleeper that only pretends)."""
        ...


class AsyncioSleeper:
    """Really waits, without blocking the event loop."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class NoSleep:
    """Returns at once: for the simulator, whose clock is not the wall clock."""

    async def sleep(self, seconds: float) -> None:
        return None


class RecordingSleeper:
    """Returns at once and remembers each requested wait (tests)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


class ReleaseSchedule:
    """Holds each response until a release time drawn on arrival."""

    def __init__(
        self,
        *,
        mean_ms: float,
        sigma_ms: float,
        clock: Clock,
        sleeper: Sleeper,
        rng: random.Random,
    ) -> None:
        if mean_ms < 0 or sigma_ms < 0:
            raise ValueError("delay mean and sigma must be non-negative")
        self._mean_s = mean_ms / 1000
        self._sigma_s = sigma_ms / 1000
        self._clock = clock
        self._sleeper = sleeper
        self._rng = rng

    def draw_delay_s(self) -> float:
        """One delay from the configured distribution, never negative."""
        if self._sigma_s == 0:
            return self._mean_s
        return max(0.0, self._rng.gauss(self._mean_s, self._sigma_s))

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Run the body, then wait until the release time (also when the body raised)."""
        release_at = self._clock.monotonic() + self.draw_delay_s()
        try:
            yield
        finally:
            remaining = release_at - self._clock.monotonic()
            if remaining > 0:
                await self._sleeper.sleep(remaining)
