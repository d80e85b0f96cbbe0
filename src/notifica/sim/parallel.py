"""Shards with phones in parallel processes, one database (`docs/sim-design.md` §10).

Each worker process (``spawn``) builds `ShardRunner`s for its shards (their own app replicas
and CDN caches, the run's one SQLite file in WAL mode or PostgreSQL database) and obeys its
pipe: ``("advance", until_s)`` → simulate until the tick, answer ``("ok", None)``;
``("finish", None)`` → answer ``("result", {shard index: (summaries, counts)})``. The
coordinator (`run_parallel`) sends every worker the same tick, waits for every answer (the
barrier), runs the publish job once, and goes on. A worker that fails answers
``("error", traceback)``; the coordinator then stops every worker and raises, as it does on
Ctrl-C, so no report is written.

A runner's result depends only on its shard and the published batches (see
`notifica.sim.orchestration`), so the metrics are the same whatever the number of processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from notifica.phone import DetectionCache
from notifica.server import INLINE_BLOCKING_CALLS
from notifica.sim.contacts import DAY_S
from notifica.sim.devices import load_device_sampler
from notifica.sim.errors import SimError
from notifica.sim.orchestration import merge, publish_at, publisher, report_days, ticks
from notifica.sim.run import ShardSpec, plan_shards
from notifica.sim.scenario import Scenario
from notifica.sim.shard_runner import ShardRunner, SystemCounts

__all__ = ["assign_shards", "run_parallel"]

_JOIN_S = 5.0


def assign_shards(specs: Sequence[ShardSpec], processes: int) -> list[list[ShardSpec]]:
    """Largest shards first, each to the least loaded process (by residents)."""
    groups: list[list[ShardSpec]] = [[] for _ in range(min(processes, len(specs)))]
    loads = [0] * len(groups)
    for spec in sorted(specs, key=lambda s: (-s.size, s.index)):
        target = loads.index(min(loads))
        groups[target].append(spec)
        loads[target] += spec.size
    return groups


def _worker(
    conn: Connection,
    scenario: Scenario,
    specs: list[ShardSpec],
    data_dir: str,
    database_url: str | None,
) -> None:
    """A worker process's main: build the runners, then obey the pipe (in a copy of the
    context, so the inline-calls switch stays inside)."""
    contextvars.copy_context().run(_serve, conn, scenario, specs, data_dir, database_url)


def _serve(
    conn: Connection,
    scenario: Scenario,
    specs: list[ShardSpec],
    data_dir: str,
    database_url: str | None,
) -> None:
    try:
        INLINE_BLOCKING_CALLS.set(True)
        cache = DetectionCache()
        sampler = load_device_sampler()
        runners = [
            ShardRunner(
                scenario,
                spec,
                Path(data_dir),
                database_url=database_url,
                cache=cache,
                devices=sampler,
            )
            for spec in specs
        ]
        conn.send(("ok", sum(len(r.phones) for r in runners)))
        with asyncio.Runner() as loop:
            try:
                while True:
                    command, value = conn.recv()
                    if command == "advance":
                        for runner in runners:
                            loop.run(runner.advance(float(value)))
                        conn.send(("ok", None))
                    elif command == "finish":
                        conn.send(("result", {r.index: r.finish() for r in runners}))
                        return
                    else:
                        return
            finally:
                for runner in runners:
                    loop.run(runner.server.aclose())
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return
    except BaseException:  # every failure goes to the coordinator
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc()))


class _Workers:
    """The worker processes and their pipes; `stop` ends them all."""

    def __init__(self) -> None:
        self.processes: list[BaseProcess] = []
        self.pipes: list[Connection] = []

    def start(
        self,
        scenario: Scenario,
        groups: list[list[ShardSpec]],
        data_dir: Path,
        database_url: str | None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        for group in groups:
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_worker,
                args=(theirs, scenario, group, str(data_dir), database_url),
                name=f"notifica-sim-shards-{group[0].index}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self.processes.append(process)
            self.pipes.append(ours)

    def ask(self, command: str, value: Any = None) -> list[Any]:
        """Send every worker the command and wait for every answer (the barrier)."""
        for i, pipe in enumerate(self.pipes):
            try:
                pipe.send((command, value))
            except OSError:
                raise self._died(i) from None
        return self.gather()

    def _died(self, i: int) -> SimError:
        self.processes[i].join(_JOIN_S)
        return SimError(f"shard worker {i} died (exit code {self.processes[i].exitcode})")

    def gather(self) -> list[Any]:
        answers: dict[int, Any] = {}
        while len(answers) < len(self.pipes):
            pending = [p for i, p in enumerate(self.pipes) if i not in answers]
            for ready in wait(pending):
                i = next(j for j, p in enumerate(self.pipes) if p is ready)
                try:
                    kind, value = self.pipes[i].recv()
                except (EOFError, OSError):
                    raise self._died(i) from None
                if kind == "error":
                    raise SimError(f"a shard worker failed:\n{value}")
                answers[i] = value
        return [answers[i] for i in range(len(self.pipes))]

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.close()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(_JOIN_S)
            if process.is_alive():
                process.kill()
                process.join()


def run_parallel(
    scenario: Scenario,
    data_dir: Path,
    *,
    processes: int,
    database_url: str | None = None,
    on_day: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], int, str]:
    """Run the scenario's shards in `processes` worker processes; returns the merged metrics
    (as `Orchestration.run`), the number of phones and the database kind.

    Raises:
        SimError: a worker failed (every worker is stopped first).
    """
    specs = plan_shards(scenario)
    server = publisher(scenario, data_dir, database_url=database_url)
    counts = SystemCounts()
    workers = _Workers()
    try:
        workers.start(scenario, assign_shards(specs, processes), data_dir, database_url)
        phones = sum(workers.gather())
        done, end = 0, scenario.run.days * DAY_S
        for at_s in ticks(scenario):
            workers.ask("advance", at_s)
            done = report_days(done, at_s, scenario, on_day)
            if at_s < end:
                publish_at(server, at_s, counts)
        answers: list[dict[int, Any]] = workers.ask("finish")
    finally:
        workers.stop()
        asyncio.run(server.aclose())
    results = {index: result for answer in answers for index, result in answer.items()}
    return merge([results[spec.index] for spec in specs], counts), phones, server.database
