"""Alembic environment of the portal: run only through `PortalDatabase.upgrade`."""

from __future__ import annotations

from alembic import context

from notifica.portal._database import PORTAL_VERSION_TABLE

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=None,
    version_table=PORTAL_VERSION_TABLE,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
