"""Dummy and real ingestion requests look the same on the wire: status mix and latency.

The test clock's ``now()`` is simulated but its ``monotonic()`` is real, so the release
schedule measures real processing time; the sleeper only records how long it would wait.
A request's latency is then exactly (processing + wait), which is what an observer sees.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.server import Backend, create_app
from tests.server._support import ingestion_headers, make_otp, padded, upload_body
from tests.server.conftest import START, BackendFactory

pytestmark = pytest.mark.anyio

N = 200


class RealMonotonicClock(SimClock):
    """Simulated wall time, real elapsed time."""

    def monotonic(self) -> float:
        return time.monotonic()


class ReleaseProbe:
    """A sleeper that records each response's release time instead of waiting."""

    def __init__(self, clock: RealMonotonicClock) -> None:
        self.clock = clock
        self.releases: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.releases.append(self.clock.monotonic() + seconds)


def ks_statistic(a: list[float], b: list[float]) -> float:
    """Two-sample Kolmogorov–Smirnov distance."""
    a, b = sorted(a), sorted(b)
    i = j = 0
    distance = 0.0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            i += 1
        else:
            j += 1
        distance = max(distance, abs(i / len(a) - j / len(b)))
    return distance


def ks_critical(n: int, m: int, alpha: float = 0.001) -> float:
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n + m) / (n * m))


async def measure(
    backend: Backend,
    probe: ReleaseProbe,
    send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
) -> tuple[list[int], list[float]]:
    statuses, latencies = [], []
    app = create_app(backend.settings, backend=backend)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for i in range(N):
            probe.releases.clear()
            started = probe.clock.monotonic()
            response = await send(client, i)
            ended = probe.clock.monotonic()
            release = probe.releases[0] if probe.releases else ended
            statuses.append(response.status_code)
            latencies.append(max(release, ended) - started)
    return statuses, latencies


def _backend(backend_factory: BackendFactory, **settings: object) -> tuple[Backend, ReleaseProbe]:
    clock = RealMonotonicClock(START)
    probe = ReleaseProbe(clock)
    backend = backend_factory(clock=clock, sleeper=probe, rng=random.Random(3), **settings)
    return backend, probe


async def test_dummy_and_real_uploads_are_indistinguishable(
    backend_factory: BackendFactory,
) -> None:
    backend, probe = _backend(backend_factory)
    otps = [make_otp(random.Random(10_000 + i)) for i in range(N)]
    for otp in otps:
        backend.authorise_otp(otp, START.date() - timedelta(days=2))
    body = upload_body(START)

    async def real(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post(
            "/v1/ingestion/upload", content=body, headers=ingestion_headers(otps[i])
        )

    async def dummy(client: httpx.AsyncClient, i: int) -> httpx.Response:
        headers = ingestion_headers(make_otp(random.Random(i)), dummy=True)
        return await client.post("/v1/ingestion/upload", content=body, headers=headers)

    real_statuses, real_latency = await measure(backend, probe, real)
    uploads = backend.repository.uploads.pending_count()
    dummy_statuses, dummy_latency = await measure(backend, probe, dummy)
    assert set(real_statuses) == set(dummy_statuses) == {204}
    assert backend.repository.uploads.pending_count() == uploads == 14 * N  # dummies: nothing
    assert ks_statistic(real_latency, dummy_latency) < ks_critical(N, N)
    assert 0.12 < sum(real_latency) / N < 0.18


async def test_dummy_and_real_check_otp_share_status_mix_and_latency(
    backend_factory: BackendFactory,
) -> None:
    backend, probe = _backend(backend_factory)
    valid = make_otp(random.Random(1))
    backend.authorise_otp(valid, START.date())
    wrong = random.Random(2)

    async def real(client: httpx.AsyncClient, i: int) -> httpx.Response:
        otp = make_otp(wrong) if wrong.random() < 0.01 else valid  # 1 % mistyped codes
        return await client.post(
            "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
        )

    async def dummy(client: httpx.AsyncClient, i: int) -> httpx.Response:
        headers = ingestion_headers(make_otp(random.Random(i)), dummy=True)
        return await client.post("/v1/ingestion/check-otp", content=padded({}), headers=headers)

    real_statuses, real_latency = await measure(backend, probe, real)
    dummy_statuses, dummy_latency = await measure(backend, probe, dummy)
    assert set(real_statuses) | set(dummy_statuses) <= {204, 401}
    p_real, p_dummy = real_statuses.count(401) / N, dummy_statuses.count(401) / N
    pooled = (p_real + p_dummy) / 2
    z = abs(p_real - p_dummy) / math.sqrt(max(pooled * (1 - pooled), 1e-9) * 2 / N)
    assert z < 3.3  # two-proportion test at α = 0.001
    assert ks_statistic(real_latency, dummy_latency) < ks_critical(N, N)


async def test_without_the_defence_the_same_test_tells_them_apart(
    backend_factory: BackendFactory,
) -> None:
    """The latency test can fail: with no delay, real uploads are visibly slower."""
    backend, probe = _backend(
        backend_factory, ingestion_delay_mean_ms=0.0, ingestion_delay_sigma_ms=0.0
    )
    otps = [make_otp(random.Random(20_000 + i)) for i in range(N)]
    for otp in otps:
        backend.authorise_otp(otp, START.date())
    body = upload_body(START)

    async def real(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post(
            "/v1/ingestion/upload", content=body, headers=ingestion_headers(otps[i])
        )

    async def dummy(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post(
            "/v1/ingestion/upload", content=body, headers=ingestion_headers(otps[0], dummy=True)
        )

    _, real_latency = await measure(backend, probe, real)
    _, dummy_latency = await measure(backend, probe, dummy)
    assert ks_statistic(real_latency, dummy_latency) > ks_critical(N, N)
