"""`notifica sim ...`: the simulator's commands (run, sweep, scenario, radio fit, baseline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from notifica.cli._output import console, emit, fail, user_errors
from notifica.sim import Scenario, fit_radio, load_scenario, run_epidemic
from notifica.sim.radio_fit_report import render_report
from notifica.sim.report import summary_table
from notifica.sim.simulate import simulate, sweep, write_outputs

app = typer.Typer(name="sim", help="The population simulator.", no_args_is_help=True)

ScenarioOption = Annotated[Path | None, typer.Option("--scenario", help="Scenario TOML file.")]
PopulationOption = Annotated[int | None, typer.Option(help="Residents (run.population).")]
DaysOption = Annotated[int | None, typer.Option(help="Days (run.days).")]
SeedOption = Annotated[int | None, typer.Option(help="Seed (run.seed).")]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="PostgreSQL URL for the backend (default: SQLite)."),
]


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
    scenario_path: ScenarioOption = None,
    population: PopulationOption = None,
    days: DaysOption = None,
    seed: SeedOption = None,
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


def _run_options(
    population: int | None, days: int | None, adoption: float | None, seed: int | None
) -> dict[str, Any]:
    return {
        "run.population": population,
        "run.days": days,
        "adoption.overall": adoption,
        "run.seed": seed,
    }


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _format(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


@app.command("run")
def run_command(
    scenario_path: ScenarioOption = None,
    population: PopulationOption = None,
    days: DaysOption = None,
    adoption: Annotated[
        float | None, typer.Option(help="Share of residents with the app (adoption.overall).")
    ] = None,
    seed: SeedOption = None,
    out: Annotated[Path, typer.Option("--out", help="Directory of the report.")] = Path(
        "sim-report"
    ),
    database_url: DatabaseOption = None,
    processes: int = typer.Option(
        1,
        "--processes",
        min=1,
        help="Processes for the shards (provinces), with phones and without.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Simulate a town with the app: phones, backend, epidemic; write the report."""
    with user_errors():
        scenario = _scenario(scenario_path, _run_options(population, days, adoption, seed))
        if out.exists() and not out.is_dir():
            fail(f"--out {out} exists and is not a directory")
        with _progress() as progress:
            task = progress.add_task("simulating days", total=scenario.run.days)
            baseline = progress.add_task("baseline without the app", total=1)
            metrics = simulate(
                scenario,
                database_url=database_url,
                processes=processes,
                on_day=lambda _: progress.advance(task),
                on_baseline=lambda: progress.advance(baseline),
            )
        path = write_outputs(metrics, out, scenario=scenario)
        if as_json:
            emit(metrics, as_json=True)
            return
        console.print(summary_table(metrics))
        console.print(f"report: {path}")


@app.command("sweep")
def sweep_command(
    adoption: Annotated[
        str, typer.Option(help="Comma-separated adoption values, e.g. 0,0.2,0.4,0.6.")
    ],
    scenario_path: ScenarioOption = None,
    population: PopulationOption = None,
    days: DaysOption = None,
    seed: SeedOption = None,
    out: Annotated[Path, typer.Option("--out", help="Directory of the sweep.")] = Path("sim-sweep"),
    database_url: DatabaseOption = None,
    processes: int = typer.Option(
        1, "--processes", min=1, help="Processes for the shards (provinces) of each run."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the sweep as JSON."),
) -> None:
    """One run per adoption value; a report per run and the sweep's report and sweep.json."""
    with user_errors():
        values = _adoptions(adoption)
        scenario = _scenario(scenario_path, _run_options(population, days, None, seed))
        for value in values:  # every value checked before anything runs
            scenario.with_values({"adoption.overall": value})
        if out.exists() and not out.is_dir():
            fail(f"--out {out} exists and is not a directory")
        with _progress() as progress:
            runs = progress.add_task("runs", total=len(values))
            runs_metrics, path = sweep(
                scenario,
                values,
                out,
                database_url=database_url,
                processes=processes,
                on_run=lambda *_: progress.advance(runs),
            )
        if as_json:
            emit(runs_metrics, as_json=True)
            return
        table = Table("adoption", "infections", "averted", "precision", "recall", "notified")
        for m in runs_metrics:
            table.add_row(
                _format(m["run"]["adoption"]),
                _format(m["epidemic"]["infections"]),
                _format(m["comparison"]["infections_averted"]),
                _format(m["notifications"]["precision"]),
                _format(m["notifications"]["recall"]),
                _format(m["notifications"]["notified_people"]),
            )
        console.print(table)
        console.print(f"report: {path}")


def _adoptions(text: str) -> list[float]:
    values = []
    for part in text.split(","):
        try:
            values.append(float(part.strip()))
        except ValueError:
            fail(f"--adoption: {part.strip()!r} is not a number (use e.g. 0,0.2,0.4)")
    if not values:
        fail("--adoption: give at least one value")
    return values
