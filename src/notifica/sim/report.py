"""Plots of the simulator's results (PNG, matplotlib with the Agg backend).

The only module of notifica that imports matplotlib. Figures are drawn on the Agg canvas
directly (no pyplot: no global figure state, no display needed). So far: epidemic curves (with
and without the app) and attenuation versus distance (the fitted channel against the Herald
data); the HTML report with the comparison tables comes with the orchestration.
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

__all__ = ["plot_attenuation_vs_distance", "plot_epidemic_curves"]


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


def _figure(size: tuple[float, float]) -> Figure:
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure
