"""The pure-Python backend: the reference semantics, and the fallback where the kernel is absent.

It is as fast as CPython allows (protocol.md §15.3):

- HKDF as two `hmac.digest` calls (the C fast path of the standard library);
- one AES-ECB call per key over a prebuilt 2,304-byte PaddedData buffer, cached per rolling
  start (published keys share a handful of them);
- look-ups on the first 8 bytes of each RPI read as integers (`array('Q')`), whose hashes
  cost nothing, confirmed on all 16 bytes; a key whose 144 prefixes miss the phone's set
  (`isdisjoint`, one C call) costs no Python-level loop at all.

Memory stays bounded: `match_batch` holds one key's identifiers at a time; an index over
derived identifiers is built only up to `PURE_INDEX_MAX_RPIS` identifiers.
"""

from __future__ import annotations

import hmac
from array import array
from collections.abc import Iterator
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from notifica.matching._types import (
    CLOCK_DRIFT_INTERVALS,
    KEY_RPIS_BYTES,
    MAX_DERIVED_KEYS,
    RPIS_PER_KEY,
    DerivedIdentifiers,
    Match,
    Observations,
)
from notifica.protocol import KEY_LENGTH, RPI_LENGTH, DiagnosisKeyBatch

__all__ = ["PURE_INDEX_MAX_RPIS", "Direction", "PythonBackend", "check_derive_input"]

Direction = Literal["auto", "index", "scan"]

PURE_INDEX_MAX_RPIS = 2**22
"""Largest derived table (≈ 29,000 keys) the pure backend indexes in a dict: about 150 bytes
per identifier, so ≈ 600 MB at this size. Larger tables are scanned instead."""

_HKDF_SALT = bytes(32)  # NULL salt = 32 zero bytes (protocol.md §4)
_RPIK_EXPAND = b"EN-RPIK\x01"  # info || 0x01: the single HKDF expand block (protocol.md §4)
_RPI_PREFIX = b"EN-RPI" + bytes(6)  # PaddedData bytes 0–11 (protocol.md §5)
_PLAINTEXT_CACHE_SIZE = 4096
_ECB = modes.ECB()  # noqa: S305 - GAEN defines RPIs as single AES blocks (protocol.md §5)
_INDEX_NAME = "python-dict"


def check_derive_input(batch: DiagnosisKeyBatch) -> None:
    """Raise the documented errors for a batch that cannot be derived as one table."""
    if not isinstance(batch, DiagnosisKeyBatch):
        raise TypeError(f"batch must be a DiagnosisKeyBatch, got {type(batch).__name__}")
    if len(batch) > MAX_DERIVED_KEYS:
        raise ValueError(
            f"{len(batch)} keys exceed one derived table ({MAX_DERIVED_KEYS}); split the batch"
        )


def check_match_input(derived: DerivedIdentifiers, observations: Observations) -> None:
    if not isinstance(derived, DerivedIdentifiers):
        raise TypeError(f"derived must be DerivedIdentifiers, got {type(derived).__name__}")
    _check_observations(observations)


def _check_observations(observations: Observations) -> None:
    if not isinstance(observations, Observations):
        raise TypeError(f"observations must be Observations, got {type(observations).__name__}")


class _Plaintexts:
    """PaddedData for intervals rsin … rsin + 143, built once per rolling start."""

    def __init__(self) -> None:
        self._cache: dict[int, bytes] = {}

    def __call__(self, rsin: int) -> bytes:
        found = self._cache.get(rsin)
        if found is None:
            if len(self._cache) >= _PLAINTEXT_CACHE_SIZE:
                self._cache.clear()
            found = self._cache[rsin] = b"".join(
                _RPI_PREFIX + (rsin + j).to_bytes(4, "little") for j in range(RPIS_PER_KEY)
            )
        return found


def _derive_keys(batch: DiagnosisKeyBatch) -> Iterator[bytes]:
    """The 2,304 identifier bytes of each key of `batch`, in order."""
    plaintext = _Plaintexts()
    key_data, aes, digest = batch.key_data, algorithms.AES, hmac.digest
    for k, rsin in enumerate(batch.rolling_start_interval_numbers):
        tek = key_data[k * KEY_LENGTH : (k + 1) * KEY_LENGTH]
        rpik = digest(digest(_HKDF_SALT, tek, "sha256"), _RPIK_EXPAND, "sha256")[:KEY_LENGTH]
        yield Cipher(aes(rpik), _ECB).encryptor().update(plaintext(rsin))


class _ObservationTable:
    """A phone's sightings keyed by the first 8 bytes of their RPI (native byte order)."""

    def __init__(self, observations: Observations) -> None:
        self.rpis = observations.rpis
        self.intervals = observations.intervals
        self.by_prefix: dict[int, list[int]] = {}
        for o, prefix in enumerate(array("Q", observations.rpis)[::2]):
            self.by_prefix.setdefault(prefix, []).append(o)

    def check_key(self, k: int, rsin: int, period: int, rpis: bytes, out: list[Match]) -> None:
        """Append the valid matches of key `k`, whose 144 identifiers are `rpis`."""
        prefixes = array("Q", rpis)[::2]
        if self.by_prefix.keys().isdisjoint(prefixes):
            return
        for j, prefix in enumerate(prefixes[:period]):
            for o in self.by_prefix.get(prefix, ()):
                if _is_valid(rsin + j, self.intervals[o]) and self.rpi(o) == _rpi(rpis, j):
                    out.append(Match(k, rsin + j, o))

    def rpi(self, o: int) -> bytes:
        return self.rpis[o * RPI_LENGTH : (o + 1) * RPI_LENGTH]


def _rpi(rpis: bytes | bytearray, j: int) -> bytes:
    return bytes(rpis[j * RPI_LENGTH : (j + 1) * RPI_LENGTH])


def _is_valid(interval: int, seen: int) -> bool:
    """A sighting at `seen` of the RPI of `interval` counts if seen ∈ [i − 12, i + 13)."""
    return interval - CLOCK_DRIFT_INTERVALS <= seen < interval + CLOCK_DRIFT_INTERVALS + 1


_DerivedIndex = tuple[dict[int, int], dict[int, list[int]]]


def _build_index(buffer: bytes | bytearray) -> _DerivedIndex:
    """Prefix → position of every identifier; repeated prefixes (a key published twice)
    keep their other positions in a second dict."""
    prefixes = array("Q", buffer)[::2]
    first = dict(zip(prefixes, range(len(prefixes)), strict=True))
    more: dict[int, list[int]] = {}
    if len(first) != len(prefixes):
        for position, prefix in enumerate(prefixes):
            if first[prefix] != position:
                more.setdefault(prefix, []).append(position)
    return first, more


class PythonBackend:
    """Derivation and matching in pure Python (with `cryptography` for AES)."""

    name = "python"

    def derive(self, batch: DiagnosisKeyBatch) -> DerivedIdentifiers:
        """All 144 RPIs of every key of `batch`, from its rolling start (protocol.md §11.1).

        Raises:
            TypeError: if `batch` is not a `DiagnosisKeyBatch`.
            ValueError: if it holds more than `MAX_DERIVED_KEYS` keys.
        """
        check_derive_input(batch)
        return DerivedIdentifiers(batch, b"".join(_derive_keys(batch)))

    def match(
        self,
        derived: DerivedIdentifiers,
        observations: Observations,
        *,
        direction: Direction = "auto",
    ) -> list[Match]:
        """The valid matches between shared identifiers and one phone's sightings, sorted.

        ``direction="index"`` looks each sighting up in a dict over the derived identifiers
        (built by the first phone, reused by the others); ``"scan"`` streams the identifiers
        through a dict of the sightings. ``"auto"`` indexes tables of up to
        `PURE_INDEX_MAX_RPIS` identifiers and scans larger ones.

        Raises:
            TypeError: for arguments of the wrong type.
            ValueError: for an unknown direction.
        """
        check_match_input(derived, observations)
        if not len(derived) or not len(observations):
            return []
        if direction == "auto":
            small = len(derived) * RPIS_PER_KEY <= PURE_INDEX_MAX_RPIS
            direction = "index" if small or derived.has_index(_INDEX_NAME) else "scan"
        if direction == "index":
            return self._match_indexed(derived, observations)
        if direction == "scan":
            return self._match_scan(derived, observations)
        raise ValueError(f"direction must be 'auto', 'index' or 'scan', got {direction!r}")

    def match_batch(self, batch: DiagnosisKeyBatch, observations: Observations) -> list[Match]:
        """Derive and match in one pass, one key at a time (constant memory), sorted.

        The path for one phone and keys it will not share.

        Raises:
            TypeError: for arguments of the wrong type.
        """
        check_derive_input(batch)
        _check_observations(observations)
        if not len(batch) or not len(observations):
            return []
        table = _ObservationTable(observations)
        found: list[Match] = []
        starts, periods = batch.rolling_start_interval_numbers, batch.rolling_periods
        for k, rpis in enumerate(_derive_keys(batch)):
            table.check_key(k, starts[k], periods[k], rpis, found)
        found.sort()
        return found

    def _match_scan(self, derived: DerivedIdentifiers, observations: Observations) -> list[Match]:
        table = _ObservationTable(observations)
        buffer, found = derived.buffer, list[Match]()
        starts = derived.batch.rolling_start_interval_numbers
        periods = derived.batch.rolling_periods
        for k in range(len(derived)):
            rpis = bytes(buffer[k * KEY_RPIS_BYTES : (k + 1) * KEY_RPIS_BYTES])
            table.check_key(k, starts[k], periods[k], rpis, found)
        found.sort()
        return found

    def _match_indexed(
        self, derived: DerivedIdentifiers, observations: Observations
    ) -> list[Match]:
        first, more = derived.index(_INDEX_NAME, _build_index)
        buffer, found = derived.buffer, list[Match]()
        starts = derived.batch.rolling_start_interval_numbers
        periods = derived.batch.rolling_periods
        rpis, intervals = observations.rpis, observations.intervals
        for o, prefix in enumerate(array("Q", rpis)[::2]):
            position = first.get(prefix)
            if position is None:
                continue
            rpi = rpis[o * RPI_LENGTH : (o + 1) * RPI_LENGTH]
            for p in (position, *more.get(prefix, ())):
                k, j = divmod(p, RPIS_PER_KEY)
                interval = starts[k] + j
                if j < periods[k] and _is_valid(interval, intervals[o]) and _rpi(buffer, p) == rpi:
                    found.append(Match(k, interval, o))
        found.sort()
        return found
