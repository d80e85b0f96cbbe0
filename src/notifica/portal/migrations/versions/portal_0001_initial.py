"""The portal's first tables: operators, sessions, audit log.

Revision ID: portal_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from notifica.portal._tables import UtcDateTime

revision = "portal_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_operators",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False),
        sa.Column("locked_until", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_sign_in_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_portal_operators"),
        sa.UniqueConstraint("email", name="uq_portal_operators_email"),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(64)),
        sa.Column("operator_id", sa.Integer, nullable=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_portal_sessions"),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["portal_operators.id"],
            name="fk_portal_sessions_operator_id",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_portal_sessions_last_seen_at", "portal_sessions", ["last_seen_at"])
    op.create_index("ix_portal_sessions_created_at", "portal_sessions", ["created_at"])
    op.create_table(
        "portal_audit_log",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(254), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("code_fingerprint", sa.String(8), nullable=True),
        sa.Column("subject", sa.String(254), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_portal_audit_log"),
    )
    op.create_index("ix_portal_audit_log_at", "portal_audit_log", ["at"])
    op.create_index(
        "ix_portal_audit_log_code_fingerprint", "portal_audit_log", ["code_fingerprint"]
    )


def downgrade() -> None:
    op.drop_table("portal_audit_log")
    op.drop_table("portal_sessions")
    op.drop_table("portal_operators")
