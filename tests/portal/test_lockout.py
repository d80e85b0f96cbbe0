"""Back-off after failed sign-ins: the schedule and the per-client memory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifica.clock import SimClock
from notifica.portal._lockout import ClientBackoff, pause_after
from tests.portal._support import START


def test_schedule_is_free_then_doubles_up_to_the_cap() -> None:
    pauses = [pause_after(n, free=5, base_s=60, max_s=3600) for n in range(1, 13)]
    assert pauses == [None, None, None, None, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert pause_after(10_000, free=5, base_s=60, max_s=3600) == 3600
    with pytest.raises(ValueError, match="positive"):
        pause_after(3, free=0, base_s=60, max_s=60)


def test_client_is_paused_then_freed_and_forgotten() -> None:
    clock = SimClock(START)
    clients = ClientBackoff(clock, free=3, base_s=60, max_s=600)
    assert [clients.record_failure("10.0.0.1") for _ in range(3)] == [None, None, 60]
    assert clients.paused_for("10.0.0.1") == 60
    assert clients.paused_for("10.0.0.2") == 0  # another client is not affected
    clock.advance(timedelta(seconds=59))
    assert clients.paused_for("10.0.0.1") == 1
    clock.advance(timedelta(seconds=1))
    assert clients.paused_for("10.0.0.1") == 0
    assert clients.record_failure("10.0.0.1") == 120  # the count goes on: doubled
    clock.advance(timedelta(seconds=600))
    assert clients.record_failure("10.0.0.1") is None  # forgotten after the longest pause


def test_addresses_are_not_kept_in_clear() -> None:
    clients = ClientBackoff(SimClock(START), free=3, base_s=60, max_s=600)
    clients.record_failure("192.0.2.77")
    assert all("192.0.2.77" not in key for key in clients._state)
    other = ClientBackoff(SimClock(START), free=3, base_s=60, max_s=600)
    other.record_failure("192.0.2.77")
    assert set(clients._state) != set(other._state)  # a salt per process


def test_a_flood_of_addresses_stays_bounded() -> None:
    clients = ClientBackoff(SimClock(START), free=3, base_s=60, max_s=600, max_clients=100)
    for i in range(1000):
        clients.record_failure(f"198.51.100.{i}")
    assert len(clients._state) <= 100
