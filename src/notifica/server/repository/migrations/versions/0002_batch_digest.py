"""Store the SHA-256 of each batch so that a corrupted one is never served.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))
    table = sa.table(
        "batches",
        sa.column("batch_index", sa.Integer),
        sa.column("content", sa.LargeBinary),
        sa.column("content_sha256", sa.String(64)),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(table.c.batch_index, table.c.content)).all()
    for index, content in rows:  # at most 14 days of batches: a few hundred rows
        conn.execute(
            sa.update(table)
            .where(table.c.batch_index == index)
            .values(content_sha256=hashlib.sha256(bytes(content)).hexdigest())
        )
    with op.batch_alter_table("batches") as batch:
        batch.alter_column("content_sha256", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("content_sha256")
