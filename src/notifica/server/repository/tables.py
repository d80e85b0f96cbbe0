"""The database schema (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Migrations in ``migrations/versions`` create exactly this (a test compares them). Privacy
rules for every table: no IP address, user agent, request id or device identifier; times of
citizen records are coarse (the hour or the day, DP-3T issue #72 in peers.md §4); uploads,
epidemiological info and operational info share no key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    TypeDecorator,
)

__all__ = [
    "analytics_token_slots",
    "app_settings",
    "batches",
    "exposure_payloads",
    "his_clients",
    "metadata",
    "operational_info",
    "otp_log",
    "otps",
    "pending_keys",
    "publish_state",
    "upload_log",
    "used_salts",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both engines (SQLite drops the offset; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite only auto-increments ``INTEGER PRIMARY KEY``."""

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

otps = Table(
    "otps",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 hex of the OTP, never the OTP
    Column("symptoms_started_on", Date, nullable=False),
    Column("id_test_verification", String(36), nullable=True),
    Column("expires_at", UtcDateTime, nullable=False),
)

otp_log = Table(
    "otp_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("authorised_on", Date, nullable=False, index=True),
)

his_clients = Table(
    "his_clients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the API key
    Column("created_at", UtcDateTime, nullable=False),
)

pending_keys = Table(
    "pending_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key_data", LargeBinary(16), nullable=False),
    Column("rolling_start_number", BigInteger, nullable=False),
    Column("rolling_period", SmallInteger, nullable=False),
    Column("symptoms_started_on", Date, nullable=False),
    Column("received_at", UtcDateTime, nullable=False, index=True),  # truncated to the hour
)

upload_log = Table(
    "upload_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("received_on", Date, nullable=False, index=True),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_index", Integer, primary_key=True, autoincrement=False),
    Column("period_start", UtcDateTime, nullable=False, index=True),
    Column("period_end", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("key_count", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),  # the signed zip, served as is
    Column("content_sha256", String(64), nullable=False),  # checked before serving
)

publish_state = Table(
    "publish_state",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),  # always 1
    Column("last_index", Integer, nullable=False),  # survives retention: indices never restart
    Column("last_period_end", UtcDateTime, nullable=False),
)

app_settings = Table(
    "app_settings",
    metadata,
    Column("platform", String(10), primary_key=True),
    Column("starting_build", BigInteger, primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)

exposure_payloads = Table(
    "exposure_payloads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("province", String(2), nullable=False),
    Column("symptoms_started_on", Date, nullable=False),
    Column("exposure_detection_summaries", JSON, nullable=False),
    Column("received_on", Date, nullable=False, index=True),
)

operational_info = Table(
    "operational_info",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(10), nullable=False),
    Column("province", String(2), nullable=False),
    Column("build", BigInteger, nullable=True),
    Column("exposure_permission", Boolean, nullable=False),
    Column("bluetooth_active", Boolean, nullable=False),
    Column("notification_permission", Boolean, nullable=False),
    Column("exposure_notification", Boolean, nullable=False),
    Column("last_risky_exposure_on", Date, nullable=True),
    Column("received_on", Date, nullable=False, index=True),
)

analytics_token_slots = Table(
    "analytics_token_slots",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the iOS analytics token
    Column("month", Date, primary_key=True),
    Column("with_exposure", Boolean, primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

used_salts = Table(
    "used_salts",
    metadata,
    Column("salt_hash", String(64), primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)
