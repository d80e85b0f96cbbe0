"""The app configuration service (immuni-api.md §3.1, §8)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from notifica.clock import Clock
from notifica.server.repository import Repository
from notifica.server.settings import Settings

__all__ = ["PLATFORMS", "AppConfigService"]

PLATFORMS = ("ios", "android")
"""The ``platform`` query values (immuni-api.md §3.1)."""

_CACHE_TTL = timedelta(seconds=60)
"""Settings change rarely; every phone asks every few hours. One minute of staleness is fine."""


class AppConfigService:
    """Settings per platform and build: per name, the value of the highest starting build."""

    def __init__(self, repository: Repository, clock: Clock, settings: Settings) -> None:
        self._repository = repository
        self._clock = clock
        self._settings = settings
        self._cache: dict[tuple[str, int], tuple[datetime, bytes]] = {}
        self._lock = threading.Lock()

    def settings_json(self, *, platform: str, build: int) -> bytes:
        """The JSON body for a phone of `platform` at `build` (arguments already checked)."""
        now = self._clock.now()
        key = (platform, build)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < _CACHE_TTL:
                return hit[1]
        values = self._repository.app_settings.values_for(platform=platform, build=build)
        body = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
        with self._lock:
            if len(self._cache) > 1_000:
                self._cache.clear()
            self._cache[key] = (now, body)
        return body
