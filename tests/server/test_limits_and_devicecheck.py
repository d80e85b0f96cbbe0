"""Rate limiters (memory and Redis) and the DeviceCheck two-bit dance (immuni-api.md §7.3)."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from notifica.clock import SimClock
from notifica.server import (
    InMemoryDeviceCheck,
    MemoryRateLimiter,
    RecordingSleeper,
    RedisRateLimiter,
)
from notifica.server.devicecheck import TwoBits, authorize_device

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("NOTIFICA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NOW = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "redis"])
async def limiter(
    request: pytest.FixtureRequest, clock: SimClock
) -> AsyncIterator[MemoryRateLimiter | RedisRateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter(clock)
        return
    prefix = f"notifica-test:{uuid.uuid4().hex}:"
    probe = aioredis.from_url(REDIS_URL)
    try:
        await probe.ping()
    except (OSError, aioredis.ConnectionError) as exc:
        await probe.aclose()
        if os.environ.get("NOTIFICA_REQUIRE_POSTGRES") == "1":  # CI: services are required
            pytest.fail(f"Redis unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    redis_limiter = RedisRateLimiter(REDIS_URL, clock, prefix=prefix)
    yield redis_limiter
    await redis_limiter.close()
    keys = [key async for key in probe.scan_iter(f"{prefix}*")]
    if keys:
        await probe.delete(*keys)
    await probe.aclose()


async def test_fixed_window_limit(
    limiter: MemoryRateLimiter | RedisRateLimiter, clock: SimClock
) -> None:
    results = [await limiter.hit("k", limit=3, window_s=60) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert await limiter.hit("other", limit=3, window_s=60)
    clock.advance(60)
    assert await limiter.hit("k", limit=3, window_s=60)
    assert await limiter.hit("k", limit=0, window_s=60)  # 0 = no limit


async def test_address_keys_are_salted_hashes(
    limiter: MemoryRateLimiter | RedisRateLimiter, clock: SimClock
) -> None:
    key = await limiter.address_key("203.0.113.7")
    assert key == await limiter.address_key("203.0.113.7")
    assert "203.0.113.7" not in key
    assert key != await limiter.address_key("203.0.113.8")
    assert key != await MemoryRateLimiter(clock).address_key("203.0.113.7")


async def test_device_check_allows_one_token_per_device_per_month(clock: SimClock) -> None:
    device_check = InMemoryDeviceCheck(clock)
    sleeper = RecordingSleeper()
    rng = random.Random(1)
    assert await authorize_device(device_check, "dev", now=clock.now(), sleeper=sleeper, rng=rng)
    assert 7 <= sleeper.waits[0] <= 10
    assert 0 <= sleeper.waits[1] <= 3
    assert not await authorize_device(
        device_check, "dev", now=clock.now(), sleeper=sleeper, rng=rng
    )
    clock.set(datetime(2020, 7, 2, tzinfo=UTC))
    assert await authorize_device(device_check, "dev", now=clock.now(), sleeper=sleeper, rng=rng)


async def test_device_with_bits_set_is_blacklisted(clock: SimClock) -> None:
    device_check = InMemoryDeviceCheck(clock)
    device_check._bits["dev"] = TwoBits(True, False, "2020-05")
    sleeper = RecordingSleeper()
    assert not await authorize_device(
        device_check, "dev", now=clock.now(), sleeper=sleeper, rng=random.Random(2)
    )
    assert await device_check.query_two_bits("dev") == TwoBits(True, True, "2020-06")


async def test_race_during_the_dance_blacklists(clock: SimClock) -> None:
    device_check = InMemoryDeviceCheck(clock)

    class Racer:
        """Another authorisation flips the bits while this one waits."""

        async def sleep(self, seconds: float) -> None:
            await device_check.update_two_bits("dev", bit0=True, bit1=False)

    assert not await authorize_device(
        device_check, "dev", now=clock.now(), sleeper=Racer(), rng=random.Random(3)
    )
    bits = await device_check.query_two_bits("dev")
    assert (bits.bit0, bits.bit1) == (True, True)
