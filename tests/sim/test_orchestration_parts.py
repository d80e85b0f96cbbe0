"""The orchestration's parts: the columnar sightings store, the CDN cache, the simulated-clock
sleeper, the deterministic signer and the attributing risk rule."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import httpx
import numpy as np
import pytest

from notifica.clock import SimClock
from notifica.phone import PhoneState, PhoneStore, SightingColumns
from notifica.protocol import (
    IMMUNI_PRESETS,
    KeyExposure,
    Sighting,
    SignatureInfo,
    TemporaryExposureKey,
)
from notifica.server import INLINE_BLOCKING_CALLS
from notifica.server.routers._http import run
from notifica.sim import Scenario
from notifica.sim.backend import CdnTransport, ClockSleeper, DeterministicSigner
from notifica.sim.risk import AttributingRule, ground_truth_threshold_db, rule_for_scenario
from notifica.sim.sightings_store import SightingsStore

T0 = 1_600_000_000


def _day(store: SightingsStore, day: int, receivers: list[int], times: list[int]) -> None:
    n = len(receivers)
    store.add_day(
        day,
        receiver_row=np.array(receivers),
        rpis=np.arange(n * 16, dtype=np.uint8).reshape(n, 16) if n else np.zeros((0, 16), np.uint8),
        aems=np.zeros((n, 4), dtype=np.uint8),
        rssi_dbm=np.full(n, -60, dtype=np.int16),
        unix_s=np.array(times, dtype=np.int64),
        previous_scan_unix_s=np.zeros(n, dtype=np.int64),
    )


def test_each_phone_sees_only_its_own_sightings_oldest_first() -> None:
    store = SightingsStore(3)
    _day(store, 0, [2, 0, 2, 1], [T0 + 30, T0 + 10, T0 + 20, T0 + 5])
    _day(store, 1, [2], [T0 + 86_400])
    view = store.view(2)
    assert isinstance(view, PhoneStore)
    seen = view.observations_since(0)
    assert seen.unix_s.tolist() == [T0 + 20, T0 + 30, T0 + 86_400]
    assert view.observations_since(T0 + 25).unix_s.tolist() == [T0 + 30, T0 + 86_400]
    assert len(store.view(0).observations_since(0)) == 1
    assert view.sighting_count() == 3


def test_purge_hides_old_sightings_and_counts_them() -> None:
    store = SightingsStore(1)
    _day(store, 0, [0, 0], [T0, T0 + 100])
    _day(store, 1, [0], [T0 + 86_400])
    view = store.view(0)
    assert view.purge_before(T0 + 50) == 1
    assert view.observations_since(0).unix_s.tolist() == [T0 + 100, T0 + 86_400]
    assert view.purge_before(T0 + 50) == 0
    assert view.sighting_count() == 2


def test_days_past_retention_are_dropped_and_days_must_increase() -> None:
    store = SightingsStore(1)
    for day in range(17):
        _day(store, day, [0], [T0 + day * 86_400])
    assert next(b.day for b in store.blocks) == 2  # 14 days + today kept
    with pytest.raises(ValueError, match="not after"):
        _day(store, 3, [0], [T0])
    with pytest.raises(ValueError, match="receiver rows"):
        _day(store, 20, [1], [T0])


def test_a_failed_transaction_keeps_the_previous_state() -> None:
    view = SightingsStore(1).view(0)
    first = PhoneState(onboarded=True)
    with view.transaction():
        view.save_state(first)

    def killed() -> None:
        with view.transaction():
            view.save_state(PhoneState(onboarded=False))
            view.add_sightings(
                SightingColumns.build(
                    rpis=bytes(16), aems=bytes(4), rssi_dbm=-50, unix_s=T0, previous_scan_unix_s=0
                )
            )
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        killed()
    assert view.load_state() is first
    assert view.sighting_count() == 0


def _app(hits: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        if request.url.path == "/batch":
            return httpx.Response(
                200, content=b"x" * 100, headers={"Cache-Control": "public, max-age=60"}
            )
        if request.url.path == "/missing":
            return httpx.Response(404, headers={"Cache-Control": "no-store"})
        return httpx.Response(200, content=b"y", headers={"Cache-Control": "no-store"})

    return httpx.MockTransport(handler)


def test_the_cdn_serves_cached_answers_while_fresh_and_counts_every_phones_bytes() -> None:
    clock = SimClock(datetime.fromtimestamp(T0, UTC))
    hits: list[str] = []
    cdn = CdnTransport(_app(hits), clock, phones=2, negative_ttl_s=30)
    client = httpx.AsyncClient(transport=cdn, base_url="http://cdn.test")

    async def fetch(phone: int, path: str) -> httpx.Response:
        cdn.phone = phone
        return await client.get(path)

    async def scenario() -> None:
        assert (await fetch(0, "/batch")).content == b"x" * 100
        assert (await fetch(1, "/batch")).content == b"x" * 100
        await fetch(1, "/private")
        await fetch(1, "/private")
        await fetch(0, "/missing")
        await fetch(1, "/missing")
        clock.advance(61)
        await fetch(0, "/batch")
        await fetch(0, "/missing")

    asyncio.run(scenario())
    assert hits == ["/batch", "/private", "/private", "/missing", "/batch", "/missing"]
    received = cdn.take_received()
    assert received[0] > 2 * 100
    assert received[1] > 100
    assert cdn.take_received().tolist() == [0, 0]


def test_the_timing_defence_waits_on_the_simulated_clock() -> None:
    clock = SimClock(datetime.fromtimestamp(T0, UTC))
    sleeper = ClockSleeper(clock)
    asyncio.run(sleeper.sleep(0.15))
    assert clock.now().timestamp() == pytest.approx(T0 + 0.15)
    assert sleeper.waited_s == pytest.approx(0.15)


def test_the_signer_depends_only_on_the_seed() -> None:
    info = SignatureInfo(verification_key_id="222", verification_key_version="v1")
    one, two = DeterministicSigner.from_seed(5, info), DeterministicSigner.from_seed(5, info)
    assert one.sign(b"batch") == two.sign(b"batch")
    assert one.public_key_pem() == two.public_key_pem()
    assert DeterministicSigner.from_seed(6, info).public_key_pem() != one.public_key_pem()


def _exposure(key: bytes, minutes: int, attenuation: int, day: int = 18_500) -> KeyExposure:
    start = day * 86_400 + 3600
    sightings = [
        Sighting(
            unix_s=start + i * 300,
            attenuation_db=attenuation,
            previous_scan_unix_s=start + (i - 1) * 300 if i else None,
        )
        for i in range(minutes // 5)
    ]
    tek = TemporaryExposureKey(key_data=key, rolling_start_interval_number=day * 144)
    return KeyExposure(key=tek, sightings=sightings)


def test_attribution_keeps_the_keys_that_make_the_decision() -> None:
    rule = AttributingRule(IMMUNI_PRESETS["immuni-2020-10-android"].rule())
    close, far = _exposure(b"a" * 16, 30, 50), _exposure(b"b" * 16, 30, 80)
    assessment = rule.assess([close, far], now_unix_s=18_501 * 86_400)
    assert assessment.is_at_risk
    assert rule.risky_keys == [b"a" * 16]
    assert not rule.assess([far], now_unix_s=18_501 * 86_400).is_at_risk
    assert rule.risky_keys == []


def test_the_ground_truth_rule_is_per_sender_at_the_median_attenuation_of_2_m() -> None:
    scenario = Scenario().with_values(
        {
            "app.risk_rule": "ground-truth",
            **{
                f"radio.environments.{e}.slope_near": 2.35
                for e in ("home", "indoor", "vehicle", "outdoor")
            },
        }
    )
    threshold = ground_truth_threshold_db(scenario)
    assert threshold == 53  # 46.5 + 23.5·log10(2) = 53.57 ≈ 53 + 0.5: round(a) ≤ 53 ⇔ a < 53.5
    rule = rule_for_scenario(scenario)
    now = 18_501 * 86_400
    assert rule.assess([_exposure(b"a" * 16, 20, threshold)], now_unix_s=now).is_at_risk
    assert not rule.assess([_exposure(b"a" * 16, 20, threshold + 1)], now_unix_s=now).is_at_risk
    two_short = [_exposure(b"a" * 16, 10, threshold), _exposure(b"b" * 16, 10, threshold)]
    assert not rule.assess(two_short, now_unix_s=now).is_at_risk


def test_server_calls_run_inline_only_where_the_simulator_asks() -> None:
    async def caller(inline: bool) -> int:
        if inline:
            INLINE_BLOCKING_CALLS.set(True)
        return await run(threading.get_ident)

    here = threading.get_ident()
    assert asyncio.run(caller(inline=True)) == here
    assert asyncio.run(caller(inline=False)) != here  # the thread pool, as in production
