"""Scenario sections for the disease, testing and the app's public-health use.

Sources: Ferretti et al., Science 368:eabb6936 (2020) (sim §4.2) for the infectiousness profile;
OpenABM (sim §3.1) for testing and compliance; Immuni (immuni §8, §9) for the app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from notifica.protocol import IMMUNI_PRESETS
from notifica.sim._params_world import DECADE_BANDS
from notifica.sim._schema import Invalid, Section, param

__all__ = ["RISK_RULES", "AppParams", "EpidemicParams", "TestingParams"]

#: Risk rules the orchestration can apply: the Immuni presets (`notifica.protocol.IMMUNI_PRESETS`),
#: GAEN v2 daily summaries, or a rule set exactly at the ground-truth thresholds (sanity runs).
RISK_RULES = (*IMMUNI_PRESETS, "v2", "ground-truth")
_FERRETTI = "Ferretti et al. 2020 (sim §4.2)"


@dataclass(frozen=True, slots=True, kw_only=True)
class EpidemicParams(Section):
    """Infectiousness, dose and natural history (see `docs/sim-design.md`, "Dose model")."""

    transmission_rate_per_min: float = param(
        1.8e-3,
        unit="/min",
        ge=0,
        le=10,
        source="calibrated: R0 ≈ 2.0 as Ferretti (sim §4.2) without testing (docs/sim-design.md)",
        doc="infection hazard per minute at 1 m at peak infectiousness",
    )
    distance_decay_per_m: float = param(
        0.703,
        unit="/m",
        ge=0,
        le=10,
        source="Chu et al., Lancet 395:1973 (2020): RR 2.02 per metre (verify)",
        doc="exponential fall of the dose with distance beyond 1 m",
    )
    min_distance_m: float = param(
        0.3,
        unit="m",
        gt=0,
        le=10,
        source="assumption: closer is no worse",
        doc="distances below this count as this",
    )
    generation_shape: float = param(
        2.826,
        gt=0,
        le=20,
        source=_FERRETTI + ": Weibull generation time, mean 5.0 d",
        doc="infectiousness profile: Weibull shape",
    )
    generation_scale_d: float = param(
        5.665, unit="d", gt=0, le=60, source=_FERRETTI, doc="infectiousness profile: Weibull scale"
    )
    latent_period_d: float = param(
        1.0,
        unit="d",
        ge=0,
        le=14,
        source="assumption: removes < 1 % of Ferretti's profile",
        doc="no transmission before this",
    )
    infectious_period_d: float = param(
        12.0,
        unit="d",
        gt=0,
        le=60,
        source="Weibull 99.9 % quantile of the profile",
        doc="recovered (not infectious, immune) after this",
    )
    incubation_median_d: float = param(
        5.14,
        unit="d",
        gt=0,
        le=60,
        source="log-normal mean 5.5 d, SD 2.1 d (Lauer et al., as used by " + _FERRETTI + ")",
        doc="median incubation",
    )
    incubation_sigma: float = param(
        0.369, ge=0, le=3, source="as incubation_median", doc="log-normal sigma of the incubation"
    )
    asymptomatic_fraction: float = param(
        0.4,
        ge=0,
        le=1,
        source=_FERRETTI + " (R_A = 0.1 of R0 = 2)",
        doc="share of infections without symptoms",
    )
    asymptomatic_infectiousness: float = param(
        0.1, ge=0, le=1, source=_FERRETTI, doc="relative infectiousness without symptoms"
    )
    susceptibility_by_age: tuple[float, ...] = param(
        (0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        ge=0,
        le=10,
        length=DECADE_BANDS,
        source="Davies et al., Nat Med 26:1205 (2020): under-20s half as susceptible (verify)",
        doc="relative susceptibility per ten-year band",
    )
    symptomatic_stay_home: float = param(
        0.3,
        ge=0,
        le=1,
        source="assumption",
        doc="probability that a symptomatic person stays home until recovery",
    )

    def check(self) -> None:
        if self.latent_period_d >= self.infectious_period_d:
            raise Invalid("latent_period", "must be shorter than infectious_period")
        if not math.isfinite(self.transmission_rate_per_min):
            raise Invalid("transmission_rate", "must be finite")


@dataclass(frozen=True, slots=True, kw_only=True)
class TestingParams(Section):
    """Testing after symptoms and isolation after a positive result."""

    symptomatic_test_probability: float = param(
        0.6,
        ge=0,
        le=1,
        source="assumption: share of symptomatic people who get a swab",
        doc="probability that symptoms lead to a test",
    )
    onset_to_test_d: float = param(
        2.0,
        unit="d",
        ge=0,
        le=30,
        source="assumption (OpenABM order wait 1 d, sim §3.1)",
        doc="symptom onset to swab",
    )
    test_to_result_d: float = param(
        1.0,
        unit="d",
        ge=0,
        le=30,
        source="OpenABM result wait 1 d (sim §3.1)",
        doc="swab to result",
    )
    sensitivity: float = param(
        0.8,
        ge=0,
        le=1,
        source="OpenABM test sensitivity (sim §3.1)",
        doc="probability that a test of a detectable case is positive",
    )
    detectable_after_d: float = param(
        3.0,
        unit="d",
        ge=0,
        le=30,
        source="OpenABM: tests insensitive the first 3 days (sim §3.1)",
        doc="time since infection before a test can be positive",
    )
    isolation_compliance: float = param(
        0.9,
        ge=0,
        le=1,
        source="OpenABM compliance after a positive test 0.9 (sim §3.1)",
        doc="probability that a positive person isolates",
    )
    isolation_period_d: float = param(
        10.0,
        unit="d",
        ge=0,
        le=60,
        source="Italian rule from 12 Oct 2020: 10 days",
        doc="isolation after a positive result",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AppParams(Section):
    """What the app and its users do (flows 4-7 of SYSTEM.md)."""

    reporting_probability: float = param(
        0.6,
        ge=0,
        le=1,
        source="CWA 60 % of positives shared, Zurich 324/537 (sim §4.4, §4.5)",
        doc="probability that a positive adopter uploads keys",
    )
    quarantine_compliance: float = param(
        0.5,
        ge=0,
        le=1,
        source="OpenABM initial quarantine compliance 0.5 (sim §3.1)",
        doc="probability that a notified person quarantines",
    )
    quarantine_period_d: float = param(
        14.0,
        unit="d",
        ge=0,
        le=60,
        source="Italian quarantine for close contacts, 2020: 14 days",
        doc="quarantine after a notification",
    )
    notified_test_probability: float = param(
        0.5, ge=0, le=1, source="assumption", doc="probability that a notified person gets a test"
    )
    detection_period_s: float = param(
        14400.0,
        unit="s",
        gt=0,
        le=7 * 86400,
        source="Immuni exposure_detection_period 4 h (immuni §8)",
        doc="time between exposure detections on a phone",
    )
    publish_period_s: float = param(
        21600.0,
        unit="s",
        gt=0,
        le=7 * 86400,
        source="Immuni batch period 6/12/24 h (immuni §5.3)",
        doc="time between published batches",
    )
    dummy_traffic: bool = param(
        True,
        source="Immuni traffic-analysis mitigation (immuni §6)",
        doc="phones send dummy uploads and analytics",
    )
    risk_rule: str = param(
        "immuni-2020-10-android",
        choices=RISK_RULES,
        source="Immuni settings history (immuni §8)",
        doc="risk rule deciding a notification",
    )
