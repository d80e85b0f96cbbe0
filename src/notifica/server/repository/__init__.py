"""Storage of the backend: the only package that imports SQLAlchemy; rows never leave it.

`Repository` bundles one store per concern over one `Database`. Each store method is one
transaction. Errors are `DatabaseError` / `DatabaseLocked`, never SQLAlchemy's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete

from notifica.server.repository._database import (
    CorruptBatch,
    Database,
    DatabaseError,
    DatabaseLocked,
    normalise_url,
)
from notifica.server.repository.analytics import AnalyticsStore
from notifica.server.repository.app_settings import AppSettingsStore
from notifica.server.repository.batches import BatchStore, PublishSession
from notifica.server.repository.counts import CountStore
from notifica.server.repository.ingestion_pg import AsyncIngestionStatements
from notifica.server.repository.otps import HisClientStore, OtpStore
from notifica.server.repository.records import (
    BatchInfo,
    DailyCounts,
    HisClient,
    OperationalInfoRecord,
    OtpGrant,
    PendingKeys,
    ProvinceNotifications,
    StoredUpload,
)
from notifica.server.repository.tables import (
    analytics_token_slots,
    batches,
    exposure_payloads,
    operational_info,
    otp_log,
    otps,
    pending_keys,
    upload_log,
    used_salts,
)
from notifica.server.repository.uploads import UploadStore

__all__ = [
    "BatchInfo",
    "CorruptBatch",
    "DailyCounts",
    "Database",
    "DatabaseError",
    "DatabaseLocked",
    "HisClient",
    "OperationalInfoRecord",
    "OtpGrant",
    "PendingKeys",
    "ProvinceNotifications",
    "PublishSession",
    "Repository",
    "StoredUpload",
    "normalise_url",
]


class Repository:
    """Every store of the backend over one database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.otps = OtpStore(database)
        self.his_clients = HisClientStore(database)
        self.uploads = UploadStore(database)
        self.batches = BatchStore(database)
        self.analytics = AnalyticsStore(database)
        self.app_settings = AppSettingsStore(database)
        self.counts = CountStore(database)
        self.async_ingestion = (
            None
            if database.is_sqlite
            else AsyncIngestionStatements(database.engine.url, size=database.pool_size)
        )
        """check-otp's lookup and the upload without a worker thread, on PostgreSQL only (its own
        ``pool_size`` connections: size it to the uploads in flight per process, since uploads
        wait on commits and fewer concurrent commits mean fewer uploads per flush of the WAL)."""

    @classmethod
    def open(cls, url: str, *, pool_size: int = 10) -> Repository:
        """A repository on the database at `url` (not migrated: call `upgrade`)."""
        return cls(Database(url, pool_size=pool_size))

    def upgrade(self) -> str:
        """Create or upgrade the schema; return the revision."""
        return self.database.upgrade()

    def delete_logs_before(self, day: date) -> int:
        """Drop OTP-authorisation log entries older than `day`; return how many."""
        with self.database.write() as conn:
            return conn.execute(delete(otp_log).where(otp_log.c.authorised_on < day)).rowcount

    def wipe_citizen_data(self, *, now: datetime) -> int:
        """Delete every record that came from citizens (the data sunset); return rows."""
        removed = 0
        with self.database.write() as conn:
            for table in (
                otps,
                otp_log,
                pending_keys,
                upload_log,
                batches,
                exposure_payloads,
                operational_info,
                analytics_token_slots,
                used_salts,
            ):
                removed += conn.execute(delete(table)).rowcount
        return removed

    def close(self) -> None:
        """Release pooled connections."""
        if self.async_ingestion is not None:
            self.async_ingestion.close()
        self.database.dispose()
