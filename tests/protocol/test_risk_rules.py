from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from notifica.protocol import (
    IMMUNI_2020_10_ANDROID,
    DailySummariesConfig,
    DailySummaryRiskRule,
    DiagnosisKeysDataMapping,
    ExposureSummary,
    ImmuniRiskRule,
    Infectiousness,
    KeyExposure,
    MalformedWireMessage,
    ReportType,
    RiskAssessment,
    RiskRule,
)
from tests.protocol.risk_support import (
    DAY_S,
    IMMUNI_EXPOSURE_CONFIGURATION,
    KEY_DAY_INTERVAL,
    KEY_DAY_START,
    exposure,
    make_key,
)

TODAY = KEY_DAY_START + 5 * DAY_S + 8 * 3600  # 2020-04-07 08:00 UTC
RULE = IMMUNI_2020_10_ANDROID.rule()

MAPPING = DiagnosisKeysDataMapping.from_onsets(
    {},
    report_type_when_missing=ReportType.CONFIRMED_TEST,
    infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
)
UNIT_CONFIG = DailySummariesConfig(
    attenuation_bucket_thresholds_db=(50, 60, 70),
    attenuation_bucket_weights=(1.0, 1.0, 0.5, 0.0),
    report_type_weights={ReportType.CONFIRMED_TEST: 1.0},
    infectiousness_weights={Infectiousness.STANDARD: 1.0},
)


def on_day(day: int, attenuation: int, span_s: int, seed: int) -> KeyExposure:
    """A contact at noon of 2020-04-02 + `day`, on that day's key."""
    key = make_key(rolling_start_interval_number=KEY_DAY_INTERVAL + 144 * day, seed=seed)
    start = KEY_DAY_START + day * DAY_S + 12 * 3600
    return exposure(range(0, span_s + 1, 300), attenuation, key=key, start=start)


def test_both_rules_satisfy_the_risk_rule_protocol() -> None:
    v2 = DailySummaryRiskRule(config=UNIT_CONFIG, mapping=MAPPING, minimum_daily_score_s=900)
    assert isinstance(RULE, RiskRule)
    assert isinstance(v2, RiskRule)


def test_no_match_is_no_risk() -> None:
    assessment = RULE.assess([], now_unix_s=TODAY)
    assert assessment == RiskAssessment(
        is_at_risk=False, last_contact_date=None, summary=ExposureSummary(), infos=()
    )


def test_a_zero_threshold_still_needs_a_match() -> None:
    rule = ImmuniRiskRule(
        configuration=IMMUNI_2020_10_ANDROID.configuration, exposure_info_minimum_risk_score=0
    )
    assert not rule.assess([], now_unix_s=TODAY).is_at_risk
    assert rule.assess([on_day(0, 90, 0, 1)], now_unix_s=TODAY).is_at_risk


def test_ios_last_contact_is_the_latest_risky_exposure_date() -> None:
    risky_early = on_day(1, 50, 900, seed=1)
    risky_late = on_day(3, 60, 1200, seed=2)
    far_latest = on_day(4, 80, 1800, seed=3)  # matched but scores 0
    assessment = RULE.assess([risky_early, far_latest, risky_late], now_unix_s=TODAY)
    assert assessment.is_at_risk
    assert assessment.last_contact_date == date(2020, 4, 5)
    assert [i.total_risk_score for i in assessment.infos] == [25, 0, 25]


def test_android_last_contact_counts_every_matched_key() -> None:
    """immuni-api.md §9.3: server date − daysSinceLastExposure, over all matched keys."""
    rule = IMMUNI_2020_10_ANDROID.rule(last_contact="android")
    contacts = [on_day(1, 50, 900, seed=1), on_day(4, 80, 1800, seed=3)]
    assessment = rule.assess(contacts, now_unix_s=TODAY)
    assert assessment.summary is not None
    assert assessment.summary.days_since_last_exposure == 1
    assert assessment.last_contact_date == date(2020, 4, 6)


def test_rule_from_immuni_settings() -> None:
    settings = {
        "exposure_configuration": IMMUNI_EXPOSURE_CONFIGURATION,
        "exposure_info_minimum_risk_score": 20,
    }
    rule = ImmuniRiskRule.from_immuni_settings(settings)
    assert rule == IMMUNI_2020_10_ANDROID.rule()


@pytest.mark.parametrize("threshold", [None, "20", True, -1, 2.5])
def test_rule_from_immuni_settings_rejects_a_bad_threshold(threshold: object) -> None:
    settings: dict[str, object] = {"exposure_configuration": IMMUNI_EXPOSURE_CONFIGURATION}
    if threshold is not None:
        settings["exposure_info_minimum_risk_score"] = threshold
    with pytest.raises(MalformedWireMessage, match="exposure_info_minimum_risk_score"):
        ImmuniRiskRule.from_immuni_settings(settings)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"exposure_info_minimum_risk_score": -1}, ValueError),
        ({"exposure_info_minimum_risk_score": 4097}, ValueError),
        ({"exposure_info_minimum_risk_score": True}, TypeError),
        ({"last_contact": "web"}, ValueError),
    ],
)
def test_immuni_rule_validates(fields: dict[str, Any], error: type[Exception]) -> None:
    values: dict[str, Any] = {
        "configuration": IMMUNI_2020_10_ANDROID.configuration,
        "exposure_info_minimum_risk_score": 20,
        **fields,
    }
    with pytest.raises(error):
        ImmuniRiskRule(**values)


def test_daily_rule_sums_a_days_windows_or_takes_the_best() -> None:
    # Two contacts (keys) on one day, each seen in 3 scans with no previous-scan time: every
    # scan weighs the default 120 s, so each window weighs 360 s and the day sums 720 s.
    contacts = [on_day(2, 55, 600, seed=1), on_day(2, 55, 600, seed=2)]
    by_sum = DailySummaryRiskRule(config=UNIT_CONFIG, mapping=MAPPING, minimum_daily_score_s=720)
    by_max = DailySummaryRiskRule(
        config=UNIT_CONFIG, mapping=MAPPING, minimum_daily_score_s=720, aggregate="max"
    )
    summed = by_sum.assess(contacts, now_unix_s=TODAY)
    best = by_max.assess(contacts, now_unix_s=TODAY)
    (day,) = summed.daily_summaries
    assert (day.summary_data.score_sum, day.summary_data.maximum_score) == (720.0, 360.0)
    assert summed.is_at_risk
    assert summed.last_contact_date == date(2020, 4, 4)
    assert not best.is_at_risk
    assert best.last_contact_date is None


def test_daily_rule_reports_the_latest_risky_day() -> None:
    contacts = [on_day(0, 40, 1500, 1), on_day(3, 40, 1500, 2), on_day(4, 80, 1500, 3)]
    rule = DailySummaryRiskRule(config=UNIT_CONFIG, mapping=MAPPING, minimum_daily_score_s=600)
    assessment = rule.assess(contacts, now_unix_s=TODAY)
    assert [s.days_since_epoch for s in assessment.daily_summaries] == [
        KEY_DAY_START // DAY_S + d for d in (0, 3, 4)
    ]
    assert assessment.last_contact_date == date(2020, 4, 5)


@pytest.mark.parametrize(
    "fields",
    [
        {"minimum_daily_score_s": -1.0},
        {"minimum_daily_score_s": float("nan")},
        {"aggregate": "mean"},
    ],
)
def test_daily_rule_validates(fields: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "config": UNIT_CONFIG,
        "mapping": MAPPING,
        "minimum_daily_score_s": 900.0,
        **fields,
    }
    with pytest.raises(ValueError, match=r"minimum_daily_score_s|aggregate"):
        DailySummaryRiskRule(**values)


def test_assessment_date_goes_with_the_decision() -> None:
    with pytest.raises(ValueError, match="last_contact_date"):
        RiskAssessment(is_at_risk=True, last_contact_date=None)
    with pytest.raises(ValueError, match="last_contact_date"):
        RiskAssessment(is_at_risk=False, last_contact_date=date(2020, 1, 1))
