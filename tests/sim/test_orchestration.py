"""Whole runs with phones through the real backend: determinism, sanity against the ground
truth, the output contract, and the CLI's errors and interruptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import notifica.sim.simulate as simulate_module
from notifica.cli import app
from notifica.sim import Scenario, report_plots
from notifica.sim.simulate import SCHEMA, simulate, write_outputs

runner = CliRunner()

FAST = {
    "run.population": 250,
    "run.days": 6,
    "run.initial_infections": 40,
    "run.seed": 3,
    "testing.symptomatic_test_probability": 1.0,
    "testing.onset_to_test": "1 d",
    "testing.sensitivity": 1.0,
    "app.reporting_probability": 1.0,
}
"""A small town where reporters appear within a few days."""

ENVIRONMENTS = ("home", "indoor", "vehicle", "outdoor")


def _without_timing(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(metrics))
    del out["run"]["elapsed_s"]
    return out


@pytest.fixture(scope="module")
def fast_metrics() -> dict[str, Any]:
    return simulate(Scenario().with_values({**FAST, "adoption.overall": 0.6}))


@pytest.fixture(scope="module")
def tiny_metrics() -> dict[str, Any]:
    return simulate(
        Scenario().with_values(
            {**FAST, "run.population": 150, "run.days": 2, "adoption.overall": 0.3}
        )
    )


@pytest.mark.slow
def test_the_metrics_follow_the_output_contract(fast_metrics: dict[str, Any]) -> None:
    m = fast_metrics
    assert m["schema"] == SCHEMA
    assert set(m) == {
        "schema",
        "run",
        "epidemic",
        "ground_truth",
        "notifications",
        "traffic",
        "baseline",
        "comparison",
        "system",
    }
    assert m["run"]["database"] == "sqlite"
    assert m["run"]["phones"] > 0
    assert m["system"]["uploads"] >= 1  # a reporter went through OTP and upload
    assert m["system"]["otps_authorised"] == m["system"]["uploads"]
    assert m["system"]["batches_published"] >= 1
    assert m["system"]["detections"] >= m["run"]["phones"] * 5 * m["run"]["days"]
    assert m["system"]["notifications"] >= 1
    # a phone notifies again for a later contact date: people ≤ notifications shown
    assert 1 <= m["notifications"]["notified_people"] <= m["system"]["notifications"]
    assert m["traffic"]["bytes_per_phone_day"]["median"] > 0
    assert m["comparison"]["infections_without_app"] == m["baseline"]["epidemic"]["infections"]
    json.dumps(m, allow_nan=False)


@pytest.mark.slow
def test_same_seed_same_metrics(fast_metrics: dict[str, Any]) -> None:
    again = simulate(Scenario().with_values({**FAST, "adoption.overall": 0.6}))
    assert _without_timing(again) == _without_timing(fast_metrics)


def test_without_adopters_nobody_is_notified() -> None:
    metrics = simulate(Scenario().with_values({**FAST, "run.days": 3, "adoption.overall": 0.0}))
    assert metrics["run"]["phones"] == 0
    assert metrics["notifications"]["notifications"] == 0
    assert metrics["system"]["uploads"] == 0
    assert metrics["comparison"]["infections_averted"] == 0


@pytest.mark.slow
def test_noiseless_channel_and_a_rule_at_the_ground_truth_catch_the_risky_contacts() -> None:
    scenario = Scenario().with_values(
        {
            **FAST,
            "run.population": 400,
            "run.days": 10,
            "run.initial_infections": 80,
            "epidemic.transmission_rate": "1e-6 /min",  # receivers rarely turn positive
            "adoption.overall": 1.0,
            "radio.channel": "noiseless",
            "app.risk_rule": "ground-truth",
            **{f"radio.environments.{e}.slope_near": 2.35 for e in ENVIRONMENTS},
        }
    )
    notifications = simulate(scenario)["notifications"]
    assert notifications["notifications"] >= 20
    assert notifications["precision"] >= 0.95
    assert notifications["recall"] >= 0.95


def test_the_report_is_written_whole(tmp_path: Path, tiny_metrics: dict[str, Any]) -> None:
    out = tmp_path / "report"
    path = write_outputs(tiny_metrics, out, scenario=Scenario())
    assert path == out / "report.html"
    assert json.loads((out / "metrics.json").read_text())["schema"] == SCHEMA
    write_outputs(tiny_metrics, out, scenario=Scenario())  # replaces the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_ctrl_c_while_the_report_is_written_leaves_nothing(
    tmp_path: Path, tiny_metrics: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(report_plots, "plot_notifications_over_time", killed)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(tiny_metrics, tmp_path / "report", scenario=Scenario())
    assert list(tmp_path.iterdir()) == []


def _cli(*args: str) -> Any:
    return runner.invoke(app, ["sim", *args])


def test_the_cli_runs_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _cli(
        "run", "--population", "200", "--days", "2", "--adoption", "0.3", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert f"report: {out.resolve() / 'report.html'}" in result.output.replace("\n", "")
    assert (out / "report.html").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["run"]["population"] == 200
    assert metrics["run"]["adoption"] == 0.3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--adoption", "1.5"], "adoption.overall: must be ≤ 1, got 1.5"),
        (["run", "--population", "0"], "run.population"),
        (["run", "--days", "-1"], "run.days"),
        (["sweep", "--adoption", "0,abc"], "'abc' is not a number"),
        (["sweep", "--adoption", "0.2,2"], "adoption.overall: must be ≤ 1, got 2"),
    ],
)
def test_bad_options_are_one_clear_line_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = _cli(*args, "--out", str(out))
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_run_leaves_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = simulate_module.simulate

    def interrupted(scenario: Scenario, **kwargs: Any) -> dict[str, Any]:
        def on_day(day: int) -> None:
            raise KeyboardInterrupt

        return real(scenario, **{**kwargs, "on_day": on_day})

    monkeypatch.setattr("notifica.cli.sim.simulate", interrupted)
    out = tmp_path / "out"
    result = _cli("run", "--population", "150", "--days", "2", "--out", str(out))
    assert result.exit_code != 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_sweep_writes_one_metrics_file_per_adoption_and_the_combined_json(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sweep"
    result = _cli(
        "sweep", "--adoption", "0,0.5", "--population", "150", "--days", "2", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    combined = json.loads((out / "sweep.json").read_text())
    assert [p["adoption"] for p in combined["points"]] == [0.0, 0.5]
    for value in ("0", "0.5"):
        metrics = json.loads((out / f"adoption-{value}" / "metrics.json").read_text())
        assert metrics["schema"] == SCHEMA
    assert (out / "report.html").exists()


@pytest.mark.postgres
def test_the_backend_can_run_on_postgresql(empty_postgres: str) -> None:
    scenario = Scenario().with_values({**FAST, "run.population": 150, "run.days": 2})
    on_sqlite = simulate(scenario)
    on_postgres = simulate(scenario, database_url=empty_postgres)
    assert on_postgres["run"]["database"] == "postgresql"
    assert on_postgres["run"]["phones"] > 0
    assert on_postgres["system"]["detections"] == on_sqlite["system"]["detections"]
    assert on_postgres["traffic"]["bytes_per_phone_day"]["median"] == pytest.approx(
        on_sqlite["traffic"]["bytes_per_phone_day"]["median"], rel=0.01
    )  # the same answers, up to a few bytes of serialisation


def test_provinces_run_together_on_one_database() -> None:
    scenario = Scenario().with_values(
        {**FAST, "run.population": 200, "run.days": 2, "run.provinces": {"BO": 0.5, "MI": 0.5}}
    )
    metrics = simulate(scenario)
    assert metrics["run"]["shards"] == 2
    assert metrics["run"]["phones"] > 0
    assert metrics["system"]["detections"] >= metrics["run"]["phones"] * 2 * 5
    assert metrics["epidemic"]["infections"] >= FAST["run.initial_infections"]
