"""The simulator's report: ``report.html``, its PNG plots and ``metrics.json`` in one directory.

`write_report` turns the metrics dict of a run (schema ``notifica.sim.metrics/1``, see
`docs/sim-design.md` §9) into a directory; `write_sweep_report` does the same for an adoption
sweep. Both build the whole document first (bad metrics fail before anything is written), then
write into a temporary directory that is renamed into place only when complete
(`_report_files`): an exception or Ctrl-C leaves no half-written report. An existing output
directory is replaced if it is a previous notifica report (or empty) and refused otherwise.

metrics.json is the run's metrics plus what the report adds: ``scenario`` (the complete
scenario, its TOML values), ``derived`` (ratios across sections) and ``published`` (the
figures compared with, with sources); keys sorted, non-finite floats as ``null``, a password in
``run.database`` masked. The HTML reads every number from that document by its dotted name.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

import notifica
from notifica.sim import report_plots
from notifica.sim._report_files import report_directory
from notifica.sim._report_format import (
    KEY_NUMBERS,
    MISSING,
    OPTIONAL,
    RUN_PARAMETERS,
    format_value,
    has,
    lookup,
)
from notifica.sim.errors import ReportError
from notifica.sim.metrics import SETTING_LABELS
from notifica.sim.radio import RadioChannel
from notifica.sim.report_figures import derived_figures, published_figures
from notifica.sim.report_sweep import sweep_document
from notifica.sim.scenario import Scenario

__all__ = ["METRICS_SCHEMA", "build_document", "write_report", "write_sweep_report"]

METRICS_SCHEMA = "notifica.sim.metrics/1"
_SECTIONS = (
    "run",
    "epidemic",
    "ground_truth",
    "notifications",
    "traffic",
    "baseline",
    "comparison",
    "system",
)
#: Names the plots and tables read besides the key numbers.
_READ = (
    "epidemic.series",
    "epidemic.infections_by_setting",
    "baseline.epidemic.series",
    "notifications.series",
    "notifications.by_setting",
    "ground_truth.pair_days_by_setting",
    "ground_truth.risky_pair_days_by_setting",
    "traffic.series",
)
_PLOTS = {
    "epidemic.png": (
        "Epidemic curves",
        "new infections and infectious people per day, with the app (solid) and without it "
        "(dashed, same seed)",
    ),
    "settings.png": (
        "Notifications per setting",
        "precision, recall and false-positive rate of notifications per setting",
    ),
    "notifications.png": (
        "Notifications over time",
        "notifications per day (true and false positives) and reporters per day",
    ),
    "traffic.png": (
        "Downloads per phone",
        "bytes each phone downloaded per day (mean, median, 90th percentile, maximum)",
    ),
    "attenuation.png": (
        "Attenuation versus distance",
        "the scenario's radio channel (median and 10-90 % per setting) over the Herald "
        "measurements",
    ),
}


def build_document(metrics: Mapping[str, Any], scenario: Scenario) -> dict[str, Any]:
    """The content of metrics.json: the metrics plus ``scenario``, ``derived``, ``published``.

    Raises:
        ReportError: a section is missing, the schema is not ``notifica.sim.metrics/1``, or a
            value cannot be written as JSON.
    """
    if metrics.get("schema") != METRICS_SCHEMA:
        raise ReportError(
            f"metrics schema must be {METRICS_SCHEMA!r}, got {metrics.get('schema')!r}"
        )
    for section in _SECTIONS:
        if not isinstance(metrics.get(section), Mapping):
            raise ReportError(f"the metrics have no {section!r} section")
    document = dict(metrics)
    document["run"] = dict(metrics["run"])
    if isinstance(document["run"].get("database"), str):
        document["run"]["database"] = _mask_password(document["run"]["database"])
    try:
        document["derived"] = derived_figures(metrics)
    except (KeyError, TypeError) as exc:
        raise ReportError(f"the metrics lack a value the report derives from: {exc}") from None
    document["published"] = published_figures(scenario.run.start_date, scenario.run.days)
    document["scenario"] = scenario.to_dict()
    result: dict[str, Any] = jsonable(document)
    for name in (*_READ, *(path for _, _, path, _ in KEY_NUMBERS if path not in OPTIONAL)):
        if not has(result, name):
            raise ReportError(f"the metrics have no {name!r}")
    return result


def write_report(metrics: Mapping[str, Any], out_dir: Path, *, scenario: Scenario) -> Path:
    """Write ``report.html``, its plots and ``metrics.json`` into `out_dir`, all or nothing.

    Args:
        metrics: the run's metrics (schema ``notifica.sim.metrics/1``).
        out_dir: the report's directory; replaced if it holds a previous report.
        scenario: the run's scenario (its channel is plotted; its values go to metrics.json).

    Returns:
        The path of ``report.html``.

    Raises:
        ReportError: bad metrics, or `out_dir` exists and is not a notifica report.
    """
    out_dir = Path(out_dir)
    prepared = _RunReport.prepare(metrics, scenario)
    with report_directory(out_dir, kind="run") as staging:
        prepared.write(staging)
    return out_dir / "report.html"


def write_sweep_report(
    runs: Sequence[Mapping[str, Any]],
    out_dir: Path,
    *,
    scenarios: Sequence[Scenario] | None = None,
) -> Path:
    """Write an adoption sweep's ``report.html``, ``sweep.png`` and ``sweep.json``, all or
    nothing; with `scenarios`, each run's full report too, in ``adoption-<value>/``.

    Args:
        runs: the metrics dict of each run (as `write_report` takes them, or as its
            metrics.json holds them), in any order.
        out_dir: the report's directory; replaced if it holds a previous report.
        scenarios: the scenario of each run (same order as `runs`), for the runs' reports.

    Returns:
        The path of ``report.html``.

    Raises:
        ReportError: no run, bad metrics, or `out_dir` exists and is not a notifica report.
        ValueError: `scenarios` and `runs` differ in length.
    """
    out_dir = Path(out_dir)
    names: list[str] = []
    if scenarios is not None:
        if len(scenarios) != len(runs):
            raise ValueError(f"{len(scenarios)} scenarios for {len(runs)} runs")
        for i, scenario in enumerate(scenarios):
            name = f"adoption-{scenario.adoption.overall:g}"
            names.append(name if name not in names else f"{name}-{i}")
    document = jsonable(sweep_document(runs, reports=[f"{n}/report.html" for n in names] or None))
    prepared = [
        _RunReport.prepare(run, scenario)
        for run, scenario in zip(runs, scenarios or (), strict=False)
    ]
    html = (
        _environment()
        .get_template("sweep.html")
        .render(
            **_globals(document, "sweep.json"),
            points=document["points"],
            published_rows=document["published"],
            plot={"file": "sweep.png", "title": "Adoption sweep"},
        )
    )
    with report_directory(out_dir, kind="sweep") as staging:
        _write_json(staging / "sweep.json", document)
        report_plots.plot_sweep(document["points"], staging / "sweep.png")
        for name, run_report in zip(names, prepared, strict=True):
            (staging / name).mkdir()
            run_report.write(staging / name)
        (staging / "report.html").write_text(html, encoding="utf-8")
    return out_dir / "report.html"


@dataclass(frozen=True, slots=True)
class _RunReport:
    """A run's report, checked and rendered, ready to be written into a directory."""

    document: dict[str, Any]
    scenario: Scenario
    plots: list[str]
    html: str

    @classmethod
    def prepare(cls, metrics: Mapping[str, Any], scenario: Scenario) -> _RunReport:
        document = build_document(metrics, scenario)
        plots = [f for f in _PLOTS if f != "traffic.png" or _has_traffic(document["traffic"])]
        return cls(document, scenario, plots, _render_run(document, scenario, plots))

    def write(self, directory: Path) -> None:
        _write_json(directory / "metrics.json", self.document)
        _draw_run_plots(self.document, self.scenario, directory, self.plots)
        (directory / "report.html").write_text(self.html, encoding="utf-8")


def jsonable(value: Any, where: str = "") -> Any:
    """`value` as plain JSON types: numpy scalars and arrays unwrapped, dates in ISO form,
    non-finite floats as ``None``.

    Raises:
        ReportError: a value of another type (named by its dotted place).
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v, f"{where}.{i}") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    raise ReportError(f"{where or 'the metrics'}: cannot write a {type(value).__name__} as JSON")


def _render_run(document: dict[str, Any], scenario: Scenario, plots: list[str]) -> str:
    settings = [*SETTING_LABELS]
    if lookup(document, "notifications.by_setting").get("none", {}).get("notifications"):
        settings.append("none")
    sections: dict[str, list[tuple[str, str, str]]] = {}
    for section, label, path, fmt in KEY_NUMBERS:
        if has(document, path):
            sections.setdefault(section, []).append((label, path, fmt))
    default = {p.key: jsonable(p.value) for p in Scenario().describe()}
    scenario_rows = [
        (p.key, p.doc + (f" ({p.unit})" if p.unit else ""), p.source)
        for p in scenario.describe()
        if jsonable(p.value) != default.get(p.key)
    ]
    template = _environment().get_template("report.html")
    return template.render(
        **_globals(document, "metrics.json"),
        run_parameters=RUN_PARAMETERS,
        key_numbers=list(sections.items()),
        settings=settings,
        published=list(document["published"].items()),
        plots=[{"file": f, "title": _PLOTS[f][0], "caption": _PLOTS[f][1]} for f in plots],
        scenario_rows=scenario_rows,
    )


def _globals(document: Mapping[str, Any], json_name: str) -> dict[str, Any]:
    return {
        "show": lambda path, fmt: format_value(lookup(document, path), fmt),
        "has": lambda path: has(document, path),
        "missing": MISSING,
        "json_name": json_name,
        "version": notifica.__version__,
    }


def _draw_run_plots(
    document: Mapping[str, Any], scenario: Scenario, directory: Path, plots: list[str]
) -> None:
    drawers = {
        "epidemic.png": lambda p: report_plots.plot_epidemic_curves(
            document["epidemic"], p, baseline=document["baseline"]["epidemic"]
        ),
        "settings.png": lambda p: report_plots.plot_precision_recall_by_setting(
            document["notifications"], p
        ),
        "notifications.png": lambda p: report_plots.plot_notifications_over_time(
            document["notifications"], document["epidemic"], p
        ),
        "traffic.png": lambda p: report_plots.plot_bytes_per_phone_day(document["traffic"], p),
        "attenuation.png": lambda p: report_plots.plot_attenuation_vs_distance(
            RadioChannel.from_scenario(scenario), p, seed=scenario.run.seed
        ),
    }
    for name in plots:
        drawers[name](directory / name)


def _has_traffic(traffic: Mapping[str, Any]) -> bool:
    return bool(traffic["bytes_per_phone_day"]["count"])


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _mask_password(url: str) -> str:
    """A database URL without its password (the report is shared; the password is not)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifica.sim", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
