"""Running a scenario: provinces as shards, shards in parallel processes.

A shard is one province: its own population, contacts and epidemic, seeded with
``Seeds(run.seed, shard index)``, so the result of a shard does not depend on which process
runs it or in which order. Residents do not meet across provinces (documented simplification:
commuting between provinces is ignored), which is what makes provinces independent shards.

`run_epidemic` runs every shard without phones (population, contacts, epidemic and ground
truth: the no-app baseline) and merges the collectors' summaries. The orchestration with phones
builds on `Shard`: it steps a shard day by day and feeds the phones from `DayOutcome.contacts`
(see `docs/sim-design.md`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from notifica.sim.contacts import ContactModel
from notifica.sim.devices import DeviceSampler
from notifica.sim.epidemic import DayOutcome, EpidemicModel
from notifica.sim.errors import SimError
from notifica.sim.metrics import Collector, EpidemicCurves, GroundTruthCollector, RunContext
from notifica.sim.population import Population, build_population
from notifica.sim.scenario import Scenario
from notifica.sim.seeds import Seeds

__all__ = ["RunResult", "Shard", "ShardSpec", "plan_shards", "run_epidemic"]


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """One province of a run: its residents and its initial infections."""

    index: int
    province: str
    size: int
    initial_infections: int = 0


def _largest_remainder(total: int, shares: list[float]) -> list[int]:
    exact = [share * total for share in shares]
    counts = [int(value) for value in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def plan_shards(scenario: Scenario) -> tuple[ShardSpec, ...]:
    """Split ``run.population`` and ``run.initial_infections`` over ``run.provinces`` by share
    (largest remainder, so the totals are exact).

    Raises:
        ValueError: a province would get no resident.
    """
    codes = [code for code, _ in scenario.run.provinces]
    shares = [share for _, share in scenario.run.provinces]
    sizes = _largest_remainder(scenario.run.population, shares)
    for code, size in zip(codes, sizes, strict=True):
        if size < 1:
            raise ValueError(f"province {code} gets no resident: raise run.population or its share")
    seeded = _largest_remainder(scenario.run.initial_infections, shares)
    return tuple(
        ShardSpec(i, code, size, min(infected, size))
        for i, (code, size, infected) in enumerate(zip(codes, sizes, seeded, strict=True))
    )


class Shard:
    """One province's model, stepped a day at a time with its collectors."""

    def __init__(
        self,
        scenario: Scenario,
        spec: ShardSpec,
        *,
        devices: DeviceSampler | None = None,
        collectors: Sequence[Collector] = (),
    ) -> None:
        self.scenario = scenario
        self.spec = spec
        self.seeds = Seeds(scenario.run.seed, spec.index)
        self.population: Population = build_population(
            scenario, size=spec.size, seeds=self.seeds, province=spec.province, devices=devices
        )
        self.contacts = ContactModel(scenario, self.population, self.seeds)
        self.epidemic = EpidemicModel(
            scenario,
            self.population,
            self.contacts,
            self.seeds,
            initial_infections=spec.initial_infections,
        )
        self.collectors = list(collectors)
        context = RunContext(scenario, self.population, spec.index)
        for collector in self.collectors:
            collector.initialize(context)

    @property
    def day(self) -> int:
        """The next day to simulate."""
        return self.epidemic.day

    def step(self) -> DayOutcome:
        """Simulate one day and show it to the collectors.

        Raises:
            SimError: all ``run.days`` days have been simulated.
        """
        if self.day >= self.scenario.run.days:
            raise SimError(f"the run is over: all {self.scenario.run.days} days were simulated")
        outcome = self.epidemic.step()
        for collector in self.collectors:
            collector.apply(outcome)
        return outcome

    def finish(self) -> dict[str, dict[str, Any]]:
        """Finalize the collectors: their summaries by collector name."""
        return {collector.name: collector.finalize() for collector in self.collectors}


@dataclass(frozen=True, slots=True)
class RunResult:
    """Merged metrics of all shards, by collector name."""

    scenario: Scenario
    shards: tuple[ShardSpec, ...]
    metrics: dict[str, dict[str, Any]]


def _baseline_collectors() -> list[Collector]:
    return [EpidemicCurves(), GroundTruthCollector()]


def _run_shard(scenario: Scenario, spec: ShardSpec) -> dict[str, dict[str, Any]]:
    shard = Shard(scenario, spec, collectors=_baseline_collectors())
    for _ in range(scenario.run.days):
        shard.step()
    return shard.finish()


def run_epidemic(
    scenario: Scenario,
    *,
    processes: int = 1,
    on_shard_done: Callable[[ShardSpec], None] | None = None,
) -> RunResult:
    """Run every shard without phones (the no-app baseline) and merge the metrics.

    Args:
        scenario: the scenario.
        processes: worker processes (``spawn``); 1 runs the shards in this process. The result
            is the same either way.
        on_shard_done: called as each shard finishes (for progress display).
    """
    if processes < 1:
        raise ValueError(f"processes must be ≥ 1, got {processes}")
    specs = plan_shards(scenario)
    summaries: dict[int, dict[str, dict[str, Any]]] = {}
    if processes == 1 or len(specs) == 1:
        for spec in specs:
            summaries[spec.index] = _run_shard(scenario, spec)
            if on_shard_done:
                on_shard_done(spec)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(processes, len(specs)), mp_context=context
        ) as pool:
            futures = {pool.submit(_run_shard, scenario, spec): spec for spec in specs}
            try:
                for future, spec in futures.items():
                    summaries[spec.index] = future.result()
                    if on_shard_done:
                        on_shard_done(spec)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    ordered = [summaries[spec.index] for spec in specs]
    metrics = {
        collector.name: type(collector).combine([s[collector.name] for s in ordered])
        for collector in _baseline_collectors()
    }
    return RunResult(scenario, specs, metrics)
