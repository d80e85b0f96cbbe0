"""Per-day counts for the health authority's admin page."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from notifica.server.repository._database import Database
from notifica.server.repository.records import DailyCounts
from notifica.server.repository.tables import batches, otp_log, upload_log

__all__ = ["CountStore"]


class CountStore:
    """Counts are computed from insert-only logs: no hot counter row for writers to fight over."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def daily(self, *, since: date) -> list[DailyCounts]:
        """One entry per day from `since` on that has any activity, oldest first."""
        start = datetime.combine(since, time(), UTC)
        per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        with self._db.read() as conn:
            for day, n in conn.execute(
                select(otp_log.c.authorised_on, func.count())
                .where(otp_log.c.authorised_on >= since)
                .group_by(otp_log.c.authorised_on)
            ):
                per_day[day]["otps"] = int(n)
            for day, n in conn.execute(
                select(upload_log.c.received_on, func.count())
                .where(upload_log.c.received_on >= since)
                .group_by(upload_log.c.received_on)
            ):
                per_day[day]["uploads"] = int(n)
            for created_at, key_count in conn.execute(
                select(batches.c.created_at, batches.c.key_count).where(
                    batches.c.created_at >= start
                )
            ):
                day = created_at.date()
                per_day[day]["batches"] += 1
                per_day[day]["keys"] += int(key_count)
        return [
            DailyCounts(
                day=day,
                otps_authorised=c["otps"],
                uploads_received=c["uploads"],
                batches_published=c["batches"],
                keys_published=c["keys"],
            )
            for day, c in sorted(per_day.items())
        ]
