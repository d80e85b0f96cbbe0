from __future__ import annotations

import pytest

from notifica.sim import Scenario, Shard, SimError, plan_shards, run_epidemic


def test_shards_split_the_population_by_province_share() -> None:
    scenario = Scenario().with_values(
        {"run.population": 1001, "run.provinces": {"BO": 0.5, "MI": 0.3, "NA": 0.2}}
    )
    specs = plan_shards(scenario)
    assert [(s.index, s.province) for s in specs] == [(0, "BO"), (1, "MI"), (2, "NA")]
    assert [s.size for s in specs] == [501, 300, 200]
    assert sum(s.size for s in specs) == 1001


def test_initial_infections_are_split_exactly() -> None:
    scenario = Scenario().with_values(
        {
            "run.population": 3000,
            "run.initial_infections": 10,
            "run.provinces": {"BO": 0.34, "MI": 0.33, "NA": 0.33},
        }
    )
    specs = plan_shards(scenario)
    assert sum(s.initial_infections for s in specs) == 10
    assert [s.initial_infections for s in specs] == [4, 3, 3]


def test_stepping_past_the_last_day_is_refused() -> None:
    scenario = Scenario().with_values({"run.population": 200, "run.days": 2})
    shard = Shard(scenario, plan_shards(scenario)[0])
    shard.step()
    shard.step()
    with pytest.raises(SimError, match="run is over"):
        shard.step()


def test_a_province_without_residents_is_refused() -> None:
    scenario = Scenario().with_values(
        {
            "run.population": 2,
            "run.initial_infections": 0,
            "run.provinces": {"BO": 0.9, "MI": 0.05, "NA": 0.05},
        }
    )
    with pytest.raises(ValueError, match="gets no resident"):
        plan_shards(scenario)


@pytest.mark.slow
def test_processes_give_the_same_result_as_one_process() -> None:
    scenario = Scenario().with_values(
        {
            "run.population": 1500,
            "run.days": 6,
            "run.initial_infections": 10,
            "run.provinces": {"BO": 0.6, "MI": 0.4},
        }
    )
    serial = run_epidemic(scenario, processes=1)
    parallel = run_epidemic(scenario, processes=2)
    assert serial.metrics == parallel.metrics
    assert serial.metrics["epidemic"]["population"] == 1500


def test_same_seed_same_metrics_other_seed_other_metrics() -> None:
    scenario = Scenario().with_values(
        {"run.population": 1000, "run.days": 8, "run.initial_infections": 10}
    )
    first = run_epidemic(scenario)
    assert run_epidemic(scenario).metrics == first.metrics
    other = run_epidemic(scenario.with_values({"run.seed": 99}))
    assert other.metrics != first.metrics


def test_processes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="processes"):
        run_epidemic(Scenario(), processes=0)
