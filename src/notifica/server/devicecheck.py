"""iOS analytics-token authorisation with a DeviceCheck-style two-bit service (immuni-api.md §7.3).

`authorize_device` is Immuni's algorithm over the `DeviceCheck` interface: at most one token
per genuine device per month, and a device caught racing is blacklisted (bits (1, 1)). The
waits between reads come from an injected `Sleeper`, so tests and the simulator do not wait.
`InMemoryDeviceCheck` keeps bits per device token: the simulator's devices and the tests use
it. A client for Apple's HTTP API (JWT-authenticated, team credentials) is not part of
notifica: an operator plugs one in through this interface.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notifica.clock import Clock
from notifica.errors import NotificaError
from notifica.server.timing import Sleeper

__all__ = ["DeviceCheck", "DeviceCheckError", "InMemoryDeviceCheck", "TwoBits", "authorize_device"]

CHECK_WAIT_S = (7.0, 10.0)
"""``CHECK_TIME_SECONDS_MIN/MAX``: wait before the second read (immuni-api.md §7.3 step 2)."""
READ_WAIT_S = (0.0, 3.0)
"""``READ_TIME_SECONDS_MIN/MAX``: wait before the third read (§7.3 step 3)."""


class DeviceCheckError(NotificaError):
    """The device-check service failed; the token is not authorised this time."""


@dataclass(frozen=True, slots=True)
class TwoBits:
    """A device's two bits and the month ("YYYY-MM") they were last updated, if ever."""

    bit0: bool
    bit1: bool
    last_update_month: str | None = None


class DeviceCheck(Protocol):
    """Apple's DeviceCheck two-bit API, as an interface."""

    async def query_two_bits(self, device_token: str) -> TwoBits:
        """Read the bits of the device behind `device_token`."""
        ...

    async def update_two_bits(self, device_token: str, *, bit0: bool, bit1: bool) -> None:
        """Set the bits of the device behind `device_token`."""
        ...


class InMemoryDeviceCheck:
    """Bits per device token, stamped with the clock's month."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._bits: dict[str, TwoBits] = {}

    async def query_two_bits(self, device_token: str) -> TwoBits:
        return self._bits.get(device_token, TwoBits(False, False, None))

    async def update_two_bits(self, device_token: str, *, bit0: bool, bit1: bool) -> None:
        self._bits[device_token] = TwoBits(bit0, bit1, self._clock.now().strftime("%Y-%m"))


async def authorize_device(
    device_check: DeviceCheck,
    device_token: str,
    *,
    now: datetime,
    sleeper: Sleeper,
    rng: random.Random,
) -> bool:
    """Immuni's DeviceCheck dance; True if the device may have a token this month.

    1. read; if updated this month already → discard; if bits are not (0, 0) → blacklist;
    2. wait U(7, 10) s; read; must be (0, 0) else blacklist; set (1, 0);
    3. wait U(0, 3) s; read; must be (1, 0) else blacklist; set (0, 0).

    Raises:
        DeviceCheckError: when the service fails (the caller discards the request).
    """
    month = now.strftime("%Y-%m")
    bits = await device_check.query_two_bits(device_token)
    if bits.last_update_month is not None and bits.last_update_month >= month:
        return False
    if (bits.bit0, bits.bit1) != (False, False):
        await _blacklist(device_check, device_token)
        return False
    await sleeper.sleep(rng.uniform(*CHECK_WAIT_S))
    bits = await device_check.query_two_bits(device_token)
    if (bits.bit0, bits.bit1) != (False, False):
        await _blacklist(device_check, device_token)
        return False
    await device_check.update_two_bits(device_token, bit0=True, bit1=False)
    await sleeper.sleep(rng.uniform(*READ_WAIT_S))
    bits = await device_check.query_two_bits(device_token)
    if (bits.bit0, bits.bit1) != (True, False):
        await _blacklist(device_check, device_token)
        return False
    await device_check.update_two_bits(device_token, bit0=False, bit1=False)
    return True


async def _blacklist(device_check: DeviceCheck, device_token: str) -> None:
    await device_check.update_two_bits(device_token, bit0=True, bit1=True)
