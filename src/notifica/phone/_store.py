"""Where a phone keeps its state and its sightings: the store interface and an in-memory store.

`PhoneStore` is the seam (a `Protocol`): the engine runs the same code over any store. Two
implementations ship: `SqliteStore` (encrypted at rest, the default for a real phone) and
`MemoryStore` (nothing on disk: tests, and simulations that do not bring their own columnar
store). Rules every store follows:

1. Writes inside ``with store.transaction():`` become visible together or not at all; a
   killed process leaves the state of the last committed transaction.
2. Sightings go in and out as `SightingColumns`, N at a time (`add_sightings`,
   `observations_since`); the store never needs one object per packet.
3. `purge_before(unix_s)` removes every sighting older than `unix_s` for good.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, runtime_checkable

from notifica.phone._model import PhoneState
from notifica.phone._sightings import SightingColumns

__all__ = ["MemoryStore", "PhoneStore", "StagedMemoryStore"]


@runtime_checkable
class PhoneStore(Protocol):
    """A phone's persistent state and sightings (see the module docstring for the rules)."""

    def load_state(self) -> PhoneState | None:
        """The last saved state, or None for a new store."""
        ...

    def save_state(self, state: PhoneState) -> None:
        """Replace the saved state (atomically, at the end of the current transaction)."""
        ...

    def add_sightings(self, sightings: SightingColumns) -> None:
        """Append the packets of one scan (or many)."""
        ...

    def observations_since(self, unix_s: int) -> SightingColumns:
        """Every sighting recorded at or after `unix_s`, oldest first."""
        ...

    def sighting_count(self) -> int:
        """How many sightings are kept."""
        ...

    def purge_before(self, unix_s: int) -> int:
        """Delete the sightings older than `unix_s`; return how many went."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes so that they commit together (rule 1)."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


class StagedMemoryStore:
    """The in-memory half of a store: the state and the sightings recorded through
    `add_sightings`, with transactions that stage both and apply them only on success (so a
    failed detection leaves the store as it was, as with `SqliteStore`).

    Subclasses read `_blocks` (the committed sightings, in arrival order) to answer
    `observations_since`, `sighting_count` and `purge_before`.
    """

    __slots__ = ("_blocks", "_pending", "_staged_state", "_state")

    def __init__(self) -> None:
        self._state: PhoneState | None = None
        self._blocks: list[SightingColumns] = []
        self._pending: list[SightingColumns] | None = None
        self._staged_state: PhoneState | None = None

    def load_state(self) -> PhoneState | None:
        if self._pending is not None and self._staged_state is not None:
            return self._staged_state
        return self._state

    def save_state(self, state: PhoneState) -> None:
        if self._pending is not None:
            self._staged_state = state
        else:
            self._state = state

    def add_sightings(self, sightings: SightingColumns) -> None:
        if not len(sightings):
            return
        if self._pending is not None:
            self._pending.append(sightings)
        else:
            self._blocks.append(sightings)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._pending is not None:  # nested: the outer transaction decides
            yield
            return
        self._pending, self._staged_state = [], None
        try:
            yield
        except BaseException:
            self._pending, self._staged_state = None, None
            raise
        pending, staged = self._pending, self._staged_state
        self._pending, self._staged_state = None, None
        self._blocks.extend(pending)
        if staged is not None:
            self._state = staged

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()


class MemoryStore(StagedMemoryStore):
    """A store that keeps everything in this process's memory (tests, and simulations that do
    not bring their own columnar store)."""

    __slots__ = ()

    def observations_since(self, unix_s: int) -> SightingColumns:
        kept = [block.since(unix_s) for block in self._blocks]
        return SightingColumns.concatenate([b for b in kept if len(b)])

    def sighting_count(self) -> int:
        return sum(len(block) for block in self._blocks)

    def purge_before(self, unix_s: int) -> int:
        before = self.sighting_count()
        kept = [block.since(unix_s) for block in self._blocks]
        self._blocks = [b for b in kept if len(b)]
        return before - self.sighting_count()

    def close(self) -> None:
        self._blocks = []
