"""Matching whole export files against one phone's sightings in one call (issue 2 part 3)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter
from typing import Protocol

from notifica.matching._backend import MatchBackend, get_backend
from notifica.matching._types import MatchedKey, Observations
from notifica.protocol import DiagnosisKeyBatch, TemporaryExposureKey

__all__ = ["KeyBatchSource", "match_exports"]


class KeyBatchSource(Protocol):
    """Anything holding a batch of diagnosis keys, such as a parsed export file
    (``notifica.protocol.ExportFile``)."""

    @property
    def key_batch(self) -> DiagnosisKeyBatch: ...


def match_exports(
    files: Sequence[KeyBatchSource],
    observations: Observations,
    backend: MatchBackend | None = None,
) -> list[MatchedKey]:
    """The keys of `files` that `observations` saw, each with its valid sightings.

    Streams each file's keys through the backend's `match_batch` (no identifier table is
    kept, memory stays bounded), so it suits one phone. To match many phones against the same
    files, derive each batch once with `MatchBackend.derive` and call `MatchBackend.match`
    per phone.

    Args:
        files: parsed export files (or anything with a ``key_batch``), verified beforehand.
        observations: the phone's sightings.
        backend: defaults to `get_backend()`.

    Returns:
        One `MatchedKey` per matched key, ordered by file, then key.

    Raises:
        TypeError: for arguments of the wrong type.
    """
    chosen = get_backend() if backend is None else backend
    matched: list[MatchedKey] = []
    for file_index, file in enumerate(files):
        batch = file.key_batch
        for key_index, group in groupby(
            chosen.match_batch(batch, observations), key=attrgetter("key_index")
        ):
            matched.append(
                MatchedKey(
                    file_index=file_index,
                    key_index=key_index,
                    key=_key_at(batch, key_index),
                    matches=tuple(group),
                )
            )
    return matched


def _key_at(batch: DiagnosisKeyBatch, index: int) -> TemporaryExposureKey:
    if batch.keys is not None:
        return batch.keys[index]
    return TemporaryExposureKey(
        key_data=batch.key_data_at(index),
        rolling_start_interval_number=batch.rolling_start_interval_numbers[index],
        rolling_period=batch.rolling_periods[index],
    )
