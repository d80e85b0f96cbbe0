"""GAEN v1 exposures and summaries: from a key's sightings to ExposureSummary / ExposureInformation.

protocol.md §13.4–§13.5, following the code of INT ``KeyExposureEvaluator.findExposures`` and
``ExposureMatchingTracer`` (where the proto comments and the code disagree, the code):

1. Merge the sightings of one scan (gaps ≤ 25.5 s from the previous packet) into the one with
   the lowest attenuation (= highest RSSI for one sender); on a tie the earlier stays. The
   merged scan takes that packet's time. (INT merges per RPI, then sorts the key's scans; a
   sighting here does not carry its RPI, so the merge is per key: docs/risk.md §2.1.)
2. Cut runs where two consecutive scans are more than 600 s apart; each run is one exposure.
3. Duration = ``bucketize(last − first + 300 s)`` to a multiple of 5 minutes: a remainder of at
   most 150 s rounds down, more rounds up. Exposures under 1 s are dropped (never happens:
   the smallest result is 300 s, but the rule is kept as upstream has it).
4. Attenuation = time-weighted mean rounded half up, each segment weighted by its *earlier*
   scan's attenuation, the first and last scans extended by scanInterval / 2 = 150 s.
5. Attenuation durations over the same segments: [att < low, low ≤ att < high, att ≥ high]
   (interpolation off, the upstream default).

Report types as upstream filters them before scoring (protocol.md §11, §14.1): REVOKED keys
and RECURSIVE keys (unless enabled) are skipped. Work per key is linear in its sightings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from notifica.protocol._keys import ReportType
from notifica.protocol._risk_inputs import (
    SAME_SCAN_MAX_GAP_S,
    SECONDS_PER_DAY,
    KeyExposure,
    Sighting,
    round_half_up_ratio,
)
from notifica.protocol._risk_v1_config import ExposureConfiguration

__all__ = [
    "DURATION_BUCKET_S",
    "MAX_ATTENUATION_DURATION_MINUTES",
    "MAX_INTERPOLATION_DURATION_S",
    "SCAN_INTERVAL_S",
    "ExposureInformation",
    "ExposureSummary",
    "bucketize_duration_s",
    "summarize_exposures_v1",
    "time_weighted_attenuation",
]

SCAN_INTERVAL_S = 300
"""``TracingParams.scanInterval`` default, ``ContactTracingFeature.scanIntervalSeconds`` (INT)."""

DURATION_BUCKET_S = 300
"""Durations are bucketized to 5 minutes, "as defined in the API" (INT ``findExposures``)."""

MAX_INTERPOLATION_DURATION_S = 600
"""Scans further apart than this start a new exposure (``maxInterpolationDurationSeconds``)."""

MIN_EXPOSURE_BUCKETIZED_DURATION_S = 1
"""``minExposureBucketizedDurationSeconds`` (INT ``ContactTracingFeature``)."""

MAX_ATTENUATION_DURATION_MINUTES = 30
"""Reported attenuation durations are capped at 30 minutes (protocol.md §13.5; Apple
``attenuationDurations``: "an aggregated maximum exposures of 30 minutes")."""

_EPOCH = date(1970, 1, 1)


def _day_start(unix_s: int) -> int:
    return unix_s - unix_s % SECONDS_PER_DAY


def _date_of(unix_s: int) -> date:
    return _EPOCH + timedelta(days=unix_s // SECONDS_PER_DAY)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureInformation:
    """One exposure (a run of sightings of one key), as v1 reports it (protocol.md §13.5).

    ``date_unix_s`` is the start of the UTC day of the key's start ("the key's day",
    protocol.md §13.5); GMS reports ``rsin × 600``, the same instant for the day-aligned keys
    the Immuni server publishes. ``duration_minutes`` is the bucketized
    duration that was scored (not capped; Apple caps the value it displays at 30).
    ``attenuation_durations_minutes`` are whole minutes (seconds truncated) capped at 30 each.
    """

    date_unix_s: int
    days_since_exposure: int
    duration_minutes: int
    attenuation_value: int
    transmission_risk_level: int
    total_risk_score: int
    attenuation_durations_minutes: tuple[int, int, int]

    def __post_init__(self) -> None:
        if self.date_unix_s % SECONDS_PER_DAY or self.date_unix_s < 0:
            raise ValueError(f"date_unix_s must be a UTC day start, got {self.date_unix_s}")
        if self.duration_minutes < 0 or self.duration_minutes % 5:
            raise ValueError(
                f"duration_minutes must be a multiple of 5, got {self.duration_minutes}"
            )
        if not 0 <= self.total_risk_score <= 4096:
            raise ValueError(f"total_risk_score must be in 0..4096, got {self.total_risk_score}")
        _check_durations(self.attenuation_durations_minutes)

    @property
    def date(self) -> date:
        """The UTC calendar day of ``date_unix_s``."""
        return _date_of(self.date_unix_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureSummary:
    """The v1 summary over every exposure of one detection (protocol.md §13.5).

    ``days_since_last_exposure`` is the smallest days-since of the matched keys (0 = today,
    and 0 when nothing matched); ``matched_key_count`` counts keys with at least one exposure,
    whatever its score. ``attenuation_durations_minutes`` sums the seconds of every exposure per
    bucket, then truncates to minutes and caps at 30.
    """

    days_since_last_exposure: int = 0
    matched_key_count: int = 0
    maximum_risk_score: int = 0
    attenuation_durations_minutes: tuple[int, int, int] = (0, 0, 0)
    summation_risk_score: int = 0

    def __post_init__(self) -> None:
        if self.days_since_last_exposure < 0 or self.matched_key_count < 0:
            raise ValueError("days_since_last_exposure and matched_key_count must be ≥ 0")
        if not 0 <= self.maximum_risk_score <= 4096:
            raise ValueError(
                f"maximum_risk_score must be in 0..4096, got {self.maximum_risk_score}"
            )
        if self.summation_risk_score < self.maximum_risk_score:
            raise ValueError("summation_risk_score must be ≥ maximum_risk_score")
        _check_durations(self.attenuation_durations_minutes)


def _check_durations(durations: tuple[int, int, int]) -> None:
    if len(durations) != 3 or not all(
        0 <= d <= MAX_ATTENUATION_DURATION_MINUTES for d in durations
    ):
        raise ValueError(
            f"attenuation_durations_minutes must be 3 values in 0..30, got {durations!r}"
        )


def bucketize_duration_s(sighted_span_s: int) -> int:
    """``last − first`` of a run → its duration in seconds, a multiple of 300 (§13.4 step 3).

    Each sighting stands for one scan interval, so 300 s are added, then the sum is rounded to
    a multiple of 300 s: a remainder ≤ 150 s rounds down, > 150 s rounds up. Spans 0..150 s give
    5 min; 151..450 s give 10 min; 751..1050 s give 20 min.

    Raises:
        ValueError: for a negative span.
    """
    if sighted_span_s < 0:
        raise ValueError(f"sighted_span_s must be ≥ 0, got {sighted_span_s}")
    estimated = sighted_span_s + DURATION_BUCKET_S
    remainder = estimated % DURATION_BUCKET_S
    if remainder <= DURATION_BUCKET_S // 2:
        return estimated - remainder
    return estimated + DURATION_BUCKET_S - remainder


def _run_statistics(
    times: Sequence[int],
    attenuations: Sequence[int],
    margin_s: int,
    low: int,
    high: int,
) -> tuple[int, int, int, int]:
    """(weighted attenuation, seconds below low, between, at-or-above high) of one run.

    Segments: [t0 − margin, t0] at a0, [t_i, t_i+1] at a_i, [t_n, t_n + margin] at a_n; times
    are strictly increasing after the per-scan merge, so no segment is empty except when
    ``margin_s`` is 0, where empty segments add nothing (upstream skips them).
    """
    weighted = 0
    below = between = above = 0
    last = len(times) - 1
    for i in range(last + 1):
        attenuation = attenuations[i]
        seconds = (times[i + 1] - times[i]) if i < last else 0
        if i == 0:
            seconds += margin_s
        if i == last:
            seconds += margin_s
        weighted += attenuation * seconds
        if attenuation < low:
            below += seconds
        elif attenuation >= high:
            above += seconds
        else:
            between += seconds
    total = below + between + above
    if total == 0:  # a single scan and no margin: nothing to weigh, its own value
        return attenuations[0], 0, 0, 0
    return round_half_up_ratio(weighted, total), below, between, above


def time_weighted_attenuation(
    times_s: Sequence[int],
    attenuations_db: Sequence[int],
    *,
    scan_interval_s: int = SCAN_INTERVAL_S,
) -> int:
    """The v1 exposure attenuation of one run of merged scans (§13.4 step 5).

    The INT comment's example: scan interval 6 and (0, 1), (10, 4), (50, 5) give
    ``(3×1 + 10×1 + 40×4 + 3×5) / 56 = 3.36`` → 3.

    Raises:
        ValueError: for empty or unequal inputs, times not strictly increasing, or a scan
            interval that is not positive.
    """
    if not times_s or len(times_s) != len(attenuations_db):
        raise ValueError("times_s and attenuations_db must be non-empty and of equal length")
    if any(times_s[i] >= times_s[i + 1] for i in range(len(times_s) - 1)):
        raise ValueError("times_s must be strictly increasing (one entry per merged scan)")
    if scan_interval_s <= 0:
        raise ValueError(f"scan_interval_s must be positive, got {scan_interval_s}")
    return _run_statistics(times_s, attenuations_db, scan_interval_s // 2, 0, 0)[0]


def _merged_scans(sightings: Sequence[Sighting]) -> tuple[list[int], list[int]]:
    """Times and attenuations of the strongest packet of each scan (§13.4 step 1)."""
    times: list[int] = []
    attenuations: list[int] = []
    previous = -SECONDS_PER_DAY
    for sighting in sightings:
        t = sighting.unix_s
        if not times or t - previous > SAME_SCAN_MAX_GAP_S:
            times.append(t)
            attenuations.append(sighting.attenuation_db)
        elif sighting.attenuation_db < attenuations[-1]:
            times[-1] = t
            attenuations[-1] = sighting.attenuation_db
        previous = t
    return times, attenuations


def _is_scored(exposure: KeyExposure, enable_recursive: bool) -> bool:
    report_type = exposure.key.report_type
    if report_type == ReportType.REVOKED:
        return False
    return enable_recursive or report_type != ReportType.RECURSIVE


def summarize_exposures_v1(
    exposures: Iterable[KeyExposure],
    config: ExposureConfiguration,
    *,
    now_unix_s: int,
    enable_recursive: bool = False,
) -> tuple[ExposureSummary, list[ExposureInformation]]:
    """Score matched keys with GAEN v1 and summarise them (protocol.md §13).

    Args:
        exposures: the matched keys with their sightings.
        config: the v1 configuration.
        now_unix_s: the detection time, for days since exposure (counted from each key's
            start, ``floor((now − rsin × 600) / 86400)``, 0 for a key starting in the future).
        enable_recursive: score RECURSIVE keys too (upstream ``enableRecursiveTekReportType``,
            off by default).

    Returns:
        The summary and one `ExposureInformation` per exposure, in input key order then time.

    Raises:
        ValueError: for a negative `now_unix_s`.
    """
    if now_unix_s < 0:
        raise ValueError(f"now_unix_s must be ≥ 0, got {now_unix_s}")
    low, high = config.attenuation_thresholds
    margin_s = SCAN_INTERVAL_S // 2
    infos: list[ExposureInformation] = []
    totals = [0, 0, 0]
    matched_keys = 0
    min_days: int | None = None
    maximum = summation = 0
    for exposure in exposures:
        if not exposure.sightings or not _is_scored(exposure, enable_recursive):
            continue
        key_start = exposure.key_start_unix_s
        days = max((now_unix_s - key_start) // SECONDS_PER_DAY, 0)
        date_unix_s = _day_start(key_start)
        trl = exposure.key.transmission_risk_level
        times, attenuations = _merged_scans(exposure.sightings)
        start = 0
        found = False
        for end in range(len(times)):
            if end + 1 < len(times) and times[end + 1] - times[end] <= MAX_INTERPOLATION_DURATION_S:
                continue
            duration_s = bucketize_duration_s(times[end] - times[start])
            run_times, run_attenuations = times[start : end + 1], attenuations[start : end + 1]
            start = end + 1
            if duration_s < MIN_EXPOSURE_BUCKETIZED_DURATION_S:
                continue
            value, below, between, above = _run_statistics(
                run_times, run_attenuations, margin_s, low, high
            )
            duration_minutes = duration_s // 60
            score = config.risk_score(
                attenuation_db=value,
                days_since_exposure=days,
                duration_minutes=duration_minutes,
                transmission_risk_level=trl,
            )
            infos.append(
                ExposureInformation(
                    date_unix_s=date_unix_s,
                    days_since_exposure=days,
                    duration_minutes=duration_minutes,
                    attenuation_value=value,
                    transmission_risk_level=trl,
                    total_risk_score=score,
                    attenuation_durations_minutes=_minutes(below, between, above),
                )
            )
            totals[0] += below
            totals[1] += between
            totals[2] += above
            maximum = max(maximum, score)
            summation += score
            found = True
        if found:
            matched_keys += 1
            min_days = days if min_days is None else min(min_days, days)
    summary = ExposureSummary(
        days_since_last_exposure=min_days or 0,
        matched_key_count=matched_keys,
        maximum_risk_score=maximum,
        attenuation_durations_minutes=_minutes(*totals),
        summation_risk_score=summation,
    )
    return summary, infos


def _minutes(below: int, between: int, above: int) -> tuple[int, int, int]:
    cap = MAX_ATTENUATION_DURATION_MINUTES
    return (min(below // 60, cap), min(between // 60, cap), min(above // 60, cap))
