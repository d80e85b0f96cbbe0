"""The whole simulator with phones: `simulate` (run with phones + no-app baseline).

For each size (residents × days, default adoption), in a fresh spawned process:

- agent-days per second (residents × days / wall time, set-up and baseline included),
- CPU seconds of the process (on a shared machine the wall clock also measures the others),
- detections per CPU second (each one a `Phone.tick()` through the engine's own code),
- peak resident memory (ru_maxrss),
- throughput ratio against the first size measured in the same invocation.

Usage: ``python bench/sim_phones.py [--days 28] [--sizes 1000,10000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from notifica.sim import Scenario
from notifica.sim.simulate import simulate


def _one(population: int, days: int) -> dict[str, Any]:
    scenario = Scenario().with_values({"run.population": population, "run.days": days})
    wall, cpu = time.perf_counter(), time.process_time()
    metrics = simulate(scenario)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "residents": population,
        "days": days,
        "phones": metrics["run"]["phones"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "agent_days_per_s": round(population * days / wall),
        "agent_days_per_cpu_s": round(population * days / cpu),
        "detections": metrics["system"]["detections"],
        "detections_per_cpu_s": round(metrics["system"]["detections"] / cpu),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    context = multiprocessing.get_context("spawn")
    rows = []
    for size in sizes:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            rows.append(pool.submit(_one, size, args.days).result())
    for row in rows:
        row["throughput_vs_first"] = round(
            row["agent_days_per_cpu_s"] / rows[0]["agent_days_per_cpu_s"], 2
        )
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        "runs": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(report["machine"])
    for row in rows:
        print(
            f"{row['residents']:>7} × {row['days']} d, {row['phones']} phones: "
            f"wall {row['wall_s']} s, CPU {row['cpu_s']} s, "
            f"{row['agent_days_per_cpu_s']} agent-days/CPU-s, "
            f"{row['detections_per_cpu_s']} detections/CPU-s, peak {row['peak_rss_mb']} MB"
        )


if __name__ == "__main__":
    main()
