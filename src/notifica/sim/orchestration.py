"""Phones through the real backend on a simulated clock (`docs/sim-design.md` §10).

A `ShardRunner` (`notifica.sim.shard_runner`) runs one shard (province) with its phones on
its own `SimClock` and its own in-process app replica and CDN cache (`SimServer`), against
the run's one database. A
coordinator advances time in ticks of ``app.publish_period``: every runner simulates until
the tick (`ShardRunner.advance`), then the coordinator's server runs the publish job once, so
phones of every province see the same national batches. `Orchestration` is that coordinator
with every runner in this process; `notifica.sim.parallel` spreads the runners over
processes. Within a tick a runner reads only what the last publish made (index, batches) and
writes only its own phones' rows (OTPs, uploads), so its result does not depend on the other
runners, on their order, or on the process that runs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from notifica.clock import SimClock
from notifica.phone import DetectionCache
from notifica.server import INLINE_BLOCKING_CALLS
from notifica.sim.backend import SimServer
from notifica.sim.contacts import DAY_S
from notifica.sim.devices import load_device_sampler
from notifica.sim.run import ShardSpec, plan_shards
from notifica.sim.scenario import Scenario
from notifica.sim.shard_runner import COLLECTORS, ShardRunner, SystemCounts, collectors

__all__ = [
    "COLLECTORS",
    "Orchestration",
    "ShardRunner",
    "SystemCounts",
    "merge",
    "publish_at",
    "publisher",
    "report_days",
    "ticks",
]


def publisher(scenario: Scenario, data_dir: Path, *, database_url: str | None) -> SimServer:
    """The coordinator's server: creates the schema, serves the scenario's app settings and
    runs the publish job at each tick (on its own clock, set to the tick)."""
    start = datetime.combine(scenario.run.start_date, time(), UTC)
    server = SimServer(
        clock=SimClock(start),
        start=start,
        data_dir=data_dir,
        phones=0,
        seed=scenario.run.seed,
        publish_period_s=scenario.app.publish_period_s,
        database_url=database_url,
    )
    server.configure_app(detection_period_s=scenario.app.detection_period_s)
    return server


def ticks(scenario: Scenario) -> list[float]:
    """The coordinator's barriers: every publish time before the end, then the end."""
    end = scenario.run.days * DAY_S
    period = scenario.app.publish_period_s
    count = math.ceil(end / period)
    out = [k * period for k in range(1, count) if k * period < end]
    return [*out, float(end)]


def publish_at(server: SimServer, at_s: float, counts: SystemCounts) -> None:
    """Run the publish job at `at_s` seconds after the run's start (the server's clock is
    set to it: the barrier's time, whatever the shards' clocks say)."""
    clock = server.backend.clock
    assert isinstance(clock, SimClock)
    clock.set(server.start + timedelta(seconds=at_s))
    report = server.backend.publish()
    counts.batches_published += len(report.batches)
    counts.keys_published += report.keys_published


def merge(
    results: Sequence[tuple[dict[str, dict[str, Any]], dict[str, int]]], counts: SystemCounts
) -> dict[str, Any]:
    """The collectors' summaries of every shard (in shard order) merged, with the counts."""
    metrics: dict[str, Any] = {
        c.name: type(c).combine([r[0][c.name] for r in results]) for c in collectors()
    }
    total = counts.as_dict()
    for _, shard_counts in results:
        for name, value in shard_counts.items():
            total[name] += value
    metrics["system"] = total
    return metrics


class Orchestration:
    """One run with phones, every shard in this process (see the module docstring).

    Args:
        scenario: the scenario.
        data_dir: the run's temporary directory (the SQLite database).
        database_url: PostgreSQL instead of SQLite (an empty database).
        on_day: called after each simulated day with the day's index.
    """

    def __init__(
        self,
        scenario: Scenario,
        data_dir: Path,
        *,
        database_url: str | None = None,
        on_day: Callable[[int], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.specs: tuple[ShardSpec, ...] = plan_shards(scenario)
        self.server = publisher(scenario, data_dir, database_url=database_url)
        self.counts = SystemCounts()
        self._on_day = on_day
        sampler = load_device_sampler()
        cache = DetectionCache()
        self.runners = [
            ShardRunner(
                scenario, spec, data_dir, database_url=database_url, cache=cache, devices=sampler
            )
            for spec in self.specs
        ]
        self.phones = [runner.phones for runner in self.runners]

    async def run(self) -> dict[str, Any]:
        """Simulate every day; return the collectors' merged metrics and the system counts."""
        INLINE_BLOCKING_CALLS.set(True)  # one request at a time: no thread hand-off
        try:
            done = 0
            for at_s in ticks(self.scenario):
                for runner in self.runners:
                    await runner.advance(at_s)
                done = report_days(done, at_s, self.scenario, self._on_day)
                if at_s < self.scenario.run.days * DAY_S:
                    self.publish(at_s)
            results = [runner.finish() for runner in self.runners]
        finally:
            for runner in self.runners:
                await runner.server.aclose()
            await self.server.aclose()
        return merge(results, self.counts)

    def publish(self, at_s: float) -> None:
        publish_at(self.server, at_s, self.counts)


def report_days(
    done: int, at_s: float, scenario: Scenario, on_day: Callable[[int], None] | None
) -> int:
    """Call `on_day` for every day finished by `at_s`; returns the days finished."""
    while done < scenario.run.days and (done + 1) * DAY_S <= at_s:
        if on_day is not None:
            on_day(done)
        done += 1
    return done
