from __future__ import annotations

from pathlib import Path

from notifica.sim import RadioChannel, Scenario, run_epidemic
from notifica.sim.report import plot_attenuation_vs_distance, plot_epidemic_curves

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    metrics = run_epidemic(Scenario().with_values({"run.population": 500, "run.days": 4})).metrics
    curves = plot_epidemic_curves(
        metrics["epidemic"], tmp_path / "curves.png", baseline=metrics["epidemic"]
    )
    radio = plot_attenuation_vs_distance(
        RadioChannel.from_scenario(Scenario()), tmp_path / "radio.png"
    )
    for path in (curves, radio):
        data = path.read_bytes()
        assert data.startswith(PNG)
        assert len(data) > 10_000
