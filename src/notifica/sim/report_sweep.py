"""An adoption sweep's document: one point per run, and the slope the NHS figures are about.

`sweep_document(runs)` is what ``sweep.json`` holds (`report_html.write_sweep_report` writes it
and renders it): per run the adoption, the uptake and the metrics that vary with it, sorted by
uptake; the least-squares slope of the share of infections averted against the uptake in
percentage points (the NHS app: 0.8-2.3 % per point, sim §4.1); the run's full metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from notifica.sim.errors import ReportError
from notifica.sim.report_figures import derived_figures, nhs_averted_per_uptake_point

__all__ = ["SWEEP_SCHEMA", "sweep_document"]

SWEEP_SCHEMA = "notifica.sim.sweep/1"
_NEEDED = ("run", "notifications", "comparison", "system")


def sweep_document(
    runs: Sequence[Mapping[str, Any]], *, reports: Sequence[str] | None = None
) -> dict[str, Any]:
    """Points, slope and runs of an adoption sweep (see the module docstring).

    Args:
        runs: each run's metrics dict.
        reports: each run's report, relative to the sweep's (``report`` of its point).

    Raises:
        ReportError: no run, or a run without a section the sweep reads.
    """
    if not runs:
        raise ReportError("a sweep report needs at least one run")
    if reports is not None and len(reports) != len(runs):
        raise ValueError(f"{len(reports)} reports for {len(runs)} runs")
    points = []
    for index, metrics in enumerate(runs):
        missing = [s for s in _NEEDED if not isinstance(metrics.get(s), Mapping)]
        if missing:
            raise ReportError(f"sweep run {index} has no {missing[0]!r} section")
        try:
            points.append({**_point(metrics), "report": reports[index] if reports else None})
        except (KeyError, TypeError) as exc:
            raise ReportError(f"sweep run {index} lacks a metric: {exc}") from None
    order = sorted(
        range(len(points)),
        key=lambda i: (points[i]["uptake"] or 0.0, points[i]["adoption"] or 0.0, i),
    )
    return {
        "schema": SWEEP_SCHEMA,
        "points": [points[i] for i in order],
        "slope": _slope([points[i] for i in order]),
        "published": {
            "nhs_averted_per_uptake_point": nhs_averted_per_uptake_point(
                "slope.infections_averted_share_per_uptake_point"
            )
        },
        "runs": [runs[i] for i in order],
    }


def _point(metrics: Mapping[str, Any]) -> dict[str, Any]:
    run, comparison, notifications = metrics["run"], metrics["comparison"], metrics["notifications"]
    derived = derived_figures(metrics)
    return {
        "adoption": run["adoption"],
        "uptake": derived["uptake"],
        "seed": run["seed"],
        "population": run["population"],
        "days": run["days"],
        "phones": run["phones"],
        "infections_with_app": comparison["infections_with_app"],
        "infections_without_app": comparison["infections_without_app"],
        "infections_averted": comparison["infections_averted"],
        "infections_averted_share": comparison["infections_averted_share"],
        "precision": notifications["precision"],
        "recall": notifications["recall"],
        "false_positive_rate": notifications.get("false_positive_rate"),
        "notified_per_reporter": notifications["notified_per_reporter"],
        "notifications_per_uploader": derived["notifications_per_uploader"],
    }


def _slope(points: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Least squares of the share averted on the uptake in percentage points (`None` without
    two distinct uptakes)."""
    pairs = [
        (p["uptake"] * 100, p["infections_averted_share"])
        for p in points
        if p["uptake"] is not None and p["infections_averted_share"] is not None
    ]
    x = np.array([a for a, _ in pairs], dtype=np.float64)
    y = np.array([b for _, b in pairs], dtype=np.float64)
    if len(np.unique(x)) < 2:
        return {"infections_averted_share_per_uptake_point": None, "intercept": None, "points": 0}
    slope, intercept = np.polyfit(x, y, 1)
    return {
        "infections_averted_share_per_uptake_point": float(slope),
        "intercept": float(intercept),
        "points": len(pairs),
    }
