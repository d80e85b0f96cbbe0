"""Ground truth: which pairs had a risky contact on a day (sim §5.1).

A pair's contact on a day is *risky* when their episodes within ``max_distance`` add up to at
least ``min_duration`` (ECDC/CDC: within 2 m for 15 minutes or more in a day; both settable in
``[ground_truth]``). Distances are person-to-person, from the true contacts, never from radio.

Each pair-day is labelled with one setting: the one that contributed most close time, or (for a
pair never close) most time at all — so that a false alarm can be blamed on a place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from notifica.sim.contacts import DayContacts, Setting

__all__ = ["PairDays", "pair_days"]

_SETTINGS = len(Setting)


@dataclass(frozen=True, slots=True, eq=False)
class PairDays:
    """One row per unordered pair (``a < b``) in contact on `day`."""

    day: int
    a: npt.NDArray[np.int32]
    b: npt.NDArray[np.int32]
    close_s: npt.NDArray[np.int64]  # time within max_distance
    total_s: npt.NDArray[np.int64]  # all time in range of each other
    setting: npt.NDArray[np.int8]  # dominant setting
    risky: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.a)

    def select(self, which: npt.NDArray[np.bool_] | npt.NDArray[np.integer]) -> PairDays:
        """The rows picked by a mask or index array."""
        return PairDays(
            self.day,
            self.a[which],
            self.b[which],
            self.close_s[which],
            self.total_s[which],
            self.setting[which],
            self.risky[which],
        )


def pair_days(contacts: DayContacts, *, max_distance_m: float, min_duration_s: float) -> PairDays:
    """Aggregate a day's episodes per pair and label the risky ones.

    Raises:
        ValueError: a non-positive threshold.
    """
    if max_distance_m <= 0 or min_duration_s <= 0:
        raise ValueError("ground-truth thresholds must be positive")
    low = np.minimum(contacts.a, contacts.b).astype(np.int64)
    high = np.maximum(contacts.a, contacts.b).astype(np.int64)
    span = int(high.max()) + 1 if len(high) else 1
    keys, inverse = np.unique(low * span + high, return_inverse=True)
    duration = contacts.duration_s.astype(np.int64)
    close = np.where(contacts.distance_m <= max_distance_m, duration, 0)
    n = len(keys)
    close_s = np.bincount(inverse, weights=close, minlength=n).astype(np.int64)
    total_s = np.bincount(inverse, weights=duration, minlength=n).astype(np.int64)
    cell = inverse * _SETTINGS + contacts.setting.astype(np.int64)
    close_by = np.bincount(cell, weights=close, minlength=n * _SETTINGS).reshape(n, _SETTINGS)
    total_by = np.bincount(cell, weights=duration, minlength=n * _SETTINGS).reshape(n, _SETTINGS)
    setting = np.where(close_s > 0, close_by.argmax(axis=1), total_by.argmax(axis=1)).astype(
        np.int8
    )
    return PairDays(
        contacts.day,
        (keys // span).astype(np.int32),
        (keys % span).astype(np.int32),
        close_s,
        total_s,
        setting,
        close_s >= min_duration_s,
    )
