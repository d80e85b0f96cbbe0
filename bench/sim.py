"""Simulator speed without phones: population + contacts + epidemic (+ ground truth).

For 1k, 10k and 100k residents × 28 days (one province each), and 100k split into two
provinces run in two processes, each measured in a fresh spawned process:

- agent-days per second (residents × days / wall time of the run, set-up included),
- seconds for the population, and per simulated day,
- peak resident memory of the process (ru_maxrss),
- ratio of throughput against the 1k run measured in the same invocation (scaling).

Usage: ``python bench/sim.py [--days 28] [--sizes 1000,10000,100000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from notifica.sim import Scenario, Shard, plan_shards, run_epidemic
from notifica.sim.metrics import EpidemicCurves, GroundTruthCollector


def _one_shard(population: int, days: int) -> dict[str, Any]:
    scenario = Scenario().with_values(
        {
            "run.population": population,
            "run.days": days,
            "run.initial_infections": max(10, population // 1000),
        }
    )
    started = time.perf_counter()
    shard = Shard(
        scenario, plan_shards(scenario)[0], collectors=[EpidemicCurves(), GroundTruthCollector()]
    )
    built = time.perf_counter()
    episodes = 0
    for _ in range(days):
        episodes += len(shard.step().contacts)
    summary = shard.finish()
    finished = time.perf_counter()
    return {
        "residents": population,
        "days": days,
        "shards": 1,
        "processes": 1,
        "seconds": finished - started,
        "population_s": built - started,
        "per_day_s": (finished - built) / days,
        "episodes_per_day": episodes / days,
        "infections": sum(summary["epidemic"]["series"]["new_infections"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _two_provinces(population: int, days: int) -> dict[str, Any]:
    scenario = Scenario().with_values(
        {
            "run.population": population,
            "run.days": days,
            "run.initial_infections": max(10, population // 1000),
            "run.provinces": {"BO": 0.5, "MI": 0.5},
        }
    )
    started = time.perf_counter()
    result = run_epidemic(scenario, processes=2)
    finished = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "residents": population,
        "days": days,
        "shards": 2,
        "processes": 2,
        "seconds": finished - started,
        "infections": result.metrics["epidemic"]["infections"],
        "peak_rss_mb": max(children, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _measure(job: str, population: int, days: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    target = _one_shard if job == "one" else _two_provinces
    with ProcessPoolExecutor(1, mp_context=context) as pool:  # fresh process: its own peak RSS
        return pool.submit(target, population, days).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [_measure("one", size, args.days) for size in sizes]
    rows.append(_measure("two", sizes[-1], args.days))
    base = rows[0]["residents"] * rows[0]["days"] / rows[0]["seconds"]
    for row in rows:
        row["agent_days_per_s"] = row["residents"] * row["days"] / row["seconds"]
        row["vs_first"] = row["agent_days_per_s"] / base
    machine = {
        "python": platform.python_version(),
        "cpus": multiprocessing.cpu_count(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps({"machine": machine, "runs": rows}, indent=1))
        return
    print(f"simulator without phones, {args.days} days; {machine}")
    header = (
        "residents",
        "shards",
        "seconds",
        "agent-days/s",
        "vs first",
        "s/day",
        "episodes/day",
        "RSS MB",
    )
    print("  ".join(f"{h:>12}" for h in header))
    for r in rows:
        cells = [
            f"{r['residents']:,}",
            f"{r['shards']} in {r['processes']}p",
            f"{r['seconds']:.1f}",
            f"{r['agent_days_per_s']:,.0f}",
            f"{r['vs_first']:.2f}",
            f"{r.get('per_day_s', float('nan')):.3f}",
            f"{r.get('episodes_per_day', float('nan')):,.0f}",
            f"{r['peak_rss_mb']:.0f}",
        ]
        print("  ".join(f"{c:>12}" for c in cells))


if __name__ == "__main__":
    main()
