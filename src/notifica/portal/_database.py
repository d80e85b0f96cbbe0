"""The portal's connection to the deployment's database, and its own migrations.

Rules:

1. The portal opens its own engine on the backend's database URL (`Settings`'s
   ``effective_database_url``): one database to run and back up, but no reaching into the
   backend's private repository.
2. Its migrations live in ``migrations/`` with the version table ``portal_alembic_version``;
   the backend's chain (``alembic_version``) never sees them.
3. On SQLite, write transactions begin with ``BEGIN IMMEDIATE`` and every connection waits
   up to `SQLITE_BUSY_TIMEOUT_S` for the lock, because the backend writes the same file;
   the file is in WAL mode with ``synchronous=NORMAL``, like the backend's connections;
   foreign keys are switched on so that removing an operator removes its sessions.
4. SQLAlchemy errors become `PortalStorageError` with the cause chained.
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
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError

from notifica.portal.errors import PortalStorageError

__all__ = ["PORTAL_VERSION_TABLE", "PortalDatabase"]

PORTAL_VERSION_TABLE = "portal_alembic_version"
"""Alembic's version table for the portal's chain (rule 2)."""

SQLITE_BUSY_TIMEOUT_S = 10.0
"""How long a SQLite statement waits for another writer (the backend's is 10 s too)."""

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    assert isinstance(dbapi_connection, sqlite3.Connection)
    dbapi_connection.isolation_level = None  # rule 3: we say BEGIN ourselves
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    dbapi_connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    # WAL (which the backend switches on for the file) makes NORMAL safe from corruption;
    # FULL would add an fsync to every sign-in and audit line.
    dbapi_connection.execute("PRAGMA journal_mode = WAL")
    dbapi_connection.execute("PRAGMA synchronous = NORMAL")


def _on_sqlite_begin(conn: Connection) -> None:
    writing = conn.get_execution_options().get("portal_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN DEFERRED")


class PortalDatabase:
    """An engine on the deployment's database with read and write transactions."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the project's
        elif backend not in ("postgresql", "sqlite"):
            raise ValueError(f"database URL: only sqlite and postgresql, got {backend!r}")
        self.is_sqlite = backend == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(parsed)
            event.listen(self.engine, "connect", _on_sqlite_connect)
            event.listen(self.engine, "begin", _on_sqlite_begin)
        else:
            self.engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as exc:
            raise PortalStorageError() from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any exception."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(portal_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise PortalStorageError() from exc

    def _alembic_config(self, conn: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.attributes["connection"] = conn
        return config

    def upgrade(self) -> str:
        """Create or upgrade the portal's tables; return the revision."""
        try:
            with self.engine.connect() as conn:
                command.upgrade(self._alembic_config(conn), "head")
                conn.commit()
                return self._revision(conn) or ""
        except SQLAlchemyError as exc:
            raise PortalStorageError() from exc

    def current_revision(self) -> str | None:
        """The portal schema's revision, or None before the first upgrade."""
        try:
            with self.engine.connect() as conn:
                return self._revision(conn)
        except SQLAlchemyError as exc:
            raise PortalStorageError() from exc

    @staticmethod
    def _revision(conn: Connection) -> str | None:
        context = MigrationContext.configure(conn, opts={"version_table": PORTAL_VERSION_TABLE})
        return context.get_current_revision()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
