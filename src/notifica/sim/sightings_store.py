"""All phones' sightings of a shard in one columnar store, with a `PhoneStore` view per phone.

A real phone keeps its sightings in its own encrypted store (`notifica.phone.SqliteStore`).
Thousands of simulated phones would mean thousands of files, so the shard keeps one set of
arrays instead — receiver, RPI (16 B), AEM (4 B), calibrated RSSI, scan time, previous scan
time — appended one day at a time and sorted by receiver, so that a phone's sightings of a day
are one contiguous slice. `PhoneView` implements the phone engine's `PhoneStore` protocol over
its phone's slices (plus its own state and anything the phone records itself), so the
engine's detection, matching and scoring read "its" sightings through the same interface as on
a real phone.

Days older than `KEEP_DAYS` are dropped as a whole (protocol.md §9: 14 days); a view's
`purge_before` also hides anything older than the horizon it was given (rule 3 of the store
interface).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from notifica.phone import KEEP_DAYS, SightingColumns, StagedMemoryStore
from notifica.protocol import METADATA_LENGTH, RPI_LENGTH

__all__ = ["DayBlock", "PhoneView", "SightingsStore"]


@dataclass(frozen=True, slots=True, eq=False)
class DayBlock:
    """One day's sightings of every phone of the shard, sorted by receiver row.

    Rows of phone r are ``offsets[r]:offsets[r + 1]``.
    """

    day: int
    offsets: npt.NDArray[np.int64]
    rpis: npt.NDArray[np.uint8]  # (n, 16)
    aems: npt.NDArray[np.uint8]  # (n, 4)
    rssi_dbm: npt.NDArray[np.int16]
    unix_s: npt.NDArray[np.int64]
    previous_scan_unix_s: npt.NDArray[np.int64]
    first_unix_s: int
    last_unix_s: int

    def __len__(self) -> int:
        return len(self.unix_s)

    def columns(self, row: int, since_unix_s: int) -> SightingColumns | None:
        """Phone `row`'s sightings of this day at or after `since_unix_s` (None if none)."""
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        if start == end:
            return None
        times = self.unix_s[start:end]
        if times[0] < since_unix_s:  # times are sorted within a phone's slice
            start += int(np.searchsorted(times, since_unix_s, side="left"))
            if start == end:
                return None
        return SightingColumns(
            rpis=self.rpis[start:end].tobytes(),
            aems=self.aems[start:end].tobytes(),
            rssi_dbm=self.rssi_dbm[start:end],
            unix_s=self.unix_s[start:end],
            previous_scan_unix_s=self.previous_scan_unix_s[start:end],
        )


class SightingsStore:
    """The shard's sightings: a list of `DayBlock`, the last `KEEP_DAYS` + 1 days."""

    def __init__(self, phones: int) -> None:
        if phones < 0:
            raise ValueError("phones must be ≥ 0")
        self.phones = phones
        self.blocks: list[DayBlock] = []

    def add_day(
        self,
        day: int,
        *,
        receiver_row: npt.NDArray[np.integer],
        rpis: npt.NDArray[np.uint8],
        aems: npt.NDArray[np.uint8],
        rssi_dbm: npt.NDArray[np.int16],
        unix_s: npt.NDArray[np.int64],
        previous_scan_unix_s: npt.NDArray[np.int64],
    ) -> DayBlock:
        """Add one day's sightings (any order) and drop days past the retention.

        Raises:
            ValueError: columns of different lengths, a row outside the shard's phones, or a
                day not after the last one added.
        """
        n = len(receiver_row)
        if rpis.shape != (n, RPI_LENGTH) or aems.shape != (n, METADATA_LENGTH):
            raise ValueError("rpis must be (n, 16) and aems (n, 4) bytes")
        if not len(rssi_dbm) == len(unix_s) == len(previous_scan_unix_s) == n:
            raise ValueError("sighting columns must have the same length")
        if n and (receiver_row.min() < 0 or receiver_row.max() >= self.phones):
            raise ValueError(f"receiver rows must be in 0..{self.phones - 1}")
        if self.blocks and day <= self.blocks[-1].day:
            raise ValueError(f"day {day} is not after the last day stored")
        order = np.lexsort((unix_s, receiver_row))
        counts = np.bincount(receiver_row, minlength=self.phones)
        offsets = np.zeros(self.phones + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        block = DayBlock(
            day=day,
            offsets=offsets,
            rpis=np.ascontiguousarray(rpis[order]),
            aems=np.ascontiguousarray(aems[order]),
            rssi_dbm=np.ascontiguousarray(rssi_dbm[order], dtype=np.int16),
            unix_s=np.ascontiguousarray(unix_s[order], dtype=np.int64),
            previous_scan_unix_s=np.ascontiguousarray(previous_scan_unix_s[order], dtype=np.int64),
            first_unix_s=int(unix_s.min()) if n else -1,
            last_unix_s=int(unix_s.max()) if n else -1,
        )
        self.blocks.append(block)
        self.blocks = [b for b in self.blocks if b.day > day - KEEP_DAYS - 1]
        return block

    def sighting_count(self) -> int:
        return sum(len(b) for b in self.blocks)

    def view(self, row: int) -> PhoneView:
        """The `PhoneStore` of phone `row`."""
        if not 0 <= row < self.phones:
            raise ValueError(f"row must be in 0..{self.phones - 1}")
        return PhoneView(self, row)


class PhoneView(StagedMemoryStore):
    """One phone's `PhoneStore` over the shard's `SightingsStore`.

    State and the phone's own recorded sightings (`_blocks`) are kept here, staged by
    transactions as in `notifica.phone.MemoryStore`; the shard's sightings are read through.
    """

    __slots__ = ("_horizon", "_row", "_shared")

    def __init__(self, shared: SightingsStore, row: int) -> None:
        super().__init__()
        self._shared = shared
        self._row = row
        self._horizon = 0

    def observations_since(self, unix_s: int) -> SightingColumns:
        since = max(int(unix_s), self._horizon)
        parts = []
        for block in self._shared.blocks:
            if block.last_unix_s < since:
                continue
            columns = block.columns(self._row, since)
            if columns is not None:
                parts.append(columns)
        parts.extend(own.since(since) for own in self._blocks)
        kept = [p for p in parts if len(p)]
        if len(kept) > 1:
            merged = SightingColumns.concatenate(kept)
            order = np.argsort(merged.unix_s, kind="stable")
            if np.any(np.diff(order) < 0):
                merged = _reorder(merged, order)
            return merged
        return kept[0] if kept else SightingColumns.empty()

    def _shared_before(self, unix_s: int) -> int:
        """Sightings of the shared store recorded before `unix_s` (hidden or not)."""
        count = 0
        for block in self._shared.blocks:
            if block.first_unix_s >= unix_s:
                continue
            start, end = int(block.offsets[self._row]), int(block.offsets[self._row + 1])
            if block.last_unix_s < unix_s:
                count += end - start
            else:
                count += int(np.searchsorted(block.unix_s[start:end], unix_s))
        return count

    def sighting_count(self) -> int:
        total = sum(
            int(b.offsets[self._row + 1] - b.offsets[self._row]) for b in self._shared.blocks
        )
        return total - self._shared_before(self._horizon) + sum(len(own) for own in self._blocks)

    def purge_before(self, unix_s: int) -> int:
        if unix_s <= self._horizon:
            return 0
        removed = self._shared_before(unix_s) - self._shared_before(self._horizon)
        removed += sum(int((own.unix_s < unix_s).sum()) for own in self._blocks)
        self._horizon = int(unix_s)
        self._blocks = [kept for kept in (own.since(unix_s) for own in self._blocks) if len(kept)]
        return removed

    def close(self) -> None:
        self._blocks = []


def _reorder(columns: SightingColumns, order: npt.NDArray[np.intp]) -> SightingColumns:
    rpis = np.frombuffer(columns.rpis, dtype=np.uint8).reshape(-1, RPI_LENGTH)[order]
    aems = np.frombuffer(columns.aems, dtype=np.uint8).reshape(-1, METADATA_LENGTH)[order]
    return SightingColumns(
        rpis=rpis.tobytes(),
        aems=aems.tobytes(),
        rssi_dbm=columns.rssi_dbm[order],
        unix_s=columns.unix_s[order],
        previous_scan_unix_s=columns.previous_scan_unix_s[order],
    )
