"""A whole simulation: the run with phones, the no-app baseline, the metrics, the outputs.

`simulate` returns the metrics dict that ``metrics.json`` holds (schema
``notifica.sim.metrics/1``, `docs/sim-design.md` §10): the run's parameters, the collectors'
merged results, the baseline's epidemic, the comparison and the system's counts.
`write_outputs` writes the report (`notifica.sim.report`: all or nothing, so an interrupted run
leaves no half-written report). `sweep` repeats the run over adoption values.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from notifica.clock import Clock, SystemClock
from notifica.sim.metrics import compare_with_baseline
from notifica.sim.orchestration import Orchestration
from notifica.sim.parallel import run_parallel
from notifica.sim.report import METRICS_SCHEMA, write_report, write_sweep_report
from notifica.sim.run import plan_shards, run_epidemic
from notifica.sim.scenario import Scenario

__all__ = ["SCHEMA", "simulate", "sweep", "write_outputs"]

SCHEMA = METRICS_SCHEMA


def simulate(
    scenario: Scenario,
    *,
    database_url: str | None = None,
    processes: int = 1,
    on_day: Callable[[int], None] | None = None,
    on_baseline: Callable[[], None] | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Run the scenario with phones and without (same seed); return the metrics.

    Args:
        scenario: the scenario.
        database_url: a PostgreSQL database for the backend (default: SQLite in a temporary
            directory removed at the end).
        processes: worker processes for the shards, with phones (`notifica.sim.parallel`:
            one database, the publish job at barriers) and without (the baseline); the
            metrics are the same whatever the number.
        on_day: called after each simulated day of the run with phones.
        on_baseline: called when the baseline is done.
        clock: measures ``elapsed_s`` (the system clock by default).
    """
    timer = clock or SystemClock()
    started = timer.monotonic()
    with tempfile.TemporaryDirectory(prefix="notifica-sim-") as data_dir:
        if processes > 1 and len(plan_shards(scenario)) > 1:
            app, phones, database = run_parallel(
                scenario,
                Path(data_dir),
                processes=processes,
                database_url=database_url,
                on_day=on_day,
            )
        else:
            orchestration = Orchestration(
                scenario, Path(data_dir), database_url=database_url, on_day=on_day
            )
            database = orchestration.server.database
            phones = sum(len(p) for p in orchestration.phones)
            app = asyncio.run(orchestration.run())
    baseline = run_epidemic(scenario, processes=processes)
    if on_baseline is not None:
        on_baseline()
    run = scenario.run
    metrics: dict[str, Any] = _jsonable(
        {
            "schema": SCHEMA,
            "run": {
                "seed": run.seed,
                "population": run.population,
                "days": run.days,
                "adoption": scenario.adoption.overall,
                "provinces": dict(run.provinces),
                "phones": phones,
                "shards": len(plan_shards(scenario)),
                "channel": scenario.radio.channel,
                "risk_rule": scenario.app.risk_rule,
                "database": database,
                "elapsed_s": round(timer.monotonic() - started, 3),
            },
            "epidemic": app["epidemic"],
            "ground_truth": app["ground_truth"],
            "notifications": app["notifications"],
            "traffic": app["traffic"],
            "baseline": {"epidemic": baseline.metrics["epidemic"]},
            "comparison": compare_with_baseline(app["epidemic"], baseline.metrics["epidemic"]),
            "system": app["system"],
        }
    )
    return metrics


def _jsonable(value: Any) -> Any:
    """Plain JSON types (NumPy scalars become Python numbers, NaN becomes None)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_outputs(metrics: Mapping[str, Any], out_dir: Path, *, scenario: Scenario) -> Path:
    """Write the run's report (``report.html``, PNGs, ``metrics.json``) into `out_dir`, all or
    nothing (`notifica.sim.report.write_report`); returns the report's path.

    Raises:
        ReportError: `out_dir` exists and is not a notifica report.
    """
    return write_report(metrics, out_dir, scenario=scenario)


def sweep(
    scenario: Scenario,
    adoptions: Sequence[float],
    out_dir: Path,
    *,
    database_url: str | None = None,
    processes: int = 1,
    on_run: Callable[[float, dict[str, Any]], None] | None = None,
    on_day: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], Path]:
    """One run per adoption value; the sweep report (``report.html``, ``sweep.png``,
    ``sweep.json``) with each run's report in ``adoption-<value>/``, written only when every
    run is done (so an interruption writes nothing). Returns the runs' metrics and the path
    of the sweep report.

    Raises:
        ScenarioError: an adoption value the scenario refuses (checked before any run).
    """
    scenarios = [scenario.with_values({"adoption.overall": value}) for value in adoptions]
    runs: list[dict[str, Any]] = []
    for value, each in zip(adoptions, scenarios, strict=True):
        metrics = simulate(each, database_url=database_url, processes=processes, on_day=on_day)
        runs.append(metrics)
        if on_run is not None:
            on_run(value, metrics)
    return runs, write_sweep_report(runs, out_dir, scenarios=scenarios)
