"""The values matching passes around: observations, derived identifiers, matches.

Everything is columnar (protocol.md §15.3): a phone's N sightings are N × 16 bytes plus an
array of intervals, the identifiers of K keys are one K × 2,304-byte buffer. Objects are built
only for the few matches.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar, cast

from notifica.protocol import (
    RPI_LENGTH,
    TEK_ROLLING_PERIOD,
    DiagnosisKeyBatch,
    TemporaryExposureKey,
    interval_number,
)

__all__ = [
    "CLOCK_DRIFT_INTERVALS",
    "MAX_DERIVED_KEYS",
    "RPIS_PER_KEY",
    "DerivedIdentifiers",
    "Match",
    "MatchedKey",
    "Observations",
]

RPIS_PER_KEY = TEK_ROLLING_PERIOD
"""RPIs derived per key: all 144 from the rolling start, as GMS does (protocol.md §11.1)."""

KEY_RPIS_BYTES = RPIS_PER_KEY * RPI_LENGTH
"""2,304 bytes: one key's identifiers."""

CLOCK_DRIFT_INTERVALS = 12
"""±2 h: the RPI of interval j matches sightings in [j − 12, j + 13) (protocol.md §11.2,
``tkMatchingClockDriftRollingPeriods() = 12`` in INT ``RollingProximityIdValidator``)."""

MAX_DERIVED_KEYS = (2**32 - 1) // RPIS_PER_KEY
"""Keys in one `DerivedIdentifiers`: identifier positions are uint32 in the native index."""

_Index = TypeVar("_Index")


@dataclass(frozen=True, slots=True, eq=False)
class Observations:
    """A phone's sightings as columns: ``rpis`` is N × 16 bytes, ``intervals`` N uint32 ENINs.

    One row per sighting (a phone sees the same RPI many times); the observation index of a
    `Match` is the row number here, so the caller can find the sighting's own record.
    """

    rpis: bytes
    intervals: array[int]

    def __post_init__(self) -> None:
        if not isinstance(self.rpis, bytes):
            raise TypeError(f"rpis must be bytes, got {type(self.rpis).__name__}")
        count, rest = divmod(len(self.rpis), RPI_LENGTH)
        if rest:
            raise ValueError(f"rpis must be a multiple of {RPI_LENGTH} bytes, got {len(self.rpis)}")
        if not isinstance(self.intervals, array) or self.intervals.typecode != "I":
            raise TypeError("intervals must be an array('I') of ENIntervalNumbers")
        if self.intervals.itemsize != 4:  # pragma: no cover - 'I' is 4 bytes on every platform
            raise TypeError("array('I') must have 4-byte items on this platform")
        if len(self.intervals) != count:
            raise ValueError(f"intervals has {len(self.intervals)} entries for {count} RPIs")

    @classmethod
    def from_sightings(cls, sightings: Iterable[tuple[bytes, int]]) -> Observations:
        """Columns from (rpi, interval) pairs.

        Raises:
            ValueError: for an RPI that is not 16 bytes or an interval outside uint32.
        """
        rpis: list[bytes] = []
        intervals = array("I")
        for n, (rpi, interval) in enumerate(sightings):
            if len(rpi) != RPI_LENGTH:
                raise ValueError(f"sighting {n}: rpi must be {RPI_LENGTH} bytes, got {len(rpi)}")
            try:
                intervals.append(interval)
            except OverflowError as exc:
                raise ValueError(f"sighting {n}: interval {interval} is outside uint32") from exc
            rpis.append(bytes(rpi))
        return cls(rpis=b"".join(rpis), intervals=intervals)

    @classmethod
    def from_unix_s(cls, rpis: bytes, unix_s: Iterable[float]) -> Observations:
        """Columns from the RPI bytes and the Unix time of each sighting.

        Raises:
            ValueError: for a time outside the ENIntervalNumber range or a count mismatch.
        """
        return cls(rpis=rpis, intervals=array("I", (interval_number(t) for t in unix_s)))

    def __len__(self) -> int:
        return len(self.intervals)

    def rpi_at(self, index: int) -> bytes:
        """The 16 bytes of sighting `index`."""
        if not 0 <= index < len(self):
            raise IndexError(f"observation index {index} out of range for {len(self)} sightings")
        return self.rpis[index * RPI_LENGTH : (index + 1) * RPI_LENGTH]


@dataclass(frozen=True, slots=True, order=True)
class Match:
    """Key `key_index` broadcast the RPI of `interval` that sighting `observation_index` saw,
    within GAEN's validity rules (protocol.md §11)."""

    key_index: int
    interval: int
    observation_index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchedKey:
    """A diagnosis key some of a phone's sightings match.

    ``file_index`` and ``key_index`` locate the key (the file in the sequence given to
    `match_exports`, the key within that file's batch); ``matches`` are its valid sightings,
    sorted by interval then observation.
    """

    file_index: int
    key_index: int
    key: TemporaryExposureKey
    matches: tuple[Match, ...]

    @property
    def observation_indices(self) -> tuple[int, ...]:
        """Rows of `Observations` that saw this key, in order."""
        return tuple(m.observation_index for m in self.matches)


class DerivedIdentifiers:
    """The 144 RPIs of every key of a batch, derived once and shared by many phones.

    ``rpis`` is K × 2,304 bytes: key k's RPI for interval ``rsin_k + j`` sits at
    ``(k × 144 + j) × 16``. Backends attach their look-up index to it lazily (built by the
    first match that wants it, under a lock, then reused by every later phone), so matching a
    phone against shared identifiers costs in proportion to that phone's sightings.
    """

    __slots__ = ("_buffer", "_indexes", "_lock", "batch")

    def __init__(self, batch: DiagnosisKeyBatch, buffer: bytes | bytearray) -> None:
        if len(buffer) != len(batch) * KEY_RPIS_BYTES:
            raise ValueError(
                f"identifier buffer holds {len(buffer)} bytes for {len(batch)} keys "
                f"({KEY_RPIS_BYTES} bytes each expected)"
            )
        self.batch = batch
        self._buffer = buffer
        self._indexes: dict[str, object] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.batch)

    def __repr__(self) -> str:
        return f"DerivedIdentifiers({len(self)} keys, indexes={sorted(self._indexes)})"

    @property
    def rpis(self) -> memoryview:
        """All identifiers, read-only: K × 144 × 16 bytes."""
        return memoryview(self._buffer).toreadonly()

    def rpis_of(self, key_index: int) -> bytes:
        """The 2,304 bytes of key `key_index`'s 144 RPIs."""
        if not 0 <= key_index < len(self):
            raise IndexError(f"key index {key_index} out of range for {len(self)} keys")
        start = key_index * KEY_RPIS_BYTES
        return bytes(self._buffer[start : start + KEY_RPIS_BYTES])

    def index(self, name: str, build: Callable[[bytes | bytearray], _Index]) -> _Index:
        """The look-up index `name`, built once by `build(buffer)` (thread-safe).

        Each backend keeps its own kind of index under its own name.
        """
        with self._lock:
            found = self._indexes.get(name)
            if found is None:
                found = self._indexes[name] = build(self._buffer)
            return cast(_Index, found)

    def has_index(self, name: str) -> bool:
        """Whether index `name` has already been built."""
        return name in self._indexes

    @property
    def buffer(self) -> bytes | bytearray:
        """The identifier buffer itself, for backends (do not modify it)."""
        return self._buffer
