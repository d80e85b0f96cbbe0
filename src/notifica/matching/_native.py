"""The native backend: the C kernel `notifica.matching._native_kernel` behind `MatchBackend`.

The kernel derives with AES-NI and SHA-NI where the CPU has them (portable C otherwise) and
releases the GIL in its loops. This wrapper cuts work into chunks of `CHUNK_KEYS` keys, so
temporary memory stays bounded and `threads > 1` can spread chunks over cores, and turns the
kernel's (key, interval, observation) triples into `Match` values.

Directions of `match`: ``"index"`` (the default) builds, once per `DerivedIdentifiers`, a
sorted prefix index over all its identifiers (4 bytes per identifier plus a bucket table) and
looks each sighting up in it, so every later phone costs in proportion to its own sightings;
``"scan"`` indexes the phone's sightings instead and streams the identifiers through it.
"""

from __future__ import annotations

import importlib
from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar, cast

from notifica.matching._python import Direction, check_derive_input, check_match_input
from notifica.matching._types import KEY_RPIS_BYTES, DerivedIdentifiers, Match, Observations
from notifica.matching.errors import BackendUnavailable
from notifica.protocol import KEY_LENGTH, DiagnosisKeyBatch

__all__ = ["CHUNK_KEYS", "Kernel", "NativeBackend", "kernel_import_error", "load_kernel"]

CHUNK_KEYS = 65536
"""Keys per kernel call: 151 MB of identifiers, large enough to amortise the call."""

_INDEX_NAME = "native-prefix"
_KERNEL_MODULE = "notifica.matching._native_kernel"
_T = TypeVar("_T")
_Buffer = bytes | bytearray | memoryview | array  # type: ignore[type-arg]
"""What the kernel accepts: any C-contiguous buffer (checked by the kernel itself)."""


class Kernel(Protocol):
    """The functions of `notifica.matching._native_kernel` (see its kernel.c header)."""

    def cpu_features(self) -> dict[str, bool]: ...

    def derive_rpiks(self, key_data: _Buffer, *, accelerated: bool = True) -> bytes: ...

    def derive_rpis(
        self, key_data: _Buffer, rsins: _Buffer, out: _Buffer, *, accelerated: bool = True
    ) -> None: ...

    def build_index(self, records: _Buffer) -> object: ...

    def index_nbytes(self, index: object) -> int: ...

    def match_indexed(
        self,
        records: _Buffer,
        index: object,
        rsins: _Buffer,
        periods: _Buffer,
        obs_rpis: _Buffer,
        obs_intervals: _Buffer,
    ) -> bytes: ...

    def match_scan(
        self,
        records: _Buffer,
        rsins: _Buffer,
        periods: _Buffer,
        obs_rpis: _Buffer,
        obs_intervals: _Buffer,
    ) -> bytes: ...

    def match_keys(
        self,
        key_data: _Buffer,
        rsins: _Buffer,
        periods: _Buffer,
        obs_rpis: _Buffer,
        obs_intervals: _Buffer,
        *,
        accelerated: bool = True,
    ) -> bytes: ...


def load_kernel() -> Kernel | None:
    """The compiled kernel module, or None when it was not built or does not load."""
    try:
        module = importlib.import_module(_KERNEL_MODULE)
    except ImportError:
        return None
    return cast(Kernel, module)


def kernel_import_error() -> str | None:
    """Why the kernel does not load, or None if it does."""
    try:
        importlib.import_module(_KERNEL_MODULE)
    except ImportError as exc:
        return str(exc)
    return None


class NativeBackend:
    """Derivation and matching in the C kernel.

    Args:
        accelerated: use AES-NI / SHA-NI when the CPU has them; False forces the portable C
            code (for tests and comparisons).
        threads: how many chunks run at once (the kernel releases the GIL).
        chunk_keys: keys per kernel call when deriving (bounds temporary work per call).

    Raises:
        BackendUnavailable: if the kernel was not built or does not load.
    """

    def __init__(
        self, *, accelerated: bool = True, threads: int = 1, chunk_keys: int = CHUNK_KEYS
    ) -> None:
        kernel = load_kernel()
        if kernel is None:
            raise BackendUnavailable(f"the native kernel does not load: {kernel_import_error()}")
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if chunk_keys < 1:
            raise ValueError(f"chunk_keys must be at least 1, got {chunk_keys}")
        self.chunk_keys = chunk_keys
        self._kernel = kernel
        self._accelerated = accelerated
        self.threads = threads
        self.name = "native" if accelerated else "native-portable"

    def derive(self, batch: DiagnosisKeyBatch) -> DerivedIdentifiers:
        """All 144 RPIs of every key of `batch`, from its rolling start (protocol.md §11.1).

        Raises:
            TypeError: if `batch` is not a `DiagnosisKeyBatch`.
            ValueError: if it holds more than `MAX_DERIVED_KEYS` keys.
        """
        check_derive_input(batch)
        buffer = bytearray(len(batch) * KEY_RPIS_BYTES)
        keys, starts = memoryview(batch.key_data), memoryview(batch.rolling_start_interval_numbers)
        out = memoryview(buffer)

        def derive_chunk(bounds: tuple[int, int]) -> None:
            a, b = bounds
            self._kernel.derive_rpis(
                keys[a * KEY_LENGTH : b * KEY_LENGTH],
                starts[a:b],
                out[a * KEY_RPIS_BYTES : b * KEY_RPIS_BYTES],
                accelerated=self._accelerated,
            )

        self._run(derive_chunk, _chunks(len(batch), self.chunk_keys))
        return DerivedIdentifiers(batch, buffer)

    def match(
        self,
        derived: DerivedIdentifiers,
        observations: Observations,
        *,
        direction: Direction = "auto",
    ) -> list[Match]:
        """The valid matches between shared identifiers and one phone's sightings, sorted.

        ``"auto"`` and ``"index"`` use the prefix index over `derived` (built by the first
        call, then shared); ``"scan"`` streams `derived` through an index of the sightings.

        Raises:
            TypeError: for arguments of the wrong type.
            ValueError: for an unknown direction.
        """
        check_match_input(derived, observations)
        if direction not in ("auto", "index", "scan"):
            raise ValueError(f"direction must be 'auto', 'index' or 'scan', got {direction!r}")
        if not len(derived) or not len(observations):
            return []
        batch = derived.batch
        starts, periods = batch.rolling_start_interval_numbers, batch.rolling_periods
        if direction == "scan":
            triples = self._kernel.match_scan(
                derived.buffer, starts, periods, observations.rpis, observations.intervals
            )
        else:
            index = derived.index(_INDEX_NAME, self._kernel.build_index)
            triples = self._kernel.match_indexed(
                derived.buffer, index, starts, periods, observations.rpis, observations.intervals
            )
        return _to_matches(triples, 0)

    def match_batch(self, batch: DiagnosisKeyBatch, observations: Observations) -> list[Match]:
        """Derive and match in one pass (constant memory), sorted.

        The path for one phone and keys it will not share: no identifier table is kept.

        Raises:
            TypeError: for arguments of the wrong type.
        """
        check_derive_input(batch)
        if not isinstance(observations, Observations):
            raise TypeError(f"observations must be Observations, got {type(observations).__name__}")
        if not len(batch) or not len(observations):
            return []
        keys = memoryview(batch.key_data)
        starts = memoryview(batch.rolling_start_interval_numbers)
        periods = memoryview(batch.rolling_periods)

        def match_chunk(bounds: tuple[int, int]) -> list[Match]:
            a, b = bounds
            triples = self._kernel.match_keys(
                keys[a * KEY_LENGTH : b * KEY_LENGTH],
                starts[a:b],
                periods[a:b],
                observations.rpis,
                observations.intervals,
                accelerated=self._accelerated,
            )
            return _to_matches(triples, a)

        # The kernel streams in constant memory; with threads, one call per thread (each
        # builds its own index of the sightings), and never more keys per call than chunking
        # asks for.
        per_call = min(-(-len(batch) // self.threads), self.chunk_keys * 16)
        parts = self._run(match_chunk, _chunks(len(batch), per_call))
        return [m for part in parts for m in part]

    def _run(
        self, work: Callable[[tuple[int, int]], _T], chunks: Sequence[tuple[int, int]]
    ) -> list[_T]:
        if self.threads == 1 or len(chunks) <= 1:
            return [work(c) for c in chunks]
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            return list(pool.map(work, chunks))


def _chunks(count: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, count)) for a in range(0, count, size)]


def _to_matches(triples: bytes, key_offset: int) -> list[Match]:
    t = array("I", triples)
    return [Match(t[i] + key_offset, t[i + 1], t[i + 2]) for i in range(0, len(t), 3)]
