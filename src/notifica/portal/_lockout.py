"""Back-off after failed sign-ins: per account (in the database) and per client (in memory).

Rules:

1. The first ``free`` consecutive failures cost nothing; failure number ``free`` pauses
   sign-in for ``base_s``, and each further one doubles the pause, up to ``max_s``
   (NIST SP 800-63B §5.2.2 asks for a limit on failed attempts; the doubling is the usual
   exponential back-off). A success clears an account's count.
2. While paused, no password is checked, so a guess made during a pause teaches nothing.
3. Clients are told apart by their address, which is never stored: the key is an HMAC with
   a salt that lives only in this process's memory. A client's count is forgotten
   ``max_s`` after its last failure, and a success does not clear it (an attacker with one
   valid account must not be able to reset the count between guesses at other accounts).
4. The client count lives in one process; replicas behind a load balancer each keep their
   own. The account count is in the database and shared by all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifica.clock import Clock

__all__ = ["ClientBackoff", "pause_after"]


def pause_after(failures: int, *, free: int, base_s: int, max_s: int) -> int | None:
    """Seconds of pause after `failures` consecutive failures, or None (rule 1).

    Raises:
        ValueError: if `free` or `base_s` is not positive.
    """
    if free < 1 or base_s < 1:
        raise ValueError(f"free and base_s must be positive, got {free} and {base_s}")
    if failures < free:
        return None
    doubled: int = base_s * 2 ** min(failures - free, 32)
    return min(max_s, doubled)


@dataclass(slots=True)
class _ClientState:
    failures: int
    paused_until: datetime | None
    last_failure: datetime


class ClientBackoff:
    """Failed sign-ins per client address, keyed by a salted HMAC (rules 3 and 4)."""

    def __init__(
        self, clock: Clock, *, free: int, base_s: int, max_s: int, max_clients: int = 100_000
    ) -> None:
        self._clock = clock
        self._free, self._base_s, self._max_s = free, base_s, max_s
        self._max_clients = max_clients
        self._salt = secrets.token_bytes(32)
        self._state: dict[str, _ClientState] = {}
        self._lock = threading.Lock()

    def _key(self, address: str) -> str:
        return hmac.new(self._salt, address.encode("utf-8", "replace"), hashlib.sha256).hexdigest()

    def paused_for(self, address: str) -> int:
        """Seconds left of this client's pause (0 when it may try)."""
        now = self._clock.now()
        with self._lock:
            state = self._state.get(self._key(address))
        if state is None or state.paused_until is None or state.paused_until <= now:
            return 0
        return max(1, int((state.paused_until - now).total_seconds() + 0.999))

    def record_failure(self, address: str) -> int | None:
        """Count a failure; return the pause it starts, if any."""
        now = self._clock.now()
        key = self._key(address)
        with self._lock:
            self._forget(now)
            state = self._state.get(key)
            if state is None or state.last_failure <= now - timedelta(seconds=self._max_s):
                state = self._state[key] = _ClientState(0, None, now)
            state.failures += 1
            state.last_failure = now
            pause = pause_after(
                state.failures, free=self._free, base_s=self._base_s, max_s=self._max_s
            )
            if pause is not None:
                state.paused_until = now + timedelta(seconds=pause)
            return pause

    def _forget(self, now: datetime) -> None:
        if len(self._state) < self._max_clients:
            return
        horizon = now - timedelta(seconds=self._max_s)
        self._state = {k: s for k, s in self._state.items() if s.last_failure > horizon}
        if len(self._state) >= self._max_clients:  # a flood of addresses: keep the newest half
            newest = sorted(self._state.items(), key=lambda kv: kv[1].last_failure)
            self._state = dict(newest[len(newest) // 2 :])
