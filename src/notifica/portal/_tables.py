"""The portal's tables (SQLAlchemy Core), beside the backend's in the same database.

Every name starts with ``portal_`` and the migrations keep their own version table
(``portal_alembic_version``), so the backend's schema and the portal's evolve separately.
No table holds citizen data: operators are staff; the audit log names codes only by a short
fingerprint (see `notifica.portal._codes.code_fingerprint`) and never the onset date.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
)

__all__ = ["UtcDateTime", "audit_log", "metadata", "operators", "sessions"]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the engine keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("the portal stores aware UTC datetimes only")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

operators = Table(
    "portal_operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("must_change_password", Boolean, nullable=False),
    Column("failed_sign_ins", Integer, nullable=False),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_sign_in_at", UtcDateTime, nullable=True),
)

sessions = Table(
    "portal_sessions",
    metadata,
    # SHA-256 of the cookie value: a copy of the table does not hand out live sessions.
    Column("token_hash", String(64), primary_key=True),
    Column(
        "operator_id",
        Integer,
        ForeignKey("portal_operators.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Index("ix_portal_sessions_last_seen_at", "last_seen_at"),
    Index("ix_portal_sessions_created_at", "created_at"),
)

audit_log = Table(
    "portal_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(254), nullable=True),  # the operator's e-mail when it happened
    Column("action", String(32), nullable=False),
    Column("code_fingerprint", String(8), nullable=True),
    Column("subject", String(254), nullable=True),  # the operator acted upon, if any
    Index("ix_portal_audit_log_at", "at"),
    Index("ix_portal_audit_log_code_fingerprint", "code_fingerprint"),
)
