"""Publishing and retention as plain functions on a simulated clock (immuni-api.md §5)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from notifica.clock import SimClock
from notifica.protocol import otp_bearer_token, read_export
from notifica.server import Backend, publish, retention
from notifica.server.jobs.publish import first_risky_interval
from notifica.server.repository import OperationalInfoRecord, StoredUpload
from notifica.server.repository.batches import PUBLISH_LOCK_KEY
from tests.server._support import make_otp
from tests.server.conftest import BackendFactory


def upload(
    backend: Backend,
    *,
    onset: date,
    keys: list[tuple[bytes, int, int]],
    seed: int = 0,
) -> None:
    """Authorise an OTP and upload `keys` through the service layer's repository call."""
    otp = make_otp(random.Random(seed))
    backend.authorise_otp(otp, onset)
    grant = backend.repository.uploads.consume_otp_and_store(
        token_hash=otp_bearer_token(otp),
        upload=StoredUpload(keys=tuple(keys), province="RM", exposure_detection_summaries=[]),
        now=backend.clock.now(),
    )
    assert grant is not None


def daily_keys(now: datetime, count: int, rng: random.Random) -> list[tuple[bytes, int, int]]:
    """`count` keys of the last `count` days, the newest one still valid today."""
    today = int(now.timestamp()) // 600 // 144 * 144
    return [(rng.randbytes(16), today - 144 * i, 144) for i in range(count)]


def batch_keys(backend: Backend, index: int) -> list[tuple[bytes, int, int, int]]:
    content = backend.repository.batches.content(index)
    assert content is not None
    return [
        (k.key_data, k.rolling_start_interval_number, k.rolling_period, k.transmission_risk_level)
        for k in read_export(content).export.keys
    ]


def test_publish_filters_onset_holds_unexpired_sorts_and_sets_risk_8(
    backend: Backend, clock: SimClock
) -> None:
    now = clock.now()
    keys = daily_keys(now, 14, random.Random(1))
    upload(backend, onset=now.date() - timedelta(days=3), keys=keys)
    report = backend.publish()
    # Onset − 2 days = 5 days ago: keys of days −5..−1 published, today's held back.
    assert (report.batches, report.keys_published, report.keys_held_back) == ((1,), 5, 1)
    assert report.keys_discarded == 8
    published = batch_keys(backend, 1)
    expected = sorted((k, s, p, 8) for k, s, p in keys[1:6])
    assert published == expected
    assert backend.repository.uploads.pending_count() == 1
    clock.advance(timedelta(days=1))
    later = backend.publish()
    assert (later.batches, later.keys_published, later.keys_held_back) == ((2,), 1, 0)
    assert batch_keys(backend, 2) == [(keys[0][0], keys[0][1], 144, 8)]
    assert backend.repository.uploads.pending_count() == 0


def test_the_publisher_reads_only_expired_keys_and_counts_the_held_ones(
    backend: Backend, clock: SimClock
) -> None:
    now = clock.now()
    keys = daily_keys(now, 14, random.Random(2))
    upload(backend, onset=now.date() - timedelta(days=3), keys=keys)
    at = int(now.timestamp()) // 600
    with backend.repository.batches.publishing() as session:
        assert session is not None
        read = session.pending(expired_by=at)
        assert sorted(read.key_data) == sorted(k for k, _, _ in keys[1:])
        assert session.count_unexpired(at=at) == 1
        assert len(session.pending()) == 14


def test_publish_without_keys_makes_no_batch(backend: Backend) -> None:
    assert backend.publish().batches == ()
    assert backend.repository.batches.last() is None


def test_batches_hold_at_most_the_configured_number_of_keys_sorted(
    backend_factory: BackendFactory, clock: SimClock
) -> None:
    backend = backend_factory(max_keys_per_batch=4)
    rng = random.Random(2)
    past = clock.now() - timedelta(days=2)
    for seed in range(3):
        upload(backend, onset=past.date(), keys=daily_keys(past, 3, rng), seed=seed)
    report = backend.publish()
    assert report.batches == (1, 2, 3)
    contents = [batch_keys(backend, i) for i in report.batches]
    assert [len(c) for c in contents] == [4, 4, 1]
    flat = [k for c in contents for k in c]
    assert flat == sorted(flat)
    assert len({k[0] for k in flat}) == 9


def test_indices_continue_after_retention_removed_every_batch(
    backend: Backend, clock: SimClock
) -> None:
    rng = random.Random(3)
    upload(
        backend, onset=clock.now().date(), keys=daily_keys(clock.now() - timedelta(days=1), 1, rng)
    )
    assert backend.publish().batches == (1,)
    clock.advance(timedelta(days=20))
    assert backend.retention().batches_deleted == 1
    upload(
        backend,
        onset=clock.now().date(),
        keys=daily_keys(clock.now() - timedelta(days=1), 1, rng),
        seed=1,
    )
    assert backend.publish().batches == (2,)


def test_first_risky_interval_is_midnight_two_days_before_onset() -> None:
    onset = date(2020, 6, 12)
    expected = int(datetime(2020, 6, 10, tzinfo=UTC).timestamp()) // 600
    assert first_risky_interval(onset, days_before=2) == expected


def test_retention_deletes_by_age(backend: Backend, clock: SimClock) -> None:
    rng = random.Random(4)
    upload(
        backend, onset=clock.now().date(), keys=daily_keys(clock.now() - timedelta(days=1), 2, rng)
    )
    backend.publish()
    upload(backend, onset=clock.now().date(), keys=daily_keys(clock.now(), 1, rng), seed=9)
    record = OperationalInfoRecord(
        platform="ios", province="RM", build=None, exposure_permission=True,
        bluetooth_active=True, notification_permission=True, exposure_notification=False,
        last_risky_exposure_on=None,
    )  # fmt: skip
    backend.repository.analytics.add_operational_info(record, received_on=clock.now().date())
    clock.advance(timedelta(days=14))
    early = backend.retention()
    assert (early.batches_deleted, early.unpublished_keys_deleted, early.analytics_deleted) == (
        0,
        0,
        0,
    )
    clock.advance(timedelta(days=1))
    report = backend.retention()
    assert (report.batches_deleted, report.unpublished_keys_deleted) == (1, 1)
    assert report.analytics_deleted == 0
    clock.advance(timedelta(days=16))
    assert backend.retention().analytics_deleted == 1
    assert backend.daily_counts(days=60) == []


def test_sunset_deletes_every_citizen_record(
    backend_factory: BackendFactory, clock: SimClock
) -> None:
    backend = backend_factory(data_sunset=clock.now().date())
    upload(
        backend,
        onset=clock.now().date(),
        keys=daily_keys(clock.now() - timedelta(days=1), 2, random.Random(5)),
    )
    backend.publish()
    assert not backend.retention().sunset
    clock.advance(timedelta(days=1))
    report = retention(backend.repository, clock, backend.settings)
    assert report.sunset
    assert report.sunset_rows_deleted > 0
    assert backend.repository.batches.list() == []
    assert backend.repository.uploads.pending_count() == 0


def test_schedule_runs_each_job_once_per_interval(backend: Backend, clock: SimClock) -> None:
    first = backend.jobs.run_due()
    assert first.publish is not None
    assert first.retention is not None
    clock.advance(timedelta(hours=10))
    assert backend.jobs.run_due() == type(first)()
    clock.set(datetime.combine(clock.now().date() + timedelta(days=1), datetime.min.time(), UTC))
    again = backend.jobs.run_due()
    assert again.publish is not None
    assert again.retention is not None


def test_publish_function_takes_its_dependencies(backend: Backend, clock: SimClock) -> None:
    upload(
        backend,
        onset=clock.now().date(),
        keys=daily_keys(clock.now() - timedelta(days=1), 1, random.Random(6)),
    )
    report = publish(backend.repository, backend.signer(), clock, backend.settings)
    assert report.keys_published == 1


@pytest.mark.postgres
def test_postgres_publisher_skips_while_another_holds_the_lock(
    backend: Backend, clock: SimClock
) -> None:
    if backend.repository.database.is_sqlite:
        pytest.skip("the advisory lock is PostgreSQL's")
    upload(
        backend,
        onset=clock.now().date(),
        keys=daily_keys(clock.now() - timedelta(days=1), 1, random.Random(7)),
    )
    with backend.repository.database.engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_advisory_lock({PUBLISH_LOCK_KEY})")
        assert backend.publish().locked
        other.exec_driver_sql(f"SELECT pg_advisory_unlock({PUBLISH_LOCK_KEY})")
        other.commit()
    assert backend.publish().keys_published == 1
