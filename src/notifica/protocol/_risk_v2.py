"""GAEN v2 exposure windows: scan instances of up to 30 minutes of one key's sightings.

protocol.md §14.1–§14.4, following INT ``KeyExposureEvaluator.findExposureWindows``,
``ExposureWindowUtils`` and ``DiagnosisKeysDataMapping``:

1. Sightings of one key, in time order and **not** merged per scan (unlike v1).
2. A new window starts at the first sighting and whenever ``t − window_start ≥ 1800 s``.
3. Inside a window, a packet no more than 25.5 s after the previous packet joins the current
   scan instance; otherwise it opens a new one, whose ``secondsSinceLastScan`` comes from that
   first packet: ``60 × min(5, ⌊t/60⌋ − ⌊prev_scan/60⌋)``, or 120 s when the previous scan
   time is unknown.
4. ``typicalAttenuationDb`` = mean of the instance's attenuations rounded half up (Java
   ``Math.round``), ``minAttenuationDb`` = their minimum.
5. The window's date is the UTC day of its first sighting (the *contact's* day; microG uses
   the key's day, protocol.md §14.8); its calibration confidence is that sighting's.

Report type and infectiousness come from the key through the `DiagnosisKeysDataMapping`. Keys
whose report type (after the mapping) is not returnable to apps give no window: REVOKED,
UNKNOWN when the mapping also says so, and RECURSIVE unless enabled. Keys whose
infectiousness is NONE give no window either.

Order. Google shuffles the windows with a ``SecureRandom`` so that apps cannot tell which
windows came from the same key (``ExposureWindowUtils.getExposureWindows``). Here the caller
chooses: pass a `Shuffler` (``random.Random``, a seeded one in the simulator, or
``random.SystemRandom()`` for Google's behaviour), or get them sorted by start time (ties in
input order), which is reproducible.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from notifica.protocol._keys import ReportType
from notifica.protocol._risk_inputs import (
    MAX_ATTENUATION_DB,
    SAME_SCAN_MAX_GAP_S,
    SECONDS_PER_DAY,
    KeyExposure,
    round_half_up_ratio,
)

__all__ = [
    "DEFAULT_MINUTES_SINCE_LAST_SCAN",
    "MAX_DAYS_SINCE_ONSET",
    "MAX_EXPOSURE_WINDOW_DURATION_S",
    "MAX_MINUTES_SINCE_LAST_SCAN",
    "RETURNABLE_REPORT_TYPES",
    "DiagnosisKeysDataMapping",
    "ExposureWindow",
    "Infectiousness",
    "ScanInstance",
    "Shuffler",
    "exposure_windows",
    "seconds_since_last_scan",
]

MAX_EXPOSURE_WINDOW_DURATION_S = 30 * 60
"""``maxExposureWindowDurationMinutes = 30`` (INT ``ContactTracingFeature``; §14.2)."""

MAX_MINUTES_SINCE_LAST_SCAN = 5
"""``maxMinutesSinceLastScan`` (§14.3)."""

DEFAULT_MINUTES_SINCE_LAST_SCAN = 2
"""``defaultMinutesSinceLastScan``, used when the previous scan time is unknown (§14.3)."""

MAX_DAYS_SINCE_ONSET = 14
"""``MAXIMUM_OFFSET_OF_DAYS_SINCE_ONSET``: the mapping covers onsets −14..14 (§14.4)."""

RETURNABLE_REPORT_TYPES: Final = frozenset(
    {
        ReportType.CONFIRMED_TEST,
        ReportType.CONFIRMED_CLINICAL_DIAGNOSIS,
        ReportType.SELF_REPORT,
        ReportType.RECURSIVE,
    }
)
"""INT ``TekMetadataUtils.isTekReportTypeReturnableToClients``."""


class Infectiousness(enum.IntEnum):
    """How infectious the sender was on the contact day (§14.4, proto ``Infectiousness``)."""

    NONE = 0
    STANDARD = 1
    HIGH = 2


class Shuffler(Protocol):
    """Anything with ``shuffle(list)``: ``random.Random``, ``random.SystemRandom``."""

    def shuffle(self, x: list[Any], /) -> None: ...


def seconds_since_last_scan(unix_s: int, previous_scan_unix_s: int | None) -> int:
    """The weight of a scan instance (§14.3; INT ``SightingRecordWithMetadata``).

    Whole minutes between the two scan starts (each truncated to its minute), capped at 5,
    times 60; 120 s when the previous scan is unknown (``None`` or GMS's 0).
    """
    if not previous_scan_unix_s:
        return 60 * DEFAULT_MINUTES_SINCE_LAST_SCAN
    minutes = unix_s // 60 - previous_scan_unix_s // 60
    return 60 * min(MAX_MINUTES_SINCE_LAST_SCAN, minutes)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanInstance:
    """The packets of one key heard in one scan (§14.3)."""

    typical_attenuation_db: int
    min_attenuation_db: int
    seconds_since_last_scan: int

    def __post_init__(self) -> None:
        if not 0 <= self.min_attenuation_db <= self.typical_attenuation_db <= MAX_ATTENUATION_DB:
            raise ValueError(
                "need 0 ≤ min_attenuation_db ≤ typical_attenuation_db ≤ 255, got "
                f"{self.min_attenuation_db} and {self.typical_attenuation_db}"
            )
        if not 0 <= self.seconds_since_last_scan <= 60 * MAX_MINUTES_SINCE_LAST_SCAN:
            raise ValueError(
                f"seconds_since_last_scan must be in 0..300, got {self.seconds_since_last_scan}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureWindow:
    """Up to 30 minutes of sightings of one key (§14.1).

    ``date_unix_s`` is the start of the UTC day of the window's first sighting.
    """

    date_unix_s: int
    scan_instances: tuple[ScanInstance, ...]
    report_type: ReportType
    infectiousness: Infectiousness
    calibration_confidence: int = 0

    def __post_init__(self) -> None:
        if self.date_unix_s < 0 or self.date_unix_s % SECONDS_PER_DAY:
            raise ValueError(f"date_unix_s must be a UTC day start, got {self.date_unix_s}")
        if not self.scan_instances:
            raise ValueError("scan_instances must not be empty: a window starts at a sighting")
        object.__setattr__(self, "scan_instances", tuple(self.scan_instances))
        object.__setattr__(self, "report_type", ReportType(self.report_type))
        object.__setattr__(self, "infectiousness", Infectiousness(self.infectiousness))
        if not 0 <= self.calibration_confidence <= 3:
            raise ValueError(
                f"calibration_confidence must be in 0..3, got {self.calibration_confidence}"
            )

    @property
    def days_since_epoch(self) -> int:
        """The window's UTC day as a day number."""
        return self.date_unix_s // SECONDS_PER_DAY

    @property
    def duration_s(self) -> int:
        """Σ secondsSinceLastScan: the window's estimated duration (§14.3)."""
        return sum(scan.seconds_since_last_scan for scan in self.scan_instances)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosisKeysDataMapping:
    """How a key's metadata becomes a window's infectiousness and report type (§14.4).

    ``days_since_onset_to_infectiousness`` has 29 entries for onsets −14..14 (index
    onset + 14). Build one from a partial ``{onset: infectiousness}`` map with `from_onsets`,
    where missing onsets are NONE, as Google's builder does. Both "when missing" values are
    required, and ``report_type_when_missing`` may not be UNKNOWN (Google's builder rejects it).
    """

    days_since_onset_to_infectiousness: tuple[Infectiousness, ...]
    report_type_when_missing: ReportType
    infectiousness_when_days_since_onset_missing: Infectiousness

    def __post_init__(self) -> None:
        table = tuple(self.days_since_onset_to_infectiousness)
        size = 2 * MAX_DAYS_SINCE_ONSET + 1
        if len(table) != size:
            raise ValueError(
                f"days_since_onset_to_infectiousness must have exactly {size} entries "
                f"(onsets -14..14), got {len(table)}"
            )
        try:
            table = tuple(Infectiousness(value) for value in table)
            missing = Infectiousness(self.infectiousness_when_days_since_onset_missing)
        except ValueError as exc:
            raise ValueError(f"infectiousness values must be 0, 1 or 2: {exc}") from exc
        report_type = ReportType(self.report_type_when_missing)
        if report_type == ReportType.UNKNOWN:
            raise ValueError("report_type_when_missing must be set to a type other than UNKNOWN")
        object.__setattr__(self, "days_since_onset_to_infectiousness", table)
        object.__setattr__(self, "infectiousness_when_days_since_onset_missing", missing)
        object.__setattr__(self, "report_type_when_missing", report_type)

    @classmethod
    def from_onsets(
        cls,
        onsets: Mapping[int, Infectiousness],
        *,
        report_type_when_missing: ReportType,
        infectiousness_when_days_since_onset_missing: Infectiousness,
    ) -> DiagnosisKeysDataMapping:
        """A mapping from ``{days since onset: infectiousness}``; absent onsets are NONE.

        Raises:
            ValueError: for an onset outside −14..14.
        """
        table = [Infectiousness.NONE] * (2 * MAX_DAYS_SINCE_ONSET + 1)
        for onset, infectiousness in onsets.items():
            if not -MAX_DAYS_SINCE_ONSET <= onset <= MAX_DAYS_SINCE_ONSET:
                raise ValueError(f"days since onset must be in -14..14, got {onset}")
            table[onset + MAX_DAYS_SINCE_ONSET] = infectiousness
        return cls(
            days_since_onset_to_infectiousness=tuple(table),
            report_type_when_missing=report_type_when_missing,
            infectiousness_when_days_since_onset_missing=infectiousness_when_days_since_onset_missing,
        )

    def infectiousness_of(self, days_since_onset: int | None) -> Infectiousness:
        """The infectiousness of a key; the "missing" value when unset or beyond ±14."""
        if days_since_onset is None or abs(days_since_onset) > MAX_DAYS_SINCE_ONSET:
            return self.infectiousness_when_days_since_onset_missing
        return self.days_since_onset_to_infectiousness[days_since_onset + MAX_DAYS_SINCE_ONSET]

    def report_type_of(self, report_type: ReportType) -> ReportType:
        """The key's report type, or ``report_type_when_missing`` for UNKNOWN."""
        return self.report_type_when_missing if report_type == ReportType.UNKNOWN else report_type


def _windows_of_key(
    exposure: KeyExposure, report_type: ReportType, infectiousness: Infectiousness
) -> list[tuple[int, ExposureWindow]]:
    """(start time, window) pairs of one key, in time order (§14.2–§14.3)."""
    result: list[tuple[int, ExposureWindow]] = []
    scans: list[ScanInstance] = []
    window_start = previous_t = 0
    confidence = 0
    total = count = minimum = weight = 0

    def close_scan() -> None:
        scans.append(
            ScanInstance(
                typical_attenuation_db=round_half_up_ratio(total, count),
                min_attenuation_db=minimum,
                seconds_since_last_scan=weight,
            )
        )

    def close_window() -> None:
        result.append(
            (
                window_start,
                ExposureWindow(
                    date_unix_s=window_start - window_start % SECONDS_PER_DAY,
                    scan_instances=tuple(scans),
                    report_type=report_type,
                    infectiousness=infectiousness,
                    calibration_confidence=confidence,
                ),
            )
        )

    for sighting in exposure.sightings:
        t = sighting.unix_s
        attenuation = sighting.attenuation_db
        new_window = count == 0 or t - window_start >= MAX_EXPOSURE_WINDOW_DURATION_S
        if new_window or t - previous_t > SAME_SCAN_MAX_GAP_S:
            if count:
                close_scan()
            if new_window:
                if scans:
                    close_window()
                    scans.clear()
                window_start, confidence = t, sighting.calibration_confidence
            total, count, minimum = attenuation, 1, attenuation
            weight = seconds_since_last_scan(t, sighting.previous_scan_unix_s)
        else:
            total += attenuation
            count += 1
            if attenuation < minimum:
                minimum = attenuation
        previous_t = t
    if count:
        close_scan()
        close_window()
    return result


def exposure_windows(
    exposures: Iterable[KeyExposure],
    mapping: DiagnosisKeysDataMapping,
    *,
    enable_recursive: bool = False,
    shuffler: Shuffler | None = None,
) -> list[ExposureWindow]:
    """The v2 exposure windows of matched keys (protocol.md §14.1–§14.4).

    Args:
        exposures: the matched keys with their (unmerged) sightings.
        mapping: how key metadata becomes report type and infectiousness.
        enable_recursive: return RECURSIVE keys' windows (off by default upstream).
        shuffler: shuffles the result in place, as Google does; without one the windows come
            back sorted by start time (ties in input order).

    Returns:
        The windows; keys with no sightings, a non-returnable report type or infectiousness
        NONE contribute none.
    """
    windows: list[tuple[int, int, ExposureWindow]] = []
    for order, exposure in enumerate(exposures):
        if not exposure.sightings:
            continue
        report_type = mapping.report_type_of(exposure.key.report_type)
        if report_type not in RETURNABLE_REPORT_TYPES or (
            report_type == ReportType.RECURSIVE and not enable_recursive
        ):
            continue
        infectiousness = mapping.infectiousness_of(exposure.key.days_since_onset_of_symptoms)
        if infectiousness == Infectiousness.NONE:
            continue
        windows.extend(
            (start, order, window)
            for start, window in _windows_of_key(exposure, report_type, infectiousness)
        )
    result = [window for _, _, window in sorted(windows, key=_start_then_order)]
    if shuffler is not None:
        shuffler.shuffle(result)
    return result


def _start_then_order(item: tuple[int, int, ExposureWindow]) -> tuple[int, int]:
    return item[0], item[1]
