"""Exposure detection: from downloaded batches to a risk assessment.

The steps (immuni-api.md §3.5, §9.2–§9.3; protocol.md §6.3, §10, §11):

1. Which batches: ``first = max(last_processed + 1, oldest)`` up to ``newest``, plus batches
   that failed earlier and are still listed, keeping only the last `MAX_BATCHES_PER_RUN`
   (iOS keeps 15). An index whose ``newest`` is below the last processed one is reported and
   nothing is downloaded.
2. Each batch is parsed, its signature verified against the configured public keys, and its
   identifiers derived, through a `DetectionCache`: content-addressed by the SHA-256 of the
   bytes, so a simulator that shares one cache among all its phones parses, verifies and
   derives each published batch once. A batch that is malformed, unsigned, signed by an
   unknown key or wrongly signed is never trusted: it is reported and retried next period.
3. Matching (`notifica.matching`) against the phone's sightings of the last 14 days.
4. Sightings of one RPI more than 20 minutes after its first are dropped (the replay guard,
   protocol.md §11 step 3). Each remaining sighting's AEM is decrypted with the key's AEMK;
   a TX power outside −50..+20 dBm drops the sighting (INT
   ``matchingTxPowerLower/UpperBound``, protocol.md §6.3); attenuation = TX power − calibrated
   RSSI, at least 0 (INT, protocol.md §10.1).
5. The configured `RiskRule` (Immuni's v1 rule by default) assesses the key exposures.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from notifica.matching import DerivedIdentifiers, MatchBackend, Observations, get_backend
from notifica.phone._sightings import SightingColumns
from notifica.protocol import (
    BluetoothMetadata,
    ExportFile,
    InvalidSignature,
    KeyExposure,
    MalformedPayload,
    ProtocolError,
    Sighting,
    TemporaryExposureKey,
    UnsupportedAlgorithm,
    decrypt_aem,
    derive_aemk,
    read_export,
    verify_export,
)

__all__ = [
    "MAX_BATCHES_PER_RUN",
    "DetectionCache",
    "MatchOutcome",
    "PreparedBatch",
    "batches_to_fetch",
    "key_exposures",
    "observations_of",
]

MAX_BATCHES_PER_RUN = 15
"""Batches downloaded per detection at most: iOS keeps the last 15 (Android 20)
(immuni-api.md §3.5, IOS ``ImmuniTemporaryExposureKeyProvider``)."""

TX_POWER_MIN_DBM, TX_POWER_MAX_DBM = -50, 20
"""Matches whose metadata TX power lies outside this range are dropped (protocol.md §6.3)."""

MAX_ATTENUATION_DB = 255

REPLAY_WINDOW_S = 2 * 600
"""Sightings of one RPI more than 2 × 10 min after its first sighting are dropped: an RPI heard
that long is being replayed (protocol.md §11 step 3, INT ``getValidSightingsForRpi``)."""

PublicKeys = Mapping[tuple[str, str], bytes]


@dataclass(frozen=True, slots=True, eq=False)
class PreparedBatch:
    """A verified batch with its identifiers derived, ready to match any phone's sightings."""

    digest: str
    file: ExportFile
    derived: DerivedIdentifiers


class DetectionCache:
    """Parse, verify and derive each distinct batch once, for one phone or many.

    Entries are keyed by the SHA-256 of the downloaded bytes and the set of trusted keys, so
    sharing the cache never lets one phone trust what another would not. Failures are cached
    too (a bad batch is not re-parsed by every phone). At most `max_entries` batches are
    kept, least recently used first out.
    """

    def __init__(self, backend: MatchBackend | None = None, *, max_entries: int = 64) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be ≥ 1")
        self.backend = backend if backend is not None else get_backend()
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, frozenset[tuple[str, str, bytes]]], object] = (
            OrderedDict()
        )
        self.prepared_count = 0

    def prepare(self, data: bytes, public_keys: PublicKeys) -> PreparedBatch:
        """The verified, derived batch of `data`.

        Raises:
            MalformedExport: if `data` is not a readable export file.
            InvalidSignature: if no configured key verifies it (or none is configured).
            UnsupportedAlgorithm: if it is signed with an algorithm not allowed.
        """
        digest = hashlib.sha256(data).hexdigest()
        keyset = frozenset((kid, version, pem) for (kid, version), pem in public_keys.items())
        cache_key = (digest, keyset)
        found = self._entries.get(cache_key)
        if found is None:
            found = self._build(digest, data, public_keys)
            self._entries[cache_key] = found
            if len(self._entries) > self._max:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(cache_key)
        if isinstance(found, ProtocolError):
            raise found
        assert isinstance(found, PreparedBatch)
        return found

    def _build(self, digest: str, data: bytes, public_keys: PublicKeys) -> object:
        try:
            file = read_export(data)
            if not public_keys:
                raise InvalidSignature("no public key is configured: the batch cannot be trusted")
            verify_export(file, public_keys)
        except (MalformedPayload, InvalidSignature, UnsupportedAlgorithm) as exc:
            return exc
        self.prepared_count += 1
        return PreparedBatch(digest=digest, file=file, derived=self.backend.derive(file.key_batch))


def batches_to_fetch(
    *, oldest: int, newest: int, last_processed: int | None, retry: Sequence[int]
) -> list[int]:
    """The indices to download this run, oldest first (step 1 of the module docstring).

    Never materialises more than `MAX_BATCHES_PER_RUN` new indices, whatever the server says.
    """
    first = oldest if last_processed is None else max(last_processed + 1, oldest)
    first = max(first, newest - MAX_BATCHES_PER_RUN + 1)
    wanted = set(range(first, newest + 1)) | {i for i in retry if oldest <= i <= newest}
    return sorted(wanted)[-MAX_BATCHES_PER_RUN:]


def observations_of(sightings: SightingColumns) -> Observations:
    """The matching view of stored sightings (RPIs and their ENIntervalNumbers)."""
    intervals = array("I")
    intervals.frombytes((sightings.unix_s // 600).astype(np.uint32).tobytes())
    return Observations(rpis=sightings.rpis, intervals=intervals)


def _key_at(batch: PreparedBatch, key_index: int) -> TemporaryExposureKey:
    keys = batch.file.key_batch.keys
    if keys is not None:
        return keys[key_index]
    key_batch = batch.file.key_batch
    return TemporaryExposureKey(
        key_data=key_batch.key_data_at(key_index),
        rolling_start_interval_number=key_batch.rolling_start_interval_numbers[key_index],
        rolling_period=key_batch.rolling_periods[key_index],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchOutcome:
    exposures: tuple[KeyExposure, ...]
    matched_sightings: int
    dropped_sightings: int


def key_exposures(
    batches: Sequence[PreparedBatch],
    sightings: SightingColumns,
    backend: MatchBackend,
) -> MatchOutcome:
    """Match `sightings` against `batches` and turn the matches into `KeyExposure`s."""
    if not len(sightings) or not batches:
        return MatchOutcome(exposures=(), matched_sightings=0, dropped_sightings=0)
    observations = observations_of(sightings)
    exposures: list[KeyExposure] = []
    matched = dropped = 0
    for batch in batches:
        by_key: dict[int, dict[int, list[int]]] = {}
        for match in backend.match(batch.derived, observations):
            by_key.setdefault(match.key_index, {}).setdefault(match.interval, []).append(
                match.observation_index
            )
        for key_index, by_rpi in by_key.items():
            key = _key_at(batch, key_index)
            aemk = derive_aemk(key.key_data)
            kept: list[Sighting] = []
            for rows in by_rpi.values():
                matched += len(rows)
                first = int(min(sightings.unix_s[row] for row in rows))
                for row in rows:
                    sighting = None
                    if sightings.unix_s[row] <= first + REPLAY_WINDOW_S:
                        sighting = _sighting(sightings, row, aemk)
                    if sighting is None:
                        dropped += 1
                    else:
                        kept.append(sighting)
            if kept:
                exposures.append(KeyExposure(key=key, sightings=kept))
    return MatchOutcome(
        exposures=tuple(exposures), matched_sightings=matched, dropped_sightings=dropped
    )


def _sighting(sightings: SightingColumns, row: int, aemk: bytes) -> Sighting | None:
    try:
        metadata = BluetoothMetadata.from_bytes(
            decrypt_aem(aemk, sightings.rpi_at(row), sightings.aem_at(row))
        )
    except (MalformedPayload, ValueError):
        return None
    if metadata.major_version != 1:  # microG accepts version ≥ 0x40 only (protocol.md §6.3)
        return None
    tx_power = metadata.tx_power_dbm
    if not TX_POWER_MIN_DBM <= tx_power <= TX_POWER_MAX_DBM:
        return None
    attenuation = min(max(tx_power - int(sightings.rssi_dbm[row]), 0), MAX_ATTENUATION_DB)
    previous = int(sightings.previous_scan_unix_s[row])
    unix_s = int(sightings.unix_s[row])
    return Sighting(
        unix_s=unix_s,
        attenuation_db=attenuation,
        previous_scan_unix_s=previous if 0 < previous <= unix_s else None,
        calibration_confidence=metadata.calibration_confidence,
    )
