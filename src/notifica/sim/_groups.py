"""Groups of people (households, classes, vehicles...) as flat arrays, and all pairs in them.

A `Groups` holds members grouped contiguously plus offsets, never one object per group: the
simulator handles hundreds of thousands of groups per day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Groups", "pairs_within"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Groups:
    """Members of each group, contiguous: group g is ``members[offsets[g]:offsets[g + 1]]``."""

    members: npt.NDArray[np.int32]
    offsets: IntArray

    def __post_init__(self) -> None:
        if self.offsets.ndim != 1 or len(self.offsets) == 0 or self.offsets[0] != 0:
            raise ValueError("offsets must start at 0")
        if self.offsets[-1] != len(self.members):
            raise ValueError("offsets must end at len(members)")

    @classmethod
    def from_labels(cls, labels: npt.NDArray[np.integer], n_groups: int | None = None) -> Groups:
        """Group people by label (person i belongs to group ``labels[i]``; -1 = none)."""
        count = int(labels.max()) + 1 if n_groups is None and len(labels) else (n_groups or 0)
        inside = np.flatnonzero(labels >= 0)
        order = inside[np.argsort(labels[inside], kind="stable")]
        sizes = np.bincount(labels[inside], minlength=count)
        offsets = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return cls(order.astype(np.int32), offsets)

    @classmethod
    def from_sizes(cls, members: npt.NDArray[np.integer], sizes: npt.NDArray[np.integer]) -> Groups:
        """Cut `members` into consecutive groups of the given sizes."""
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return cls(np.asarray(members, dtype=np.int32), offsets)

    @property
    def sizes(self) -> IntArray:
        """Members per group."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def labels(self, n_people: int) -> npt.NDArray[np.int32]:
        """Group of each person (-1 for people in no group)."""
        out = np.full(n_people, -1, dtype=np.int32)
        out[self.members] = np.repeat(np.arange(len(self), dtype=np.int32), self.sizes)
        return out


def pairs_within(offsets: IntArray) -> tuple[IntArray, IntArray]:
    """Every unordered pair of positions in the same group.

    Args:
        offsets: group boundaries in a flat array (as `Groups.offsets`).

    Returns:
        Two arrays ``(i, j)`` of flat positions with ``i < j`` and both in one group; groups are
        handled by size so that this is a few NumPy operations per distinct size.
    """
    sizes = np.diff(offsets)
    firsts: list[IntArray] = []
    seconds: list[IntArray] = []
    for size in np.unique(sizes[sizes >= 2]):
        starts = offsets[:-1][sizes == size]
        ti, tj = np.triu_indices(int(size), k=1)
        firsts.append((starts[:, None] + ti[None, :]).ravel())
        seconds.append((starts[:, None] + tj[None, :]).ravel())
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    return np.concatenate(firsts), np.concatenate(seconds)
