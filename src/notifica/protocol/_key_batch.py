"""Many diagnosis keys as columns: what hot paths (matching, publishing) pass around.

Building one Python object per key dominates the cost of handling 10⁵–10⁶ keys (protocol.md
§15.3, §16.1), so batches keep the key bytes in one contiguous buffer and the intervals in
arrays. Convert to `TemporaryExposureKey` objects only for the few keys that need it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from notifica.protocol._intervals import TEK_ROLLING_PERIOD
from notifica.protocol._keys import KEY_LENGTH, TemporaryExposureKey

__all__ = ["DiagnosisKeyBatch"]

_MAX_INT32 = 2**31 - 1


@dataclass(frozen=True, slots=True, eq=False)
class DiagnosisKeyBatch:
    """N keys: ``key_data`` is N × 16 bytes; the arrays hold N signed 32-bit integers.

    Only what derivation and matching need is here; `keys` (optional) keeps the full
    `TemporaryExposureKey` objects when the batch was built from them.
    """

    key_data: bytes
    rolling_start_interval_numbers: array[int]
    rolling_periods: array[int]
    keys: tuple[TemporaryExposureKey, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.key_data, bytes):
            raise TypeError(f"key_data must be bytes, got {type(self.key_data).__name__}")
        count, rest = divmod(len(self.key_data), KEY_LENGTH)
        if rest:
            raise ValueError(f"key_data must be a multiple of {KEY_LENGTH} bytes")
        for name in ("rolling_start_interval_numbers", "rolling_periods"):
            column = getattr(self, name)
            if not isinstance(column, array) or column.typecode != "i":
                raise TypeError(f"{name} must be an array('i')")
            if len(column) != count:
                raise ValueError(f"{name} has {len(column)} entries for {count} keys")
        if count and not (
            min(self.rolling_periods) >= 1 and max(self.rolling_periods) <= TEK_ROLLING_PERIOD
        ):
            raise ValueError("every rolling period must be in 1..144")
        if count and min(self.rolling_start_interval_numbers) < 0:
            raise ValueError("rolling start interval numbers must be non-negative")
        if self.keys is not None and len(self.keys) != count:
            raise ValueError(f"keys has {len(self.keys)} entries for {count} keys")

    @classmethod
    def from_keys(cls, keys: Iterable[TemporaryExposureKey]) -> DiagnosisKeyBatch:
        """Columns of the given keys, keeping the objects for later lookup."""
        kept = tuple(keys)
        return cls(
            key_data=b"".join(k.key_data for k in kept),
            rolling_start_interval_numbers=array(
                "i", (k.rolling_start_interval_number for k in kept)
            ),
            rolling_periods=array("i", (k.rolling_period for k in kept)),
            keys=kept,
        )

    @classmethod
    def concatenate(cls, batches: Iterable[DiagnosisKeyBatch]) -> DiagnosisKeyBatch:
        """One batch holding the keys of all `batches`, in order."""
        parts = list(batches)
        key_objects: tuple[TemporaryExposureKey, ...] | None = ()
        for part in parts:
            if part.keys is None or key_objects is None:
                key_objects = None
            else:
                key_objects += part.keys
        starts, periods = array("i"), array("i")
        for part in parts:
            starts.extend(part.rolling_start_interval_numbers)
            periods.extend(part.rolling_periods)
        return cls(
            key_data=b"".join(p.key_data for p in parts),
            rolling_start_interval_numbers=starts,
            rolling_periods=periods,
            keys=key_objects,
        )

    def __len__(self) -> int:
        return len(self.key_data) // KEY_LENGTH

    def key_data_at(self, index: int) -> bytes:
        """The 16 key bytes of key `index`."""
        if not 0 <= index < len(self):
            raise IndexError(f"key index {index} out of range for {len(self)} keys")
        return self.key_data[index * KEY_LENGTH : (index + 1) * KEY_LENGTH]

    def __iter__(self) -> Iterator[tuple[bytes, int, int]]:
        """(key_data, rolling_start_interval_number, rolling_period) per key."""
        for i in range(len(self)):
            yield (
                self.key_data[i * KEY_LENGTH : (i + 1) * KEY_LENGTH],
                self.rolling_start_interval_numbers[i],
                self.rolling_periods[i],
            )
