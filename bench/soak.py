"""Soak: national-shaped mixed traffic against `notifica serve` on PostgreSQL, then an audit.

    python bench/soak.py [--duration 600] [--rate 300] [--workers 2] [--json soak.json]

1. creates a scratch PostgreSQL database (``NOTIFICA_TEST_POSTGRES_URL`` server), registers
   one HIS client per Italian region, and publishes ``--seed-keys`` keys so that phones have
   batches to download (setup, not measured); the database is dropped at the end;
2. starts ``notifica serve --workers N`` as deployed: Immuni's N(150 ms, 20 ms) release
   schedule, the per-address ingestion limit behind a trusted proxy (``X-Forwarded-For``
   carries one of many phone addresses), and the publish job on a ``--publish-every``
   interval inside the workers (the publisher lock lets one of them do it);
3. sends requests as a Poisson process at ``--rate`` per second for ``--duration`` seconds,
   in the shares of `MIX`: mostly dummy check-otp/upload (padded to 110,000 bytes) and
   analytics, index and batch downloads, settings, and real reports (the HIS authorises an
   OTP through ``POST /v1/otp``, then the phone's check-otp and a 14-key upload);
4. records per kind the status codes and latency (from the scheduled send time, so queueing
   in the generator counts against the server), completions per second, each worker's RSS
   and CPU time from ``/proc`` every 5 s, and the generator's own send lag and CPU;
5. stops the server, publishes once more, reads every stored batch and checks that each
   accepted upload's eligible keys are in exactly one batch, its current-day key is still
   pending, its keys before onset − 2 days nowhere, and that no key is in two batches.

The load generator is a small HTTP/1.1 client over asyncio streams on uvloop with
pre-rendered requests (httpx costs ~10× more CPU per request; wrk cannot follow the
OTP → check-otp → upload sequence or record which uploads were accepted). Its send lag and
CPU share are reported so that a generator bottleneck would show.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from scratch_db import copy_pending_keys, create_database, drop_database, free_port
from soak_support import (
    HIS_REGIONS,
    Connection,
    padded_request,
    proc_cpu_s,
    proc_rss_kib,
    render,
    serve,
    worker_pids,
)

from notifica.clock import SystemClock
from notifica.protocol import generate_otp, interval_number_at, otp_bearer_token, read_export
from notifica.server import Backend, Settings
from notifica.server.jobs.publish import first_risky_interval

MIX: dict[str, float] = {
    "dummy check-otp": 0.18,
    "dummy upload": 0.10,
    "analytics google, dummy": 0.10,
    "analytics apple, dummy": 0.04,
    "analytics apple": 0.08,
    "keys index": 0.20,
    "keys batch": 0.18,
    "settings": 0.06,
    "report (otp, check-otp, upload)": 0.06,
}
"""Share of requests by kind; a report is three requests. About half the requests are dummy
ingestion and analytics, the traffic Immuni added so that real reports hide among them."""
REPORT = "report (otp, check-otp, upload)"
REPORT_STEPS = ("otp", "check-otp", "upload")
PACKET = 110_000
PROVINCES = ("RM", "MI", "NA", "TO", "PA", "BA", "FI", "BO", "GE", "VE", "CA", "TN")
TIMEOUT_S = 30.0


@dataclass
class Stats:
    """Per-kind outcomes; latencies in seconds from the scheduled time."""

    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lag: list[float] = field(default_factory=list)
    done_per_s: Counter[int] = field(default_factory=Counter)
    uploads: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Load:
    """What the generator needs: where, how, and the state it learns (batch range)."""

    port: int
    his_keys: list[str]
    rng: random.Random
    stats: Stats
    pool: asyncio.Queue[Connection]
    start: float = 0.0
    batch_range: tuple[int, int] = (1, 1)
    dummy_bodies: list[bytes] = field(default_factory=list)
    attestation: str = ""

    def address(self) -> str:
        n = self.rng.randrange(1 << 22)
        return f"10.{n >> 14}.{(n >> 6) & 255}.{n & 63}"

    async def send(self, kind: str, data: bytes, scheduled: float) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        connection = await self.pool.get()
        sent = loop.time()
        self.stats.lag.append(sent - scheduled)
        try:
            async with asyncio.timeout(TIMEOUT_S):
                status, body = await connection.request(data)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            connection.close()
            self.stats.statuses[kind][type(exc).__name__] += 1
            return 0, b""
        finally:
            self.pool.put_nowait(connection)
        done = loop.time()
        self.stats.statuses[kind][str(status)] += 1
        self.stats.latency[kind].append(done - scheduled)
        self.stats.done_per_s[int(done - self.start)] += 1
        return status, body

    # -- requests ------------------------------------------------------------------------------

    def dummy_ingestion(self, path: str) -> bytes:
        headers = {
            "Authorization": f"Bearer {secrets.token_hex(32)}",
            "Immuni-Dummy-Data": "1",
            "Content-Type": "application/json; charset=utf-8",
            "X-Forwarded-For": self.address(),
        }
        if path.endswith("upload"):
            headers["Immuni-Client-Clock"] = "0"
        return padded_request(path, headers, {}, PACKET, self.rng.choice(self.dummy_bodies))

    def operational_info(self, platform: str, dummy: bool) -> bytes:
        body: dict[str, Any] = {
            "province": self.rng.choice(PROVINCES),
            "exposure_permission": 1,
            "bluetooth_active": 1,
            "notification_permission": 1,
            "exposure_notification": 0,
            "last_risky_exposure_on": datetime.now(UTC).date().isoformat(),
        }
        headers = {"Immuni-Dummy-Data": "1" if dummy else "0", "Content-Type": "application/json"}
        if platform == "google":
            body["salt"] = base64.b64encode(secrets.token_bytes(16)).decode()
            body["signed_attestation"] = self.attestation
        else:
            headers["Authorization"] = f"Bearer {secrets.token_hex(64)}"
        return render(
            "POST", f"/v1/analytics/{platform}/operational-info", headers, json.dumps(body).encode()
        )

    async def report(self, scheduled: float) -> None:
        """The HIS authorises a fresh OTP, the phone checks it and uploads 14 keys."""
        loop = asyncio.get_running_loop()
        otp = generate_otp()
        now = datetime.now(UTC)
        onset = now.date() - timedelta(days=self.rng.randrange(0, 10))
        authorise = render(
            "POST",
            "/v1/otp",
            {
                "Authorization": f"Bearer {self.rng.choice(self.his_keys)}",
                "Content-Type": "application/json",
            },
            json.dumps({"otp": otp, "symptoms_started_on": onset.isoformat()}).encode(),
        )
        status, _ = await self.send("otp", authorise, scheduled)
        if status != 204:
            return
        token = otp_bearer_token(otp)
        ingestion = {
            "Authorization": f"Bearer {token}",
            "Immuni-Dummy-Data": "0",
            "Content-Type": "application/json; charset=utf-8",
            "X-Forwarded-For": self.address(),
        }
        check = padded_request("/v1/ingestion/check-otp", ingestion, {}, PACKET)
        status, _ = await self.send("check-otp", check, loop.time())
        if status != 204:
            return
        today = interval_number_at(now) // 144 * 144
        keys = [secrets.token_bytes(16) for _ in range(14)]
        starts = [today - 144 * (13 - i) for i in range(14)]
        fields = {
            "teks": [
                {
                    "key_data": base64.b64encode(k).decode(),
                    "rolling_start_number": s,
                    "rolling_period": 144,
                }
                for k, s in zip(keys, starts, strict=True)
            ],
            "province": self.rng.choice(PROVINCES),
            "exposure_detection_summaries": [],
        }
        upload = padded_request(
            "/v1/ingestion/upload",
            {**ingestion, "Immuni-Client-Clock": str(int(now.timestamp()))},
            fields,
            PACKET,
        )
        record = {"keys": [k.hex() for k in keys], "starts": starts, "onset": onset.isoformat()}
        status, _ = await self.send("upload", upload, loop.time())
        record["status"] = status
        self.stats.uploads.append(record)

    async def one(self, kind: str, scheduled: float) -> None:
        if kind == REPORT:
            await self.report(scheduled)
            return
        if kind == "dummy check-otp":
            data = self.dummy_ingestion("/v1/ingestion/check-otp")
        elif kind == "dummy upload":
            data = self.dummy_ingestion("/v1/ingestion/upload")
        elif kind.startswith("analytics"):
            data = self.operational_info(kind.split()[1].rstrip(","), kind.endswith("dummy"))
        elif kind == "keys index":
            data = render("GET", "/v1/keys/index")
        elif kind == "keys batch":
            data = render("GET", f"/v1/keys/{self.rng.randint(*self.batch_range)}")
        else:
            data = render(
                "GET", f"/v1/settings?platform={self.rng.choice(['ios', 'android'])}&build=1"
            )
        status, body = await self.send(kind, data, scheduled)
        if kind == "keys index" and status == 200:
            index = json.loads(body)
            self.batch_range = (int(index["oldest"]), int(index["newest"]))


async def _sample(pid: int, stats: dict[str, Any], stop: asyncio.Event, every: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not stop.is_set():
        at = round(loop.time() - start, 1)
        workers = worker_pids(pid)
        stats["memory"].append({"t": at, "rss_kib": {str(p): proc_rss_kib(p) for p in workers}})
        stats["cpu"].append({"t": at, "cpu_s": {str(p): proc_cpu_s(p) for p in workers}})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def _loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late a 50 ms timer fires: the generator's own delay, apart from server waits."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.05)
        lags.append(loop.time() - before - 0.05)


async def generate(options: argparse.Namespace, load: Load, server_pid: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    for _ in range(options.connections):
        load.pool.put_nowait(Connection("127.0.0.1", load.port, load.rng))
    kinds = [k for k in MIX if not options.only or any(o in k for o in options.only)]
    per_arrival = [MIX[k] / (3 if k == REPORT else 1) for k in kinds]
    per_arrival = [p / sum(MIX[k] for k in kinds) for p in per_arrival]
    arrival_rate = options.rate * sum(per_arrival)
    samples: dict[str, Any] = {"memory": [], "cpu": []}
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(server_pid, samples, stop, 5.0))
    loop_lags: list[float] = []
    lagger = asyncio.create_task(_loop_lag(loop_lags, stop))
    tasks: set[asyncio.Task[None]] = set()
    cpu0 = os.times()
    load.start = start = loop.time()
    end = start + options.duration
    scheduled = start
    while scheduled < end:
        now = loop.time()
        while scheduled <= now and scheduled < end:
            kind = load.rng.choices(kinds, per_arrival)[0]
            task = asyncio.create_task(load.one(kind, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            scheduled += load.rng.expovariate(arrival_rate)
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
    if tasks:
        await asyncio.wait(tasks, timeout=TIMEOUT_S * 3)
    wall = loop.time() - start
    cpu1 = os.times()
    stop.set()
    await sampler
    await lagger
    while not load.pool.empty():
        load.pool.get_nowait().close()
    return {
        "wall_s": wall,
        "generator_cpu_share": (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall,
        "loop_lag_p50_ms": float(np.percentile(loop_lags, 50)) * 1000,
        "loop_lag_p99_ms": float(np.percentile(loop_lags, 99)) * 1000,
        **samples,
    }


def _memory_growth(samples: list[dict[str, Any]], warmup: float, window: float) -> dict[str, Any]:
    """Per worker: median RSS just after warm-up, in the last `window` s, and the growth."""
    out: dict[str, Any] = {}
    pids = {p for s in samples for p in s["rss_kib"]}
    last = max(s["t"] for s in samples)
    for pid in sorted(pids):
        series = [(s["t"], s["rss_kib"][pid]) for s in samples if s["rss_kib"].get(pid)]
        early = [v for t, v in series if warmup <= t < warmup + window]
        late = [v for t, v in series if t >= last - window]
        if not early or not late:
            continue
        base, final = statistics.median(early), statistics.median(late)
        peak = max(v for t, v in series if t >= warmup)
        out[pid] = {
            "rss_after_warmup_mib": base / 1024,
            "rss_end_mib": final / 1024,
            "rss_peak_mib": peak / 1024,
            "growth_pct": 100 * (final - base) / base,
            "peak_growth_pct": 100 * (peak - base) / base,
        }
    return out


def audit(url: str, uploads: list[dict[str, Any]], published_at: datetime) -> dict[str, Any]:
    """Every accepted upload's eligible keys in exactly one batch; the rest where they belong."""
    in_batches: Counter[bytes] = Counter()
    with psycopg.connect(url) as conn:
        batches = conn.execute("SELECT content FROM batches").fetchall()
        pending = {bytes(r[0]) for r in conn.execute("SELECT key_data FROM pending_keys")}
    for (content,) in batches:
        data = read_export(bytes(content)).keys.batch.key_data
        in_batches.update(data[i : i + 16] for i in range(0, len(data), 16))
    result = Counter[str]()
    now_s = published_at.timestamp()
    for upload in uploads:
        if upload["status"] != 204:
            found = sum(
                bytes.fromhex(k) in in_batches or bytes.fromhex(k) in pending
                for k in upload["keys"]
            )
            result["not accepted, keys stored (must be 0)" if found else "not accepted"] += 1
            continue
        result["accepted uploads"] += 1
        first = first_risky_interval(date.fromisoformat(upload["onset"]), days_before=2)
        for key_hex, start in zip(upload["keys"], upload["starts"], strict=True):
            key = bytes.fromhex(key_hex)
            if start < first:
                where = "dropped" if key not in in_batches and key not in pending else "bad"
                result[f"keys before onset - 2 d: {where}"] += 1
            elif (start + 144) * 600 > now_s:
                where = "pending" if key in pending and key not in in_batches else "bad"
                result[f"keys still valid: {where}"] += 1
            else:
                count = in_batches[key]
                result[
                    "eligible keys: in exactly one batch"
                    if count == 1
                    else f"eligible keys: in {count} batches"
                ] += 1
    result["keys in two or more batches"] = sum(1 for c in in_batches.values() if c > 1)
    result["batches"] = len(batches)
    return dict(result)


def _seed_batches(url: str, count: int) -> None:
    """Pending keys from two days ago, published before the soak (downloads need batches)."""
    now = datetime.now(UTC)
    start = (interval_number_at(now) // 144 - 2) * 144
    copy_pending_keys(
        url, count, rolling_start=start, onset=now.date() - timedelta(days=1), received_at=now
    )


def _summary(result: dict[str, Any]) -> str:
    lines = [
        f"target {result['target_rate']}/s for {result['duration_s']} s, "
        f"{result['workers']} workers: achieved {result['throughput_rps']:.1f} req/s, "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, 5xx {result['5xx']}, "
        f"errors {result['transport_errors']}",
        f"generator: wait for a free connection + loop p50 {result['lag_p50_ms']:.2f} ms, p99 "
        f"{result['lag_p99_ms']:.2f} ms; own event-loop lag p50 {result['loop_lag_p50_ms']:.2f}"
        f" ms, p99 {result['loop_lag_p99_ms']:.2f} ms; CPU "
        f"{100 * result['generator_cpu_share']:.0f} % of a core",
        "| kind | requests | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|",
    ]
    for kind, row in result["kinds"].items():
        lines.append(
            f"| {kind} | {row['requests']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f}"
            f" | {row['statuses']} |"
        )
    for pid, row in result["memory"].items():
        lines.append(
            f"worker {pid}: RSS {row['rss_after_warmup_mib']:.1f} → "
            f"{row['rss_end_mib']:.1f} MiB ({row['growth_pct']:+.1f} %, peak "
            f"{row['peak_growth_pct']:+.1f} %), CPU {row['cpu_share'] * 100:.0f} %"
        )
    lines.append(f"audit: {result['audit']}")
    lines.append(f"worker restarts: {result['worker_restarts']}")
    lines.append("PASS" if result["pass"] else f"FAIL: {result['failures']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of load")
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--warmup", type=float, default=None, help="default: duration / 5")
    parser.add_argument("--publish-every", type=int, default=60, help="publish interval (s)")
    parser.add_argument("--seed-keys", type=int, default=20_000)
    parser.add_argument("--pool-size", type=int, default=20, help="database pool per worker")
    parser.add_argument("--json", type=Path, default=Path("soak-result.json"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only", nargs="*", default=[], help="keep the kinds of MIX containing these words"
    )
    options = parser.parse_args()
    warmup = options.warmup if options.warmup is not None else min(120.0, options.duration / 5)

    name = f"notifica_soak_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    work = Path(tempfile.mkdtemp(prefix="notifica-soak-"))
    env = dict(
        os.environ,
        NOTIFICA_DATABASE_URL=url,
        NOTIFICA_DATA_DIR=str(work),
        NOTIFICA_RUN_JOBS_IN_PROCESS="true",
        NOTIFICA_PUBLISH_INTERVAL_S=str(options.publish_every),
        NOTIFICA_CLIENT_ADDRESS_HEADER="X-Forwarded-For",
        NOTIFICA_DATABASE_POOL_SIZE=str(options.pool_size),
    )
    try:
        settings = Settings(database_url=url, data_dir=work)
        backend = Backend(settings)
        backend.upgrade()
        his_keys = [backend.his.add_client(f"HIS {region}")[1] for region in HIS_REGIONS]
        _seed_batches(url, options.seed_keys)
        seeded = backend.publish()
        backend.repository.close()
        port = free_port()
        server_log = options.json.with_suffix(".server.log")
        server = serve(env, port, options.workers, server_log)
        rng = random.Random(options.seed)
        load = Load(port=port, his_keys=his_keys, rng=rng, stats=Stats(), pool=asyncio.Queue())
        load.batch_range = (seeded.batches[0], seeded.batches[-1]) if seeded.batches else (1, 1)
        load.dummy_bodies = [secrets.token_hex(PACKET // 2).encode() for _ in range(16)]
        load.attestation = ".".join(
            base64.urlsafe_b64encode(secrets.token_bytes(n)).decode().rstrip("=")
            for n in (60, 2400, 192)
        )  # the size of a SafetyNet JWS: header, payload with the certificate chain, signature
        try:
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                run = runner.run(generate(options, load, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=60)
        final = Backend(settings, clock=SystemClock())
        published_at = final.clock.now()
        final.publish()
        final.repository.close()
        checked = audit(url, load.stats.uploads, published_at)
    finally:
        drop_database(name)
    result = _result(options, load.stats, run, checked, warmup)
    result["worker_restarts"] = server_log.read_text().count(" died")
    if result["worker_restarts"]:
        result["failures"].append(f"{result['worker_restarts']} workers died and were replaced")
        result["pass"] = False
    options.json.write_text(json.dumps(result, indent=1, default=str))
    print(_summary(result))
    sys.exit(0 if result["pass"] else 1)


def _result(
    options: argparse.Namespace,
    stats: Stats,
    run: dict[str, Any],
    checked: dict[str, Any],
    warmup: float,
) -> dict[str, Any]:
    every = [v for values in stats.latency.values() for v in values]
    kinds = {}
    for kind in sorted(stats.statuses):
        values = np.array(stats.latency.get(kind) or [np.nan]) * 1000
        kinds[kind] = {
            "requests": sum(stats.statuses[kind].values()),
            "p50_ms": float(np.percentile(values, 50)),
            "p99_ms": float(np.percentile(values, 99)),
            "statuses": dict(stats.statuses[kind]),
        }
    statuses = Counter[str]()
    for counts in stats.statuses.values():
        statuses.update(counts)
    fives = sum(n for s, n in statuses.items() if s.startswith("5"))
    errors = sum(n for s, n in statuses.items() if not s.isdigit())
    memory = _memory_growth(run["memory"], warmup, 30.0)
    cpu = run["cpu"]
    for pid, row in memory.items():
        first, last = cpu[0]["cpu_s"].get(pid), cpu[-1]["cpu_s"].get(pid)
        row["cpu_share"] = (last - first) / (cpu[-1]["t"] - cpu[0]["t"]) if first and last else 0
    per_second = [stats.done_per_s[s] for s in range(int(run["wall_s"]))]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
        "target_rate": options.rate,
        "duration_s": options.duration,
        "workers": options.workers,
        "connections": options.connections,
        "throughput_rps": len(every) / options.duration,  # all were offered within it
        "completions_per_s": {
            "min": min(per_second),
            "median": statistics.median(per_second),
            "max": max(per_second),
        },
        "p50_ms": float(np.percentile(every, 50)) * 1000,
        "p99_ms": float(np.percentile(every, 99)) * 1000,
        "statuses": dict(statuses),
        "5xx": fives,
        "transport_errors": errors,
        "lag_p50_ms": float(np.percentile(stats.lag, 50)) * 1000,
        "lag_p99_ms": float(np.percentile(stats.lag, 99)) * 1000,
        "generator_cpu_share": run["generator_cpu_share"],
        "loop_lag_p50_ms": run["loop_lag_p50_ms"],
        "loop_lag_p99_ms": run["loop_lag_p99_ms"],
        "kinds": kinds,
        "memory": memory,
        "memory_samples": run["memory"],
        "audit": checked,
        "command": " ".join(sys.argv),
    }
    failures = []
    if fives or errors:
        failures.append(f"{fives} 5xx and {errors} transport errors")
    if result["throughput_rps"] < 0.98 * options.rate:
        failures.append(f"throughput {result['throughput_rps']:.1f} < rate {options.rate}")
    if any(row["growth_pct"] >= 10 for row in memory.values()):
        failures.append("a worker's memory grew 10 % or more after warm-up")
    bad = [
        k
        for k in checked
        if (
            "bad" in k
            or "must be 0" in k
            or "in 0 batches" in k
            or re.search(r"in [2-9]\d* batches", k)
        )
    ]
    if bad or checked.get("keys in two or more batches"):
        failures.append(f"audit: {bad}")
    result["failures"] = failures
    result["pass"] = not failures
    return result


if __name__ == "__main__":
    main()
