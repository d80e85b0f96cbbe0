"""When phones scan, and which scans hear which neighbours (protocol §8.3).

Each phone scans every 210–300 s (GMS: 300 s minus a random 0–89 s) for a 4-s window. A scan of
phone *r* hears phone *s* when an episode between *r* and *s* covers the scan's start. Scan times
are per phone (`ScanSchedule`), and the expansion from episodes to scans (`scan_sightings`) is a
binary search over all phones' scan times at once: no loop over phones or episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from notifica.sim._params_world import ScanningParams
from notifica.sim.contacts import DAY_S, DayContacts

__all__ = ["ScanSchedule", "ScanSightings", "scan_sightings"]

_ROW = 1 << 17  # > DAY_S: scan keys are row * _ROW + second of day


@dataclass(frozen=True, slots=True, eq=False)
class ScanSchedule:
    """One day's scan start times of a set of phones.

    ``row_of[person]`` is the person's row (-1 without a phone); row r's scans are
    ``times_s[offsets[r]:offsets[r + 1]]``, increasing, seconds after midnight; the next day
    continues from ``next_day_first_s[r]``.
    """

    row_of: npt.NDArray[np.int32]
    times_s: npt.NDArray[np.int32]
    offsets: npt.NDArray[np.int64]
    next_day_first_s: npt.NDArray[np.float64]  # each row's first scan after midnight

    @classmethod
    def for_day(
        cls,
        rng: np.random.Generator,
        has_phone: npt.NDArray[np.bool_],
        params: ScanningParams,
        *,
        previous: ScanSchedule | None = None,
    ) -> ScanSchedule:
        """Draw a day of scans for every phone.

        Args:
            rng: the day's ``"scans"`` stream.
            has_phone: who carries a phone.
            params: the scenario's scanning section.
            previous: yesterday's schedule, to continue each phone's rhythm across midnight;
                without it (or for a new phone) the first scan is uniform in [0, interval_max).
        """
        phones = np.flatnonzero(has_phone)
        row_of = np.full(len(has_phone), -1, dtype=np.int32)
        row_of[phones] = np.arange(len(phones), dtype=np.int32)
        low, high = params.interval_min_s, params.interval_max_s
        first = rng.uniform(0, high, len(phones))
        if previous is not None:
            row = previous.row_of[phones]
            carried = row >= 0
            first[carried] = previous.next_day_first_s[row[carried]]
        count = int(np.ceil(DAY_S / low)) + 1
        times = first[:, None] + np.concatenate(
            [
                np.zeros((len(phones), 1)),
                np.cumsum(rng.uniform(low, high, (len(phones), count - 1)), axis=1),
            ],
            axis=1,
        )
        inside = (times >= 0) & (times < DAY_S)
        per_phone = inside.sum(axis=1)
        offsets = np.zeros(len(phones) + 1, dtype=np.int64)
        np.cumsum(per_phone, out=offsets[1:])
        after = np.where(times >= DAY_S, times, np.inf).min(axis=1) - DAY_S
        return cls(row_of, np.floor(times[inside]).astype(np.int32), offsets, after)

    def last_scan_s(self) -> npt.NDArray[np.int32]:
        """Last scan of each row (-1 for a row without scans)."""
        ends = self.offsets[1:]
        has = ends > self.offsets[:-1]
        out = np.full(len(ends), -1, dtype=np.int32)
        out[has] = self.times_s[ends[has] - 1]
        return out

    def keys(self) -> npt.NDArray[np.int64]:
        """Sorted search keys ``row * 2**17 + time`` of every scan."""
        rows = np.repeat(np.arange(len(self.offsets) - 1, dtype=np.int64), np.diff(self.offsets))
        return rows * _ROW + self.times_s


@dataclass(frozen=True, slots=True, eq=False)
class ScanSightings:
    """Scans in which `receiver` could hear `sender`: one row per (scan, neighbour)."""

    receiver: npt.NDArray[np.int32]
    sender: npt.NDArray[np.int32]
    episode: npt.NDArray[np.int64]  # index into the day's `DayContacts`
    scan_s: npt.NDArray[np.int32]  # scan start, seconds after midnight
    previous_scan_s: npt.NDArray[np.int32]  # the receiver's previous scan (-1 if none that day)

    def __len__(self) -> int:
        return len(self.receiver)


def scan_sightings(contacts: DayContacts, schedule: ScanSchedule) -> ScanSightings:
    """Expand episodes into the scans that hear them, in both directions.

    Only episodes where both people carry a phone (a row in `schedule`) produce sightings: the
    sender must advertise and the receiver scan.
    """
    keys = schedule.keys()
    parts = []
    for receiver, sender in ((contacts.b, contacts.a), (contacts.a, contacts.b)):
        row = schedule.row_of[receiver].astype(np.int64)
        both = np.flatnonzero((row >= 0) & (schedule.row_of[sender] >= 0))
        base = row[both] * _ROW
        first = np.searchsorted(keys, base + contacts.start_s[both], side="left")
        last = np.searchsorted(keys, base + contacts.end_s[both], side="left")
        count = last - first
        episode = np.repeat(both, count)
        position = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        scan_s = (keys[position] - np.repeat(base, count)).astype(np.int32)
        row_start = schedule.offsets[row[episode]]
        previous = np.where(position > row_start, keys[np.maximum(position - 1, 0)] % _ROW, -1)
        parts.append(
            (receiver[episode], sender[episode], episode, scan_s, previous.astype(np.int32))
        )
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return ScanSightings(
        columns[0].astype(np.int32),
        columns[1].astype(np.int32),
        columns[2].astype(np.int64),
        columns[3],
        columns[4],
    )
