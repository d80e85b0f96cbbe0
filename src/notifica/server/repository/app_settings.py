"""App configuration settings per platform and starting build (immuni-api.md §3.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from notifica.server.repository._database import Database
from notifica.server.repository.tables import app_settings

__all__ = ["AppSettingsStore"]


class AppSettingsStore:
    """Rows (platform, starting_build, name, value): a build sees, per name, the value with
    the highest ``starting_build`` not above it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def values_for(self, *, platform: str, build: int) -> dict[str, Any]:
        """The settings a phone of `platform` at `build` gets."""
        stmt = (
            select(app_settings.c.name, app_settings.c.value)
            .where(app_settings.c.platform == platform, app_settings.c.starting_build <= build)
            .order_by(app_settings.c.starting_build)
        )
        with self._db.read() as conn:
            return {name: value for name, value in conn.execute(stmt)}  # later builds win

    def put(self, *, platform: str, starting_build: int, name: str, value: Any) -> None:
        """Set one value from `starting_build` on."""
        with self._db.write() as conn:
            conn.execute(
                delete(app_settings).where(
                    app_settings.c.platform == platform,
                    app_settings.c.starting_build == starting_build,
                    app_settings.c.name == name,
                )
            )
            conn.execute(
                insert(app_settings).values(
                    platform=platform, starting_build=starting_build, name=name, value=value
                )
            )
