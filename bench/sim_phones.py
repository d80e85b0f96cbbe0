"""The whole simulator with phones: `simulate` (run with phones + no-app baseline).

For each size (residents × days, default adoption) and each number of processes, in a fresh
spawned process:

- agent-days per second (residents × days / wall time, set-up and baseline included),
- CPU seconds of the process and its shard workers (on a shared machine the wall clock also
  measures the others),
- detections per CPU second (each one a `Phone.tick()` through the engine's own code),
- peak resident memory (ru_maxrss),
- throughput ratio against the first size measured in the same invocation, and wall-clock
  speed-up against the first number of processes at the same size.

``--provinces BO,MI`` splits the residents equally over provinces (shards): more processes
than provinces do not help. Usage: ``python bench/sim_phones.py [--days 28]
[--sizes 1000,10000] [--processes 1,2] [--provinces BO,MI] [--json]``.
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


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _one(population: int, days: int, processes: int, provinces: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {"run.population": population, "run.days": days}
    if provinces:
        values["run.provinces"] = {code: 1 / len(provinces) for code in provinces}
    scenario = Scenario().with_values(values)
    wall, cpu = time.perf_counter(), _cpu_s()
    metrics = simulate(scenario, processes=processes)
    wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
    return {
        "residents": population,
        "days": days,
        "processes": processes,
        "shards": metrics["run"]["shards"],
        "phones": metrics["run"]["phones"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "agent_days_per_s": round(population * days / wall),
        "agent_days_per_cpu_s": round(population * days / cpu),
        "detections": metrics["system"]["detections"],
        "detections_per_cpu_s": round(metrics["system"]["detections"] / cpu),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--processes", default="1")
    parser.add_argument("--provinces", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(p) for p in args.processes.split(",")]
    provinces = [p for p in args.provinces.split(",") if p]
    context = multiprocessing.get_context("spawn")
    rows = []
    for size in sizes:
        for processes in counts:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                rows.append(pool.submit(_one, size, args.days, processes, provinces).result())
    for row in rows:
        row["throughput_vs_first"] = round(
            row["agent_days_per_cpu_s"] / rows[0]["agent_days_per_cpu_s"], 2
        )
        first = next(r for r in rows if r["residents"] == row["residents"])
        row["wall_speedup_vs_first_processes"] = round(first["wall_s"] / row["wall_s"], 2)
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
            f"{row['residents']:>7} × {row['days']} d, {row['phones']} phones, "
            f"{row['shards']} shards, {row['processes']} processes: "
            f"wall {row['wall_s']} s (×{row['wall_speedup_vs_first_processes']}), "
            f"CPU {row['cpu_s']} s, "
            f"{row['agent_days_per_cpu_s']} agent-days/CPU-s, "
            f"{row['detections_per_cpu_s']} detections/CPU-s, peak {row['peak_rss_mb']} MB "
            f"(worker {row['peak_rss_worker_mb']} MB)"
        )


if __name__ == "__main__":
    main()
