from __future__ import annotations

from typing import Any

import pytest

from notifica.protocol import (
    ExposureConfiguration,
    MalformedWireMessage,
    attenuation_bucket,
    days_since_exposure_bucket,
    duration_bucket,
    transmission_risk_bucket,
)
from tests.protocol.risk_support import IMMUNI_EXPOSURE_CONFIGURATION

# Each bound of protocol.md §13.2 exactly on, one below and one above.
ATTENUATION_CASES = [
    (255, 0), (74, 0), (73, 1), (72, 1), (64, 1), (63, 2), (62, 2), (52, 2), (51, 3), (50, 3),
    (34, 3), (33, 4), (32, 4), (28, 4), (27, 5), (26, 5), (16, 5), (15, 6), (14, 6), (11, 6),
    (10, 7), (9, 7), (0, 7),
]  # fmt: skip
DAYS_CASES = [
    (100, 0), (15, 0), (14, 0), (13, 1), (12, 1), (11, 2), (10, 2), (9, 3), (8, 3), (7, 4),
    (6, 4), (5, 5), (4, 5), (3, 6), (2, 6), (1, 7), (0, 7),
]  # fmt: skip
DURATION_CASES = [
    (0, 0), (1, 1), (4, 1), (5, 1), (6, 2), (9, 2), (10, 2), (11, 3), (14, 3), (15, 3), (16, 4),
    (19, 4), (20, 4), (21, 5), (25, 5), (26, 6), (29, 6), (30, 6), (31, 7), (35, 7), (600, 7),
]  # fmt: skip


@pytest.mark.parametrize(("attenuation", "index"), ATTENUATION_CASES)
def test_attenuation_bucket_uses_strictly_greater(attenuation: int, index: int) -> None:
    assert attenuation_bucket(attenuation) == index


@pytest.mark.parametrize(("days", "index"), DAYS_CASES)
def test_days_bucket_uses_greater_or_equal(days: int, index: int) -> None:
    assert days_since_exposure_bucket(days) == index


@pytest.mark.parametrize(("minutes", "index"), DURATION_CASES)
def test_duration_bucket_uses_less_or_equal(minutes: int, index: int) -> None:
    assert duration_bucket(minutes) == index


@pytest.mark.parametrize(("trl", "index"), [(0, None), (1, 0), (2, 1), (7, 6), (8, 7)])
def test_transmission_risk_bucket_is_level_minus_one(trl: int, index: int | None) -> None:
    assert transmission_risk_bucket(trl) == index


@pytest.mark.parametrize("trl", [-1, 9])
def test_transmission_risk_bucket_rejects_levels_outside_0_to_8(trl: int) -> None:
    with pytest.raises(ValueError, match="transmission_risk_level"):
        transmission_risk_bucket(trl)


def distinct_config(minimum_risk_score: int = 1) -> ExposureConfiguration:
    """Scores that tell every bucket apart: index i scores i + 1 (TRL: 8 − i)."""
    return ExposureConfiguration(
        minimum_risk_score=minimum_risk_score,
        attenuation_scores=(1, 2, 3, 4, 5, 6, 7, 8),
        days_since_last_exposure_scores=(1, 2, 3, 4, 5, 6, 7, 8),
        duration_scores=(1, 2, 3, 4, 5, 6, 7, 8),
        transmission_risk_scores=(8, 7, 6, 5, 4, 3, 2, 1),
    )


def test_risk_score_is_the_product_of_the_four_bucket_scores() -> None:
    config = distinct_config()
    score = config.risk_score(
        attenuation_db=63, days_since_exposure=2, duration_minutes=20, transmission_risk_level=3
    )
    assert score == 3 * 7 * 5 * 6


def test_risk_score_treats_trl_zero_as_factor_one() -> None:
    config = distinct_config()
    score = config.risk_score(
        attenuation_db=0, days_since_exposure=0, duration_minutes=31, transmission_risk_level=0
    )
    assert score == 8 * 8 * 8 * 1


def test_risk_score_reaches_4096_at_most() -> None:
    config = ExposureConfiguration(
        minimum_risk_score=4096,
        attenuation_scores=(8,) * 8,
        days_since_last_exposure_scores=(8,) * 8,
        duration_scores=(8,) * 8,
        transmission_risk_scores=(8,) * 8,
    )
    assert (
        config.risk_score(
            attenuation_db=0, days_since_exposure=0, duration_minutes=5, transmission_risk_level=8
        )
        == 4096
    )


@pytest.mark.parametrize(("minimum", "expected"), [(104, 105), (105, 105), (106, 0)])
def test_scores_below_the_minimum_become_zero(minimum: int, expected: int) -> None:
    config = distinct_config(minimum)
    score = config.risk_score(
        attenuation_db=63, days_since_exposure=2, duration_minutes=20, transmission_risk_level=8
    )  # 3 × 7 × 5 × 1
    assert score == expected


def test_defaults_are_the_google_builder_defaults() -> None:
    config = ExposureConfiguration()
    assert config.minimum_risk_score == 4
    assert config.attenuation_scores == config.duration_scores == (4,) * 8
    assert config.attenuation_weight == config.transmission_risk_weight == 50
    assert config.duration_at_attenuation_thresholds == (50, 74)


def test_lists_are_stored_as_tuples() -> None:
    config = ExposureConfiguration(attenuation_scores=[0, 1, 2, 3, 4, 5, 6, 7])  # type: ignore[arg-type]
    assert config.attenuation_scores == (0, 1, 2, 3, 4, 5, 6, 7)
    hash(config)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"minimum_risk_score": 0}, "minimum_risk_score"),
        ({"minimum_risk_score": 4097}, "minimum_risk_score"),
        ({"attenuation_scores": (1,) * 7}, "attenuation_scores"),
        ({"attenuation_scores": (1,) * 9}, "attenuation_scores"),
        ({"duration_scores": (0, 0, 0, 0, 9, 0, 0, 0)}, r"duration_scores\[4\]"),
        ({"days_since_last_exposure_scores": (-1,) * 8}, r"days_since_last_exposure_scores\[0\]"),
        ({"transmission_risk_scores": ()}, "transmission_risk_scores"),
        ({"attenuation_weight": 101}, "attenuation_weight"),
        ({"duration_weight": -1}, "duration_weight"),
        ({"attenuation_thresholds": (50,)}, "attenuation_thresholds"),
        ({"attenuation_thresholds": (50, 256)}, r"attenuation_thresholds\[1\]"),
        ({"attenuation_thresholds": (-1, 50)}, r"attenuation_thresholds\[0\]"),
        ({"attenuation_thresholds": (70, 50)}, "attenuation_thresholds"),
    ],
)
def test_bad_configurations_name_the_field(fields: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ExposureConfiguration(**fields)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"minimum_risk_score": 1.0}, "minimum_risk_score"),
        ({"attenuation_scores": "01234567"}, "attenuation_scores"),
        ({"duration_scores": (True,) * 8}, r"duration_scores\[0\]"),
        ({"duration_weight": None}, "duration_weight"),
    ],
)
def test_wrongly_typed_configurations_raise_type_error(fields: dict[str, Any], name: str) -> None:
    with pytest.raises(TypeError, match=name):
        ExposureConfiguration(**fields)


def test_equal_thresholds_are_allowed() -> None:
    assert ExposureConfiguration(attenuation_thresholds=(60, 60)).attenuation_thresholds == (60, 60)


def test_from_immuni_settings_reads_the_object_or_the_whole_payload() -> None:
    inner = ExposureConfiguration.from_immuni_settings(IMMUNI_EXPOSURE_CONFIGURATION)
    payload = {"exposure_configuration": IMMUNI_EXPOSURE_CONFIGURATION, "faq_url": {}}
    assert ExposureConfiguration.from_immuni_settings(payload) == inner
    assert inner.attenuation_scores == (0, 0, 5, 5, 5, 5, 5, 5)
    assert inner.attenuation_thresholds == (50, 70)
    assert inner.minimum_risk_score == 1


def test_from_immuni_settings_ignores_unknown_keys() -> None:
    settings = {**IMMUNI_EXPOSURE_CONFIGURATION, "future_key": [1, 2]}
    assert ExposureConfiguration.from_immuni_settings(settings).duration_weight == 1


@pytest.mark.parametrize("missing", sorted(IMMUNI_EXPOSURE_CONFIGURATION))
def test_from_immuni_settings_names_a_missing_key(missing: str) -> None:
    settings = {k: v for k, v in IMMUNI_EXPOSURE_CONFIGURATION.items() if k != missing}
    with pytest.raises(MalformedWireMessage, match=f"exposure_configuration.{missing} is missing"):
        ExposureConfiguration.from_immuni_settings(settings)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "attenuation_bucket_scores",
            [0, 0, "5", 5, 5, 5, 5, 5],
            r"attenuation_bucket_scores\[2\]",
        ),
        ("duration_bucket_scores", [0] * 9, "duration_bucket_scores must have exactly 8"),
        ("minimum_risk_score", 0, "minimum_risk_score"),
        ("attenuation_thresholds", [70, 50], "attenuation_thresholds"),
        ("transmission_risk_weight", "1", "transmission_risk_weight"),
        ("days_since_last_exposure_bucket_scores", {"0": 1}, "days_since_last_exposure_bucket"),
    ],
)
def test_from_immuni_settings_rejects_malformed_values(key: str, value: Any, message: str) -> None:
    settings = {**IMMUNI_EXPOSURE_CONFIGURATION, key: value}
    with pytest.raises(MalformedWireMessage, match=message):
        ExposureConfiguration.from_immuni_settings(settings)


def test_from_immuni_settings_rejects_a_non_object() -> None:
    with pytest.raises(MalformedWireMessage, match="must be an object"):
        ExposureConfiguration.from_immuni_settings({"exposure_configuration": [1, 2]})
