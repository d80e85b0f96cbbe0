"""Operational info, iOS analytics-token slots and used attestation salts (immuni-api.md §7)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from notifica.server.repository._database import Database
from notifica.server.repository.records import OperationalInfoRecord, ProvinceNotifications
from notifica.server.repository.tables import analytics_token_slots, operational_info, used_salts

__all__ = ["AnalyticsStore"]


class AnalyticsStore:
    """Nothing here links to an upload, a token or a device: records carry only their day."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert_ignore(self, table: object, values: list[dict[str, object]]) -> object:
        dialect = sqlite if self._db.is_sqlite else postgresql
        return dialect.insert(table).values(values).on_conflict_do_nothing()

    def add_operational_info(self, record: OperationalInfoRecord, *, received_on: date) -> None:
        """Store one report."""
        with self._db.write() as conn:
            conn.execute(insert(operational_info).values(_record_values(record, received_on)))

    def consume_token_slot_and_add(
        self,
        *,
        token_hash: str,
        month: date,
        record: OperationalInfoRecord,
        received_on: date,
        now: datetime,
    ) -> bool:
        """Use the token's slot for this month and kind, then store; False if no slot was left."""
        consume = delete(analytics_token_slots).where(
            analytics_token_slots.c.token_hash == token_hash,
            analytics_token_slots.c.month == month,
            analytics_token_slots.c.with_exposure == record.exposure_notification,
            analytics_token_slots.c.expires_at > now,
        )
        with self._db.write() as conn:
            if conn.execute(consume).rowcount != 1:
                return False
            conn.execute(insert(operational_info).values(_record_values(record, received_on)))
        return True

    def has_token(self, *, token_hash: str, now: datetime) -> bool:
        """Whether the analytics token has live slots (it was authorised)."""
        stmt = select(analytics_token_slots.c.month).where(
            analytics_token_slots.c.token_hash == token_hash,
            analytics_token_slots.c.expires_at > now,
        )
        with self._db.read() as conn:
            return conn.execute(stmt.limit(1)).first() is not None

    def authorise_token(
        self, *, token_hash: str, months: Sequence[date], expires_at: datetime
    ) -> None:
        """Give the token one with- and one without-exposure slot per month (§7.3 step 4)."""
        values: list[dict[str, object]] = [
            {"token_hash": token_hash, "month": m, "with_exposure": flag, "expires_at": expires_at}
            for m in months
            for flag in (True, False)
        ]
        with self._db.write() as conn:
            conn.execute(self._insert_ignore(analytics_token_slots, values))  # type: ignore[call-overload]

    def use_salt(self, *, salt_hash: str, now: datetime, expires_at: datetime) -> bool:
        """Record an attestation salt; False if it was used within its window (replay)."""
        with self._db.write() as conn:
            conn.execute(
                delete(used_salts).where(
                    used_salts.c.salt_hash == salt_hash, used_salts.c.expires_at <= now
                )
            )
            stmt = self._insert_ignore(
                used_salts, [{"salt_hash": salt_hash, "expires_at": expires_at}]
            )
            return conn.execute(stmt.returning(used_salts.c.salt_hash)).first() is not None  # type: ignore[attr-defined]

    def notifications_by_province(self, *, since: date) -> list[ProvinceNotifications]:
        """Reports and notified reports per (day, province) from `since` on."""
        notified = func.sum(case((operational_info.c.exposure_notification, 1), else_=0))
        stmt = (
            select(
                operational_info.c.received_on,
                operational_info.c.province,
                func.count(),
                notified,
            )
            .where(operational_info.c.received_on >= since)
            .group_by(operational_info.c.received_on, operational_info.c.province)
            .order_by(operational_info.c.received_on, operational_info.c.province)
        )
        with self._db.read() as conn:
            return [
                ProvinceNotifications(
                    day=r[0], province=r[1], reports=int(r[2]), notifications=int(r[3] or 0)
                )
                for r in conn.execute(stmt)
            ]

    def delete_before(self, *, day: date, now: datetime) -> int:
        """Drop reports received before `day` and expired slots and salts; return reports."""
        with self._db.write() as conn:
            reports = conn.execute(
                delete(operational_info).where(operational_info.c.received_on < day)
            ).rowcount
            conn.execute(
                delete(analytics_token_slots).where(analytics_token_slots.c.expires_at <= now)
            )
            conn.execute(delete(used_salts).where(used_salts.c.expires_at <= now))
        return reports

    def count_operational_info(self) -> int:
        """How many reports are stored."""
        with self._db.read() as conn:
            return int(
                conn.execute(select(func.count()).select_from(operational_info)).scalar_one()
            )

    def slots(self, *, token_hash: str) -> list[tuple[date, bool]]:
        """(month, with_exposure) slots left for a token (for tests and diagnostics)."""
        stmt = select(analytics_token_slots.c.month, analytics_token_slots.c.with_exposure).where(
            and_(analytics_token_slots.c.token_hash == token_hash)
        )
        with self._db.read() as conn:
            return sorted((r[0], bool(r[1])) for r in conn.execute(stmt))


def _record_values(record: OperationalInfoRecord, received_on: date) -> dict[str, object]:
    return {
        "platform": record.platform,
        "province": record.province,
        "build": record.build,
        "exposure_permission": record.exposure_permission,
        "bluetooth_active": record.bluetooth_active,
        "notification_permission": record.notification_permission,
        "exposure_notification": record.exposure_notification,
        "last_risky_exposure_on": record.last_risky_exposure_on,
        "received_on": received_on,
    }
