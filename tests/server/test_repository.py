"""The repository on both engines: migrations match the tables; rows stay inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from notifica.server.repository import DatabaseError, OtpGrant, Repository, normalise_url
from notifica.server.repository.tables import metadata

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
