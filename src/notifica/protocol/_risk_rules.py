"""Decision rules: when does a phone tell its user "you were exposed"?

Two rules behind one small interface, so that the phone engine (and the simulator) can switch
between them by a setting:

- `ImmuniRiskRule`, GAEN v1 as Immuni ran it (immuni-api.md §9.3): notify when the v1
  summary has matches and ``maximumRiskScore ≥ exposure_info_minimum_risk_score``. The last
  contact date is, as on iOS, the latest date among the exposure infos whose
  ``totalRiskScore`` reaches that threshold; Android's variant (detection day minus
  ``daysSinceLastExposure``) is selectable.
- `DailySummaryRiskRule`, a GAEN v2 rule: notify when some UTC day's score (its ``scoreSum``
  or its ``maximumScore``) reaches a threshold in weighted seconds; the last contact date is
  the latest such day. Immuni never shipped v2. This is the shape Apple's
  ``ENExposureConfiguration`` overview describes: a per-day "Exposure Risk Value" in
  meaningful exposure minutes (returned as seconds) against a threshold that the health
  authority chooses, here a parameter.

What the rules do not do: they keep no state. "Already positive → never notify", "notify only
when the last contact date moves later" and the 14-day validity of an alert
(immuni-api.md §9.3 steps 2–3, 6) belong to the phone's state machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol, runtime_checkable

from notifica.protocol._risk_inputs import SECONDS_PER_DAY, KeyExposure
from notifica.protocol._risk_v1 import (
    ExposureInformation,
    ExposureSummary,
    summarize_exposures_v1,
)
from notifica.protocol._risk_v1_config import ExposureConfiguration
from notifica.protocol._risk_v2 import DiagnosisKeysDataMapping, exposure_windows
from notifica.protocol._risk_v2_summary import DailySummariesConfig, DailySummary, daily_summaries
from notifica.protocol.errors import MalformedWireMessage

__all__ = [
    "DailySummaryRiskRule",
    "ImmuniRiskRule",
    "RiskAssessment",
    "RiskRule",
]

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskAssessment:
    """The outcome of one detection: the decision and what it was based on.

    A v1 rule fills ``summary`` and ``infos``; a v2 rule fills ``daily_summaries``.
    """

    is_at_risk: bool
    last_contact_date: date | None
    summary: ExposureSummary | None = None
    infos: tuple[ExposureInformation, ...] = ()
    daily_summaries: tuple[DailySummary, ...] = ()

    def __post_init__(self) -> None:
        if self.is_at_risk != (self.last_contact_date is not None):
            raise ValueError("last_contact_date is set exactly when is_at_risk is true")


@runtime_checkable
class RiskRule(Protocol):
    """A decision rule over a detection's matched keys."""

    def assess(self, exposures: Sequence[KeyExposure], *, now_unix_s: int) -> RiskAssessment:
        """Decide whether these exposures put the user at risk at `now_unix_s`."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ImmuniRiskRule:
    """Immuni's decision on a GAEN v1 summary (immuni-api.md §8–§9.3).

    ``last_contact="ios"``: latest ``ExposureInformation.date`` with ``totalRiskScore ≥
    threshold``. ``"android"``: the detection's UTC day minus ``daysSinceLastExposure``, which
    counts every matched key, risky or not.
    """

    configuration: ExposureConfiguration
    exposure_info_minimum_risk_score: int
    last_contact: Literal["ios", "android"] = "ios"
    enable_recursive: bool = False

    def __post_init__(self) -> None:
        threshold = self.exposure_info_minimum_risk_score
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            raise TypeError("exposure_info_minimum_risk_score must be an int")
        if not 0 <= threshold <= 4096:
            raise ValueError(
                f"exposure_info_minimum_risk_score must be in 0..4096, got {threshold}"
            )
        if self.last_contact not in ("ios", "android"):
            raise ValueError(f"last_contact must be 'ios' or 'android', got {self.last_contact!r}")

    @classmethod
    def from_immuni_settings(cls, settings: Mapping[str, object]) -> ImmuniRiskRule:
        """The rule of an Immuni settings payload (immuni-api.md §8).

        Raises:
            MalformedWireMessage: for a missing or malformed ``exposure_configuration`` or
                ``exposure_info_minimum_risk_score``.
        """
        configuration = ExposureConfiguration.from_immuni_settings(settings)
        threshold = settings.get("exposure_info_minimum_risk_score")
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            raise MalformedWireMessage(
                f"exposure_info_minimum_risk_score must be an int ≥ 0, got {threshold!r}"
            )
        return cls(configuration=configuration, exposure_info_minimum_risk_score=threshold)

    def assess(self, exposures: Sequence[KeyExposure], *, now_unix_s: int) -> RiskAssessment:
        """Score with v1 and apply Immuni's threshold (immuni-api.md §9.3 steps 1–3)."""
        summary, infos = summarize_exposures_v1(
            exposures,
            self.configuration,
            now_unix_s=now_unix_s,
            enable_recursive=self.enable_recursive,
        )
        threshold = self.exposure_info_minimum_risk_score
        at_risk = summary.matched_key_count > 0 and summary.maximum_risk_score >= threshold
        last: date | None = None
        if at_risk and self.last_contact == "ios":
            last = max(info.date for info in infos if info.total_risk_score >= threshold)
        elif at_risk:
            today = now_unix_s // SECONDS_PER_DAY
            last = _EPOCH + timedelta(days=today - summary.days_since_last_exposure)
        return RiskAssessment(
            is_at_risk=at_risk, last_contact_date=last, summary=summary, infos=tuple(infos)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DailySummaryRiskRule:
    """A GAEN v2 decision: a day whose score reaches ``minimum_daily_score_s`` is risky.

    ``aggregate="sum"`` compares the day's ``scoreSum`` (several short windows of the day add
    up); ``"max"`` compares its best window's ``maximumScore``. With every weight at 1.0 the
    scores are seconds, so 900 means "15 minutes at full weight".
    """

    config: DailySummariesConfig
    mapping: DiagnosisKeysDataMapping
    minimum_daily_score_s: float
    aggregate: Literal["sum", "max"] = "sum"
    enable_recursive: bool = False

    def __post_init__(self) -> None:
        if not self.minimum_daily_score_s >= 0:
            raise ValueError(f"minimum_daily_score_s must be ≥ 0, got {self.minimum_daily_score_s}")
        if self.aggregate not in ("sum", "max"):
            raise ValueError(f"aggregate must be 'sum' or 'max', got {self.aggregate!r}")

    def assess(self, exposures: Sequence[KeyExposure], *, now_unix_s: int) -> RiskAssessment:
        """Build windows and daily summaries, then flag days over the threshold."""
        windows = exposure_windows(exposures, self.mapping, enable_recursive=self.enable_recursive)
        summaries = daily_summaries(windows, self.config, now_unix_s=now_unix_s)
        risky = [
            summary.days_since_epoch
            for summary in summaries
            if self._score(summary) >= self.minimum_daily_score_s
        ]
        last = _EPOCH + timedelta(days=max(risky)) if risky else None
        return RiskAssessment(
            is_at_risk=bool(risky), last_contact_date=last, daily_summaries=tuple(summaries)
        )

    def _score(self, summary: DailySummary) -> float:
        data = summary.summary_data
        return data.score_sum if self.aggregate == "sum" else data.maximum_score
