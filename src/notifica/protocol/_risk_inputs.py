"""What risk scoring reads: the calibrated sightings of one matched diagnosis key.

Matching (protocol.md §11: ±2 h tolerance, the 20-minute replay guard, AEM decryption and the
§6.3 metadata checks) happens before this layer. What reaches scoring is, per matched
`TemporaryExposureKey`, the time-ordered packets received from its RPIs, each reduced to an
attenuation (protocol.md §10.1):

    attenuation = TX_power − (RSSI_measured + rssi_offset)

Rules of this module:

1. Values cannot be invalid: a `Sighting` checks its ranges, a `KeyExposure` keeps its
   sightings in one canonical order: by time, then by the other fields.
2. Integer arithmetic only. The upstream code rounds with Java ``Math.round`` (halves up,
   protocol.md §14.3 implementation note); `round_half_up_ratio` does the same exactly on
   integer ratios, where Python's ``round()`` would round halves to even.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass

from notifica.protocol._keys import TemporaryExposureKey

__all__ = [
    "MAX_ATTENUATION_DB",
    "SAME_SCAN_MAX_GAP_S",
    "SECONDS_PER_DAY",
    "KeyExposure",
    "Sighting",
    "attenuation_db",
    "round_half_up_ratio",
]

SECONDS_PER_DAY = 86_400

SAME_SCAN_MAX_GAP_S = 1.5 * (4 + 13)
"""25.5 s: packets closer than this to the previous one belong to the same scan.

1.5 × (scanTimeSeconds 4 + scanTimeExtendForProfileInUseSeconds 13), INT
``KeyExposureEvaluator.sightingInTheSameScanInstance`` and the v1 per-scan aggregation of
``ExposureMatchingTracer.getValidSightingsForRpi`` (protocol.md §13.4 step 1, §14.3). The gap is
measured from the previous packet, not from the first packet of the scan.
"""

MAX_ATTENUATION_DB = 255
"""Upper bound of an attenuation: the thresholds that bucket it are 0..255 (protocol.md §13.3,
§14.5). A signed TX power (−128..127) minus a clamped RSSI (−127..126) stays below it."""

_RSSI_MIN_DBM = -127
_RSSI_MAX_DBM = 126
"""INT ``BleScannerImpl.getAdjustedRssi`` clamps the offset RSSI to [−127, 126] (§8.3)."""

_UINT32_MAX = 2**32 - 1


def attenuation_db(tx_power_dbm: int, rssi_dbm: int, rssi_offset_db: int = 0) -> int:
    """The attenuation of one received packet, as Google's implementation computes it.

    ``max(TX − clamp(RSSI + offset, −127, 126), 0)``. The choices, both INT's (protocol.md
    §8.3, §10.1): the receiver's calibration offset is added to the measured RSSI and the sum
    is clamped to the int8 range the scanner stores; the difference is clamped at 0, since a
    negative attenuation (a packet heard louder than it was sent) is measurement noise.
    microG and mh-/diagnosis-keys do not clamp; with them a very close contact could get a
    negative value, which the v1 attenuation buckets would still put in the closest bucket.

    Args:
        tx_power_dbm: the sender's calibrated TX power, metadata byte 1 (signed, §6.2).
        rssi_dbm: the RSSI the receiving radio measured.
        rssi_offset_db: the receiving model's ``rssi correction`` (§10.2), 0 when unknown.

    Raises:
        ValueError: for a TX power outside −128..127.
    """
    if not -128 <= tx_power_dbm <= 127:
        raise ValueError(f"tx_power_dbm must be a signed byte (-128..127), got {tx_power_dbm}")
    adjusted = min(max(rssi_dbm + rssi_offset_db, _RSSI_MIN_DBM), _RSSI_MAX_DBM)
    return max(tx_power_dbm - adjusted, 0)


def round_half_up_ratio(numerator: int, denominator: int) -> int:
    """``floor(numerator / denominator + 1/2)`` exactly: Java ``Math.round`` on a ratio.

    Raises:
        ValueError: for a denominator that is not positive.
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    return (2 * numerator + denominator) // (2 * denominator)


def _as_int(name: str, value: object) -> int:
    """`value` as a plain int: ints and integer types (``numpy.int64``), never bools."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got bool")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sighting:
    """One received packet of a matched RPI, after calibration (protocol.md §9.1, §10).

    ``previous_scan_unix_s`` is the start of the scan before the one that heard this packet
    (``SightingRecord.previous_scan_epoch_seconds``); ``None`` when unknown. GMS stores 0 for
    "unknown", and 0 is read the same way here, so records copied from GMS keep their meaning.
    It only feeds v2's ``secondsSinceLastScan`` (§14.3).
    """

    unix_s: int
    attenuation_db: int
    previous_scan_unix_s: int | None = None
    calibration_confidence: int = 0

    def __post_init__(self) -> None:
        t, a, c, p = (
            self.unix_s,
            self.attenuation_db,
            self.calibration_confidence,
            self.previous_scan_unix_s,
        )
        # Fast path: plain ints in range, as the simulator builds millions of these.
        if (
            type(t) is int
            and type(a) is int
            and type(c) is int
            and 0 <= t <= _UINT32_MAX
            and 0 <= a <= MAX_ATTENUATION_DB
            and 0 <= c <= 3
            and (p is None or (type(p) is int and 0 <= p <= t))
        ):
            return
        self._validate_slowly()

    def _validate_slowly(self) -> None:
        """Name the first bad field; accept integer types such as numpy's as ints."""
        for name in ("unix_s", "attenuation_db", "calibration_confidence"):
            object.__setattr__(self, name, _as_int(name, getattr(self, name)))
        if self.previous_scan_unix_s is not None:
            as_int = _as_int("previous_scan_unix_s", self.previous_scan_unix_s)
            object.__setattr__(self, "previous_scan_unix_s", as_int)
        if not 0 <= self.unix_s <= _UINT32_MAX:
            raise ValueError(
                f"unix_s must be in 0..2^32-1 (uint32 epoch seconds), got {self.unix_s}"
            )
        if not 0 <= self.attenuation_db <= MAX_ATTENUATION_DB:
            raise ValueError(
                f"attenuation_db must be in 0..{MAX_ATTENUATION_DB}, got {self.attenuation_db}"
            )
        if not 0 <= self.calibration_confidence <= 3:
            raise ValueError(
                f"calibration_confidence must be in 0..3 (two metadata bits), "
                f"got {self.calibration_confidence}"
            )
        previous = self.previous_scan_unix_s
        if previous is not None and not 0 <= previous <= self.unix_s:
            raise ValueError(
                f"previous_scan_unix_s must be in 0..unix_s ({self.unix_s}): the previous "
                f"scan started before this packet, got {previous}"
            )


@dataclass(frozen=True, slots=True, init=False)
class KeyExposure:
    """A matched diagnosis key with the sightings of its RPIs, sorted by time.

    ``sightings`` may be given in any order and as any iterable; it is stored as a tuple
    sorted by time, and packets of the same second by their other fields, so that scores never
    depend on the order a store returned its records in. A key with no sightings forms no
    exposure.
    """

    key: TemporaryExposureKey
    sightings: tuple[Sighting, ...]

    def __init__(self, *, key: TemporaryExposureKey, sightings: Iterable[Sighting] = ()) -> None:
        if not isinstance(key, TemporaryExposureKey):
            raise TypeError(f"key must be a TemporaryExposureKey, got {type(key).__name__}")
        ordered = tuple(sightings)
        for index, sighting in enumerate(ordered):
            if not isinstance(sighting, Sighting):
                raise TypeError(
                    f"sightings[{index}] must be a Sighting, got {type(sighting).__name__}"
                )
        ordered = tuple(sorted(ordered, key=_canonical_order))
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "sightings", ordered)

    @property
    def key_start_unix_s(self) -> int:
        """Unix seconds at which the key's validity starts (``rsin × 600``)."""
        return self.key.rolling_start_interval_number * 600


def _canonical_order(sighting: Sighting) -> tuple[int, int, int, int]:
    previous = sighting.previous_scan_unix_s
    return (
        sighting.unix_s,
        sighting.attenuation_db,
        sighting.calibration_confidence,
        -1 if previous is None else previous,
    )
