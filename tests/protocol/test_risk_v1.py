from __future__ import annotations

import dataclasses

import pytest

from notifica.protocol import (
    ExposureConfiguration,
    ExposureInformation,
    ExposureSummary,
    KeyExposure,
    ReportType,
    bucketize_duration_s,
    summarize_exposures_v1,
    time_weighted_attenuation,
)
from tests.protocol.risk_support import (
    DAY_S,
    KEY_DAY_INTERVAL,
    KEY_DAY_START,
    NOON,
    exposure,
    make_key,
)

ONES = (1, 1, 1, 1, 1, 1, 1, 1)
IDENTITY = ExposureConfiguration(
    minimum_risk_score=1,
    attenuation_scores=ONES,
    days_since_last_exposure_scores=ONES,
    duration_scores=ONES,
    transmission_risk_scores=ONES,
    attenuation_thresholds=(50, 70),
)
"""Scores all 1: every exposure scores 1, so the tests look at the formed values."""


def infos_of(
    *exposures: KeyExposure, config: ExposureConfiguration = IDENTITY
) -> list[ExposureInformation]:
    return summarize_exposures_v1(exposures, config, now_unix_s=NOON)[1]


def test_worked_example_of_the_int_comment() -> None:
    """protocol.md §13.4: scan interval 6, (0,1) (10,4) (50,5) → 188 / 56 = 3.36 → 3."""
    assert time_weighted_attenuation([0, 10, 50], [1, 4, 5], scan_interval_s=6) == 3


def test_time_weighted_attenuation_uses_the_earlier_scan_and_150_s_margins() -> None:
    # (150×60 + 300×60 + 150×80) / 600 = 65; a "simple average" would give 70.
    assert time_weighted_attenuation([0, 300], [60, 80]) == 65


def test_time_weighted_attenuation_rounds_halves_up() -> None:
    # (450×56 + 150×58) / 600 = 56.5 → 57 (Python's round() would give 56).
    assert time_weighted_attenuation([0, 300], [56, 58]) == 57


@pytest.mark.parametrize(
    ("times", "attenuations", "interval"),
    [([], [], 300), ([0, 1], [1], 300), ([5, 5], [1, 1], 300), ([0], [1], 0)],
)
def test_time_weighted_attenuation_rejects_bad_input(
    times: list[int], attenuations: list[int], interval: int
) -> None:
    with pytest.raises(ValueError, match=r"times_s|scan_interval_s"):
        time_weighted_attenuation(times, attenuations, scan_interval_s=interval)


def test_time_weighted_attenuation_of_one_scan_without_margin_is_its_value() -> None:
    assert time_weighted_attenuation([0], [42], scan_interval_s=1) == 42


@pytest.mark.parametrize(
    ("span_s", "duration_s"),
    [
        (0, 300), (150, 300), (151, 600), (300, 600), (450, 600), (451, 900), (600, 900),
        (750, 900), (751, 1200), (900, 1200), (1050, 1200), (1051, 1500), (1650, 1800),
        (1651, 2100),
    ],
)  # fmt: skip
def test_bucketize_adds_300_s_and_rounds_remainders_over_150_up(
    span_s: int, duration_s: int
) -> None:
    assert bucketize_duration_s(span_s) == duration_s


def test_bucketize_rejects_negative_spans() -> None:
    with pytest.raises(ValueError, match="sighted_span_s"):
        bucketize_duration_s(-1)


def test_single_sighting_is_a_five_minute_exposure() -> None:
    (info,) = infos_of(exposure([0], 60))
    assert info.duration_minutes == 5
    assert info.attenuation_value == 60
    assert info.attenuation_durations_minutes == (0, 5, 0)


def test_packets_of_one_scan_merge_into_the_strongest() -> None:
    # 25 s apart: one scan, kept at 50 dB. 26 s apart: two scans, time-weighted.
    (merged,) = infos_of(exposure([0, 25], [70, 50]))
    (split,) = infos_of(exposure([0, 26], [70, 50]))
    assert merged.attenuation_value == 50
    assert split.attenuation_value == 61  # (176×70 + 150×50) / 326 = 60.8


def test_scan_gaps_are_chained_from_packet_to_packet() -> None:
    # 0, 25, 50, 75: each gap ≤ 25.5 s, so one scan although it lasts 75 s.
    (info,) = infos_of(exposure([0, 25, 50, 75], [80, 80, 40, 80]))
    assert info.attenuation_value == 40
    assert info.duration_minutes == 5


def test_merged_scan_takes_the_time_of_its_strongest_packet() -> None:
    # Strongest packet at +20: segments 150×50 + 300×50 + 150×80 = 34500 / 600 = 57.5 → 58.
    (later,) = infos_of(exposure([0, 20, 320], [60, 50, 80]))
    # On a tie the earlier packet stays: 150×50 + 320×50 + 150×80 = 35500 / 620 = 57.3 → 57.
    (tie,) = infos_of(exposure([0, 20, 320], [50, 50, 80]))
    assert (later.attenuation_value, tie.attenuation_value) == (58, 57)


def test_runs_are_cut_at_gaps_over_600_s() -> None:
    (joined,) = infos_of(exposure([0, 600], 60))
    first, second = infos_of(exposure([0, 601], 60))
    assert joined.duration_minutes == 15  # bucketize(600) = 900 s
    assert first.duration_minutes == second.duration_minutes == 5


def test_attenuation_durations_split_at_the_thresholds() -> None:
    # thresholds (50, 70): < 50 below; 50 ≤ a < 70 between; ≥ 70 above. One scan each, 5 min.
    cases = {49: (5, 0, 0), 50: (0, 5, 0), 69: (0, 5, 0), 70: (0, 0, 5)}
    for attenuation, expected in cases.items():
        (info,) = infos_of(exposure([0], attenuation))
        assert info.attenuation_durations_minutes == expected, attenuation


def test_attenuation_durations_follow_the_segments() -> None:
    # 150 s + 300 s at 40 dB, 300 s + 150 s at 60 dB: 7.5 min below, 7.5 min between → 7, 7.
    (info,) = infos_of(exposure([0, 300, 600], [40, 60, 60]))
    assert info.attenuation_durations_minutes == (7, 7, 0)
    assert info.duration_minutes == 15


def test_attenuation_durations_are_capped_at_30_minutes() -> None:
    long_run = exposure(range(0, 7200, 240), 40)
    (info,) = infos_of(long_run)
    summary, _ = summarize_exposures_v1([long_run], IDENTITY, now_unix_s=NOON)
    assert info.attenuation_durations_minutes == (30, 0, 0)
    assert summary.attenuation_durations_minutes == (30, 0, 0)
    assert info.duration_minutes == 120  # bucketize(6960): the scored duration is not capped


def test_summary_sums_seconds_before_truncating_to_minutes() -> None:
    # Two keys, each 450 s below the low threshold: 900 s = 15 min in the summary.
    a = exposure([0, 150], 40, key=make_key(seed=1))
    b = exposure([0, 150], 40, key=make_key(seed=2))
    summary, infos = summarize_exposures_v1([a, b], IDENTITY, now_unix_s=NOON)
    assert [i.attenuation_durations_minutes for i in infos] == [(7, 0, 0), (7, 0, 0)]
    assert summary.attenuation_durations_minutes == (15, 0, 0)


def test_days_since_exposure_counts_from_the_key_start() -> None:
    config = dataclasses.replace(IDENTITY, days_since_last_exposure_scores=(1, 2, 3, 4, 5, 6, 7, 8))
    contact = exposure([0], 60, start=KEY_DAY_START + 23 * 3600)
    for now, days, score in [
        (KEY_DAY_START + 2 * DAY_S - 1, 1, 8),
        (KEY_DAY_START + 2 * DAY_S, 2, 7),  # only 25 h after the contact
        (KEY_DAY_START + 14 * DAY_S, 14, 1),
        (KEY_DAY_START - DAY_S, 0, 8),  # a key from the future counts as today
    ]:
        summary, (info,) = summarize_exposures_v1([contact], config, now_unix_s=now)
        assert (info.days_since_exposure, info.total_risk_score) == (days, score)
        assert summary.days_since_last_exposure == days


def test_information_date_is_the_utc_day_of_the_key_start() -> None:
    late_key = make_key(rolling_start_interval_number=KEY_DAY_INTERVAL + 100)
    (info,) = infos_of(exposure([0], 60, key=late_key, start=KEY_DAY_START + 20 * 3600))
    assert info.date_unix_s == KEY_DAY_START
    assert info.date.isoformat() == "2020-04-02"


def test_trl_zero_contributes_a_factor_of_one() -> None:
    config = ExposureConfiguration(
        minimum_risk_score=1,
        attenuation_scores=(2,) * 8,
        days_since_last_exposure_scores=(3,) * 8,
        duration_scores=(5,) * 8,
        transmission_risk_scores=(7,) * 8,
    )
    zero = exposure([0], 60, key=make_key(transmission_risk_level=0))
    eight = exposure([0], 60, key=make_key(transmission_risk_level=8))
    assert [i.total_risk_score for i in infos_of(zero, eight, config=config)] == [30, 210]


def test_summary_aggregates_scores_and_keys() -> None:
    by_duration = dataclasses.replace(IDENTITY, duration_scores=(0, 1, 2, 3, 4, 5, 6, 7))
    short = exposure([0], 60, key=make_key(seed=1))  # 5 min → score 1
    two_runs = exposure([0, 300, 2000, 2300, 2600], 60, key=make_key(seed=2))  # 10, 15 min → 2, 3
    silent = KeyExposure(key=make_key(seed=3))
    contacts = [short, silent, two_runs]
    config = dataclasses.replace(by_duration, minimum_risk_score=2)
    summary, infos = summarize_exposures_v1(contacts, config, now_unix_s=NOON)
    assert [i.total_risk_score for i in infos] == [0, 2, 3]
    assert summary == ExposureSummary(
        days_since_last_exposure=0,
        matched_key_count=2,  # a key counts even when its only score was zeroed
        maximum_risk_score=3,
        attenuation_durations_minutes=(0, 30, 0),  # 300 + 600 + 900 s between the thresholds
        summation_risk_score=5,
    )
    strict = dataclasses.replace(by_duration, minimum_risk_score=5)
    summary, infos = summarize_exposures_v1(contacts, strict, now_unix_s=NOON)
    assert [i.total_risk_score for i in infos] == [0, 0, 0]
    assert (summary.matched_key_count, summary.maximum_risk_score) == (2, 0)


@pytest.mark.parametrize(
    ("report_type", "enable_recursive", "scored"),
    [
        (ReportType.CONFIRMED_TEST, False, True),
        (ReportType.UNKNOWN, False, True),
        (ReportType.SELF_REPORT, False, True),
        (ReportType.REVOKED, False, False),
        (ReportType.REVOKED, True, False),
        (ReportType.RECURSIVE, False, False),
        (ReportType.RECURSIVE, True, True),
    ],
)
def test_revoked_and_recursive_keys_are_skipped(
    report_type: ReportType, enable_recursive: bool, scored: bool
) -> None:
    contact = exposure([0], 60, key=make_key(report_type=report_type))
    summary, infos = summarize_exposures_v1(
        [contact], IDENTITY, now_unix_s=NOON, enable_recursive=enable_recursive
    )
    assert summary.matched_key_count == len(infos) == int(scored)


def test_no_exposures_give_an_empty_summary() -> None:
    assert summarize_exposures_v1([], IDENTITY, now_unix_s=0) == (ExposureSummary(), [])


def test_negative_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="now_unix_s"):
        summarize_exposures_v1([], IDENTITY, now_unix_s=-1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"date_unix_s": 5}, "date_unix_s"),
        ({"duration_minutes": 7}, "duration_minutes"),
        ({"total_risk_score": 4097}, "total_risk_score"),
        ({"attenuation_durations_minutes": (31, 0, 0)}, "attenuation_durations_minutes"),
    ],
)
def test_exposure_information_validates(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "date_unix_s": 0,
        "days_since_exposure": 0,
        "duration_minutes": 5,
        "attenuation_value": 60,
        "transmission_risk_level": 8,
        "total_risk_score": 1,
        "attenuation_durations_minutes": (0, 5, 0),
        **fields,
    }
    with pytest.raises(ValueError, match=message):
        ExposureInformation(**values)  # type: ignore[arg-type]


def test_exposure_summary_validates() -> None:
    with pytest.raises(ValueError, match="summation_risk_score"):
        ExposureSummary(maximum_risk_score=5, summation_risk_score=4)
    with pytest.raises(ValueError, match="maximum_risk_score"):
        ExposureSummary(maximum_risk_score=4097, summation_risk_score=5000)
