"""Plots of the simulator's results (PNG, matplotlib with the Agg backend).

The only module of notifica that imports matplotlib. Figures are drawn on the Agg canvas
directly (no pyplot: no global figure state, no display needed), from the metrics dict only:
epidemic curves with and without the app, precision / recall / false-positive rate per setting,
notifications over time, bytes downloaded per phone per day, attenuation versus distance (the
scenario's channel over the Herald data) and an adoption sweep. `report_html` assembles them;
import them from `notifica.sim.report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from notifica.sim.contacts import Setting
from notifica.sim.radio import RadioChannel
from notifica.sim.radio_fit import herald_calibrated_attenuation

__all__ = [
    "plot_attenuation_vs_distance",
    "plot_bytes_per_phone_day",
    "plot_epidemic_curves",
    "plot_notifications_over_time",
    "plot_precision_recall_by_setting",
    "plot_sweep",
]


def plot_epidemic_curves(
    curves: Mapping[str, Any], path: Path, *, baseline: Mapping[str, Any] | None = None
) -> Path:
    """Daily new infections and active cases; the no-app run dashed if given.

    Args:
        curves: `EpidemicCurves.combine` output of the run.
        path: the PNG to write.
        baseline: the same for the no-app run with the same seed.
    """
    figure = _figure((10, 4))
    new_axis, active_axis = figure.subplots(1, 2)
    for data, label, style in ((curves, "with the app", "-"), (baseline, "without the app", "--")):
        if data is None:
            continue
        series = data["series"]
        days = np.arange(len(series["new_infections"]))
        new_axis.plot(days, series["new_infections"], style, label=label)
        active = np.sum(
            [series[k] for k in ("presymptomatic", "symptomatic", "asymptomatic")], axis=0
        )
        active_axis.plot(days, active, style, label=label)
    new_axis.set(title="New infections per day", xlabel="day", ylabel="people")
    active_axis.set(title="Infectious people", xlabel="day", ylabel="people")
    for axis in (new_axis, active_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.savefig(path, dpi=100)
    return path


def plot_attenuation_vs_distance(
    channel: RadioChannel,
    path: Path,
    *,
    settings: Sequence[Setting] = (Setting.WORK, Setting.TRANSPORT),
    seed: int = 0,
) -> Path:
    """The channel's attenuation by distance (median and 10-90 % band per setting) over the
    Herald Android pairs' calibrated per-position medians."""
    rng = np.random.default_rng(seed)
    distance = np.linspace(0.2, 8.0, 79)
    figure = _figure((7, 4.5))
    axis = figure.subplots()
    herald_d, herald_a = herald_calibrated_attenuation()
    axis.scatter(
        herald_d,
        herald_a,
        s=3,
        alpha=0.25,
        color="grey",
        label="Herald, Android pairs (calibrated)",
    )
    for setting in settings:
        draws = channel.sample_attenuation_db(
            rng, np.repeat(distance[:, None], 400, axis=1), setting
        )
        low, median, high = np.percentile(draws, [10, 50, 90], axis=1)
        line = axis.plot(distance, median, label=f"{setting.label}: median")[0]
        axis.fill_between(
            distance,
            low,
            high,
            color=line.get_color(),
            alpha=0.15,
            label=f"{setting.label}: 10-90 %",
        )
    axis.axvline(2.0, color="black", linewidth=0.8, linestyle=":")
    axis.set(xlabel="distance (m)", ylabel="attenuation (dB)", title="Attenuation versus distance")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    figure.savefig(path, dpi=100)
    return path


def plot_precision_recall_by_setting(notifications: Mapping[str, Any], path: Path) -> Path:
    """Precision, recall and false-positive rate of notifications per setting (bars; a setting
    without a denominator has no bar).

    Args:
        notifications: `NotificationCollector.combine` output.
        path: the PNG to write.
    """
    by_setting = notifications["by_setting"]
    labels = [s.label for s in Setting]
    measures = (("precision", "precision"), ("recall", "recall"), ("false_positive_rate", "FPR"))
    figure = _figure((9, 4))
    axis = figure.subplots()
    x = np.arange(len(labels))
    width = 0.8 / len(measures)
    for i, (key, name) in enumerate(measures):
        values = [_nan(by_setting.get(label, {}).get(key)) for label in labels]
        axis.bar(x + (i - 1) * width, values, width, label=name)
    axis.set_xticks(x, labels)
    axis.set(ylim=(0, 1.05), ylabel="share", title="Notifications against the ground truth")
    axis.grid(alpha=0.3, axis="y")
    axis.legend()
    figure.savefig(path, dpi=100)
    return path


def plot_notifications_over_time(
    notifications: Mapping[str, Any], epidemic: Mapping[str, Any], path: Path
) -> Path:
    """Notifications per day (true and false positives stacked) and reporters per day.

    Args:
        notifications: `NotificationCollector.combine` output (its ``series``).
        epidemic: `EpidemicCurves.combine` output of the same run (``series.reporters``).
        path: the PNG to write.
    """
    series = notifications["series"]
    total = np.asarray(series.get("notifications", []), dtype=float)
    true = np.asarray(series.get("true_positives", []), dtype=float)
    days = np.arange(len(total))
    figure = _figure((9, 4))
    axis = figure.subplots()
    axis.bar(days, true, label="true positives", color="tab:green")
    axis.bar(days, total - true, bottom=true, label="false positives", color="tab:red")
    reporters = epidemic["series"].get("reporters", [])
    axis.plot(np.arange(len(reporters)), reporters, "k.-", label="reporters (uploads)")
    axis.set(xlabel="day", ylabel="per day", title="Notifications over time")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.savefig(path, dpi=100)
    return path


def plot_bytes_per_phone_day(traffic: Mapping[str, Any], path: Path) -> Path:
    """Kilobytes each phone downloaded per day: mean, median, 90th percentile and maximum.

    Args:
        traffic: `TrafficCollector.combine` output (its ``series``).
        path: the PNG to write.
    """
    figure = _figure((7, 4))
    axis = figure.subplots()
    for key in ("mean", "median", "p90", "max"):
        values = np.array([_nan(v) for v in traffic["series"].get(key, [])]) / 1000
        axis.plot(np.arange(len(values)), values, ".-", label=key)
    axis.set(xlabel="day", ylabel="kB per phone", title="Downloaded per phone per day")
    axis.set_ylim(bottom=0)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.savefig(path, dpi=100)
    return path


def plot_sweep(
    points: Sequence[Mapping[str, Any]],
    path: Path,
) -> Path:
    """An adoption sweep: each quantity against the uptake (share of residents with a phone).

    Args:
        points: per run, ``uptake`` and the values named in the panels (``None`` = no point):
            ``infections_averted_share``, ``precision``, ``recall``, ``false_positive_rate``,
            ``notifications_per_uploader``.
        path: the PNG to write.

    The NHS app's 0.8-2.3 % per point of uptake is a slope near 28 % uptake, not a line through
    zero, so it is compared in the table (least-squares slope), not drawn here.
    """
    uptake = np.array([_nan(p["uptake"]) for p in points]) * 100
    order = np.argsort(uptake)
    figure = _figure((10, 7))
    panels = figure.subplots(2, 2).ravel()
    plots = (
        ("Infections averted", (("infections_averted_share", "share averted"),), True),
        ("Notifications", (("precision", "precision"), ("recall", "recall")), True),
        ("Notifications per uploader", (("notifications_per_uploader", "per uploader"),), False),
        ("False-positive rate", (("false_positive_rate", "FPR"),), True),
    )
    for axis, (title, lines, share) in zip(panels, plots, strict=True):
        for key, name in lines:
            values = np.array([_nan(p.get(key)) for p in points])
            axis.plot(uptake[order], values[order], "o-", label=name)
        axis.set(title=title, xlabel="uptake (% of residents)", ylabel="share" if share else "")
        axis.set_ylim(bottom=0, top=1.05 if share and title != "Infections averted" else None)
        axis.grid(alpha=0.3)
    for axis in panels:
        axis.legend()
    figure.savefig(path, dpi=100)
    return path


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _figure(size: tuple[float, float]) -> Figure:
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure
