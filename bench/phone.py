"""Exposure detection at scale: 100,000 downloaded keys against 50,000 stored sightings.

Measures `Phone.detect()` end to end (settings, index, ten 10,000-key signed batches through
an ``httpx.MockTransport``, parsing, signature checks, identifier derivation, matching against
an encrypted SQLite store of 50,000 sightings, AEM decryption, v1 scoring) and, in the same
run, two references: the floor of reading and verifying the same ten files, and a second
phone sharing the first one's `DetectionCache` (the simulator's case: batches derived once).

    python bench/phone.py            # prints a table and the BENCHMARKS.md line
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notifica.clock import SimClock
from notifica.phone import (
    DetectionCache,
    Endpoints,
    Permissions,
    Phone,
    RawKeyProvider,
    SightingColumns,
    SqliteStore,
)
from notifica.protocol import (
    TemporaryExposureKey,
    TemporaryExposureKeyExport,
    read_export,
    rolling_start,
    verify_export,
    write_export_zip,
)
from tests.phone.support import DEVICE, PUBLIC_KEYS, SIGNER

KEYS, BATCHES, SIGHTINGS = 100_000, 10, 50_000
START = datetime(2024, 3, 20, 9, 0, tzinfo=UTC)


def make_batches(rng: random.Random) -> dict[int, bytes]:
    first_day = rolling_start(int(START.timestamp()) // 600) - 14 * 144
    per_batch = KEYS // BATCHES
    batches = {}
    for index in range(1, BATCHES + 1):
        keys = tuple(
            sorted(
                (
                    TemporaryExposureKey(
                        key_data=rng.randbytes(16),
                        rolling_start_interval_number=first_day + 144 * rng.randrange(14),
                        transmission_risk_level=8,
                    )
                    for _ in range(per_batch)
                ),
                key=lambda k: k.key_data,
            )
        )
        export = TemporaryExposureKeyExport(
            start_timestamp=0, end_timestamp=1, region="222", batch_num=1, keys=keys
        )
        batches[index] = write_export_zip(export, [SIGNER])
    return batches


def fill_store(store: SqliteStore, rng: np.random.Generator) -> None:
    end = int(START.timestamp())
    scans = SIGHTINGS // 10
    times = np.sort(rng.integers(end - 14 * 86_400, end, scans))
    for t in times:
        store.add_sightings(
            SightingColumns.build(
                rpis=rng.bytes(160),
                aems=rng.bytes(40),
                rssi_dbm=rng.integers(-95, -50, 10),
                unix_s=int(t),
                previous_scan_unix_s=int(t) - 240,
            )
        )


def handler_for(batches: dict[int, bytes]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/settings":
            return httpx.Response(200, json={})
        if path == "/v1/keys/index":
            return httpx.Response(200, json={"oldest": 1, "newest": max(batches)})
        return httpx.Response(200, content=batches[int(path.rsplit("/", 1)[1])])

    return httpx.MockTransport(handle)


def make_phone(store: SqliteStore, transport: httpx.MockTransport, cache: DetectionCache) -> Phone:
    phone = Phone(
        clock=SimClock(START),
        store=store,
        device=DEVICE,
        http=httpx.AsyncClient(transport=transport),
        endpoints=Endpoints.single("https://b.test"),
        public_keys=PUBLIC_KEYS,
        rng=random.Random(1),
        detection_cache=cache,
    )
    if not phone.state.onboarded:
        phone.onboard(
            age_confirmed=True,
            province="RM",
            permissions=Permissions(exposure_notifications=True, bluetooth=True),
        )
    return phone


def idle_population(count: int = 1_000) -> tuple[float, float, float]:
    """Per-phone memory and the cost of a tick when nothing is due, for `count` phones."""
    import tracemalloc

    from notifica.phone import MemoryStore

    clock = SimClock(START)
    transport = handler_for(
        {
            1: write_export_zip(
                TemporaryExposureKeyExport(start_timestamp=0, end_timestamp=1, region="222"),
                [SIGNER],
            )
        }
    )
    client = httpx.AsyncClient(transport=transport)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    phones = []
    for seed in range(count):
        phone = Phone(
            clock=clock,
            store=MemoryStore(),
            device=DEVICE,
            http=client,
            endpoints=Endpoints.single("https://b.test"),
            public_keys=PUBLIC_KEYS,
            rng=random.Random(seed),
        )
        phone.onboard(
            age_confirmed=True,
            province="RM",
            permissions=Permissions(exposure_notifications=True, bluetooth=True),
        )
        phone.current_advertisement()
        phones.append(phone)
    per_phone = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()

    async def tick_all() -> None:
        for phone in phones:
            await phone.tick()

    asyncio.run(tick_all())  # first ticks: detections and schedules drawn
    clock.advance(1)
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        asyncio.run(tick_all())
    idle_s = (time.perf_counter() - started) / (rounds * count)
    started = time.perf_counter()

    async def nothing() -> None:
        for _ in phones:
            await asyncio.sleep(0)

    asyncio.run(nothing())
    floor_s = (time.perf_counter() - started) / count
    return per_phone, idle_s, floor_s


def main() -> None:
    batches = make_batches(random.Random(1))
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore.open(Path(folder) / "phone.db", RawKeyProvider(bytes(32)))
        fill_store(store, np.random.default_rng(2))
        transport = handler_for(batches)

        started = time.perf_counter()
        for data in batches.values():
            verify_export(read_export(data), PUBLIC_KEYS)
        floor_s = time.perf_counter() - started

        cache = DetectionCache()
        phone = make_phone(store, transport, cache)
        started = time.perf_counter()
        report = asyncio.run(phone.detect())
        detect_s = time.perf_counter() - started
        assert report.ok, report
        assert len(report.batches_processed) == BATCHES, report

        other = SqliteStore.open(Path(folder) / "other.db", RawKeyProvider(bytes(32)))
        fill_store(other, np.random.default_rng(3))
        second = make_phone(other, transport, cache)
        started = time.perf_counter()
        asyncio.run(second.detect())
        shared_s = time.perf_counter() - started

        started = time.perf_counter()
        seen = store.observations_since(int((START - timedelta(days=14)).timestamp()))
        load_s = time.perf_counter() - started
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    backend = cache.backend.name
    print(f"keys {KEYS:,} in {BATCHES} batches, sightings {len(seen):,}; matching {backend}")
    print(machine)
    print(f"{'read + verify 10 files (floor)':40s} {floor_s:8.3f} s   1.00×")
    print(f"{'detect(), cold cache':40s} {detect_s:8.3f} s   {detect_s / floor_s:5.2f}× floor")
    print(
        f"{'detect(), shared cache (2nd phone)':40s} {shared_s:8.3f} s   {shared_s / floor_s:5.2f}×"
    )
    print(f"{'  of which: load 50k sightings':40s} {load_s:8.3f} s")
    per_phone, idle_s, floor_s = idle_population()
    print(f"{'memory per onboarded phone (in memory)':40s} {per_phone / 1024:8.1f} KiB")
    print(
        f"{'idle tick() per phone':40s} {idle_s * 1e6:8.2f} µs   "
        f"{idle_s / floor_s:5.2f}× one asyncio.sleep(0) ({floor_s * 1e6:.2f} µs)"
    )


if __name__ == "__main__":
    main()
