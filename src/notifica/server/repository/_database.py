"""Engines, transactions and migrations for SQLite and PostgreSQL.

Rules:

1. Writes on SQLite start with ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
   writers queue on ``busy_timeout`` instead of failing on a lock upgrade. WAL mode lets
   readers go on meanwhile.
2. ``postgresql://`` URLs use psycopg 3 (the project's driver), never psycopg2.
3. SQLAlchemy errors do not leave this package: they become `DatabaseError` (or a more
   precise subclass) with the cause chained.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from notifica.errors import NotificaError

__all__ = ["CorruptBatch", "Database", "DatabaseError", "DatabaseLocked", "normalise_url"]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for the write lock before giving up."""


_SQLITE_REASONS = (
    (("database or disk is full",), "the disk is full"),
    (
        ("readonly database", "read-only", "unable to open database file"),
        "the file or its directory is read-only or missing (check permissions and the mount)",
    ),
    (("disk i/o error",), "disk I/O error (disk full, file-size limit or failing disk)"),
)
"""SQLite's errors that mean the disk, not notifica, is at fault."""


class DatabaseError(NotificaError):
    """The database could not be reached or refused an operation."""


class DatabaseLocked(DatabaseError):
    """Another process holds the lock that this operation needs."""


class CorruptBatch(DatabaseError):
    """A stored batch does not match the SHA-256 recorded when it was published."""


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL with psycopg 3 for PostgreSQL.

    Raises:
        ValueError: for a database other than SQLite or PostgreSQL.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in ("postgresql", "sqlite"):
        raise ValueError(f"database URL {parsed.render_as_string()}: only sqlite and postgresql")
    return parsed


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (rule 1)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("notifica_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine with the transaction helpers the stores use."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        parsed = normalise_url(url)
        self.pool_size = pool_size
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._sqlite_path = parsed.database if self.is_sqlite else None
        if self.is_sqlite:
            if sqlite3.sqlite_version_info < (3, 35):
                raise DatabaseError(
                    f"SQLite {sqlite3.sqlite_version} is too old: notifica needs 3.35 or newer "
                    "(DELETE … RETURNING consumes OTPs atomically)"
                )
            database = parsed.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(parsed)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            # No pre-ping: it costs a round trip per request. A connection broken by a
            # database restart fails one request, and the pool is then invalidated.
            self.engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
            )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read: one consistent transaction on SQLite; on PostgreSQL each statement in
        autocommit (the readers run one statement each, and BEGIN/COMMIT would double the
        round trips)."""
        try:
            with self.engine.connect() as conn:
                if self.is_sqlite:
                    with conn.begin():
                        yield conn
                else:
                    yield conn.execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"database read failed: {self._reason(exc)}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed at the end, rolled back on any exception."""
        try:
            with self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = conn.execution_options(notifica_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            if "database is locked" in str(exc):
                raise DatabaseLocked("the SQLite database is locked by another writer") from exc
            raise DatabaseError(f"database write failed: {self._reason(exc)}") from exc

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """PostgreSQL only: a connection in autocommit, for one statement that is its own
        transaction (no BEGIN/COMMIT round trips)."""
        assert not self.is_sqlite
        try:
            with self.engine.connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"database write failed: {self._reason(exc)}") from exc

    def _reason(self, exc: SQLAlchemyError, *, detail: bool = False) -> str:
        """What went wrong, in words an operator can act on; never the statement's parameters
        (they may be citizen data), unless `detail` (the migrations, which have none)."""
        text = str(getattr(exc, "orig", None) or exc).lower()
        where = f"SQLite file {self._sqlite_path}" if self._sqlite_path else "the database"
        for needles, meaning in _SQLITE_REASONS:
            if self.is_sqlite and any(needle in text for needle in needles):
                return f"{where}: {meaning}; this operation wrote nothing"
        return str(exc) if detail else exc.__class__.__name__

    def upgrade(self) -> str:
        """Create or upgrade the schema to the latest migration; return the revision."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.connect() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
                revision = MigrationContext.configure(conn).get_current_revision()
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"database upgrade failed: {self._reason(exc, detail=True)}"
            ) from exc
        return revision or ""

    def head_revision(self) -> str:
        """The newest migration shipped with this version."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        return head or ""

    def current_revision(self) -> str | None:
        """The schema revision of the database, or None before the first upgrade."""
        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
