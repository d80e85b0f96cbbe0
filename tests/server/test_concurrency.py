"""Races that Immuni solved with Redis and Celery locks, on the database alone.

* 50 concurrent uploads with one OTP: exactly one succeeds (``DELETE … RETURNING``).
* Two publishers at once: indices never reused, every key in exactly one batch.
* A publisher killed with SIGKILL at random points: after a restart every key is in exactly
  one batch (the publish is one transaction).

They run on both engines; the SIGKILL test is slow and PostgreSQL-only.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import threading
import time
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from notifica.clock import FixedClock, SimClock
from notifica.protocol import otp_bearer_token, read_export
from notifica.server import Backend, NoSleep, Settings
from notifica.server.repository import OtpGrant, Repository, StoredUpload
from tests.server._support import ingestion_headers, make_otp, upload_body
from tests.server.conftest import BackendFactory, client_for

pytestmark = pytest.mark.anyio


async def test_fifty_concurrent_uploads_with_one_otp_store_exactly_one(
    backend_factory: BackendFactory, clock: SimClock
) -> None:
    backend = backend_factory(sleeper=NoSleep())
    otp = make_otp(random.Random(50))
    backend.authorise_otp(otp, clock.now().date() - timedelta(days=1))
    async with client_for(backend) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/v1/ingestion/upload",
                    content=upload_body(clock.now(), rng=random.Random(i)),
                    headers=ingestion_headers(otp),
                )
                for i in range(50)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [204] + [401] * 49
    assert backend.repository.uploads.pending_count() == 14
    assert backend.daily_counts(days=1)[0].uploads_received == 1


def _store_keys(repository: Repository, clock: SimClock, count: int, seed: int) -> list[bytes]:
    """Upload `count` expired keys under one fresh OTP; return their key data."""
    rng = random.Random(seed)
    otp = make_otp(rng)
    token = otp_bearer_token(otp)
    assert repository.otps.authorise(
        token_hash=token,
        grant=OtpGrant(symptoms_started_on=clock.now().date() - timedelta(days=1)),
        now=clock.now(),
        ttl_s=600,
    )
    start = (int(clock.now().timestamp()) // 600 // 144 - 1) * 144
    keys = [(rng.randbytes(16), start, 144) for _ in range(count)]
    assert repository.uploads.consume_otp_and_store(
        token_hash=token,
        upload=StoredUpload(keys=tuple(keys), province="RM", exposure_detection_summaries=[]),
        now=clock.now(),
    )
    return [k[0] for k in keys]


def _published_keys(repository: Repository) -> tuple[list[int], list[bytes]]:
    indices, keys = [], []
    for info in repository.batches.list():
        indices.append(info.index)
        content = repository.batches.content(info.index)
        assert content is not None
        keys.extend(k.key_data for k in read_export(content).export.keys)
    return indices, keys


def test_two_publishers_never_reuse_an_index_nor_lose_a_key(
    backend_factory: BackendFactory, clock: SimClock
) -> None:
    first = backend_factory(max_keys_per_batch=50)
    second = backend_factory(max_keys_per_batch=50)
    uploaded: list[bytes] = []
    errors: list[BaseException] = []
    for round_ in range(6):
        uploaded += _store_keys(first.repository, clock, 120, seed=round_)
        barrier = threading.Barrier(2)

        def run(backend: Backend, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait()
                backend.publish()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(b,)) for b in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    first.publish()  # whatever a skipped publisher left
    indices, published = _published_keys(first.repository)
    assert indices == list(range(1, len(indices) + 1))
    assert sorted(published) == sorted(uploaded)
    assert len(set(published)) == len(published)


def _publisher(settings: Settings, now: datetime, ready: Connection) -> None:
    """The child: a fresh backend (never the parent's connections), then one publish."""
    backend = Backend(settings, clock=FixedClock(now))
    ready.send("ready")
    backend.publish()


@pytest.mark.slow
@pytest.mark.postgres
def test_publisher_killed_at_random_points_loses_and_duplicates_nothing(
    backend_factory: BackendFactory, clock: SimClock, tmp_path: Path, signing_pem: bytes
) -> None:
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(signing_pem)
    backend = backend_factory(max_keys_per_batch=2_000, signing_key=key_file)
    if backend.repository.database.is_sqlite:
        pytest.skip("the SIGKILL test runs on PostgreSQL")
    fork = multiprocessing.get_context("fork")
    rng = random.Random(20)
    uploaded: list[bytes] = []
    killed = 0
    for _ in range(24):
        uploaded += _store_keys(backend.repository, clock, 6_000, seed=rng.randrange(10**9))
        receiver, sender = fork.Pipe(duplex=False)
        process = fork.Process(target=_publisher, args=(backend.settings, clock.now(), sender))
        process.start()
        assert receiver.poll(30)
        receiver.recv()  # the child is about to publish
        time.sleep(rng.uniform(0.0, 0.5))
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)  # type: ignore[arg-type]
            killed += 1
        process.join(30)
        clock.advance(60)
    assert killed >= 5, "kills should land while publishing"
    backend.publish()  # the restart
    indices, published = _published_keys(backend.repository)
    assert indices == list(range(1, len(indices) + 1))
    assert len(published) == len(set(published)) == len(uploaded)
    assert set(published) == set(uploaded)
    assert backend.repository.uploads.pending_count() == 0
