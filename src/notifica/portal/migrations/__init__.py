"""Alembic migrations of the portal's tables (version table ``portal_alembic_version``)."""
