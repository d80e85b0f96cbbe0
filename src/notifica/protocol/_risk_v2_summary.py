"""GAEN v2 daily summaries: weighted durations and scores of exposure windows, per UTC day.

protocol.md §14.5–§14.6, following INT ``DailySummaryUtils.getDailySummaries`` and the
``DailySummariesConfig`` builder:

1. Windows whose report type is not returnable (REVOKED, UNKNOWN) are skipped. With
   ``days_since_exposure_threshold > 0``, windows with ``today − window_day > threshold``
   (in whole UTC days) are skipped.
2. ``weightedDuration = Σ_scan secondsSinceLastScan × attenuationBucketWeights[b]``, where b
   comes from the scan's *typical* attenuation with Google's ``≤`` comparisons:
   IMMEDIATE ≤ t0 < NEAR ≤ t1 < MEDIUM ≤ t2 < OTHER. (microG uses ``<``; §14.8, §16.4.)
3. ``windowScore = weightedDuration × reportTypeWeights[rt] × infectiousnessWeights[inf]``;
   windows with ``windowScore < minimum_window_score`` are left out of the sums.
4. Per report type and for the whole day: maximum score, score sum, weighted-duration sum.

Unset report-type and infectiousness weights are 0.0, as in Google's builder (microG: 1.0),
so a window of an unweighted type scores 0. A day appears in the result as soon as one
returnable window falls on it, even if every window of the day scored below the minimum
(Google builds the day entry before filtering). Days come back in ascending order (Google's
come out of a HashMap, in no defined order).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from notifica.protocol._keys import ReportType
from notifica.protocol._risk_inputs import SECONDS_PER_DAY
from notifica.protocol._risk_v2 import RETURNABLE_REPORT_TYPES, ExposureWindow, Infectiousness

__all__ = [
    "MAX_WEIGHT",
    "DailySummariesConfig",
    "DailySummary",
    "ExposureSummaryData",
    "daily_summaries",
]

_E = TypeVar("_E", ReportType, Infectiousness)

MAX_WEIGHT = 2.5
"""Every v2 weight is in 0..2.5 ("Each element must be between 0 and 2.5", INT
``DailySummariesConfig``; Apple 0–250 %)."""


def _sequence(name: str, values: object, length: int) -> tuple[Any, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of {length} numbers")
    if len(values) != length:
        raise ValueError(f"{name} must have exactly {length} entries, got {len(values)}")
    return tuple(values)


def _enum_key(name: str, enum_type: type[_E], value: int) -> _E:
    try:
        return enum_type(value)
    except ValueError:
        raise ValueError(
            f"{name} keys must be {enum_type.__name__} values, got {value!r}"
        ) from None


def _check_weight(name: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and 0.0 <= value <= MAX_WEIGHT):
        raise ValueError(f"{name} must be in 0..2.5, got {value}")
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class DailySummariesConfig:
    """Google's ``DailySummariesConfig``, validated as its builder does (§14.5).

    ``attenuation_bucket_thresholds_db`` (immediate, near, medium) and
    ``attenuation_bucket_weights`` (immediate, near, medium, other) have no default.
    ``report_type_weights`` / ``infectiousness_weights`` map a type to its weight; unset ones
    are 0.0. They are stored as read-only mappings holding every key, so the config is not
    hashable.
    """

    attenuation_bucket_thresholds_db: tuple[int, int, int]
    attenuation_bucket_weights: tuple[float, float, float, float]
    report_type_weights: Mapping[ReportType, float] = field(default_factory=dict)
    infectiousness_weights: Mapping[Infectiousness, float] = field(default_factory=dict)
    days_since_exposure_threshold: int = 0
    minimum_window_score: float = 0.0
    _report_weights: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _infectiousness_weights: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        thresholds = _sequence(
            "attenuation_bucket_thresholds_db", self.attenuation_bucket_thresholds_db, 3
        )
        for i, value in enumerate(thresholds):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
                raise ValueError(
                    f"attenuation_bucket_thresholds_db[{i}] must be an int in 0..255, got {value!r}"
                )
            if i and thresholds[i - 1] >= value:
                raise ValueError(
                    "attenuation_bucket_thresholds_db must increase strictly, "
                    f"got {list(thresholds)}"
                )
        weights = _sequence("attenuation_bucket_weights", self.attenuation_bucket_weights, 4)
        checked = tuple(
            _check_weight(f"attenuation_bucket_weights[{i}]", w) for i, w in enumerate(weights)
        )
        report = dict.fromkeys(ReportType, 0.0)
        for report_type, weight in self.report_type_weights.items():
            key = _enum_key("report_type_weights", ReportType, report_type)
            report[key] = _check_weight(f"report_type_weights[{key.name}]", weight)
        infectious = {Infectiousness.STANDARD: 0.0, Infectiousness.HIGH: 0.0}
        for level, weight in self.infectiousness_weights.items():
            key_level = _enum_key("infectiousness_weights", Infectiousness, level)
            if key_level == Infectiousness.NONE:
                raise ValueError("infectiousness_weights takes STANDARD and HIGH only, got NONE")
            infectious[key_level] = _check_weight(
                f"infectiousness_weights[{key_level.name}]", weight
            )
        days = self.days_since_exposure_threshold
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise ValueError(f"days_since_exposure_threshold must be an int ≥ 0, got {days!r}")
        minimum = self.minimum_window_score
        if not isinstance(minimum, int | float) or not (math.isfinite(minimum) and minimum >= 0):
            raise ValueError(f"minimum_window_score must be a finite number ≥ 0, got {minimum!r}")
        set_ = object.__setattr__
        set_(self, "attenuation_bucket_thresholds_db", thresholds)
        set_(self, "attenuation_bucket_weights", checked)
        set_(self, "report_type_weights", MappingProxyType(report))
        set_(self, "infectiousness_weights", MappingProxyType(infectious))
        set_(self, "minimum_window_score", float(minimum))
        set_(self, "_report_weights", tuple(report[rt] for rt in ReportType))
        set_(self, "_infectiousness_weights", (0.0, *(infectious[i] for i in sorted(infectious))))

    def attenuation_bucket(self, typical_attenuation_db: int) -> int:
        """0 IMMEDIATE, 1 NEAR, 2 MEDIUM, 3 OTHER, with Google's ``≤`` (§14.6 step 2)."""
        t0, t1, t2 = self.attenuation_bucket_thresholds_db
        if typical_attenuation_db <= t0:
            return 0
        if typical_attenuation_db <= t1:
            return 1
        return 2 if typical_attenuation_db <= t2 else 3

    def weighted_duration(self, window: ExposureWindow) -> float:
        """Σ secondsSinceLastScan × bucket weight over the window's scans (§14.6 step 2).

        Seconds are summed per bucket first, then weighted, as upstream does.
        """
        per_bucket = [0, 0, 0, 0]
        for scan in window.scan_instances:
            per_bucket[self.attenuation_bucket(scan.typical_attenuation_db)] += (
                scan.seconds_since_last_scan
            )
        weights = self.attenuation_bucket_weights
        return sum(seconds * weight for seconds, weight in zip(per_bucket, weights, strict=True))

    def window_score(self, window: ExposureWindow, weighted_duration: float) -> float:
        """weightedDuration × report-type weight × infectiousness weight (§14.6 step 3)."""
        return (
            weighted_duration
            * self._report_weights[window.report_type]
            * self._infectiousness_weights[window.infectiousness]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureSummaryData:
    """Maximum score, score sum and weighted-duration sum of some windows (§14.6 step 4).

    With every weight at 1.0 the three are in seconds.
    """

    maximum_score: float = 0.0
    score_sum: float = 0.0
    weighted_duration_sum: float = 0.0

    def __post_init__(self) -> None:
        values = (self.maximum_score, self.score_sum, self.weighted_duration_sum)
        if not (
            0 <= values[0] < math.inf and 0 <= values[1] < math.inf and 0 <= values[2] < math.inf
        ):
            raise ValueError(f"summary values must be finite and ≥ 0, got {values}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DailySummary:
    """The windows of one UTC day, per report type and overall (§14.6 output).

    ``report_type_summaries`` holds one entry per `ReportType` value, in enum order.
    """

    days_since_epoch: int
    summary_data: ExposureSummaryData
    report_type_summaries: tuple[ExposureSummaryData, ...]

    def __post_init__(self) -> None:
        if self.days_since_epoch < 0:
            raise ValueError(f"days_since_epoch must be ≥ 0, got {self.days_since_epoch}")
        if len(self.report_type_summaries) != len(ReportType):
            raise ValueError(
                f"report_type_summaries must have {len(ReportType)} entries, one per ReportType"
            )

    @property
    def date_unix_s(self) -> int:
        """Unix seconds at the start of the day."""
        return self.days_since_epoch * SECONDS_PER_DAY

    def summary_data_for_report_type(self, report_type: ReportType) -> ExposureSummaryData:
        """Google's ``getSummaryDataForReportType``."""
        return self.report_type_summaries[ReportType(report_type)]


class _Scores:
    __slots__ = ("maximum", "total", "weighted")

    def __init__(self) -> None:
        self.maximum = 0.0
        self.total = 0.0
        self.weighted = 0.0

    def data(self) -> ExposureSummaryData:
        if not (self.maximum or self.total or self.weighted):
            return _NOTHING
        return ExposureSummaryData(
            maximum_score=self.maximum, score_sum=self.total, weighted_duration_sum=self.weighted
        )


_NOTHING = ExposureSummaryData()
"""The summary of no window, shared: most report types of most days have none."""


def daily_summaries(
    windows: Iterable[ExposureWindow],
    config: DailySummariesConfig,
    *,
    now_unix_s: int | None = None,
) -> list[DailySummary]:
    """Summarise windows per UTC day (protocol.md §14.6).

    Args:
        windows: exposure windows in any order.
        config: the weights and thresholds.
        now_unix_s: today, needed only when ``days_since_exposure_threshold > 0``.

    Returns:
        One `DailySummary` per day with a returnable window, in ascending day order.

    Raises:
        ValueError: when the config has a day threshold and `now_unix_s` is missing.
    """
    threshold = config.days_since_exposure_threshold
    if threshold > 0 and now_unix_s is None:
        raise ValueError("now_unix_s is required when days_since_exposure_threshold > 0")
    today = (now_unix_s or 0) // SECONDS_PER_DAY
    days: dict[int, list[_Scores]] = {}
    for window in windows:
        if window.report_type not in RETURNABLE_REPORT_TYPES:
            continue
        day = window.days_since_epoch
        if threshold > 0 and today - day > threshold:
            continue
        per_type = days.get(day)
        if per_type is None:
            per_type = days[day] = [_Scores() for _ in ReportType]
        weighted = config.weighted_duration(window)
        score = config.window_score(window, weighted)
        if score < config.minimum_window_score:
            continue
        scores = per_type[window.report_type]
        scores.total += score
        scores.maximum = max(scores.maximum, score)
        scores.weighted += weighted
    result = []
    for day in sorted(days):
        per_type = days[day]
        overall = _Scores()
        for scores in per_type:
            overall.maximum = max(overall.maximum, scores.maximum)
            overall.total += scores.total
            overall.weighted += scores.weighted
        result.append(
            DailySummary(
                days_since_epoch=day,
                summary_data=overall.data(),
                report_type_summaries=tuple(scores.data() for scores in per_type),
            )
        )
    return result
