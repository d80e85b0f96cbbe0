"""Shards with phones in parallel processes (one database, the publish job at barriers), and
the scenario's app switches reaching the phones and the server."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import notifica.sim.simulate as simulate_module
from notifica.cli import app
from notifica.sim import Scenario
from notifica.sim.contacts import DAY_S
from notifica.sim.errors import SimError
from notifica.sim.orchestration import ShardRunner, publisher, ticks
from notifica.sim.parallel import _worker, assign_shards
from notifica.sim.run import ShardSpec, plan_shards
from notifica.sim.simulate import simulate

TOWN = {
    "run.population": 300,
    "run.days": 7,
    "run.initial_infections": 40,
    "run.seed": 3,
    "run.provinces": {"RM": 0.6, "MI": 0.4},
    "testing.symptomatic_test_probability": 1.0,
    "testing.onset_to_test": "1 d",
    "testing.sensitivity": 1.0,
    "app.reporting_probability": 1.0,
    "adoption.overall": 0.6,
}
"""Two provinces where reporters upload within the week and phones get notified."""


def _without_timing(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(metrics))
    del out["run"]["elapsed_s"]
    return out


@pytest.mark.slow
def test_the_number_of_processes_does_not_change_the_metrics() -> None:
    scenario = Scenario().with_values(TOWN)
    one = simulate(scenario, processes=1)
    two = simulate(scenario, processes=2)
    assert one["run"]["shards"] == 2
    assert one["system"]["uploads"] >= 1  # keys crossed provinces through the batches
    assert one["system"]["batches_published"] >= 1
    assert one["system"]["notifications"] >= 1
    assert _without_timing(one) == _without_timing(two)


def _short(days: int = 2) -> Scenario:
    return Scenario().with_values({**TOWN, "run.population": 150, "run.days": days})


def test_a_worker_that_dies_stops_every_worker_and_the_run() -> None:
    def on_day(day: int) -> None:
        multiprocessing.active_children()[0].kill()

    with pytest.raises(SimError, match="died"):
        simulate(_short(), processes=2, on_day=on_day)
    assert multiprocessing.active_children() == []


def test_ctrl_c_stops_every_worker_and_writes_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = simulate_module.simulate

    def interrupted(scenario: Scenario, **kwargs: Any) -> dict[str, Any]:
        def on_day(day: int) -> None:
            assert len(multiprocessing.active_children()) == 2
            raise KeyboardInterrupt

        provinces = scenario.with_values({"run.provinces": TOWN["run.provinces"]})
        return real(provinces, **{**kwargs, "on_day": on_day})

    monkeypatch.setattr("notifica.cli.sim.simulate", interrupted)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["sim", "run", "--population", "150", "--days", "2", "--processes", "2", "--out", str(out)],
    )
    assert result.exit_code != 0
    assert not out.exists()
    assert multiprocessing.active_children() == []


def test_an_exception_in_a_worker_stops_every_worker_and_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("notifica.sim.parallel.ticks", lambda scenario: [21600.0, "later"])
    with pytest.raises(SimError, match=r"a shard worker failed:(.|\n)*ValueError"):
        simulate(_short(), processes=2)
    assert multiprocessing.active_children() == []


def test_a_worker_reports_its_error_with_the_traceback(tmp_path: Path) -> None:
    scenario = _short()
    publisher(scenario, tmp_path, database_url=None)
    ours, theirs = multiprocessing.Pipe()
    ours.send(("advance", "tomorrow"))
    _worker(theirs, scenario, [plan_shards(scenario)[0]], str(tmp_path), None)
    kind, phones = ours.recv()
    assert (kind, phones > 0) == ("ok", True)
    kind, text = ours.recv()
    assert kind == "error"
    assert "ValueError" in text
    assert "tomorrow" in text


def test_shards_are_spread_by_size() -> None:
    specs = [ShardSpec(i, f"P{i}", size) for i, size in enumerate([50, 300, 100, 200])]
    groups = assign_shards(specs, 2)
    assert [[s.size for s in g] for g in groups] == [[300, 50], [200, 100]]
    assert assign_shards(specs[:1], 4) == [[specs[0]]]


def test_ticks_are_the_publish_times_then_the_end() -> None:
    scenario = Scenario().with_values({"run.days": 1, "app.publish_period": "21600 s"})
    assert ticks(scenario) == [21600, 43200, 64800, 86400]
    odd = Scenario().with_values({"run.days": 1, "app.publish_period": "50000 s"})
    assert ticks(odd) == [50000, 86400]


class _Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def _run_one_shard(tmp_path: Path, values: dict[str, Any], days: int) -> tuple[ShardRunner, Any]:
    scenario = Scenario().with_values({**TOWN, "run.provinces": {"BO": 1.0}, **values})
    server = publisher(scenario, tmp_path, database_url=None)
    runner = ShardRunner(scenario, plan_shards(scenario)[0], tmp_path)
    recording = _Recording(runner.server.cdn._inner)
    runner.server.cdn._inner = recording

    async def go() -> None:
        try:
            await runner.advance(days * DAY_S)
        finally:
            await runner.server.aclose()
            await server.aclose()

    asyncio.run(go())
    return runner, recording


@pytest.mark.parametrize("dummy", [True, False])
def test_dummy_traffic_off_sends_no_dummy_request(tmp_path: Path, dummy: bool) -> None:
    runner, recording = _run_one_shard(
        tmp_path, {"app.dummy_traffic": dummy, "run.days": 4}, days=4
    )
    dummies = [r for r in recording.requests if r.headers.get("immuni-dummy-data") == "1"]
    if dummy:
        assert dummies  # the control: with the switch on, some reach the backend
        assert runner.counts.dummy_uploads > 0
    else:
        assert dummies == []
        assert runner.counts.dummy_uploads == 0


@pytest.mark.parametrize("period_s", [7200, 14400])
def test_phones_detect_every_detection_period_of_the_scenario(
    tmp_path: Path, period_s: int
) -> None:
    runner, recording = _run_one_shard(
        tmp_path, {"app.detection_period": f"{period_s} s", "run.days": 1}, days=1
    )
    phones = len(runner.phones)
    per_day = DAY_S // period_s
    assert phones * per_day <= runner.counts.detections <= phones * (per_day + 1)
    settings = [r for r in recording.requests if r.url.path.endswith("/settings")]
    assert settings


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_share_one_postgresql_database(empty_postgres: str) -> None:
    scenario = _short(days=3)
    on_sqlite = simulate(scenario, processes=1)
    on_postgres = simulate(scenario, processes=2, database_url=empty_postgres)
    assert on_postgres["run"]["database"] == "postgresql"
    for name in ("detections", "uploads", "keys_published", "notifications"):
        assert on_postgres["system"][name] == on_sqlite["system"][name], name
