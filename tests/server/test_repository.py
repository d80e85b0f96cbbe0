"""The repository on both engines: migrations match the tables; rows stay inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from notifica.server.repository import (
    DatabaseError,
    OtpGrant,
    Repository,
    StoredUpload,
    normalise_url,
)
from notifica.server.repository.tables import (
    exposure_payloads,
    metadata,
    pending_keys,
    upload_log,
)

NOW = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)


def test_migrations_create_exactly_the_declared_schema(database_url: str) -> None:
    engine = sa.create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_is_idempotent(database_url: str) -> None:
    repository = Repository.open(database_url)
    assert repository.upgrade() == repository.upgrade() == repository.database.head_revision()
    repository.close()


def test_times_come_back_aware_utc(database_url: str) -> None:
    repository = Repository.open(database_url)
    repository.his_clients.add(name="x", token_hash="a" * 64, now=NOW)
    (client,) = repository.his_clients.list()
    assert client.created_at == NOW
    assert client.created_at.tzinfo is not None
    repository.close()


def test_naive_datetimes_are_refused(database_url: str) -> None:
    repository = Repository.open(database_url)
    with pytest.raises((DatabaseError, ValueError)):
        repository.his_clients.add(name="x", token_hash="a" * 64, now=NOW.replace(tzinfo=None))
    repository.close()


def test_expired_otp_may_be_authorised_again(database_url: str) -> None:
    repository = Repository.open(database_url)
    grant = OtpGrant(symptoms_started_on=NOW.date())
    assert repository.otps.authorise(token_hash="b" * 64, grant=grant, now=NOW, ttl_s=150)
    assert not repository.otps.authorise(token_hash="b" * 64, grant=grant, now=NOW, ttl_s=150)
    later = NOW + timedelta(seconds=150)
    assert repository.otps.find_live(token_hash="b" * 64, now=later) is None
    assert repository.otps.authorise(token_hash="b" * 64, grant=grant, now=later, ttl_s=150)
    assert repository.otps.delete_expired(now=later + timedelta(seconds=150)) == 1
    repository.close()


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="only sqlite and postgresql"):
        normalise_url("mysql://localhost/x")


def test_unreachable_database_is_a_database_error() -> None:
    repository = Repository.open("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseError):
        repository.upgrade()
    repository.close()


def test_upload_stores_keys_log_and_unlinked_payload_atomically(database_url: str) -> None:
    repository = Repository.open(database_url)
    grant = OtpGrant(symptoms_started_on=NOW.date() - timedelta(days=2))
    repository.otps.authorise(token_hash="c" * 64, grant=grant, now=NOW, ttl_s=150)
    summaries: list[dict[str, object]] = [{"date": "2020-06-14", "matched_key_count": 2}]
    upload = StoredUpload(
        keys=((bytes(16), 2_650_032, 144), (bytes(range(16)), 2_650_176, 100)),
        province="MI",
        exposure_detection_summaries=summaries,
    )
    assert (
        repository.uploads.consume_otp_and_store(token_hash="c" * 64, upload=upload, now=NOW)
        == grant
    )
    assert (
        repository.uploads.consume_otp_and_store(token_hash="c" * 64, upload=upload, now=NOW)
        is None
    )
    engine = sa.create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        keys = conn.execute(sa.select(pending_keys).order_by(pending_keys.c.id)).all()
        payloads = conn.execute(sa.select(exposure_payloads)).all()
        logs = conn.execute(sa.select(upload_log.c.received_on)).all()
    engine.dispose()
    assert [(bytes(k.key_data), k.rolling_start_number, k.rolling_period) for k in keys] == list(
        upload.keys
    )
    assert {k.received_at for k in keys} == {NOW.replace(minute=0)}
    assert {k.symptoms_started_on for k in keys} == {grant.symptoms_started_on}
    assert [(p.province, p.exposure_detection_summaries) for p in payloads] == [("MI", summaries)]
    assert set(exposure_payloads.c.keys()) == {
        "id",
        "province",
        "symptoms_started_on",
        "exposure_detection_summaries",
        "received_on",
    }
    assert logs == [(NOW.date(),)]
    repository.close()
