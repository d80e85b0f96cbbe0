"""Properties of v1 and v2 scoring over random sightings and configurations."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import (
    DailySummariesConfig,
    DiagnosisKeysDataMapping,
    ExposureConfiguration,
    Infectiousness,
    KeyExposure,
    ReportType,
    Sighting,
    bucketize_duration_s,
    daily_summaries,
    exposure_windows,
    summarize_exposures_v1,
)
from tests.protocol.risk_support import DAY_S, NOON, make_key

scores = st.lists(st.integers(0, 8), min_size=8, max_size=8).map(tuple)
configs = st.builds(
    ExposureConfiguration,
    minimum_risk_score=st.integers(1, 4096),
    attenuation_scores=scores,
    days_since_last_exposure_scores=scores,
    duration_scores=scores,
    transmission_risk_scores=scores,
    attenuation_thresholds=st.tuples(st.integers(0, 255), st.integers(0, 255)).map(
        lambda t: tuple(sorted(t))
    ),
)


packets = st.tuples(
    st.integers(0, 900),  # gap to the previous packet
    st.integers(0, 255),  # attenuation
    st.none() | st.integers(0, 900),  # how long before it the previous scan started
    st.integers(0, 3),  # calibration confidence
)


@st.composite
def sightings(draw: st.DrawFn) -> list[Sighting]:
    t = NOON + draw(st.integers(-DAY_S, DAY_S))
    result = []
    for gap, attenuation, before, confidence in draw(st.lists(packets, min_size=1, max_size=25)):
        t += gap
        result.append(
            Sighting(
                unix_s=t,
                attenuation_db=attenuation,
                previous_scan_unix_s=None if before is None else t - before,
                calibration_confidence=confidence,
            )
        )
    return result


@st.composite
def key_exposures(draw: st.DrawFn) -> list[KeyExposure]:
    count = draw(st.integers(1, 3))
    return [
        KeyExposure(
            key=make_key(
                seed=i,
                transmission_risk_level=draw(st.integers(0, 8)),
                report_type=draw(st.sampled_from(ReportType)),
                days_since_onset_of_symptoms=draw(st.none() | st.integers(-20, 20)),
            ),
            sightings=draw(sightings()),
        )
        for i in range(count)
    ]


@given(key_exposures(), configs, st.integers(0, 20 * DAY_S))
def test_v1_outputs_stay_in_their_ranges(
    exposures: list[KeyExposure], config: ExposureConfiguration, later_s: int
) -> None:
    summary, infos = summarize_exposures_v1(exposures, config, now_unix_s=NOON + later_s)
    for info in infos:
        assert info.duration_minutes % 5 == 0
        assert info.duration_minutes >= 5
        assert all(0 <= d <= 30 for d in info.attenuation_durations_minutes)
        assert 0 <= info.total_risk_score <= 4096
        assert info.total_risk_score == 0 or info.total_risk_score >= config.minimum_risk_score
    assert summary.maximum_risk_score == max((i.total_risk_score for i in infos), default=0)
    assert summary.summation_risk_score == sum(i.total_risk_score for i in infos)
    assert all(0 <= d <= 30 for d in summary.attenuation_durations_minutes)
    assert summary.matched_key_count <= len(exposures)


@given(sightings(), configs)
def test_v1_attenuation_lies_within_the_sightings(
    items: list[Sighting], config: ExposureConfiguration
) -> None:
    _, infos = summarize_exposures_v1(
        [KeyExposure(key=make_key(), sightings=items)], config, now_unix_s=NOON
    )
    values = [s.attenuation_db for s in items]
    assert all(min(values) <= i.attenuation_value <= max(values) for i in infos)


@given(key_exposures(), configs, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_sightings(
    exposures: list[KeyExposure], config: ExposureConfiguration, rng: random.Random
) -> None:
    shuffled = []
    for exposure in exposures:
        items = list(exposure.sightings)
        rng.shuffle(items)
        shuffled.append(KeyExposure(key=exposure.key, sightings=items))
    assert summarize_exposures_v1(shuffled, config, now_unix_s=NOON) == summarize_exposures_v1(
        exposures, config, now_unix_s=NOON
    )
    mapping = _mapping()
    assert exposure_windows(shuffled, mapping) == exposure_windows(exposures, mapping)


@given(
    st.lists(st.integers(0, 8), min_size=8, max_size=8).map(lambda s: tuple(sorted(s))),
    st.lists(st.integers(26, 600), max_size=20),
    st.integers(26, 600),
    st.integers(0, 255),
)
def test_v1_score_never_drops_when_a_contact_lasts_longer(
    duration_scores: tuple[int, ...], gaps: list[int], extra_gap: int, attenuation: int
) -> None:
    config = ExposureConfiguration(minimum_risk_score=1, duration_scores=duration_scores)
    times = [NOON]
    for gap in gaps:
        times.append(times[-1] + gap)

    def score(ts: list[int]) -> int:
        contact = [Sighting(unix_s=t, attenuation_db=attenuation) for t in ts]
        summary, _ = summarize_exposures_v1(
            [KeyExposure(key=make_key(), sightings=contact)], config, now_unix_s=NOON
        )
        return summary.maximum_risk_score

    assert score([*times, times[-1] + extra_gap]) >= score(times)


@given(st.integers(0, 10**7))
def test_bucketized_durations_are_multiples_of_5_minutes_near_the_span(span_s: int) -> None:
    duration_s = bucketize_duration_s(span_s)
    assert duration_s % 300 == 0
    assert span_s + 150 <= duration_s < span_s + 450


def _mapping() -> DiagnosisKeysDataMapping:
    return DiagnosisKeysDataMapping.from_onsets(
        {d: Infectiousness.HIGH if abs(d) < 3 else Infectiousness.STANDARD for d in range(-10, 11)},
        report_type_when_missing=ReportType.CONFIRMED_TEST,
        infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
    )


@given(key_exposures())
def test_v2_windows_hold_their_invariants(exposures: list[KeyExposure]) -> None:
    windows = exposure_windows(exposures, _mapping(), enable_recursive=True)
    for window in windows:
        assert window.scan_instances
        assert window.duration_s <= 300 * len(window.scan_instances)
        assert window.infectiousness != Infectiousness.NONE
        assert window.report_type not in (ReportType.REVOKED, ReportType.UNKNOWN)
    days = [w.days_since_epoch for w in windows]
    assert days == sorted(days)


@given(sightings())
def test_v2_has_at_least_as_many_scans_as_v1_merged_scans(items: list[Sighting]) -> None:
    exposure = KeyExposure(key=make_key(), sightings=items)
    windows = exposure_windows([exposure], _mapping())
    merged = 1 + sum(b.unix_s - a.unix_s > 25.5 for a, b in itertools.pairwise(items))
    assert sum(len(w.scan_instances) for w in windows) >= merged
    assert max(s.typical_attenuation_db for w in windows for s in w.scan_instances) <= max(
        s.attenuation_db for s in items
    )


@given(key_exposures(), st.floats(0, 2.5), st.floats(0, 2.5))
def test_daily_sums_bound_their_maximum(
    exposures: list[KeyExposure], weight: float, infectious: float
) -> None:
    config = DailySummariesConfig(
        attenuation_bucket_thresholds_db=(55, 63, 70),
        attenuation_bucket_weights=(weight, weight, weight / 2, 0.0),
        report_type_weights=dict.fromkeys(ReportType, 1.0),
        infectiousness_weights={Infectiousness.STANDARD: infectious, Infectiousness.HIGH: 2.5},
    )
    windows = exposure_windows(exposures, _mapping())
    for summary in daily_summaries(windows, config):
        data = summary.summary_data
        assert data.score_sum >= data.maximum_score >= 0
        assert data.weighted_duration_sum <= 2.5 * 1800 * len(windows)
