"""Scratch PostgreSQL databases and a free port for the benchmarks that run `notifica serve`.

Each benchmark creates its own database on the server of ``NOTIFICA_TEST_POSTGRES_URL`` and
drops it afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import date, datetime

import psycopg

__all__ = ["ADMIN_URL", "copy_pending_keys", "create_database", "drop_database", "free_port"]

ADMIN_URL = os.environ.get(
    "NOTIFICA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_database(name: str) -> str:
    """Create database `name` on the admin URL's server; return its URL."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", ADMIN_URL)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def copy_pending_keys(
    url: str, count: int, *, rolling_start: int, onset: date, received_at: datetime
) -> None:
    """Bulk-load `count` random pending keys of one day (COPY: the API would be the bottleneck)."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY pending_keys (key_data, rolling_start_number, rolling_period,"
            " symptoms_started_on, received_at) FROM STDIN"
        ) as copy:
            for _ in range(count):
                copy.write_row((os.urandom(16), rolling_start, 144, onset, received_at))
        conn.commit()
