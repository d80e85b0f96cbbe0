"""Scenario sections for the simulated world: people, app adoption, scanning.

Sources are cited as in `docs/reference/simulation.md` (``sim §n``), `protocol.md`
(``protocol §n``) and `immuni-api.md` (``immuni §n``). A value marked *assumption* has no
measured source; `docs/sim-design.md` explains the reasoning behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifica.sim._schema import Invalid, Section, param

__all__ = [
    "AGE_DISTRIBUTION_EDGES",
    "DECADE_BANDS",
    "AdoptionParams",
    "PopulationParams",
    "ScanningParams",
]

#: Lower edges (years) of the ISTAT age bands of `PopulationParams.age_distribution`; the last
#: band is 90–100 (ISTAT "90+").
AGE_DISTRIBUTION_EDGES = (0, 16, 20, 30, 40, 50, 60, 70, 80, 90, 101)
#: Number of ten-year bands (0–9, 10–19, ..., 80+) of the per-age parameters.
DECADE_BANDS = 9

_ISTAT_AGES = (
    "ISTAT residents on 1 Jan 2020 by age band (pcm-dpc/COVID-19 dati-statistici-riferimento/"
    "popolazione-istat-regione-range.csv @323a595 summed over regions; total 59,641,488)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationParams(Section):
    """Who lives in the simulated provinces: ages, households, schools, workplaces."""

    age_distribution: tuple[int, ...] = param(
        (8299764, 2298846, 6084382, 6854632, 8937229, 9414195, 7364364, 5968373, 3628160, 791543),
        ge=0,
        length=len(AGE_DISTRIBUTION_EDGES) - 1,
        source=_ISTAT_AGES,
        doc="residents per age band 0-15, 16-19, 20-29, ..., 80-89, 90+ (uniform within a band)",
    )
    household_size_shares: tuple[float, ...] = param(
        (0.351, 0.271, 0.185, 0.142, 0.037, 0.014),
        ge=0.0,
        le=1.0,
        length=6,
        source=(
            "ISTAT Censimento permanente 2018-2019: households on 31 Dec 2019 by size "
            "(ANSA, 7 Mar 2022); mean 2.29"
        ),
        doc="share of households with 1, 2, 3, 4, 5, 6+ members (6+ is built as 6)",
    )
    school_age_min_yr: float = param(
        3.0,
        unit="yr",
        ge=0,
        le=30,
        source="Italian school system: scuola dell'infanzia from 3",
        doc="youngest pupils",
    )
    school_age_max_yr: float = param(
        18.0,
        unit="yr",
        ge=0,
        le=30,
        source="Italian school system: secondaria di II grado to 18-19",
        doc="oldest pupils",
    )
    school_enrollment: float = param(
        0.95,
        ge=0,
        le=1,
        source="assumption: schooling compulsory 6-16, near-universal 3-18",
        doc="share of school-age children in a class",
    )
    class_size: int = param(
        21,
        ge=2,
        le=100,
        source="assumption: about 21 pupils per class in Italian state schools (verify)",
        doc="pupils per class (plus one teacher)",
    )
    employment_by_age: tuple[float, ...] = param(
        (0.0, 0.02, 0.43, 0.70, 0.73, 0.66, 0.27, 0.02, 0.0),
        ge=0,
        le=1,
        length=DECADE_BANDS,
        source="ISTAT labour-force survey 2019: employment 15-64 59.0 % (bands: verify)",
        doc="share employed outside the home per ten-year band 0-9, ..., 80+",
    )
    team_size: int = param(
        8,
        ge=2,
        le=200,
        source="OpenABM workplace network: adults meet ~7 colleagues a day (sim §3.1)",
        doc="colleagues who share an office or workshop daily",
    )
    transit_share_workers: float = param(
        0.15,
        ge=0,
        le=1,
        source="assumption: ISTAT 2019 commuting by public transport ~13-19 % of workers (verify)",
        doc="workers commuting by bus/tram/train",
    )
    transit_share_students: float = param(
        0.25,
        ge=0,
        le=1,
        source="assumption: ISTAT 2019 ~25 % of students 11-18 use public transport (verify)",
        doc="pupils aged 11+ commuting by bus/tram/train",
    )

    def check(self) -> None:
        if sum(self.age_distribution) <= 0:
            raise Invalid("age_distribution", "must count at least one resident")
        if abs(sum(self.household_size_shares) - 1.0) > 1e-6:
            raise Invalid(
                "household_size_shares", f"must sum to 1, got {sum(self.household_size_shares):g}"
            )
        if self.school_age_min_yr > self.school_age_max_yr:
            raise Invalid("school_age_min", "must not exceed school_age_max")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptionParams(Section):
    """Who installs the app (flows 1 and 6 of SYSTEM.md)."""

    overall: float = param(
        0.2,
        ge=0,
        le=1,
        source="Immuni downloads ≈17 % of Italians end-2020, NHS app 28 % (sim §4.1, §4.3)",
        doc="share of eligible residents (age ≥ min_age) with the app",
    )
    min_age_yr: float = param(
        14.0,
        unit="yr",
        ge=0,
        le=120,
        source="Immuni onboarding asks to confirm age ≥ 14 (immuni §9.1)",
        doc="youngest age allowed to use the app",
    )
    age_weights: tuple[float, ...] = param(
        (0.09, 0.80, 0.97, 0.96, 0.94, 0.86, 0.70, 0.48, 0.32),
        ge=0,
        le=1,
        length=DECADE_BANDS,
        source="OpenABM app_users_fraction by age (OFCOM smartphone ownership), sim §3.1",
        doc="relative propensity to adopt per ten-year band 0-9, ..., 80+",
    )
    ios_share: float = param(
        0.27,
        ge=0,
        le=1,
        source="Immuni downloads to 2022-05-30: 5.94 M iOS of 21.92 M (sim §4.3)",
        doc="share of adopters carrying an iPhone",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanningParams(Section):
    """When phones scan and how many advertisements a scan hears (protocol §8.2, §8.3)."""

    interval_min_s: float = param(
        210.0,
        unit="s",
        gt=0,
        le=3600,
        source="GMS: 300 s minus 0-89 s (protocol §8.3)",
        doc="shortest time between scans",
    )
    interval_max_s: float = param(
        300.0,
        unit="s",
        gt=0,
        le=3600,
        source="GMS scanIntervalSeconds (protocol §8.3)",
        doc="longest time between scans",
    )
    window_s: float = param(
        4.0,
        unit="s",
        gt=0,
        le=60,
        source="GMS scanTimeSeconds (protocol §8.3)",
        doc="scan duration",
    )
    advertising_interval_s: float = param(
        0.25,
        unit="s",
        gt=0,
        le=10,
        source="GMS ADVERTISE_MODE_BALANCED ≈ 250 ms (protocol §8.2)",
        doc="time between advertisements",
    )
    packet_loss: float = param(
        0.1,
        ge=0,
        lt=1,
        source="assumption: collisions and radio duty cycle (sim §1.1 term f)",
        doc="probability that one advertisement is not received",
    )

    def check(self) -> None:
        if self.interval_min_s > self.interval_max_s:
            raise Invalid("interval_min", "must not exceed interval_max")
