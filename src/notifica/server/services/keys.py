"""The keys service: the batch index and the signed batches (immuni-api.md §3.5)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, time, timedelta

from notifica.clock import Clock
from notifica.protocol import KeysIndex
from notifica.server.errors import BatchNotFound, NoBatchesFound
from notifica.server.repository import Repository
from notifica.server.settings import Settings

__all__ = ["KeysService"]

_CACHED_BATCHES = 64
"""Batches are immutable, and every phone downloads the same few: keep the newest in memory."""
_CACHE_TTL = timedelta(hours=1)
"""So that batches deleted by retention stop being served within the hour."""


class KeysService:
    """Reads batches; never writes."""

    def __init__(self, repository: Repository, clock: Clock, settings: Settings) -> None:
        self._repository = repository
        self._clock = clock
        self._settings = settings
        self._cache: OrderedDict[int, tuple[datetime, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def index(self) -> KeysIndex:
        """Oldest and newest index of the batches that started in the last `index_days` days.

        Raises:
            NoBatchesFound: if there is none.
        """
        today = datetime.combine(self._clock.now().date(), time(), self._clock.now().tzinfo)
        found = self._repository.batches.index_range(
            since=today - timedelta(days=self._settings.index_days)
        )
        if found is None:
            raise NoBatchesFound()
        return KeysIndex(oldest=found[0], newest=found[1])

    def batch(self, index: int) -> bytes:
        """The signed zip of batch `index`.

        Raises:
            BatchNotFound: if there is no such batch.
        """
        now = self._clock.now()
        with self._lock:
            hit = self._cache.get(index)
            if hit is not None and now - hit[0] < _CACHE_TTL:
                self._cache.move_to_end(index)
                return hit[1]
        content = self._repository.batches.content(index)
        if content is None:
            raise BatchNotFound()
        with self._lock:
            self._cache[index] = (now, content)
            while len(self._cache) > _CACHED_BATCHES:
                self._cache.popitem(last=False)
        return content
