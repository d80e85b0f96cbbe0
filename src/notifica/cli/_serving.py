"""What ``notifica serve`` runs in each uvicorn worker: the backend with the portal mounted.

The CLI is the only layer that knows both: the server exposes `serving_app` with
extensions, the portal `mount_portal`. ``NOTIFICA_PORTAL_ENABLED=false`` serves the API
alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from notifica.portal import PortalSettings, mount_portal, upgrade_portal
from notifica.server import AppExtension, Backend, Settings, serving_app
from notifica.server._serve import CONFIG_ENV

__all__ = ["APP_FACTORY", "app_from_environment", "prepare_portal"]

APP_FACTORY = "notifica.cli._serving:app_from_environment"
"""The uvicorn factory of ``notifica serve``."""


def prepare_portal(settings: Settings) -> None:
    """Create or upgrade the portal's tables once, before the workers start.

    Raises:
        pydantic.ValidationError: for a bad ``NOTIFICA_PORTAL_*`` setting.
        notifica.portal.PortalStorageError: if the database refuses.
    """
    if PortalSettings().enabled:
        upgrade_portal(settings.effective_database_url)


def app_from_environment() -> FastAPI:
    """uvicorn's factory: settings from the environment and ``NOTIFICA_CONFIG``."""
    config = os.environ.get(CONFIG_ENV)
    settings = Settings.load(Path(config) if config else None)
    portal = PortalSettings()
    extensions: list[AppExtension] = []
    if portal.enabled:

        def mount(app: FastAPI, backend: Backend) -> None:
            mount_portal(app, backend, portal)

        extensions.append(mount)
    return serving_app(settings, extensions=extensions)
