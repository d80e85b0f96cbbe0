"""Fixtures of the simulator tests: a small seeded scenario, the device-model sampler and an
empty PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from notifica.sim import CalibrationTableSampler, Scenario, load_device_sampler


@pytest.fixture(scope="session")
def device_sampler() -> CalibrationTableSampler:
    """Google's calibration table as the phone layer ships it."""
    return load_device_sampler()


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    """A 2,000-resident, 10-day scenario with an epidemic large enough to test."""
    return Scenario().with_values(
        {"run.population": 2000, "run.days": 10, "run.initial_infections": 20, "run.seed": 11}
    )


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """An empty PostgreSQL database (skipped without a server, failed in CI)."""
    base = os.environ.get(
        "NOTIFICA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    admin = sa.create_engine(
        sa.make_url(base).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("NOTIFICA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL unreachable: {exc.__class__.__name__}")
        pytest.skip(f"PostgreSQL unreachable at {base}")
    name = f"notifica_sim_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.make_url(base).set(database=name).render_as_string(False)
    with admin.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()
