"""Fixtures of the portal tests: a migrated database (backend + portal) on SQLite and
PostgreSQL, a backend on a simulated clock, the portal mounted at /portal, and clients.

PostgreSQL (``NOTIFICA_TEST_POSTGRES_URL``): one database per session and xdist worker,
migrated once and emptied before each test; skipped with a message when unreachable unless
``NOTIFICA_REQUIRE_POSTGRES=1``, then failed.
"""

from __future__ import annotations

import random
import shutil
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
from notifica.server import Backend, NoSleep, Settings, create_app
from tests.portal._support import ADMIN, ADMIN_PASSWORD, START, add_operator, light_settings
from tests.server import conftest as server_fixtures

_PORTAL_TABLES = ("portal_audit_log", "portal_sessions", "portal_operators")

# The backend's database fixtures, reused: its migrated SQLite template and its PostgreSQL
# test database (skipped or failed as NOTIFICA_REQUIRE_POSTGRES says).
sqlite_template = server_fixtures.sqlite_template
postgres_database = server_fixtures.postgres_database


@pytest.fixture(scope="session")
def portal_sqlite_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backend's migrated template with the portal's tables added."""
    path = tmp_path_factory.mktemp("portal-template") / "template.db"
    shutil.copyfile(sqlite_template, path)
    upgrade_portal(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def portal_postgres(postgres_database: str) -> str:
    """The backend's PostgreSQL test database with the portal's tables added."""
    upgrade_portal(postgres_database)
    return postgres_database


@pytest.fixture
def sqlite_url(portal_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file with both schemas (web modules use it alone: the pages do not
    depend on the engine, the stores below them are tested on both)."""
    path = tmp_path / "notifica.db"
    shutil.copyfile(portal_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database with the backend's and the portal's tables, on each engine."""
    if request.param == "sqlite":
        sqlite: str = request.getfixturevalue("sqlite_url")
        return sqlite
    url: str = request.getfixturevalue("portal_postgres")
    server_fixtures._empty_postgres(url)
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(_PORTAL_TABLES)} RESTART IDENTITY")
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
