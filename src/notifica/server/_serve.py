"""What ``notifica serve`` runs: the app with the schema upgraded and the jobs on a timer.

uvicorn imports `app_from_environment` in each worker (``factory=True``), so settings come from
the ``NOTIFICA_*`` environment (and ``NOTIFICA_CONFIG``, a TOML file) that the command set.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from notifica.server._backend import Backend
from notifica.server.app import create_app
from notifica.server.repository import DatabaseError
from notifica.server.settings import Settings

__all__ = ["CONFIG_ENV", "JOB_POLL_S", "AppExtension", "app_from_environment", "serving_app"]

CONFIG_ENV = "NOTIFICA_CONFIG"
"""Path of the optional TOML settings file."""

JOB_POLL_S = 30.0
"""How often the background task asks the schedule whether a job is due."""

_log = logging.getLogger("notifica.server")

AppExtension = Callable[[FastAPI, Backend], object]
"""Called with the served app and its backend before serving: how layers above the server
(the portal) mount themselves without the server importing them."""


async def _run_jobs(backend: Backend) -> None:
    while True:
        try:
            await run_in_threadpool(backend.jobs.run_due)
        except (DatabaseError, OSError, ValueError) as exc:  # retried at the next poll
            _log.error("scheduled job failed: %s", exc)
        await asyncio.sleep(JOB_POLL_S)


def serving_app(settings: Settings, *, extensions: Sequence[AppExtension] = ()) -> FastAPI:
    """The served app, jobs in the background if configured (``serve`` upgraded the schema
    and made the signing key once, before starting the workers).

    Args:
        settings: the deployment's settings.
        extensions: each is called once with the app and its backend (e.g. to mount the
            portal at ``/portal``).
    """
    backend = Backend(settings)
    app = create_app(settings, backend=backend)
    for extend in extensions:
        extend(app, backend)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_run_jobs(backend)) if settings.run_jobs_in_process else None
        try:
            async with inner(app_):
                yield
        finally:
            if task is not None:
                task.cancel()
            await backend.aclose()

    app.router.lifespan_context = lifespan
    return app


def app_from_environment() -> FastAPI:
    """uvicorn's factory: settings from the environment and ``NOTIFICA_CONFIG``."""
    config = os.environ.get(CONFIG_ENV)
    return serving_app(Settings.load(Path(config) if config else None))
