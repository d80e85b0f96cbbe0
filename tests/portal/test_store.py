"""The portal's tables: their own migration chain beside the backend's, and the stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from notifica.portal import AuditAction, OperatorExists, PortalStore, Role
from notifica.portal._database import PORTAL_VERSION_TABLE, PortalDatabase
from notifica.portal._records import SessionRecord
from notifica.portal._tables import metadata
from tests.portal._support import START


@pytest.fixture
def store(database_url: str) -> Iterator[PortalStore]:
    store = PortalStore.open(database_url)
    yield store
    store.close()


def _engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed)


def test_portal_chain_has_its_own_version_table(database_url: str) -> None:
    engine = _engine(database_url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        portal_version = conn.execute(sa.text(f"SELECT version_num FROM {PORTAL_VERSION_TABLE}"))
        server_version = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert [r[0] for r in portal_version] == ["portal_0001"]
        assert [r[0] for r in server_version] != ["portal_0001"]
    engine.dispose()
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert PortalDatabase(database_url).upgrade() == "portal_0001"  # idempotent


def test_migration_creates_exactly_the_declared_tables(database_url: str) -> None:
    engine = _engine(database_url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in metadata.sorted_tables:
            migrated = {c["name"] for c in inspector.get_columns(table.name)}
            assert migrated == {c.name for c in table.columns}, table.name
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            assert {i.name for i in table.indexes} <= indexes, table.name
    engine.dispose()


def test_fresh_database_gets_the_tables(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    database = PortalDatabase(url)
    assert database.current_revision() is None
    assert database.upgrade() == "portal_0001"
    assert database.current_revision() == "portal_0001"
    database.dispose()


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="only sqlite and postgresql"):
        PortalDatabase("mysql://localhost/x")


def test_operators_are_unique_by_email(store: PortalStore) -> None:
    made = store.operators.add(
        email="a@b.it", role=Role.ADMIN, password_hash="h", must_change=False, now=START
    )
    assert store.operators.by_email("a@b.it") == made
    assert store.operators.by_id(made.id) == made
    assert store.operators.credentials("a@b.it") == (made, "h")
    with pytest.raises(OperatorExists):
        store.operators.add(
            email="a@b.it", role=Role.OPERATOR, password_hash="x", must_change=False, now=START
        )
    assert store.operators.count_active_admins() == 1
    assert store.operators.all() == [made]


def test_failures_counted_and_cleared(store: PortalStore) -> None:
    op = store.operators.add(
        email="a@b.it", role=Role.OPERATOR, password_hash="h", must_change=False, now=START
    )
    assert store.operators.record_failure(op.id, lock_for_s=None, now=START) == 1
    assert store.operators.record_failure(op.id, lock_for_s=60, now=START) == 2
    paused = store.operators.by_id(op.id)
    assert paused is not None
    assert paused.locked_until == START + timedelta(seconds=60)
    store.operators.record_sign_in(op.id, now=START, new_hash="h2")
    cleared = store.operators.by_id(op.id)
    assert cleared is not None
    assert (cleared.failed_sign_ins, cleared.locked_until) == (0, None)
    assert cleared.last_sign_in_at == START
    assert store.operators.password_hash(op.id) == "h2"


def test_removing_an_operator_removes_its_sessions(store: PortalStore) -> None:
    op = store.operators.add(
        email="a@b.it", role=Role.OPERATOR, password_hash="h", must_change=False, now=START
    )
    record = SessionRecord(
        token_hash="f" * 64, operator_id=op.id, csrf_token="c", created_at=START, last_seen_at=START
    )
    store.sessions.add(record)
    assert store.sessions.get("f" * 64) == record
    assert store.operators.remove(op.id)
    assert store.sessions.get("f" * 64) is None
    assert not store.operators.remove(op.id)
    with pytest.raises(ValueError, match="only"):
        store.operators.set_fields(op.id, email="x")


def test_audit_pending_lines_are_settled_once(store: PortalStore) -> None:
    entry = store.audit.add(
        at=START, actor="a@b.it", action=AuditAction.CODE_PENDING, code_fingerprint="abcd1234"
    )
    store.audit.settle(entry.id, AuditAction.CODE_AUTHORISED)
    store.audit.settle(entry.id, AuditAction.CODE_REFUSED)  # settled lines do not change
    got = store.audit.get(entry.id)
    assert got is not None
    assert got.action is AuditAction.CODE_AUTHORISED
    store.audit.add(at=START, actor=None, action=AuditAction.OPERATOR_CREATED, subject="x@y.it")
    assert [e.action for e in store.audit.latest()] == [
        AuditAction.OPERATOR_CREATED,
        AuditAction.CODE_AUTHORISED,
    ]
    assert store.audit.latest(code_fingerprint="abcd1234") == [got]
    assert got.at == START
    assert got.at.tzinfo is not None
