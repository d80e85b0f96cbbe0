"""GAEN v1 risk configuration: the four 8-entry score arrays, their buckets and the product.

protocol.md §13.1–§13.3 (INT ``ExposureConfiguration``, ``RiskScoreCalculator``,
``ContactTracingFeature``)::

    RiskScore = attenuationScore × daysSinceLastExposureScore
                × durationScore × transmissionRiskScore

Rules of this module:

1. Bucket indices are found by testing the bounds from index 0 upwards and taking the first
   that holds, with exactly the comparisons of the Google code: attenuation ``>`` (so 63 dB
   is *not* > 63 and lands in index 2), days ``≥``, duration ``≤`` (whole minutes, truncated).
2. The ``*_weight`` fields are carried and validated but never applied: the weights are
   "reserved for future use" (protocol.md §13.1; Apple: "This weight parameter is not used").
3. A score below ``minimum_risk_score`` becomes 0 (§13.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from notifica.protocol.errors import MalformedWireMessage

__all__ = [
    "ATTENUATION_BUCKET_BOUNDS_DB",
    "DAYS_BUCKET_BOUNDS",
    "DURATION_BUCKET_BOUNDS_MIN",
    "ExposureConfiguration",
    "attenuation_bucket",
    "days_since_exposure_bucket",
    "duration_bucket",
    "transmission_risk_bucket",
]

ATTENUATION_BUCKET_BOUNDS_DB: Final = (73, 63, 51, 33, 27, 15, 10)
"""Index i while ``attenuation > bound[i]``; 7 when ≤ 10 dB (INT
``riskScoreAttenuationValueBuckets``; protocol.md §13.2)."""

DAYS_BUCKET_BOUNDS: Final = (14, 12, 10, 8, 6, 4, 2)
"""Index i while ``days ≥ bound[i]``; 7 otherwise (INT ``riskScoreLatencyDaysBuckets``)."""

DURATION_BUCKET_BOUNDS_MIN: Final = (0, 5, 10, 15, 20, 25, 30)
"""Index i while ``minutes ≤ bound[i]``; 7 when > 30 (INT ``riskScoreDurationBuckets``)."""

_SCORE_ARRAYS = (
    "attenuation_scores",
    "days_since_last_exposure_scores",
    "duration_scores",
    "transmission_risk_scores",
)
_WEIGHTS = (
    "attenuation_weight",
    "days_since_last_exposure_weight",
    "duration_weight",
    "transmission_risk_weight",
)
_DEFAULT_SCORES = (4, 4, 4, 4, 4, 4, 4, 4)
"""The Google builder's defaults: every score 4, weights 50, minimum 4, thresholds
[50, 74] (protocol.md §13.3)."""

_IMMUNI_KEYS: Final = {
    "minimum_risk_score": "minimum_risk_score",
    "attenuation_bucket_scores": "attenuation_scores",
    "attenuation_weight": "attenuation_weight",
    "days_since_last_exposure_bucket_scores": "days_since_last_exposure_scores",
    "days_since_last_exposure_weight": "days_since_last_exposure_weight",
    "duration_bucket_scores": "duration_scores",
    "duration_weight": "duration_weight",
    "transmission_risk_bucket_scores": "transmission_risk_scores",
    "transmission_risk_weight": "transmission_risk_weight",
    "attenuation_thresholds": "attenuation_thresholds",
}
"""Immuni's ``exposure_configuration`` JSON keys → field names (immuni-api.md §8)."""


def attenuation_bucket(attenuation_db: int) -> int:
    """Index 0..7 of an attenuation: ``> 73`` → 0, …, ``> 10`` → 6, ``≤ 10`` → 7 (§13.2)."""
    for index, bound in enumerate(ATTENUATION_BUCKET_BOUNDS_DB):
        if attenuation_db > bound:
            return index
    return len(ATTENUATION_BUCKET_BOUNDS_DB)


def days_since_exposure_bucket(days: int) -> int:
    """Index 0..7 of days since exposure: ``≥ 14`` → 0, …, ``≥ 2`` → 6, else 7 (§13.2)."""
    for index, bound in enumerate(DAYS_BUCKET_BOUNDS):
        if days >= bound:
            return index
    return len(DAYS_BUCKET_BOUNDS)


def duration_bucket(duration_minutes: int) -> int:
    """Index 0..7 of a duration in whole minutes (§13.2).

    ``== 0`` → 0 (the code tests ``≤ 0``), ``≤ 5`` → 1, …, ``≤ 30`` → 6, ``> 30`` → 7.
    """
    for index, bound in enumerate(DURATION_BUCKET_BOUNDS_MIN):
        if duration_minutes <= bound:
            return index
    return len(DURATION_BUCKET_BOUNDS_MIN)


def transmission_risk_bucket(transmission_risk_level: int) -> int | None:
    """Index TRL − 1 for TRL 1..8; ``None`` for TRL 0 (INVALID), whose factor is 1 (§13.2).

    Raises:
        ValueError: for a level outside 0..8.
    """
    if not 0 <= transmission_risk_level <= 8:
        raise ValueError(f"transmission_risk_level must be in 0..8, got {transmission_risk_level}")
    return None if transmission_risk_level == 0 else transmission_risk_level - 1


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")


def _int_tuple(name: str, values: object, length: int, low: int, high: int) -> tuple[int, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of {length} ints, got {type(values).__name__}")
    if len(values) != length:
        raise ValueError(f"{name} must have exactly {length} entries, got {len(values)}")
    for index, value in enumerate(values):
        _check_int(f"{name}[{index}]", value, low, high)
    return tuple(values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureConfiguration:
    """GAEN v1 ``ExposureConfiguration``, validated as the Google builder does (§13.3).

    Defaults are the Google builder's. ``attenuation_thresholds`` is Google's
    ``durationAtAttenuationThresholds`` (Apple ``attenuationDurationThresholds``, Immuni
    ``attenuation_thresholds``): the low and high bounds of the three attenuation durations.
    Lists are accepted and stored as tuples.
    """

    minimum_risk_score: int = 4
    attenuation_scores: tuple[int, ...] = _DEFAULT_SCORES
    attenuation_weight: int = 50
    days_since_last_exposure_scores: tuple[int, ...] = _DEFAULT_SCORES
    days_since_last_exposure_weight: int = 50
    duration_scores: tuple[int, ...] = _DEFAULT_SCORES
    duration_weight: int = 50
    transmission_risk_scores: tuple[int, ...] = _DEFAULT_SCORES
    transmission_risk_weight: int = 50
    attenuation_thresholds: tuple[int, int] = (50, 74)

    def __post_init__(self) -> None:
        _check_int("minimum_risk_score", self.minimum_risk_score, 1, 4096)
        for name in _SCORE_ARRAYS:
            object.__setattr__(self, name, _int_tuple(name, getattr(self, name), 8, 0, 8))
        for name in _WEIGHTS:
            _check_int(name, getattr(self, name), 0, 100)
        low, high = _int_tuple("attenuation_thresholds", self.attenuation_thresholds, 2, 0, 255)
        if low > high:
            raise ValueError(
                f"attenuation_thresholds must be in order (low ≤ high), got [{low}, {high}]"
            )
        object.__setattr__(self, "attenuation_thresholds", (low, high))

    @property
    def duration_at_attenuation_thresholds(self) -> tuple[int, int]:
        """Google's name for `attenuation_thresholds`."""
        return self.attenuation_thresholds

    @classmethod
    def from_immuni_settings(cls, settings: Mapping[str, object]) -> ExposureConfiguration:
        """Read Immuni's ``exposure_configuration`` object (immuni-api.md §8).

        `settings` is either that object or the whole settings payload holding it under
        ``"exposure_configuration"``. All ten keys are required, as the apps' decoders require
        them; unknown keys are ignored (later settings versions added some).

        Raises:
            MalformedWireMessage: for a missing key or a value of the wrong type or range; the
                message names the JSON key.
        """
        inner = settings.get("exposure_configuration", settings)
        if not isinstance(inner, Mapping):
            raise MalformedWireMessage(
                f"exposure_configuration must be an object, got {type(inner).__name__}"
            )
        values: dict[str, object] = {}
        for json_key, field_name in _IMMUNI_KEYS.items():
            if json_key not in inner:
                raise MalformedWireMessage(f"exposure_configuration.{json_key} is missing")
            value = inner[json_key]
            values[field_name] = tuple(value) if isinstance(value, list) else value
        try:
            return cls(**values)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise MalformedWireMessage(f"exposure_configuration: {_immuni_message(exc)}") from exc

    def risk_score(
        self,
        *,
        attenuation_db: int,
        days_since_exposure: int,
        duration_minutes: int,
        transmission_risk_level: int,
    ) -> int:
        """The v1 product score 0..4096, or 0 below ``minimum_risk_score`` (§13.1).

        A transmission risk level of 0 contributes a factor of 1 (INT ``RiskScoreCalculator``).
        """
        trl_index = transmission_risk_bucket(transmission_risk_level)
        score = (
            self.attenuation_scores[attenuation_bucket(attenuation_db)]
            * self.days_since_last_exposure_scores[days_since_exposure_bucket(days_since_exposure)]
            * self.duration_scores[duration_bucket(duration_minutes)]
            * (1 if trl_index is None else self.transmission_risk_scores[trl_index])
        )
        return score if score >= self.minimum_risk_score else 0


def _immuni_message(exc: Exception) -> str:
    """The validation message with field names spelled as Immuni's JSON keys."""
    message = str(exc)
    for json_key, field_name in _IMMUNI_KEYS.items():
        if json_key != field_name and message.startswith(field_name):
            return json_key + message[len(field_name) :]
    return message
