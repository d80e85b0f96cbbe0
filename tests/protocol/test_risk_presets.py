"""Immuni's four configurations on a few reference contacts, and where they differ.

Each contact is one exposure of a key published by Immuni (TRL 8): its time-weighted
attenuation and its bucketized duration decide (immuni-api.md §8 table).
"""

from __future__ import annotations

import dataclasses

import pytest

from notifica.protocol import (
    IMMUNI_2020_06_05,
    IMMUNI_2020_10_ANDROID,
    IMMUNI_2020_10_IOS,
    IMMUNI_LAUNCH,
    IMMUNI_PRESETS,
    ExposureConfiguration,
    ImmuniPreset,
    KeyExposure,
)
from tests.protocol.risk_support import NOON, exposure

PRESETS = (IMMUNI_LAUNCH, IMMUNI_2020_06_05, IMMUNI_2020_10_ANDROID, IMMUNI_2020_10_IOS)

# name: (attenuation dB, span s → bucketized minutes), then the maximum risk score under each
# preset in PRESETS order; a decision is "score ≥ threshold" (20, 20, 20, 12).
REFERENCE_CONTACTS = {
    "30 dB for 15 min": (30, 600, (21, 0, 0, 0)),  # only launch: 7 × 3
    "45 dB for 15 min": (45, 600, (15, 0, 0, 0)),
    "45 dB for 20 min": (45, 900, (25, 25, 25, 15)),
    "60 dB for 20 min": (60, 900, (15, 25, 25, 15)),  # all but launch (3 × 5)
    "60 dB for 35 min": (60, 1800, (21, 25, 25, 15)),  # launch needs > 30 min at 52–63 dB
    "70 dB for 20 min": (70, 900, (0, 25, 0, 0)),  # only 5 June 2020: ≤ 73 dB counts
    "80 dB for 60 min": (80, 3600, (0, 0, 0, 0)),
    "25 dB for 10 min": (25, 300, (0, 0, 0, 0)),
}


def reference(attenuation: int, span_s: int) -> KeyExposure:
    return exposure(range(0, span_s + 1, 300), attenuation)


@pytest.mark.parametrize("name", sorted(REFERENCE_CONTACTS))
def test_presets_on_reference_contacts(name: str) -> None:
    attenuation, span_s, scores = REFERENCE_CONTACTS[name]
    contact = reference(attenuation, span_s)
    for preset, score in zip(PRESETS, scores, strict=True):
        assessment = preset.rule().assess([contact], now_unix_s=NOON)
        assert assessment.summary is not None
        assert assessment.summary.maximum_risk_score == score, preset.name
        assert assessment.is_at_risk is (score >= preset.exposure_info_minimum_risk_score)


def test_where_the_presets_differ() -> None:
    decisions = {
        name: tuple(p.rule().assess([reference(a, s)], now_unix_s=NOON).is_at_risk for p in PRESETS)
        for name, (a, s, _) in REFERENCE_CONTACTS.items()
    }
    differing = {name: d for name, d in decisions.items() if len(set(d)) > 1}
    assert differing == {
        "30 dB for 15 min": (True, False, False, False),
        "60 dB for 20 min": (False, True, True, True),
        "70 dB for 20 min": (False, True, False, False),
    }
    assert decisions["60 dB for 35 min"] == (True, True, True, True)


def _decisions(configuration: ExposureConfiguration, threshold: int) -> list[bool]:
    """The decision for every attenuation 0..255 × every duration bucket (5..40 min)."""
    return [
        configuration.risk_score(
            attenuation_db=attenuation,
            days_since_exposure=0,
            duration_minutes=minutes,
            transmission_risk_level=8,
        )
        >= threshold
        for attenuation in range(256)
        for minutes in range(5, 45, 5)
    ]


def test_october_android_and_ios_decide_alike() -> None:
    android = _decisions(IMMUNI_2020_10_ANDROID.configuration, 20)
    ios = _decisions(IMMUNI_2020_10_IOS.configuration, 12)
    assert android == ios
    assert any(android)


def test_ios_decision_survives_the_ios_13_7_attenuation_override() -> None:
    """IOS issue #311: iOS 13.7 replaced attenuationLevelValues with [1..8]."""
    overridden = dataclasses.replace(
        IMMUNI_2020_10_IOS.configuration, attenuation_scores=(1, 2, 3, 4, 5, 6, 7, 8)
    )
    assert _decisions(overridden, 12) == _decisions(IMMUNI_2020_10_IOS.configuration, 12)


def test_the_android_scores_do_not_survive_that_override() -> None:
    overridden = dataclasses.replace(
        IMMUNI_2020_10_ANDROID.configuration, attenuation_scores=(1, 2, 3, 4, 5, 6, 7, 8)
    )
    assert _decisions(overridden, 20) != _decisions(IMMUNI_2020_10_ANDROID.configuration, 20)


def test_presets_share_immunis_common_fields() -> None:
    assert list(IMMUNI_PRESETS) == [p.name for p in PRESETS]
    for preset in PRESETS:
        config = preset.configuration
        assert config.attenuation_thresholds == (50, 70)
        assert config.minimum_risk_score == 1
        assert config.days_since_last_exposure_scores == config.transmission_risk_scores == (1,) * 8
        assert preset.since.year == 2020
        assert "immuni-api.md §8" in preset.source


def test_preset_rule_carries_the_threshold() -> None:
    rule = IMMUNI_2020_10_IOS.rule(last_contact="android")
    assert rule.exposure_info_minimum_risk_score == 12
    assert rule.last_contact == "android"
    assert isinstance(IMMUNI_LAUNCH, ImmuniPreset)
