"""Fixtures of the backend tests: a migrated database per test, on SQLite and PostgreSQL.

``database_url`` is parametrised over both engines. SQLite: a fresh file per test, copied
from one migrated template. PostgreSQL (``NOTIFICA_TEST_POSTGRES_URL``): one database per
test session and xdist worker, migrated once and emptied before each test; skipped with a
message when unreachable unless ``NOTIFICA_REQUIRE_POSTGRES=1``, then failed.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from notifica.clock import SimClock
from notifica.protocol import EcdsaSigner, generate_signing_key_pem
from notifica.server import Backend, RecordingSleeper, Repository, Settings, create_app
from notifica.server.signing import signature_info

POSTGRES_URL = os.environ.get(
    "NOTIFICA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("NOTIFICA_REQUIRE_POSTGRES") == "1"
START = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)
"""Tests run on a simulated clock starting here (a Monday of Immuni's first weeks)."""

_DATA_TABLES = (
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


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    repository = Repository.open(f"sqlite:///{path}")
    repository.upgrade()
    repository.close()
    return path


def _postgres_admin_url() -> str:
    return sa.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg").render_as_string(False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated database for this session and worker, dropped at the end."""
    admin = sa.create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    name = f"notifica_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    repository = Repository.open(url)
    repository.upgrade()
    repository.close()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(_DATA_TABLES)} RESTART IDENTITY")
        conn.exec_driver_sql("DELETE FROM app_settings WHERE starting_build <> 1")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database (app settings seeded) on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "notifica.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture(scope="session")
def signing_pem() -> bytes:
    return generate_signing_key_pem()


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: the given database, no environment surprises."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "generate_signing_key": False,
        "ingestion_rate_limit_per_minute": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def sleeper() -> RecordingSleeper:
    return RecordingSleeper()


BackendFactory = Callable[..., Backend]


@pytest.fixture
def backend_factory(
    settings: Settings, clock: SimClock, sleeper: RecordingSleeper, signing_pem: bytes
) -> Iterator[BackendFactory]:
    """Backends on the test database, with settings overridden as asked."""
    made: list[Backend] = []

    def make(**overrides: Any) -> Backend:
        """`overrides`: settings fields, or the seams clock, sleeper, rng, device_check."""
        seams: dict[str, Any] = {"clock": clock, "sleeper": sleeper, "rng": random.Random(7)}
        for name in ("clock", "sleeper", "rng", "device_check"):
            if name in overrides:
                seams[name] = overrides.pop(name)
        custom = Settings(**{**settings.model_dump(), **overrides})
        signer = EcdsaSigner.from_pem(signing_pem, signature_info=signature_info(custom))
        backend = Backend(custom, signer=signer, **seams)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.repository.close()


@pytest.fixture
def backend(backend_factory: BackendFactory) -> Backend:
    return backend_factory()


@asynccontextmanager
async def client_for(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to `create_app(backend)` in process."""
    app = create_app(backend.settings, backend=backend)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifica.test") as client:
        yield client
    await backend.analytics.drain()


@pytest.fixture
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(backend) as client:
        yield client


@pytest.fixture
def his_token(backend: Backend) -> str:
    """The API key of a registered health operators' system."""
    _, api_key = backend.his.add_client("test-his")
    return api_key
