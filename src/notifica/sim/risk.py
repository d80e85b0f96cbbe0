"""The phones' risk rule from the scenario, and attribution of each notification to its keys.

``app.risk_rule`` names one of (see `RISK_RULES`):

- an Immuni preset (`notifica.protocol.IMMUNI_PRESETS`): GAEN v1 as Immuni ran it;
- ``"v2"``: a GAEN v2 daily-summary rule, 15 weighted minutes a day with the buckets
  ≤ 55 dB (weight 1), ≤ 63 dB (1), ≤ 70 dB (0.5), farther (0) — an *assumption*: Immuni never
  shipped v2; the shape is the one Google's and Apple's documentation suggest;
- ``"ground-truth"``: the ground truth's own definition read through the radio: the time
  spent at or under the channel's median attenuation at ``ground_truth.max_distance`` (whole
  dB, rounded up) must reach ``ground_truth.min_duration`` in a UTC day, for one key (= one
  sender). With the noiseless channel and one path-loss curve this is the sanity rule of
  `docs/sim-design.md` §13.

`AttributingRule` wraps the rule a phone uses: the phone's decision is the wrapped rule's,
unchanged; when it says "at risk", the keys that make it so are kept (each key assessed
alone; if no key is risky alone, every key matched on the last contact date) so that the
orchestration can attribute the notification to senders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from notifica.protocol import (
    IMMUNI_PRESETS,
    DailySummariesConfig,
    DailySummaryRiskRule,
    DiagnosisKeysDataMapping,
    Infectiousness,
    KeyExposure,
    ReportType,
    RiskAssessment,
    RiskRule,
)
from notifica.sim.contacts import Setting
from notifica.sim.radio import RadioChannel
from notifica.sim.scenario import Scenario

__all__ = ["AttributingRule", "PerKeyRule", "ground_truth_threshold_db", "rule_for_scenario"]

_SECONDS_PER_DAY = 86_400
_ALL_TYPES = (ReportType.CONFIRMED_TEST, ReportType.CONFIRMED_CLINICAL_DIAGNOSIS)
_MAPPING = DiagnosisKeysDataMapping.from_onsets(
    dict.fromkeys(range(-14, 15), Infectiousness.STANDARD),
    report_type_when_missing=ReportType.CONFIRMED_TEST,
    infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
)


def _v2_config(
    thresholds: tuple[int, int, int], weights: tuple[float, ...]
) -> DailySummariesConfig:
    return DailySummariesConfig(
        attenuation_bucket_thresholds_db=thresholds,
        attenuation_bucket_weights=(weights[0], weights[1], weights[2], weights[3]),
        report_type_weights={
            **dict.fromkeys(_ALL_TYPES, 1.0),
            ReportType.SELF_REPORT: 1.0,
            ReportType.RECURSIVE: 1.0,
        },
        infectiousness_weights={Infectiousness.STANDARD: 1.0, Infectiousness.HIGH: 1.0},
    )


def ground_truth_threshold_db(scenario: Scenario) -> int:
    """The whole-dB threshold that best matches "closer than ``ground_truth.max_distance``".

    Phones round the RSSI to whole dB, so an attenuation *a* is reported as round(a) and
    ``round(a) ≤ t`` means ``a < t + 0.5``: *t* is the integer whose *t* + 0.5 is nearest to
    the channel's median attenuation at that distance. With several environments the largest
    is taken (all are equal in the sanity setup).
    """
    channel = RadioChannel.from_scenario(scenario)
    distance = scenario.ground_truth.max_distance_m
    values = channel.median_attenuation_db(
        [distance] * len(Setting), [setting.value for setting in Setting]
    )
    return round(float(values.max()) - 0.5)


@dataclass(frozen=True, slots=True)
class PerKeyRule:
    """A rule applied to each key (sender) alone: at risk when one key's exposure is."""

    inner: RiskRule

    def assess(self, exposures: Sequence[KeyExposure], *, now_unix_s: int) -> RiskAssessment:
        last: date | None = None
        for exposure in exposures:
            assessment = self.inner.assess([exposure], now_unix_s=now_unix_s)
            day = assessment.last_contact_date
            if assessment.is_at_risk and day is not None and (last is None or day > last):
                last = day
        return RiskAssessment(is_at_risk=last is not None, last_contact_date=last)


def rule_for_scenario(scenario: Scenario) -> RiskRule:
    """The rule named by ``app.risk_rule`` (see the module docstring)."""
    name = scenario.app.risk_rule
    if name in IMMUNI_PRESETS:
        return IMMUNI_PRESETS[name].rule()
    if name == "v2":
        return DailySummaryRiskRule(
            config=_v2_config((55, 63, 70), (1.0, 1.0, 0.5, 0.0)),
            mapping=_MAPPING,
            minimum_daily_score_s=15 * 60,
        )
    if name == "ground-truth":
        threshold = ground_truth_threshold_db(scenario)
        inner = DailySummaryRiskRule(
            config=_v2_config((threshold, threshold + 1, threshold + 2), (1.0, 0.0, 0.0, 0.0)),
            mapping=_MAPPING,
            minimum_daily_score_s=scenario.ground_truth.min_duration_s,
        )
        return PerKeyRule(inner)
    raise ValueError(f"unknown risk rule {name!r}")


@dataclass(slots=True)
class AttributingRule:
    """Delegates to `inner`; remembers which keys made the last "at risk" decision."""

    inner: RiskRule
    risky_keys: list[bytes] = field(default_factory=list)

    def assess(self, exposures: Sequence[KeyExposure], *, now_unix_s: int) -> RiskAssessment:
        assessment = self.inner.assess(exposures, now_unix_s=now_unix_s)
        self.risky_keys = []
        if not assessment.is_at_risk:
            return assessment
        alone = [
            e.key.key_data
            for e in exposures
            if self.inner.assess([e], now_unix_s=now_unix_s).is_at_risk
        ]
        if not alone and assessment.last_contact_date is not None:
            day = (assessment.last_contact_date - date(1970, 1, 1)).days
            alone = [
                e.key.key_data
                for e in exposures
                if any(s.unix_s // _SECONDS_PER_DAY == day for s in e.sightings)
            ]
        self.risky_keys = alone or [e.key.key_data for e in exposures]
        return assessment
