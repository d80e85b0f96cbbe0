"""Initial schema, seeded with Immuni's app configuration defaults.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from notifica.server.repository.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DEFAULTS = Path(__file__).resolve().parent.parent / "app_settings_0001.json"


def upgrade() -> None:
    op.create_table(
        "otps",
        sa.Column("token_hash", sa.String(64)),
        sa.Column("symptoms_started_on", sa.Date, nullable=False),
        sa.Column("id_test_verification", sa.String(36), nullable=True),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_otps"),
    )
    op.create_table(
        "otp_log",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column("authorised_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_otp_log"),
    )
    op.create_index("ix_otp_log_authorised_on", "otp_log", ["authorised_on"])
    op.create_table(
        "his_clients",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_his_clients"),
        sa.UniqueConstraint("name", name="uq_his_clients_name"),
        sa.UniqueConstraint("token_hash", name="uq_his_clients_token_hash"),
    )
    op.create_table(
        "pending_keys",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column("key_data", sa.LargeBinary(16), nullable=False),
        sa.Column("rolling_start_number", sa.BigInteger, nullable=False),
        sa.Column("rolling_period", sa.SmallInteger, nullable=False),
        sa.Column("symptoms_started_on", sa.Date, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_keys"),
    )
    op.create_index("ix_pending_keys_received_at", "pending_keys", ["received_at"])
    op.create_table(
        "upload_log",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_upload_log"),
    )
    op.create_index("ix_upload_log_received_on", "upload_log", ["received_on"])
    op.create_table(
        "batches",
        sa.Column("batch_index", sa.Integer, autoincrement=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("period_end", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("key_count", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("batch_index", name="pk_batches"),
    )
    op.create_index("ix_batches_period_start", "batches", ["period_start"])
    op.create_index("ix_batches_created_at", "batches", ["created_at"])
    op.create_table(
        "publish_state",
        sa.Column("id", sa.SmallInteger, autoincrement=False),
        sa.Column("last_index", sa.Integer, nullable=False),
        sa.Column("last_period_end", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_publish_state"),
    )
    app_settings = op.create_table(
        "app_settings",
        sa.Column("platform", sa.String(10)),
        sa.Column("starting_build", sa.BigInteger),
        sa.Column("name", sa.String(100)),
        sa.Column("value", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("platform", "starting_build", "name", name="pk_app_settings"),
    )
    op.create_table(
        "exposure_payloads",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("symptoms_started_on", sa.Date, nullable=False),
        sa.Column("exposure_detection_summaries", sa.JSON, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exposure_payloads"),
    )
    op.create_index("ix_exposure_payloads_received_on", "exposure_payloads", ["received_on"])
    op.create_table(
        "operational_info",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column("platform", sa.String(10), nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("build", sa.BigInteger, nullable=True),
        sa.Column("exposure_permission", sa.Boolean, nullable=False),
        sa.Column("bluetooth_active", sa.Boolean, nullable=False),
        sa.Column("notification_permission", sa.Boolean, nullable=False),
        sa.Column("exposure_notification", sa.Boolean, nullable=False),
        sa.Column("last_risky_exposure_on", sa.Date, nullable=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operational_info"),
    )
    op.create_index("ix_operational_info_received_on", "operational_info", ["received_on"])
    op.create_table(
        "analytics_token_slots",
        sa.Column("token_hash", sa.String(64)),
        sa.Column("month", sa.Date),
        sa.Column("with_exposure", sa.Boolean),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "token_hash", "month", "with_exposure", name="pk_analytics_token_slots"
        ),
    )
    op.create_index("ix_analytics_token_slots_expires_at", "analytics_token_slots", ["expires_at"])
    op.create_table(
        "used_salts",
        sa.Column("salt_hash", sa.String(64)),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("salt_hash", name="pk_used_salts"),
    )
    op.create_index("ix_used_salts_expires_at", "used_salts", ["expires_at"])

    defaults = json.loads(_DEFAULTS.read_text())
    op.bulk_insert(
        app_settings,
        [
            {"platform": platform, "starting_build": 1, "name": name, "value": value}
            for platform in ("ios", "android")
            for name, value in defaults[platform].items()
        ],
    )


def downgrade() -> None:
    for table in (
        "used_salts",
        "analytics_token_slots",
        "operational_info",
        "exposure_payloads",
        "app_settings",
        "publish_state",
        "batches",
        "upload_log",
        "pending_keys",
        "his_clients",
        "otp_log",
        "otps",
    ):
        op.drop_table(table)
