"""check-otp's lookup and the upload on PostgreSQL through psycopg's async API.

Every phone calls these two, so they skip what the other stores pay per call: the hop to a
worker thread (and the GIL handovers it brings), and SQLAlchemy's per-statement work. Each is
one prepared statement on a connection in autocommit, so one round trip. Everything else goes
through the sync engine of `Database`.

Connections belong to the event loop that opened them: when a different loop calls (tests run
one loop per test), the idle ones are dropped and new ones opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy.engine import URL

from notifica.server.repository._database import DatabaseError
from notifica.server.repository._upload_statement import (
    POSTGRES_UPLOAD,
    postgres_upload_parameters,
)
from notifica.server.repository.records import OtpGrant, StoredUpload

__all__ = ["AsyncIngestionStatements"]

_FIND_LIVE = (
    "SELECT symptoms_started_on, id_test_verification FROM otps"
    " WHERE token_hash = %(token_hash)s AND expires_at > %(now)s"
)


def _grant(row: tuple[Any, ...] | None) -> OtpGrant | None:
    if row is None:
        return None
    symptoms_started_on, id_test_verification = row
    return OtpGrant(
        symptoms_started_on=symptoms_started_on, id_test_verification=id_test_verification
    )


class AsyncIngestionStatements:
    """A small pool of async connections for the two ingestion statements.

    Args:
        url: the database URL (SQLAlchemy's form; the driver part is ignored).
        size: the most connections open at once; callers beyond it wait for one.
    """

    def __init__(self, url: URL, *, size: int) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = size
        self._idle: list[psycopg.AsyncConnection[tuple[Any, ...]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(size)

    async def find_live(self, *, token_hash: str, now: datetime) -> OtpGrant | None:
        """The grant of a live OTP, without consuming it."""
        params = {"token_hash": token_hash, "now": now}
        async with self._connection() as conn:
            row = await (await conn.execute(_FIND_LIVE, params, prepare=True)).fetchone()
        return _grant(row)

    async def consume_otp_and_store(
        self, *, token_hash: str, upload: StoredUpload, now: datetime
    ) -> OtpGrant | None:
        """Delete the live OTP and store the upload, atomically; None if the OTP is not live."""
        params = postgres_upload_parameters(
            token_hash, upload, now=now, received_at=now.replace(minute=0, second=0, microsecond=0)
        )
        async with self._connection() as conn:
            row = await (await conn.execute(POSTGRES_UPLOAD, params, prepare=True)).fetchone()
        return _grant(row)

    def close(self) -> None:
        """Close the idle connections (those in use close when they come back)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.pgconn.finish()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[tuple[Any, ...]]]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.close()
            self._loop = loop
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            reusable = False
            try:
                yield conn
                reusable = True
            except psycopg.Error as exc:
                reusable = (
                    not conn.broken and conn.info.transaction_status == pq.TransactionStatus.IDLE
                )
                raise DatabaseError(f"database statement failed: {type(exc).__name__}") from exc
            finally:
                if reusable and self._loop is loop and not conn.closed:
                    self._idle.append(conn)
                else:
                    conn.pgconn.finish()

    async def _connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        try:
            return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise DatabaseError(f"database connection failed: {type(exc).__name__}") from exc
