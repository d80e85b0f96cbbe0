from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from notifica.cli import app

runner = CliRunner()


def test_scenario_lists_parameters_as_json() -> None:
    result = runner.invoke(app, ["sim", "scenario", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["key"]: row for row in json.loads(result.output)}
    assert rows["adoption.overall"]["value"] == 0.2
    assert rows["ground_truth.min_duration"]["unit"] == "s"


def test_a_bad_scenario_file_is_one_line_naming_the_key(tmp_path: Path) -> None:
    town = tmp_path / "town.toml"
    town.write_text("[adoption]\noverall = 1.5\n")
    result = runner.invoke(app, ["sim", "scenario", str(town)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {town}: adoption.overall: must be ≤ 1, got 1.5"
    ]


def test_a_missing_scenario_file_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sim", "epidemic", "--scenario", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert "cannot read the scenario file" in result.output


def test_defaults_print_the_packaged_file() -> None:
    result = runner.invoke(app, ["sim", "scenario", "--defaults"])
    assert result.exit_code == 0
    assert "[ground_truth]" in result.output
    assert 'max_distance = "2 m"' in result.output


def test_epidemic_runs_a_small_baseline() -> None:
    result = runner.invoke(app, ["sim", "epidemic", "--population", "400", "--days", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["epidemic"]["population"] == 400
    assert data["epidemic"]["days"] == 3


def test_epidemic_rejects_out_of_range_options() -> None:
    result = runner.invoke(app, ["sim", "epidemic", "--population", "1", "--days", "3"])
    assert result.exit_code == 1
    assert "run.population: must be ≥ 2" in result.output


def test_fit_radio_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "fit.md"
    result = runner.invoke(app, ["sim", "fit-radio", "--report", str(report), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scenario_values"]["radio.body_loss"].endswith(" dB")
    assert report.read_text().startswith("# Radio channel fit")


def test_epidemic_needs_at_least_one_process() -> None:
    result = runner.invoke(app, ["sim", "epidemic", "--processes", "0"])
    assert result.exit_code == 2
