"""Fixtures of the portal tests: a migrated database (backend + portal) on SQLite and
PostgreSQL, a backend on a simulated clock, the portal mounted at /portal, and clients.

PostgreSQL (``NOTIFICA_TEST_POSTGRES_URL``): one database per session and xdist worker,
migrated once and emptied before each test; skipped with a message when unreachable unless
``NOTIFICA_REQUIRE_POSTGRES=1``, then failed.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from notifica.clock import SimClock
from notifica.portal import Portal, PortalSettings, mount_portal, upgrade_portal
from notifica.server import Backend, NoSleep, Repository, Settings, create_app
from tests.portal._support import ADMIN, ADMIN_PASSWORD, START, add_operator, light_settings

POSTGRES_URL = os.environ.get(
    "NOTIFICA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("NOTIFICA_REQUIRE_POSTGRES") == "1"

_SERVER_TABLES = (
    "otps",
    "otp_log",
    "his_clients",
    "pending_keys",
    "upload_log",
    "batches",
    "publish_state",
    "exposure_payloads",
    "operational_info",
    "analytics_token_slots",
    "used_salts",
)
_PORTAL_TABLES = ("portal_audit_log", "portal_sessions", "portal_operators")


def _migrate(url: str) -> None:
    repository = Repository.open(url)
    repository.upgrade()
    repository.close()
    upgrade_portal(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("portal-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


def _psycopg(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database with both schemas for this session and worker, dropped at the end."""
    admin = sa.create_engine(_psycopg(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"notifica_portal_{worker}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    _migrate(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file with both schemas (web modules use it alone: the pages do not
    depend on the engine, the stores below them are tested on both)."""
    path = tmp_path / "notifica.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database with the backend's and the portal's tables, on each engine."""
    if request.param == "sqlite":
        sqlite: str = request.getfixturevalue("sqlite_url")
        return sqlite
    url: str = request.getfixturevalue("postgres_database")
    engine = sa.create_engine(_psycopg(url))
    with engine.begin() as conn:
        tables = ", ".join((*_SERVER_TABLES, *_PORTAL_TABLES))
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.exec_driver_sql("DELETE FROM app_settings WHERE starting_build <> 1")
    engine.dispose()
    return url


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def portal_settings() -> PortalSettings:
    """Default settings but a light argon2 (tests sign in hundreds of times)."""
    return light_settings()


@pytest.fixture
def backend(database_url: str, tmp_path: Path, clock: SimClock) -> Iterator[Backend]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        ingestion_rate_limit_per_minute=0,
    )
    backend = Backend(settings, clock=clock, sleeper=NoSleep(), rng=random.Random(7))
    yield backend
    backend.repository.close()


@dataclass
class Site:
    """The backend's app with the portal mounted, and what the tests reach into."""

    app: FastAPI
    portal: Portal
    backend: Backend
    clock: SimClock


def make_site(backend: Backend, settings: PortalSettings, **overrides: Any) -> Site:
    app = create_app(backend.settings, backend=backend)
    portal_settings = PortalSettings(**{**settings.model_dump(), **overrides})
    portal_app = mount_portal(app, backend, portal_settings)
    portal: Portal = portal_app.state.portal
    assert isinstance(backend.clock, SimClock)
    return Site(app=app, portal=portal, backend=backend, clock=backend.clock)


@pytest.fixture
def site(backend: Backend, portal_settings: PortalSettings) -> Iterator[Site]:
    made = make_site(backend, portal_settings)
    add_operator(made.portal, ADMIN, ADMIN_PASSWORD, admin=True)
    yield made
    made.portal.close()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    """A browser without JavaScript, in English: keeps cookies, follows no redirects."""
    transport = httpx.ASGITransport(app=site.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://portal.test", headers={"Accept-Language": "en"}
    ) as client:
        yield client
