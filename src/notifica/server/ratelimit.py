"""Fixed-window rate limits: in process memory by default, in Redis when replicas share them.

Keys never contain a client address or an API key in clear: callers pass `address_key`
(an HMAC with a salt that lives only in memory, or only in Redis with a one-day expiry),
so nothing identifying is persisted or logged (peers.md §2: Google HMACs its limit keys).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Protocol

import redis.asyncio as aioredis

from notifica.clock import Clock

__all__ = [
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "client_address",
    "forwarded_address",
]

_SALT_TTL_S = 86_400


def forwarded_address(value: str, *, hops: int) -> str:
    """The client's address in a proxy header that lists addresses (``X-Forwarded-For``).

    Each trusted proxy appends the address it received the request from, so the client's is
    the `hops`-th entry from the right; entries further left were sent by the client itself
    and may be forged (taking the first one let an attacker pick a new rate-limit key for
    every guess).
    """
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        return ""
    return entries[-hops] if hops <= len(entries) else entries[0]


def client_address(headers: Mapping[str, str], peer: str, *, header: str | None, hops: int) -> str:
    """The client's address: from the trusted proxy's `header` when one is configured and
    present (see `forwarded_address`), else the peer of the connection."""
    if header and (value := headers.get(header.lower())):
        return forwarded_address(value, hops=hops)
    return peer


class RateLimiter(Protocol):
    """Counts hits per key and window."""

    async def hit(self, key: str, *, limit: int, window_s: int) -> bool:
        """Count one hit; False when `key` already had `limit` hits in the current window."""
        ...

    async def address_key(self, address: str) -> str:
        """An unlinkable key for a client address (salted HMAC, salt never persisted)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryRateLimiter:
    """Per-process counters; enough for one replica (the embedded mode, tests, the simulator)."""

    def __init__(self, clock: Clock, *, max_keys: int = 1_000_000) -> None:
        self._clock = clock
        self._salt = secrets.token_bytes(32)
        self._window: dict[tuple[str, int], int] = {}
        self._current = -1
        self._max_keys = max_keys

    async def hit(self, key: str, *, limit: int, window_s: int) -> bool:
        if limit <= 0:
            return True
        window = int(self._clock.now().timestamp() // window_s)
        if window != self._current or len(self._window) > self._max_keys:
            self._window = {k: v for k, v in self._window.items() if k[1] >= window}
            self._current = window
        slot = (key, window)
        count = self._window.get(slot, 0) + 1
        self._window[slot] = count
        return count <= limit

    async def address_key(self, address: str) -> str:
        return hmac.new(self._salt, address.encode(), hashlib.sha256).hexdigest()

    async def close(self) -> None:
        self._window.clear()


class RedisRateLimiter:
    """Counters shared by every replica: ``INCR`` on a per-window key that expires with it."""

    def __init__(self, url: str, clock: Clock, *, prefix: str = "notifica:ratelimit:") -> None:
        self._redis = aioredis.from_url(url)
        self._clock = clock
        self._prefix = prefix

    async def hit(self, key: str, *, limit: int, window_s: int) -> bool:
        if limit <= 0:
            return True
        window = int(self._clock.now().timestamp() // window_s)
        name = f"{self._prefix}{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_s * 2)
            count, _ = await pipe.execute()
        return int(count) <= limit

    async def address_key(self, address: str) -> str:
        salt = secrets.token_hex(32)
        await self._redis.set(f"{self._prefix}salt", salt, nx=True, ex=_SALT_TTL_S)
        stored = await self._redis.get(f"{self._prefix}salt")
        key = stored if isinstance(stored, bytes) else salt.encode()
        return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()

    async def close(self) -> None:
        await self._redis.aclose()
