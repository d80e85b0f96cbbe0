"""The backend tests' fixtures (a migrated database per test on both engines, a simulated
clock, backends and clients), shared with the reliability tests."""

from __future__ import annotations

from tests.server.conftest import (
    anyio_backend,
    backend,
    backend_factory,
    clock,
    database_url,
    his_token,
    postgres_database,
    settings,
    signing_pem,
    sleeper,
    sqlite_template,
)

__all__ = [
    "anyio_backend",
    "backend",
    "backend_factory",
    "clock",
    "database_url",
    "his_token",
    "postgres_database",
    "settings",
    "signing_pem",
    "sleeper",
    "sqlite_template",
]
