"""`notifica sim ...`: the simulator's commands (scenario check, radio fit, epidemic baseline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from notifica.cli._output import console, emit, user_errors
from notifica.sim import Scenario, fit_radio, load_scenario, run_epidemic
from notifica.sim.radio_fit_report import render_report

app = typer.Typer(name="sim", help="The population simulator.", no_args_is_help=True)


def _scenario(path: Path | None, overrides: dict[str, Any]) -> Scenario:
    scenario = load_scenario(path)
    values = {key: value for key, value in overrides.items() if value is not None}
    return scenario.with_values(values) if values else scenario


@app.command("scenario")
def scenario_command(
    path: Annotated[
        Path | None, typer.Argument(help="Scenario TOML file (default: the packaged one).")
    ] = None,
    defaults: bool = typer.Option(False, "--defaults", help="Print the complete default file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a scenario file and list every parameter with its unit and source."""
    with user_errors():
        if defaults:
            typer.echo(Scenario().to_toml(), nl=False)
            return
        scenario = load_scenario(path)
        rows = [
            {
                "key": p.key,
                "value": _jsonable(p.value),
                "unit": p.unit,
                "doc": p.doc,
                "source": p.source,
            }
            for p in scenario.describe()
        ]

        def render(data: list[dict[str, Any]]) -> None:
            table = Table("key", "value", "meaning", "source", show_lines=False)
            for row in data:
                table.add_row(row["key"], str(row["value"]), row["doc"], row["source"])
            console.print(table)

        emit(rows, as_json=as_json, render=render)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@app.command("fit-radio")
def fit_radio_command(
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the Markdown fit report here.")
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fit the radio channel to the shipped Herald and MIT-LL data (docs/radio-fit.md)."""
    with user_errors():
        fit = fit_radio()
        if report is not None:
            report.write_text(render_report(fit), encoding="utf-8")
        data = {"scenario_values": fit.scenario_values(), "report": str(report) if report else None}

        def render(result: dict[str, Any]) -> None:
            table = Table("scenario key", "fitted value")
            for key, value in result["scenario_values"].items():
                table.add_row(key, str(value))
            console.print(table)
            if result["report"]:
                console.print(f"report written to {result['report']}")

        emit(data, as_json=as_json, render=render)


@app.command("epidemic")
def epidemic_command(
    scenario_path: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario TOML file.")
    ] = None,
    population: Annotated[int | None, typer.Option(help="Residents (run.population).")] = None,
    days: Annotated[int | None, typer.Option(help="Days (run.days).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (run.seed).")] = None,
    processes: int = typer.Option(1, "--processes", min=1, help="Worker processes for the shards."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run population, contacts and epidemic without phones (the no-app baseline)."""
    with user_errors():
        scenario = _scenario(
            scenario_path, {"run.population": population, "run.days": days, "run.seed": seed}
        )
        result = run_epidemic(scenario, processes=processes)
        epidemic = {k: v for k, v in result.metrics["epidemic"].items() if k != "series"}
        data = {"epidemic": epidemic, "ground_truth": result.metrics["ground_truth"]}

        def render(summary: dict[str, Any]) -> None:
            table = Table("metric", "value")
            for section, values in summary.items():
                for key, value in values.items():
                    table.add_row(f"{section}.{key}", str(value))
            console.print(table)

        emit(data, as_json=as_json, render=render)
