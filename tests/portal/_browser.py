"""Serving the portal for real and driving Debian's headless Chromium (browser tests).

`serve_portal` runs the backend with the portal mounted under uvicorn on a free localhost
port, on a simulated clock standing at START after a seeded history (the same on every run).
`require_browser` returns playwright's sync API, or skips with a message (fails when
``NOTIFICA_REQUIRE_BROWSER=1``, as in CI) when the package or Chromium is missing.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from notifica.clock import SimClock
from notifica.portal import mount_portal, upgrade_portal
from notifica.server import Backend, NoSleep, Settings, create_app
from tests.portal._data import seed_history, seed_territories
from tests.portal._support import (
    ADMIN,
    ADMIN_PASSWORD,
    OPERATOR,
    OPERATOR_PASSWORD,
    START,
    add_operator,
    light_settings,
)

CHROMIUM = Path(os.environ.get("NOTIFICA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1024, "height": 720}
HISTORY_DAYS = 14


def require_browser() -> Any:
    """The playwright module, or a skip (a failure in CI) saying what is missing."""
    problem = None
    try:
        from playwright import sync_api
    except ImportError:
        problem = "the playwright package is not installed (pip install -e '.[dev]')"
    if problem is None and not CHROMIUM.exists():
        problem = f"Chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if problem is not None:
        if os.environ.get("NOTIFICA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    return sync_api


@dataclass
class Served:
    base: str
    clock: SimClock
    backend: Backend


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _seed(backend: Backend, app: Any, clock: SimClock) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seed") as api:
        await seed_history(backend, api, clock, days=HISTORY_DAYS, rng=random.Random(20200615))


@contextmanager
def serve_portal(data_dir: Path) -> Iterator[Served]:
    """The real app on a free localhost port, its history seeded, its clock at START."""
    require_browser()
    settings = Settings(
        database_url=f"sqlite:///{data_dir}/notifica.db",
        data_dir=data_dir,
        ingestion_rate_limit_per_minute=0,
    )
    clock = SimClock(START - timedelta(days=HISTORY_DAYS + 1))
    backend = Backend(settings, clock=clock, sleeper=NoSleep(), rng=random.Random(1))
    backend.upgrade()
    upgrade_portal(settings.effective_database_url)
    app = create_app(settings, backend=backend)
    portal = mount_portal(app, backend, light_settings()).state.portal
    # Its own thread: playwright's sync API keeps an event loop running in this one.
    seeding = threading.Thread(target=lambda: asyncio.run(_seed(backend, app, clock)))
    seeding.start()
    seeding.join()
    clock.set(START)
    seed_territories(backend, today=START.date())
    add_operator(portal, ADMIN, ADMIN_PASSWORD, admin=True)
    add_operator(portal, OPERATOR, OPERATOR_PASSWORD)
    add_operator(portal, "m.rossi@asl.example", OPERATOR_PASSWORD)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Served(base=f"http://127.0.0.1:{port}", clock=clock, backend=backend)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        portal.close()
        backend.repository.close()


def watch_errors(page: Any) -> list[str]:
    """Collect script errors, CSP violations and failed sub-resources of `page`.

    Pages answered 4xx on purpose are logged by Chromium as "Failed to load resource":
    those are fine; a failed script, style or image is not.
    """
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    return errors


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


def sign_in(page: Any, base: str, email: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{base}/portal/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/portal/authorise")
