from __future__ import annotations

import numpy as np
import pytest

from notifica.phone.calibration import CalibrationTable
from notifica.sim import CalibrationTableSampler, Scenario, Seeds, build_population
from notifica.sim._params_world import AGE_DISTRIBUTION_EDGES
from notifica.sim.population import adoption_probability, decade_band


@pytest.fixture(scope="module")
def town() -> tuple[Scenario, object]:
    scenario = Scenario()
    return scenario, build_population(scenario, size=30000, seeds=Seeds(5), province="BO")


def test_age_structure_matches_istat(town) -> None:  # type: ignore[no-untyped-def]
    scenario, people = town
    counts = np.asarray(scenario.population.age_distribution, dtype=float)
    target = counts / counts.sum()
    band = np.searchsorted(AGE_DISTRIBUTION_EDGES, people.age, side="right") - 1
    observed = np.bincount(band, minlength=len(target)) / people.size
    assert np.abs(observed - target).max() < 0.01


def test_households_follow_istat_sizes_and_hold_everyone_once(town) -> None:  # type: ignore[no-untyped-def]
    scenario, people = town
    households = people.households
    assert sorted(households.members.tolist()) == list(range(people.size))
    shares = np.bincount(households.sizes, minlength=7)[1:] / len(households)
    assert np.abs(shares - np.asarray(scenario.population.household_size_shares)).max() < 0.02
    assert households.sizes.mean() == pytest.approx(2.29, abs=0.05)


def test_households_with_children_have_adults_about_a_generation_older(town) -> None:  # type: ignore[no-untyped-def]
    _, people = town
    households = people.households
    gaps = []
    for g in np.flatnonzero(households.sizes >= 3)[:500]:
        ages = people.age[households.members[households.offsets[g] : households.offsets[g + 1]]]
        gaps.append(int(ages[:2].min()) - int(ages[2:].max()))
    assert np.median(gaps) > 15


def test_classes_have_one_teacher_and_pupils_of_school_age(town) -> None:  # type: ignore[no-untyped-def]
    scenario, people = town
    classes = people.classes
    assert len(classes) > 0
    for g in range(len(classes)):
        ages = people.age[classes.members[classes.offsets[g] : classes.offsets[g + 1]]]
        adults = ages >= 25
        assert adults.sum() == 1
        assert ages[~adults].max() - ages[~adults].min() <= 1
    pupils_per_class = classes.sizes.mean() - 1
    assert pupils_per_class == pytest.approx(scenario.population.class_size, rel=0.25)


def test_everyone_is_in_at_most_one_class_or_team(town) -> None:  # type: ignore[no-untyped-def]
    _, people = town
    members = np.concatenate([people.classes.members, people.teams.members])
    assert len(np.unique(members)) == len(members)
    employed_share = (len(people.teams.members) + len(people.classes)) / people.size
    assert 0.3 < employed_share < 0.45  # Italy 2019: 23.4 M employed of 59.6 M residents


def test_adoption_hits_its_target_among_the_eligible(town) -> None:  # type: ignore[no-untyped-def]
    scenario, people = town
    eligible = people.age >= scenario.adoption.min_age_yr
    assert people.adopter[eligible].mean() == pytest.approx(scenario.adoption.overall, abs=0.015)
    assert not people.adopter[~eligible].any()
    by_band = [people.adopter[eligible & (decade_band(people.age) == b)].mean() for b in (2, 8)]
    assert by_band[0] > by_band[1]  # twenty-somethings adopt more than the over-80s


@pytest.mark.parametrize("overall", [0.0, 1.0])
def test_adoption_extremes(overall: float) -> None:
    scenario = Scenario().with_values({"adoption.overall": overall})
    people = build_population(scenario, size=3000, seeds=Seeds(2))
    eligible = people.age >= scenario.adoption.min_age_yr
    assert people.adopter[eligible].all() if overall == 1.0 else not people.adopter.any()


def test_adoption_probability_is_scaled_to_the_target() -> None:
    scenario = Scenario().with_values({"adoption.overall": 0.6})
    age = np.repeat(np.arange(100), 50)
    probability = adoption_probability(age, scenario)
    assert probability[age >= 14].mean() == pytest.approx(0.6, abs=1e-6)
    assert probability.max() <= 1.0


def test_same_seed_same_population_other_seed_other_population() -> None:
    scenario = Scenario()
    first = build_population(scenario, size=2000, seeds=Seeds(9))
    second = build_population(scenario, size=2000, seeds=Seeds(9))
    other = build_population(scenario, size=2000, seeds=Seeds(10))
    assert np.array_equal(first.age, second.age)
    assert np.array_equal(first.households.members, second.households.members)
    assert np.array_equal(first.adopter, second.adopter)
    assert not np.array_equal(first.age, other.age)


def test_adopters_get_phones_from_the_calibration_table(
    device_sampler: CalibrationTableSampler,
) -> None:
    scenario = Scenario().with_values({"adoption.overall": 0.8})
    people = build_population(scenario, size=4000, seeds=Seeds(3), devices=device_sampler)
    phones = people.devices
    assert np.array_equal(phones.has_phone, people.adopter)
    android = people.adopter & ~phones.is_ios
    table_tx = {row.tx_power_dbm for row in CalibrationTable.load_default()}
    assert set(phones.tx_power_dbm[android].tolist()) <= table_tx
    assert len(set(phones.tx_power_dbm[android].tolist())) > 5
    assert phones.is_ios[people.adopter].mean() == pytest.approx(
        scenario.adoption.ios_share, abs=0.03
    )
    assert (phones.calibration_error_db[~people.adopter] == 0).all()
    assert 1.0 < phones.calibration_error_db[android].std() < 4.0


def test_population_needs_a_resident() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_population(Scenario(), size=0, seeds=Seeds(1))
