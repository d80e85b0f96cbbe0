"""Published batches, and the one-transaction publishing session that makes them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import BigInteger, Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from notifica.server.repository._database import CorruptBatch, Database
from notifica.server.repository.records import BatchInfo, PendingKeys
from notifica.server.repository.tables import batches, pending_keys, publish_state

__all__ = ["BatchStore", "PublishSession"]

_log = logging.getLogger("notifica.server")

PUBLISH_LOCK_KEY = 0x6E6F_7469_6669_6361
"""PostgreSQL advisory-lock key of the publisher ("notifica" in ASCII)."""

_SQLITE_CHUNK = 10_000
"""Ids per ``IN (…)`` on SQLite, below its 32 766 bound-parameter limit."""


_end = pending_keys.c.rolling_start_number + pending_keys.c.rolling_period
"""The interval at which a key stops being valid."""


class PublishSession:
    """What the publisher may do inside its single transaction."""

    def __init__(self, conn: Connection, *, is_sqlite: bool) -> None:
        self._conn = conn
        self._is_sqlite = is_sqlite

    def pending(self, *, expired_by: int | None = None) -> PendingKeys:
        """The unpublished keys, in arrival order; with `expired_by` (an interval number) only
        those whose rolling period has ended by then: the rest cannot be published yet, and
        reading them at every run made each run's memory grow with them (RELIABILITY.md)."""
        stmt = select(
            pending_keys.c.id,
            pending_keys.c.key_data,
            pending_keys.c.rolling_start_number,
            pending_keys.c.rolling_period,
            pending_keys.c.symptoms_started_on,
        ).order_by(pending_keys.c.id)
        if expired_by is not None:
            stmt = stmt.where(_end <= expired_by)
        rows = self._conn.execute(stmt).all()
        if not rows:
            return PendingKeys(
                ids=[], key_data=[], rolling_start_numbers=[], rolling_periods=[],
                symptoms_started_on=[],
            )  # fmt: skip
        ids, data, starts, periods, onsets = (list(column) for column in zip(*rows, strict=True))
        return PendingKeys(
            ids=ids,
            key_data=[bytes(d) for d in data],
            rolling_start_numbers=starts,
            rolling_periods=periods,
            symptoms_started_on=onsets,
        )

    def count_unexpired(self, *, at: int) -> int:
        """How many unpublished keys are still valid at interval `at` (held back)."""
        stmt = select(func.count()).select_from(pending_keys).where(_end > at)
        return int(self._conn.execute(stmt).scalar_one())

    def last_published(self) -> tuple[int, datetime] | None:
        """(index, period end) of the last batch ever published, kept through retention."""
        row = self._conn.execute(
            select(publish_state.c.last_index, publish_state.c.last_period_end).where(
                publish_state.c.id == 1
            )
        ).first()
        return None if row is None else (int(row[0]), row[1])

    def set_last_published(self, *, index: int, period_end: datetime) -> None:
        """Record the newest index (numbering continues from it, immuni-api.md §5.3)."""
        values = {"last_index": index, "last_period_end": period_end}
        done = self._conn.execute(
            update(publish_state).where(publish_state.c.id == 1).values(values)
        ).rowcount
        if not done:
            self._conn.execute(insert(publish_state).values(id=1, **values))

    def add_batch(
        self,
        *,
        index: int,
        period_start: datetime,
        period_end: datetime,
        created_at: datetime,
        key_count: int,
        content: bytes,
    ) -> None:
        """Store a signed batch (the index is unique: a reused one fails the transaction)."""
        self._conn.execute(
            insert(batches).values(
                batch_index=index,
                period_start=period_start,
                period_end=period_end,
                created_at=created_at,
                key_count=key_count,
                content=content,
                content_sha256=hashlib.sha256(content).hexdigest(),
            )
        )

    def remove_keys(self, ids: Sequence[int]) -> None:
        """Delete published or never-publishable keys."""
        if not ids:
            return
        if self._is_sqlite:
            for start in range(0, len(ids), _SQLITE_CHUNK):
                chunk = list(ids[start : start + _SQLITE_CHUNK])
                self._conn.execute(delete(pending_keys).where(pending_keys.c.id.in_(chunk)))
        else:
            stmt = delete(pending_keys).where(
                pending_keys.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger)))
            )
            self._conn.execute(stmt, {"ids": list(ids)})


def _last_batch(conn: Connection) -> BatchInfo | None:
    stmt = (
        select(
            batches.c.batch_index,
            batches.c.period_start,
            batches.c.period_end,
            batches.c.created_at,
            batches.c.key_count,
        )
        .order_by(batches.c.batch_index.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    if row is None:
        return None
    return BatchInfo(
        index=row[0], period_start=row[1], period_end=row[2], created_at=row[3], key_count=row[4]
    )


class BatchStore:
    """Batches for the keys service, and the publisher's lock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def publishing(self) -> Iterator[PublishSession | None]:
        """One transaction under the publisher lock; None when another publisher holds it.

        PostgreSQL: ``pg_try_advisory_xact_lock`` (released by commit, rollback or a killed
        connection). SQLite: ``BEGIN IMMEDIATE`` is the lock; a second publisher waits up to
        the busy timeout, then gets `DatabaseLocked`.
        """
        with self._db.write() as conn:
            if not self._db.is_sqlite:
                got = conn.execute(select(func.pg_try_advisory_xact_lock(PUBLISH_LOCK_KEY)))
                if not got.scalar_one():
                    yield None
                    return
            yield PublishSession(conn, is_sqlite=self._db.is_sqlite)

    def index_range(self, *, since: datetime) -> tuple[int, int] | None:
        """(oldest, newest) index of the batches published after `since`.

        Immuni filtered on ``period_start``, which hides a batch whose period began more than
        14 days before it was published (after a quiet spell); the publication time does not.
        """
        stmt = select(func.min(batches.c.batch_index), func.max(batches.c.batch_index)).where(
            batches.c.period_end > since
        )
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    def content(self, index: int) -> bytes | None:
        """The signed zip of batch `index`, checked against the digest stored with it.

        Raises:
            CorruptBatch: the stored bytes no longer match (disk or manual damage); such a
                batch is never handed out.
        """
        stmt = select(batches.c.content, batches.c.content_sha256).where(
            batches.c.batch_index == index
        )
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        content = bytes(row[0])
        if hashlib.sha256(content).hexdigest() != row[1]:
            _log.error("batch %d does not match its stored SHA-256: not served", index)
            raise CorruptBatch(f"batch {index} does not match its stored SHA-256")
        return content

    def last(self) -> BatchInfo | None:
        """The newest batch."""
        with self._db.read() as conn:
            return _last_batch(conn)

    def list(self) -> list[BatchInfo]:
        """Every stored batch, oldest first."""
        stmt = select(
            batches.c.batch_index,
            batches.c.period_start,
            batches.c.period_end,
            batches.c.created_at,
            batches.c.key_count,
        ).order_by(batches.c.batch_index)
        with self._db.read() as conn:
            return [
                BatchInfo(
                    index=r[0], period_start=r[1], period_end=r[2], created_at=r[3], key_count=r[4]
                )
                for r in conn.execute(stmt)
            ]

    def delete_created_before(self, moment: datetime) -> int:
        """Drop batches created before `moment`; return how many."""
        with self._db.write() as conn:
            return conn.execute(delete(batches).where(batches.c.created_at < moment)).rowcount
