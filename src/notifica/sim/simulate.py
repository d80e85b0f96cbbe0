"""A whole simulation: the run with phones, the no-app baseline, the metrics, the outputs.

`simulate` returns the metrics dict that ``metrics.json`` holds (schema
``notifica.sim.metrics/1``, `docs/sim-design.md` §10): the run's parameters, the collectors'
merged results, the baseline's epidemic, the comparison and the system's counts.
`write_outputs` writes them (through the report when it is available), atomically: a
temporary directory beside the target, renamed into place only when complete, so an
interrupted run leaves no half-written report. `sweep` repeats the run over adoption values.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from notifica.clock import Clock, SystemClock
from notifica.sim import report
from notifica.sim.metrics import compare_with_baseline
from notifica.sim.orchestration import Orchestration
from notifica.sim.run import plan_shards, run_epidemic
from notifica.sim.scenario import Scenario

__all__ = [
    "METRICS_FILE",
    "SCHEMA",
    "SWEEP_FILE",
    "simulate",
    "sweep",
    "write_json_atomically",
    "write_outputs",
]

SCHEMA = "notifica.sim.metrics/1"
SWEEP_SCHEMA = "notifica.sim.sweep/1"
METRICS_FILE = "metrics.json"
SWEEP_FILE = "sweep.json"


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
        processes: worker processes for the baseline's shards.
        on_day: called after each simulated day of the run with phones.
        on_baseline: called when the baseline is done.
        clock: measures ``elapsed_s`` (the system clock by default).
    """
    timer = clock or SystemClock()
    started = timer.monotonic()
    with tempfile.TemporaryDirectory(prefix="notifica-sim-") as data_dir:
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temporary_dir(target: Path) -> Path:
    """A new directory beside `target`, with the permissions a plain mkdir would give."""
    target.parent.mkdir(parents=True, exist_ok=True)
    built = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    built.chmod(0o777 & ~_umask())
    return built


def write_json_atomically(data: Mapping[str, Any], path: Path) -> Path:
    """Write `data` as JSON to `path` through a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=False, allow_nan=False)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _replace_dir(built: Path, target: Path) -> None:
    """Put the complete directory `built` at `target`, replacing an older one."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(built, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_outputs(metrics: Mapping[str, Any], out_dir: Path, *, scenario: Scenario) -> Path:
    """Write the report (or, without one, ``metrics.json``) into `out_dir` atomically.

    Returns the path to show the user: the report, else the metrics file.
    """
    write_report = getattr(report, "write_report", None)  # the HTML report, once merged
    if write_report is not None:
        path: Path = write_report(metrics, out_dir, scenario=scenario)
        return path
    out_dir = out_dir.resolve()
    built = _temporary_dir(out_dir)
    try:
        write_json_atomically(metrics, built / METRICS_FILE)
        _replace_dir(built, out_dir)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    return out_dir / METRICS_FILE


def sweep(
    scenario: Scenario,
    adoptions: Sequence[float],
    out_dir: Path,
    *,
    database_url: str | None = None,
    processes: int = 1,
    on_run: Callable[[float, dict[str, Any]], None] | None = None,
    on_day: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], Path]:
    """One run per adoption value; a report per run in ``adoption-<value>/`` and the combined
    ``sweep.json``, all written only when every run is done (so an interruption writes
    nothing).

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
    combined = {
        "schema": SWEEP_SCHEMA,
        "adoption": list(adoptions),
        "runs": [
            {
                "adoption": m["run"]["adoption"],
                "infections": m["epidemic"]["infections"],
                "infections_averted": m["comparison"]["infections_averted"],
                "infections_averted_share": m["comparison"]["infections_averted_share"],
                "precision": m["notifications"]["precision"],
                "recall": m["notifications"]["recall"],
                "notified_people": m["notifications"]["notified_people"],
                "notified_per_reporter": m["notifications"]["notified_per_reporter"],
                "metrics": f"adoption-{m['run']['adoption']:g}/{METRICS_FILE}",
            }
            for m in runs
        ],
    }
    out_dir = out_dir.resolve()
    built = _temporary_dir(out_dir)
    try:
        for metrics, each in zip(runs, scenarios, strict=True):
            write_outputs(
                metrics, built / f"adoption-{metrics['run']['adoption']:g}", scenario=each
            )
        write_json_atomically(combined, built / SWEEP_FILE)
        _replace_dir(built, out_dir)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    return combined, out_dir / SWEEP_FILE
