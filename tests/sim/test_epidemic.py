from __future__ import annotations

import math

import numpy as np
import pytest

from notifica.sim import (
    DAY_S,
    ContactModel,
    DayContacts,
    EpidemicModel,
    Population,
    Scenario,
    Seeds,
    Setting,
    build_population,
)
from notifica.sim._disease import relative_infectiousness, weibull_mode


class FixedContacts:
    """A contact model that returns the same hand-built episodes every day."""

    def __init__(self, contacts: DayContacts) -> None:
        self.contacts = contacts

    def potential(self, day: int) -> DayContacts:
        c = self.contacts
        return DayContacts(day, c.a, c.b, c.setting, c.start_s, c.duration_s, c.distance_m)


def _model(scenario: Scenario, size: int, seed: int = 1) -> tuple[Population, EpidemicModel]:
    people = build_population(scenario, size=size, seeds=Seeds(seed))
    return people, EpidemicModel(
        scenario, people, ContactModel(scenario, people, Seeds(seed)), Seeds(seed)
    )


def _run(model: EpidemicModel, days: int) -> list:  # type: ignore[type-arg]
    return [model.step() for _ in range(days)]


def test_infectiousness_profile_peaks_at_one_and_vanishes_outside() -> None:
    params = Scenario().epidemic
    peak = weibull_mode(params.generation_shape, params.generation_scale_d)
    tau = np.array([0.5, peak, 30.0, np.nan])
    assert relative_infectiousness(tau, params) == pytest.approx([0.0, 1.0, 0.0, 0.0])
    grid = np.linspace(0, 20, 2001)
    assert relative_infectiousness(grid, params).max() == pytest.approx(1.0, abs=1e-4)


def test_no_initial_infections_no_epidemic(small_scenario: Scenario) -> None:
    scenario = small_scenario.with_values({"run.initial_infections": 0})
    _, model = _model(scenario, 2000)
    outcomes = _run(model, 10)
    assert sum(len(o.infections) for o in outcomes) == 0
    assert outcomes[-1].counts["susceptible"] == 2000


def test_zero_transmission_rate_infects_nobody_but_the_seeds(small_scenario: Scenario) -> None:
    scenario = small_scenario.with_values({"epidemic.transmission_rate": "0 /min"})
    _, model = _model(scenario, 2000)
    outcomes = _run(model, 10)
    assert len(outcomes[0].infections) == 20
    assert sum(len(o.infections) for o in outcomes[1:]) == 0


def test_same_seed_same_epidemic(small_scenario: Scenario) -> None:
    runs = []
    for _ in range(2):
        _, model = _model(small_scenario, 2000, seed=3)
        runs.append(_run(model, 10))
    for first, second in zip(*runs, strict=True):
        assert np.array_equal(first.infections.infectee, second.infections.infectee)
        assert np.array_equal(first.infections.time_s, second.infections.time_s)
        assert first.counts == second.counts


def test_the_dose_model_gives_the_expected_attack_rate() -> None:
    # One index case at peak infectiousness meets 2,000 people for 10 min at 1 m (work):
    # P(infection) = 1 - exp(-rate × 1 × exp(0) × 10 min × susceptibility).
    scenario = Scenario().with_values(
        {
            "run.initial_infections": 0,
            "epidemic.transmission_rate": "0.01 /min",
            "testing.symptomatic_test_probability": 0.0,
        }
    )
    people = build_population(scenario, size=2001, seeds=Seeds(1))
    n = 2000
    contacts = DayContacts.build(
        0,
        a=np.zeros(n),
        b=np.arange(1, n + 1),
        setting=np.full(n, int(Setting.WORK)),
        start_s=np.full(n, 43200 - 300),
        duration_s=np.full(n, 600),
        distance_m=np.full(n, 1.0),
    )
    model = EpidemicModel(scenario, people, FixedContacts(contacts), Seeds(1))  # type: ignore[arg-type]
    params = scenario.epidemic
    peak = weibull_mode(params.generation_shape, params.generation_scale_d)
    model.day = 5
    model._infect(
        np.array([0], dtype=np.int32),
        np.array([5.5 * DAY_S - peak * DAY_S]),
        np.array([-1], dtype=np.int32),
    )
    model._traits.asymptomatic[0] = False
    outcome = model.step()
    susceptibility = np.asarray(params.susceptibility_by_age)[people.decade()[1:]]
    expected = (1 - np.exp(-0.01 * 10 * susceptibility)).sum()
    assert len(outcome.infections) == pytest.approx(expected, rel=0.15)
    assert (outcome.infections.infector == 0).all()
    # At 3 m the dose falls by exp(-0.703 × 2) ≈ 0.25.
    far = DayContacts(
        0,
        contacts.a,
        contacts.b,
        contacts.setting,
        contacts.start_s,
        contacts.duration_s,
        np.full(n, 3.0, np.float32),
    )
    model_far = EpidemicModel(scenario, people, FixedContacts(far), Seeds(1))  # type: ignore[arg-type]
    model_far.day = 5
    model_far._infect(
        np.array([0], dtype=np.int32),
        np.array([5.5 * DAY_S - peak * DAY_S]),
        np.array([-1], dtype=np.int32),
    )
    model_far._traits.asymptomatic[0] = False
    fewer = len(model_far.step().infections)
    expected_far = (1 - np.exp(-0.01 * 10 * math.exp(-0.703 * 2) * susceptibility)).sum()
    assert fewer == pytest.approx(expected_far, rel=0.25)


def test_growth_and_reproduction_number_are_plausible_for_the_defaults() -> None:
    # Ferretti et al.: R0 = 2.0 (sim §4.2); with testing and isolation a little less.
    scenario = Scenario().with_values({"run.initial_infections": 100, "run.population": 10000})
    _, model = _model(scenario, 10000, seed=2)
    outcomes = _run(model, 14)
    seeds = np.flatnonzero(~np.isnan(model.infected_s) & (model.infector == -1))
    reproduction = np.isin(model.infector, seeds).sum() / len(seeds)
    assert 1.3 < reproduction < 2.8
    new = [len(o.infections) for o in outcomes]
    assert sum(new[8:14]) > sum(new[1:7])


def test_infections_happen_during_episodes_between_an_infectious_and_a_susceptible(
    small_scenario: Scenario,
) -> None:
    _people, model = _model(small_scenario, 2000)
    for outcome in _run(model, 10)[1:]:
        inf = outcome.infections
        day_start = outcome.day * DAY_S
        assert ((inf.time_s >= day_start) & (inf.time_s < day_start + DAY_S)).all()
        infector_age = (inf.time_s - model.infected_s[inf.infector]) / DAY_S
        assert (infector_age >= small_scenario.epidemic.latent_period_d).all()
        assert len(np.unique(inf.infectee)) == len(inf)


def test_symptomatic_cases_get_tested_and_adopters_report(small_scenario: Scenario) -> None:
    scenario = small_scenario.with_values(
        {
            "run.days": 20,
            "app.reporting_probability": 1.0,
            "testing.symptomatic_test_probability": 1.0,
        }
    )
    people, model = _model(scenario, 2000)
    outcomes = _run(model, 20)
    positives = np.concatenate([o.test_results.person[o.test_results.positive] for o in outcomes])
    reporters = np.concatenate([o.reporters.person for o in outcomes])
    assert len(positives) > 0
    assert len(reporters) > 0
    assert set(reporters) <= set(positives)
    assert people.adopter[reporters].all()
    assert set(reporters) == set(positives[people.adopter[positives]])
    for o in outcomes:
        assert (np.floor(o.reporters.result_s / DAY_S) == o.day).all()


def test_quarantine_cuts_contacts_outside_the_household(small_scenario: Scenario) -> None:
    scenario = small_scenario.with_values({"app.quarantine_compliance": 0.5})
    _, model = _model(scenario, 2000)
    model.step()
    complying = model.quarantine(np.arange(1000), from_day=1, until_day=3)
    assert 400 < len(complying) < 600
    for _ in range(2):
        contacts = model.step().contacts
        outside = contacts.setting != Setting.HOUSEHOLD
        assert not np.isin(contacts.a[outside], complying).any()
        assert not np.isin(contacts.b[outside], complying).any()
    assert model.counts_at(3 * DAY_S)["quarantined"] == 0
    contacts = model.step().contacts
    assert np.isin(contacts.a[contacts.setting != Setting.HOUSEHOLD], complying).any()


def test_quarantine_and_tests_check_their_arguments(small_scenario: Scenario) -> None:
    _, model = _model(small_scenario, 2000)
    with pytest.raises(ValueError, match="person ids"):
        model.quarantine([5000], 1, 2)
    with pytest.raises(ValueError, match="from_day"):
        model.quarantine([1], 3, 3)
    with pytest.raises(ValueError, match="day must be"):
        model.order_tests([1], -1)


def test_ordered_tests_return_results_the_next_day(small_scenario: Scenario) -> None:
    scenario = small_scenario.with_values({"app.notified_test_probability": 1.0})
    _, model = _model(scenario, 2000)
    model.step()
    tested = model.order_tests(np.arange(50), day=1)
    assert len(tested) == 50
    results = [model.step().test_results for _ in range(2)]
    assert set(np.arange(50)) <= set(results[1].person.tolist())
