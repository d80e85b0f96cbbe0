"""The residents of one province: ages, households, classes, work teams, commuters, adopters.

Built vectorised from the scenario (`build_population`); held columnar (`Population`): one
array per attribute, one entry per resident, never one object per person.

Construction, in order (each step documented in `docs/sim-design.md`, "Population"):

1. ages from ISTAT's age bands (uniform within a band);
2. household sizes from ISTAT's shares; the youngest residents fill the "child" places of
   households of three or more, adults are matched to places by a target age (parents about
   30 years older than their children, couples of similar age), so the age structure is exact;
3. pupils in classes of one birth year, each with one employed adult as teacher;
4. the employed in teams who share an office daily;
5. commuters by public transport among workers and pupils aged 11+;
6. adopters by age-weighted probability scaled to the target share, and their phones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from notifica.sim._groups import Groups
from notifica.sim._params_world import AGE_DISTRIBUTION_EDGES, DECADE_BANDS
from notifica.sim.devices import Devices, DeviceSampler, assign_devices
from notifica.sim.scenario import Scenario
from notifica.sim.seeds import Seeds

__all__ = ["Population", "adoption_probability", "build_population", "decade_band"]

#: Parents are about this many years older than their children (ISTAT: mean age of mothers at
#: birth 32.1 in 2019; assumption for the spread).
PARENT_AGE_GAP_YR = 30.0
#: Typical age gap between siblings (assumption).
SIBLING_GAP_YR = 3.0
#: Pupils from this age can commute alone by public transport (assumption: secondary school).
TRANSIT_MIN_PUPIL_AGE_YR = 11


@dataclass(frozen=True, slots=True, eq=False)
class Population:
    """Residents of one shard, columnar. Person ids are 0..size-1 within the shard."""

    province: str
    age: npt.NDArray[np.uint8]
    households: Groups
    classes: Groups
    teams: Groups
    transit: npt.NDArray[np.bool_]
    adopter: npt.NDArray[np.bool_]
    devices: Devices

    @property
    def size(self) -> int:
        """Number of residents."""
        return len(self.age)

    def decade(self) -> npt.NDArray[np.int8]:
        """Ten-year age band of each resident (0 for 0-9, ..., 8 for 80+)."""
        return decade_band(self.age)


def decade_band(age: npt.NDArray[np.integer]) -> npt.NDArray[np.int8]:
    """Ten-year band index 0..8 of ages (80 and over share band 8)."""
    band: npt.NDArray[np.int8] = np.minimum(np.asarray(age) // 10, DECADE_BANDS - 1).astype(np.int8)
    return band


def build_population(
    scenario: Scenario,
    *,
    size: int,
    seeds: Seeds,
    province: str = "",
    devices: DeviceSampler | None = None,
) -> Population:
    """Build `size` residents of one province from the scenario.

    Args:
        scenario: the parameters (population, adoption, radio for device errors).
        size: residents in this shard.
        seeds: the shard's random streams (stream ``"population"``, ``"devices"``).
        province: the province code, kept for reports.
        devices: Android device models for adopters; ``None`` gives every Android phone the
            table's fallback values (fine for runs without phones).

    Raises:
        ValueError: `size` < 1.
    """
    if size < 1:
        raise ValueError(f"a population needs at least one resident, got {size}")
    rng = seeds.generator("population")
    params = scenario.population
    age = _draw_ages(rng, params.age_distribution, size)
    households = _build_households(rng, age, params.household_size_shares)
    classes, teachers = _build_classes(rng, age, scenario)
    teams, workers = _build_teams(rng, age, classes, teachers, scenario)
    transit = np.zeros(size, dtype=bool)
    transit[workers] = rng.random(len(workers)) < params.transit_share_workers
    pupils = classes.members[age[classes.members] >= TRANSIT_MIN_PUPIL_AGE_YR]
    pupils = pupils[~np.isin(pupils, teachers)]
    transit[pupils] = rng.random(len(pupils)) < params.transit_share_students
    probability = adoption_probability(age, scenario)
    adopter = rng.random(size) < probability
    phones = assign_devices(
        seeds.generator("devices"),
        adopter,
        ios_share=scenario.adoption.ios_share,
        radio=scenario.radio,
        sampler=devices,
    )
    return Population(province, age, households, classes, teams, transit, adopter, phones)


def _draw_ages(
    rng: np.random.Generator, counts: tuple[int, ...], size: int
) -> npt.NDArray[np.uint8]:
    shares = np.asarray(counts, dtype=float) / sum(counts)
    band = rng.choice(len(shares), size=size, p=shares)
    low = np.asarray(AGE_DISTRIBUTION_EDGES[:-1])[band]
    width = np.diff(AGE_DISTRIBUTION_EDGES)[band]
    return (low + np.floor(rng.random(size) * width)).astype(np.uint8)


def _household_sizes(
    rng: np.random.Generator, shares: tuple[float, ...], size: int
) -> npt.NDArray[np.int64]:
    mean = float(np.dot(np.arange(1, len(shares) + 1), shares))
    draws = rng.choice(np.arange(1, len(shares) + 1), size=int(size / mean * 1.2) + 10, p=shares)
    total = np.cumsum(draws)
    n = int(np.searchsorted(total, size)) + 1
    sizes = draws[:n].copy()
    sizes[-1] -= int(total[n - 1]) - size
    return sizes[sizes > 0]


def _build_households(
    rng: np.random.Generator, age: npt.NDArray[np.uint8], shares: tuple[float, ...]
) -> Groups:
    size = len(age)
    sizes = _household_sizes(rng, shares, size)
    n_households = len(sizes)
    house = np.repeat(np.arange(n_households), sizes)
    slot = np.arange(size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    is_child_slot = slot >= 2
    # The youngest residents take the child places, siblings close in age.
    by_age = np.lexsort((rng.random(size), age))
    n_child = int(is_child_slot.sum())
    children, adults = by_age[:n_child], by_age[n_child:]
    # Children are matched to places by rank of a target age: a random family age plus about
    # SIBLING_GAP_YR per younger sibling.
    child_slots = np.flatnonzero(is_child_slot)
    family_age = rng.random(n_households) * max(float(age[children].max(initial=0)), 1.0)
    child_target = family_age[house[child_slots]] - SIBLING_GAP_YR * (slot[child_slots] - 2)
    child_target += rng.normal(0, 1, len(child_slots))
    member = np.empty(size, dtype=np.int64)
    member[child_slots[np.argsort(child_target, kind="stable")]] = children
    # Adults are matched to places by rank of a target age.
    child_age_sum = np.bincount(
        house[child_slots], weights=age[member[child_slots]], minlength=n_households
    )
    child_count = np.bincount(house[child_slots], minlength=n_households)
    target = np.where(
        child_count > 0,
        child_age_sum / np.maximum(child_count, 1)
        + PARENT_AGE_GAP_YR
        + rng.normal(0, 3, n_households),
        rng.choice(age[adults].astype(float), n_households) + rng.normal(0, 2, n_households),
    )
    adult_slots = np.flatnonzero(~is_child_slot)
    slot_target = target[house[adult_slots]] + rng.normal(0, 3, len(adult_slots))
    member[adult_slots[np.argsort(slot_target, kind="stable")]] = adults
    return Groups.from_sizes(member, sizes)


def _build_classes(
    rng: np.random.Generator, age: npt.NDArray[np.uint8], scenario: Scenario
) -> tuple[Groups, npt.NDArray[np.int64]]:
    params = scenario.population
    school_age = (age >= params.school_age_min_yr) & (age <= params.school_age_max_yr)
    pupils = np.flatnonzero(school_age & (rng.random(len(age)) < params.school_enrollment))
    pupils = pupils[np.lexsort((rng.random(len(pupils)), age[pupils]))]
    cohort_ages, cohort_sizes = np.unique(age[pupils], return_counts=True)
    per_cohort = np.maximum(1, np.rint(cohort_sizes / params.class_size)).astype(np.int64)
    cohort_first_class = np.cumsum(per_cohort) - per_cohort
    cohort_of = np.searchsorted(cohort_ages, age[pupils])
    rank = np.arange(len(pupils)) - np.repeat(np.cumsum(cohort_sizes) - cohort_sizes, cohort_sizes)
    label = np.full(len(age), -1, dtype=np.int64)
    label[pupils] = cohort_first_class[cohort_of] + rank % per_cohort[cohort_of]
    n_classes = int(per_cohort.sum()) if len(pupils) else 0
    # One teacher per class, from employed adults aged 25-64.
    candidates = np.flatnonzero((age >= 25) & (age < 65) & (label < 0))
    employed = candidates[rng.random(len(candidates)) < _employment(age[candidates], scenario)]
    teachers = rng.permutation(employed)[:n_classes]
    label[teachers] = np.arange(len(teachers))
    return Groups.from_labels(label, n_classes), np.sort(teachers)


def _employment(age: npt.NDArray[np.uint8], scenario: Scenario) -> npt.NDArray[np.float64]:
    return np.asarray(scenario.population.employment_by_age)[decade_band(age)]


def _build_teams(
    rng: np.random.Generator,
    age: npt.NDArray[np.uint8],
    classes: Groups,
    teachers: npt.NDArray[np.int64],
    scenario: Scenario,
) -> tuple[Groups, npt.NDArray[np.int64]]:
    employed = rng.random(len(age)) < _employment(age, scenario)
    employed[classes.members] = False  # pupils and teachers (already at school)
    workers = rng.permutation(np.flatnonzero(employed))
    team_size = scenario.population.team_size
    n_teams = max(1, len(workers) // team_size) if len(workers) else 0
    label = np.full(len(age), -1, dtype=np.int64)
    label[workers] = np.arange(len(workers)) % max(n_teams, 1)
    return Groups.from_labels(label, n_teams), np.concatenate([np.sort(workers), teachers])


def adoption_probability(
    age: npt.NDArray[np.integer], scenario: Scenario
) -> npt.NDArray[np.float64]:
    """Probability that each resident adopts the app.

    Eligible residents (age ≥ ``adoption.min_age``) adopt with probability ``min(1, c·w)``,
    `w` their band's ``age_weights`` entry and `c` chosen so that the mean over the eligible
    is ``adoption.overall`` (as far as weights allow; found by bisection).
    """
    params = scenario.adoption
    eligible = np.asarray(age) >= params.min_age_yr
    weight = np.where(eligible, np.asarray(params.age_weights)[decade_band(np.asarray(age))], 0.0)
    n_eligible = int(eligible.sum())
    if n_eligible == 0 or params.overall == 0 or not weight.any():
        return np.zeros(len(weight))
    target = params.overall * n_eligible
    low, high = 0.0, 1.0 / float(weight[weight > 0].min())
    if np.minimum(1.0, high * weight).sum() <= target:
        return _capped(high, weight)
    for _ in range(60):
        middle = (low + high) / 2
        if np.minimum(1.0, middle * weight).sum() < target:
            low = middle
        else:
            high = middle
    return _capped(high, weight)


def _capped(scale: float, weight: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    probability: npt.NDArray[np.float64] = np.minimum(1.0, scale * weight)
    return probability
