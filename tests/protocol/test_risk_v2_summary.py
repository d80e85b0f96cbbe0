from __future__ import annotations

import math
from typing import Any

import pytest

from notifica.protocol import (
    DailySummariesConfig,
    DailySummary,
    ExposureSummaryData,
    ExposureWindow,
    Infectiousness,
    ReportType,
    ScanInstance,
    daily_summaries,
)
from tests.protocol.risk_support import DAY_S, KEY_DAY_START

DAY = KEY_DAY_START // DAY_S

CONFIG = DailySummariesConfig(
    attenuation_bucket_thresholds_db=(50, 60, 70),
    attenuation_bucket_weights=(2.0, 1.0, 0.5, 0.0),
    report_type_weights={ReportType.CONFIRMED_TEST: 1.0, ReportType.SELF_REPORT: 0.5},
    infectiousness_weights={Infectiousness.STANDARD: 1.0, Infectiousness.HIGH: 2.0},
)


def window(
    *scans: tuple[int, int],
    day: int = DAY,
    report_type: ReportType = ReportType.CONFIRMED_TEST,
    infectiousness: Infectiousness = Infectiousness.STANDARD,
) -> ExposureWindow:
    """A window from (typical attenuation, seconds since last scan) pairs."""
    return ExposureWindow(
        date_unix_s=day * DAY_S,
        scan_instances=tuple(
            ScanInstance(typical_attenuation_db=a, min_attenuation_db=a, seconds_since_last_scan=s)
            for a, s in scans
        ),
        report_type=report_type,
        infectiousness=infectiousness,
    )


@pytest.mark.parametrize(
    ("attenuation", "bucket"),
    [(0, 0), (49, 0), (50, 0), (51, 1), (59, 1), (60, 1), (61, 2), (70, 2), (71, 3), (255, 3)],
)
def test_attenuation_buckets_use_less_or_equal(attenuation: int, bucket: int) -> None:
    assert CONFIG.attenuation_bucket(attenuation) == bucket


def test_weighted_duration_uses_typical_attenuation_and_bucket_weights() -> None:
    w = window((50, 300), (51, 300), (70, 120), (71, 300))
    assert CONFIG.weighted_duration(w) == 300 * 2.0 + 300 * 1.0 + 120 * 0.5 + 300 * 0.0


def test_window_score_multiplies_report_type_and_infectiousness_weights() -> None:
    w = window((55, 300), report_type=ReportType.SELF_REPORT, infectiousness=Infectiousness.HIGH)
    assert CONFIG.window_score(w, CONFIG.weighted_duration(w)) == 300 * 0.5 * 2.0


def test_daily_summary_aggregates_per_report_type_and_day() -> None:
    windows = [
        window((55, 300), (55, 300)),  # 600 × 1 × 1
        window((45, 120), report_type=ReportType.SELF_REPORT),  # 240 × 0.5
        window((55, 300), day=DAY + 1, infectiousness=Infectiousness.HIGH),  # 300 × 2
    ]
    first, second = daily_summaries(windows, CONFIG)
    assert first.days_since_epoch == DAY
    assert first.date_unix_s == KEY_DAY_START
    assert first.summary_data == ExposureSummaryData(
        maximum_score=600.0, score_sum=720.0, weighted_duration_sum=840.0
    )
    assert first.summary_data_for_report_type(ReportType.SELF_REPORT) == ExposureSummaryData(
        maximum_score=120.0, score_sum=120.0, weighted_duration_sum=240.0
    )
    assert first.summary_data_for_report_type(ReportType.RECURSIVE) == ExposureSummaryData()
    assert second.summary_data == ExposureSummaryData(
        maximum_score=600.0, score_sum=600.0, weighted_duration_sum=300.0
    )


def test_unset_weights_are_zero_as_in_google() -> None:
    config = DailySummariesConfig(
        attenuation_bucket_thresholds_db=(50, 60, 70),
        attenuation_bucket_weights=(1.0, 1.0, 1.0, 1.0),
    )
    (summary,) = daily_summaries([window((55, 300))], config)
    assert summary.summary_data == ExposureSummaryData(weighted_duration_sum=300.0)
    assert config.report_type_weights[ReportType.CONFIRMED_TEST] == 0.0
    assert config.infectiousness_weights[Infectiousness.HIGH] == 0.0


@pytest.mark.parametrize(("minimum", "kept"), [(599.0, True), (600.0, True), (600.5, False)])
def test_minimum_window_score_keeps_windows_at_the_minimum(minimum: float, kept: bool) -> None:
    config = DailySummariesConfig(
        attenuation_bucket_thresholds_db=(50, 60, 70),
        attenuation_bucket_weights=(1.0, 1.0, 1.0, 1.0),
        report_type_weights={ReportType.CONFIRMED_TEST: 1.0},
        infectiousness_weights={Infectiousness.STANDARD: 1.0},
        minimum_window_score=minimum,
    )
    (summary,) = daily_summaries([window((55, 300), (55, 300))], config)
    # The day is reported even when its only window fell below the minimum.
    assert summary.summary_data.score_sum == (600.0 if kept else 0.0)


def test_days_since_exposure_threshold_drops_older_days() -> None:
    config = DailySummariesConfig(
        attenuation_bucket_thresholds_db=(50, 60, 70),
        attenuation_bucket_weights=(1.0, 1.0, 1.0, 1.0),
        days_since_exposure_threshold=3,
    )
    windows = [window((55, 60), day=DAY - d) for d in (0, 2, 3, 4, 10)]
    summaries = daily_summaries(windows, config, now_unix_s=KEY_DAY_START + DAY_S - 1)
    assert [s.days_since_epoch for s in summaries] == [DAY - 3, DAY - 2, DAY]
    with pytest.raises(ValueError, match="now_unix_s"):
        daily_summaries(windows, config)


def test_non_returnable_report_types_are_skipped() -> None:
    windows = [window((55, 300), report_type=ReportType.REVOKED), window((55, 300), day=DAY + 2)]
    assert [s.days_since_epoch for s in daily_summaries(windows, CONFIG)] == [DAY + 2]
    unknown = window((55, 300), report_type=ReportType.UNKNOWN)
    assert daily_summaries([unknown], CONFIG) == []


def test_days_come_back_in_ascending_order() -> None:
    windows = [window((55, 60), day=DAY + d) for d in (5, 1, 3)]
    assert [s.days_since_epoch - DAY for s in daily_summaries(windows, CONFIG)] == [1, 3, 5]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"attenuation_bucket_thresholds_db": (50, 50, 60)}, "increase strictly"),
        ({"attenuation_bucket_thresholds_db": (60, 50, 70)}, "increase strictly"),
        ({"attenuation_bucket_thresholds_db": (50, 60)}, "exactly 3"),
        ({"attenuation_bucket_thresholds_db": (50, 60, 256)}, r"thresholds_db\[2\]"),
        ({"attenuation_bucket_thresholds_db": (-1, 60, 70)}, r"thresholds_db\[0\]"),
        ({"attenuation_bucket_weights": (1.0, 1.0, 1.0)}, "exactly 4"),
        ({"attenuation_bucket_weights": (1.0, 2.6, 1.0, 1.0)}, r"weights\[1\]"),
        ({"attenuation_bucket_weights": (1.0, 1.0, -0.1, 1.0)}, r"weights\[2\]"),
        ({"attenuation_bucket_weights": (1.0, 1.0, 1.0, math.nan)}, r"weights\[3\]"),
        ({"report_type_weights": {ReportType.SELF_REPORT: 3.0}}, "SELF_REPORT"),
        ({"report_type_weights": {9: 1.0}}, "report_type_weights keys must be ReportType"),
        ({"infectiousness_weights": {Infectiousness.NONE: 1.0}}, "NONE"),
        ({"infectiousness_weights": {Infectiousness.HIGH: math.inf}}, "HIGH"),
        ({"days_since_exposure_threshold": -1}, "days_since_exposure_threshold"),
        ({"minimum_window_score": -1.0}, "minimum_window_score"),
        ({"minimum_window_score": math.nan}, "minimum_window_score"),
    ],
)
def test_bad_configs_name_the_field(fields: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {
        "attenuation_bucket_thresholds_db": (50, 60, 70),
        "attenuation_bucket_weights": (1.0, 1.0, 1.0, 1.0),
        **fields,
    }
    with pytest.raises(ValueError, match=message):
        DailySummariesConfig(**values)


def test_config_rejects_wrongly_typed_weights() -> None:
    with pytest.raises(TypeError, match=r"attenuation_bucket_weights\[0\]"):
        DailySummariesConfig(
            attenuation_bucket_thresholds_db=(50, 60, 70),
            attenuation_bucket_weights=("1", 1.0, 1.0, 1.0),  # type: ignore[arg-type]
        )


def test_config_weight_mappings_are_read_only() -> None:
    with pytest.raises(TypeError):
        CONFIG.report_type_weights[ReportType.REVOKED] = 1.0  # type: ignore[index]


def test_summary_values_are_validated() -> None:
    with pytest.raises(ValueError, match="finite"):
        ExposureSummaryData(score_sum=-1.0)
    with pytest.raises(ValueError, match="one per ReportType"):
        DailySummary(
            days_since_epoch=DAY, summary_data=ExposureSummaryData(), report_type_summaries=()
        )
