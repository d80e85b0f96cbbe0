"""Immuni's GAEN v1 configurations as named presets (immuni-api.md §8).

Every Immuni configuration shares ``attenuation_thresholds`` [50, 70], days-since and
transmission-risk scores all 1, weights 1 and ``minimum_risk_score`` 1; only the attenuation
and duration score arrays and the notification threshold changed. Immuni's server forces
TRL 8 on every published key (immuni-api.md §5.2), whose score is 1, so the decision is
``attenuation score × duration score ≥ exposure_info_minimum_risk_score``:

| preset | notifies when (bucket terms, §13.2) |
|---|---|
| launch (2020-05-28) | ≤ 33 dB and > 10 min; ≤ 51 dB and > 15 min; ≤ 63 dB and > 30 min |
| 2020-06-05 | ≤ 73 dB and > 15 min (5 × 5 = 25 ≥ 20) |
| 2020-10 Android | ≤ 63 dB and > 15 min (5 × 5 = 25 ≥ 20) |
| 2020-10 iOS | ≤ 63 dB and > 15 min (3 × 5 = 15 ≥ 12) |

"dB" is the time-weighted attenuation of the exposure and "min" its bucketized duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from notifica.protocol._risk_rules import ImmuniRiskRule
from notifica.protocol._risk_v1_config import ExposureConfiguration

__all__ = [
    "IMMUNI_2020_06_05",
    "IMMUNI_2020_10_ANDROID",
    "IMMUNI_2020_10_IOS",
    "IMMUNI_LAUNCH",
    "IMMUNI_PRESETS",
    "ImmuniPreset",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImmuniPreset:
    """One of Immuni's published v1 configurations with its notification threshold."""

    name: str
    since: date
    configuration: ExposureConfiguration
    exposure_info_minimum_risk_score: int
    source: str

    def rule(self, *, last_contact: Literal["ios", "android"] = "ios") -> ImmuniRiskRule:
        """The decision rule of this preset (immuni-api.md §9.3)."""
        return ImmuniRiskRule(
            configuration=self.configuration,
            exposure_info_minimum_risk_score=self.exposure_info_minimum_risk_score,
            last_contact=last_contact,
        )


def _immuni_configuration(
    attenuation_scores: tuple[int, ...], duration_scores: tuple[int, ...]
) -> ExposureConfiguration:
    """The fields every Immuni ``exposure_configuration`` shares (immuni-api.md §8)."""
    ones = (1, 1, 1, 1, 1, 1, 1, 1)
    return ExposureConfiguration(
        minimum_risk_score=1,
        attenuation_scores=attenuation_scores,
        attenuation_weight=1,
        days_since_last_exposure_scores=ones,
        days_since_last_exposure_weight=1,
        duration_scores=duration_scores,
        duration_weight=1,
        transmission_risk_scores=ones,
        transmission_risk_weight=1,
        attenuation_thresholds=(50, 70),
    )


IMMUNI_LAUNCH: Final = ImmuniPreset(
    name="immuni-launch",
    since=date(2020, 5, 28),
    configuration=_immuni_configuration((0, 0, 3, 5, 7, 7, 7, 7), (0, 0, 0, 3, 5, 5, 5, 7)),
    exposure_info_minimum_risk_score=20,
    source="immuni-api.md §8: iOS 1.0.0 defaults (2020-05-28 commits), seen live on 4 June 2020",
)
"""Immuni at launch: a weighted mix of closeness and duration."""

IMMUNI_2020_06_05: Final = ImmuniPreset(
    name="immuni-2020-06-05",
    since=date(2020, 6, 5),
    configuration=_immuni_configuration((0, 5, 5, 5, 5, 5, 5, 5), (0, 0, 0, 0, 5, 5, 5, 5)),
    exposure_info_minimum_risk_score=20,
    source="immuni-api.md §8: IOS e7ded25 and AND e6552e31 'update default settings', DOC #112",
)
"""From 5 June 2020: any attenuation up to 73 dB for more than 15 minutes."""

IMMUNI_2020_10_ANDROID: Final = ImmuniPreset(
    name="immuni-2020-10-android",
    since=date(2020, 10, 27),
    configuration=_immuni_configuration((0, 0, 5, 5, 5, 5, 5, 5), (0, 0, 0, 0, 5, 5, 5, 5)),
    exposure_info_minimum_risk_score=20,
    source="immuni-api.md §8: AND 0feeed31 'align default settings with the ones on the server'",
)
"""Android production as of 27 October 2020: up to 63 dB for more than 15 minutes."""

IMMUNI_2020_10_IOS: Final = ImmuniPreset(
    name="immuni-2020-10-ios",
    since=date(2020, 10, 30),
    configuration=_immuni_configuration((0, 0, 3, 3, 3, 3, 3, 3), (0, 0, 0, 0, 5, 5, 5, 5)),
    exposure_info_minimum_risk_score=12,
    source="immuni-api.md §8: IOS 9cce9f6 'update default values for settings'",
)
"""iOS defaults from 30 October 2020: the same rule as Android's. With iOS 13.7's bug (the
attenuation values replaced by [1..8], IOS issue #311) the decision stays the same: 3 × 5 = 15
and 4 × 5 = 20 still reach 12, 2 × 5 = 10 does not (immuni-api.md §8 marks this an inference;
`tests/protocol/test_risk_presets.py` checks it)."""

IMMUNI_PRESETS: Final = {
    preset.name: preset
    for preset in (IMMUNI_LAUNCH, IMMUNI_2020_06_05, IMMUNI_2020_10_ANDROID, IMMUNI_2020_10_IOS)
}
"""The presets by name, oldest first."""
