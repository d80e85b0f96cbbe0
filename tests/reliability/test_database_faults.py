"""PostgreSQL stopped under load: 503 with the Immuni error body, recovery on its own, no loss.

The app runs in process on a throwaway cluster (`_pg`), driven by concurrent phones doing the
whole OTP flow plus index and settings downloads. The cluster is stopped (``fast``: sessions
cut, as in a restart) and later crashed (``immediate``), then started again. While it is down
every answer that is not a success must be 503 with ``{"error_code": 1503, "message"}``;
never a 500 or a traceback. Once it is back the app must answer 2xx again without a restart,
and every upload that got 204 must have its keys stored.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from notifica.clock import SimClock
from notifica.protocol import EcdsaSigner, generate_signing_key_pem
from notifica.server import Backend, NoSleep, Settings, create_app
from notifica.server.signing import signature_info
from tests.reliability._pg import ThrowawayPostgres, throwaway_postgres_or_skip
from tests.server._support import ingestion_headers, make_otp, upload_body
from tests.server.conftest import START

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.anyio]

UNAVAILABLE = {"error_code": 1503, "message": "Service unavailable."}


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    made = throwaway_postgres_or_skip()
    yield made
    made.close()


@dataclass
class Traffic:
    """What the load saw, phase by phase."""

    phase: str = "up"
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    bad_bodies: list[tuple[str, int, bytes]] = field(default_factory=list)
    accepted: list[list[bytes]] = field(default_factory=list)
    """Key data of every upload answered 204."""

    def record(self, what: str, response: httpx.Response) -> None:
        self.statuses.setdefault(self.phase, Counter())[response.status_code] += 1
        if response.status_code >= 500:
            try:
                body = response.json()
            except json.JSONDecodeError:
                body = None
            if response.status_code != 503 or body != UNAVAILABLE:
                self.bad_bodies.append((what, response.status_code, response.content[:200]))


async def _phone(
    client: httpx.AsyncClient, his: str, clock: SimClock, seed: int, t: Traffic
) -> None:
    """One positive user's flow: the HIS authorises, the phone checks and uploads."""
    rng = random.Random(seed)
    otp = make_otp(rng)
    onset = (clock.now().date() - timedelta(days=1)).isoformat()
    response = await client.post(
        "/v1/otp",
        json={"otp": otp, "symptoms_started_on": onset},
        headers={"Authorization": f"Bearer {his}"},
    )
    t.record("otp", response)
    if response.status_code != 204:
        return
    response = await client.post(
        "/v1/ingestion/check-otp", content=b'{"padding": ""}', headers=ingestion_headers(otp)
    )
    t.record("check-otp", response)
    body = upload_body(clock.now(), rng=rng)
    for _ in range(3):  # a phone retries an upload that failed with 5xx
        response = await client.post(
            "/v1/ingestion/upload", content=body, headers=ingestion_headers(otp)
        )
        t.record("upload", response)
        if response.status_code == 204:
            keys = json.loads(body)["teks"]
            t.accepted.append([base64.b64decode(k["key_data"]) for k in keys])
            return
        if response.status_code != 503:
            return
        await asyncio.sleep(0.05)


async def _reader(client: httpx.AsyncClient, t: Traffic) -> None:
    for path in ("/v1/keys/index", "/v1/settings?platform=android&build=1", "/v1/keys/1"):
        t.record(path, await client.get(path))


async def _load(
    client: httpx.AsyncClient, his: str, clock: SimClock, t: Traffic, stop: asyncio.Event
) -> None:
    seed = 0

    async def worker(offset: int) -> None:
        nonlocal seed
        while not stop.is_set():
            seed += 1
            await asyncio.gather(
                _phone(client, his, clock, seed * 10 + offset, t), _reader(client, t)
            )

    await asyncio.gather(*(worker(i) for i in range(6)))


async def _phase(t: Traffic, name: str, status: int, count: int, timeout_s: float = 60) -> None:
    """Stay in phase `name` until `count` answers with `status` were seen (load-adaptive:
    the machine may be slow); fail after `timeout_s`."""
    t.phase = name
    for _ in range(int(timeout_s / 0.05)):
        if t.statuses.get(name, Counter())[status] >= count:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"phase {name!r}: fewer than {count} answers {status} in {timeout_s} s")


async def test_database_stopped_under_load_answers_503_recovers_and_loses_nothing(
    cluster: ThrowawayPostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SimClock(START)
    settings = Settings(
        data_dir=tmp_path,
        database_url=cluster.url,
        generate_signing_key=False,
        ingestion_rate_limit_per_minute=0,
        otp_rate_limit_per_minute=0,
        database_pool_size=4,
    )
    signer = EcdsaSigner.from_pem(
        generate_signing_key_pem(), signature_info=signature_info(settings)
    )
    backend = Backend(settings, clock=clock, sleeper=NoSleep(), rng=random.Random(1), signer=signer)
    backend.upgrade()
    _, his = backend.his.add_client("faults")
    app = create_app(settings, backend=backend)
    traffic = Traffic()
    stop = asyncio.Event()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifica.test") as client:
        load = asyncio.create_task(_load(client, his, clock, traffic, stop))
        await _phase(traffic, "up", 204, 60)
        traffic.phase = "stopping"
        await asyncio.to_thread(cluster.stop, "fast")
        await _phase(traffic, "down", 503, 100)
        traffic.phase = "starting"
        await asyncio.to_thread(cluster.start)
        await _phase(traffic, "recovering", 204, 10)
        await _phase(traffic, "recovered", 204, 60)
        traffic.phase = "crashing"
        await asyncio.to_thread(cluster.stop, "immediate")
        await _phase(traffic, "crashed", 503, 100)
        traffic.phase = "restarting"
        await asyncio.to_thread(cluster.start)
        await _phase(traffic, "recovering 2", 204, 10)
        await _phase(traffic, "recovered 2", 204, 60)
        stop.set()
        await load
    await backend.aclose()

    print({phase: dict(counts) for phase, counts in traffic.statuses.items()})
    print(f"{len(traffic.accepted)} uploads answered 204")
    assert traffic.bad_bodies == [], traffic.bad_bodies[:5]
    assert [r for r in caplog.records if r.exc_info] == []  # no traceback in the logs either
    for phase in ("up", "recovered", "recovered 2"):
        counts = traffic.statuses[phase]
        assert not any(status >= 500 for status in counts), (phase, counts)
    for phase in ("down", "crashed"):
        counts = traffic.statuses[phase]
        assert set(counts) <= {200, 503}, (phase, counts)  # 200: settings served from memory
    assert len(traffic.accepted) >= 60

    engine = sa.create_engine(cluster.url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        stored = {
            bytes(row[0]) for row in conn.exec_driver_sql("SELECT key_data FROM pending_keys")
        }
    engine.dispose()
    lost = [key for upload in traffic.accepted for key in upload if key not in stored]
    assert lost == []
