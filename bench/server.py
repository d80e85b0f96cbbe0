"""Backend throughput: `notifica serve` on PostgreSQL under wrk, and publishing 1M keys.

    python bench/server.py [--duration 10] [--connections 64] [--workers 2] [--keys 1000000]

What it does, all on this machine (loopback only, bounded in time):

1. creates a scratch PostgreSQL database (``NOTIFICA_TEST_POSTGRES_URL`` server), migrates it,
   and bulk-loads OTPs with ``COPY`` (setup, not measured);
2. starts ``notifica serve --workers N`` with the release delay set to 0 (the server's own
   cost; Immuni's 150 ms delay is a deliberate floor, measured separately in step 5) and no
   rate limit;
3. baseline: ``GET /`` (the health check: the framework's floor on this machine, same run),
   and a dummy check-otp (the same 110 kB request, parsed, without the database);
4. ``POST /v1/ingestion/check-otp`` and ``POST /v1/ingestion/upload`` padded to 110 000 bytes
   with 14 keys, one fresh OTP per upload, with wrk (Debian's ``wrk`` package) at a fixed
   number of connections: requests/s, p50 and p99 latency, non-2xx count, and the CPU time per
   request of the server, of the database's PostgreSQL backends and of wrk (steadier than
   requests/s on a machine shared with other jobs);
5. check-otp again with the default N(150 ms, 20 ms) release schedule, to show that held
   responses cost no throughput (they wait asynchronously);
6. loads ``--keys`` pending keys with ``COPY`` and times one ``publish`` of all of them
   (reading, filtering, sorting, 100 signed zip files of 10 000 keys, one transaction).

Needs: PostgreSQL and ``wrk`` (``apt-get install wrk``). The scratch database is dropped.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from scratch_db import ADMIN_URL, copy_pending_keys, create_database, drop_database, free_port

from notifica.clock import FixedClock
from notifica.protocol import generate_signing_key_pem
from notifica.server import Backend, Settings

PACKET = 110_000
"""``teks_packet_size``: what Immuni clients pad every ingestion request to."""

_LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  nthreads = tonumber(args[1])
  tokens = {}
  for line in io.lines(args[2]) do tokens[#tokens + 1] = line end
  local f = io.open(args[3], "rb"); body = f:read("*a"); f:close()
  path = args[4]
  dummy = args[5] or "0"
end
function request()
  local i = (counter * nthreads + id) % #tokens + 1
  counter = counter + 1
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Immuni-Dummy-Data"] = dummy,
    ["Immuni-Client-Clock"] = "0",
    ["Content-Type"] = "application/json",
  }, body)
end
"""


def _copy_otps(url: str, count: int, now: datetime) -> list[str]:
    tokens = [hashlib.sha256(secrets.token_bytes(16)).hexdigest() for _ in range(count)]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY otps (token_hash, symptoms_started_on, expires_at) FROM STDIN") as copy:
            for token in tokens:
                copy.write_row((token, now.date() - timedelta(days=3), now + timedelta(hours=6)))
        conn.commit()
    return tokens


def _copy_keys(url: str, count: int, now: datetime) -> None:
    start = (int(now.timestamp()) // 600 // 144 - 2) * 144
    copy_pending_keys(
        url, count, rolling_start=start, onset=now.date() - timedelta(days=1), received_at=now
    )


def _upload_body(now: datetime) -> bytes:
    today = int(now.timestamp()) // 600 // 144 * 144
    body = {
        "teks": [
            {"key_data": base64.b64encode(secrets.token_bytes(16)).decode(),
             "rolling_start_number": today - 144 * (14 - i), "rolling_period": 144}
            for i in range(14)
        ],
        "province": "RM",
        "exposure_detection_summaries": [],
        "padding": "",
    }  # fmt: skip
    headers = 400  # method, path, headers as rendered by a phone (immuni-api.md §6.1)
    body["padding"] = "0" * (PACKET - headers - len(json.dumps(body)))
    return json.dumps(body).encode()


class _CpuMeter:
    """CPU seconds spent so far by the server's processes, the scratch database's PostgreSQL
    backends and finished children (wrk): per request, a figure that the other jobs on a
    shared machine disturb far less than requests/s."""

    def __init__(self, server: subprocess.Popen[bytes], database: str) -> None:
        self.session = server.pid  # started with start_new_session: its workers share it
        self.database = database
        self.tick = os.sysconf("SC_CLK_TCK")

    def _process_cpu(self, pid: int) -> tuple[int, float]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            return -1, 0.0
        return int(fields[3]), (int(fields[11]) + int(fields[12])) / self.tick

    def snapshot(self) -> dict[str, float]:
        server = 0.0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                session, cpu = self._process_cpu(int(entry.name))
                if session == self.session:
                    server += cpu
        try:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
                ).fetchall()
        except psycopg.OperationalError:  # e.g. the shared cluster's max_connections reached
            pids = None
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "server": server,
            "postgres": (
                float("nan") if pids is None else sum(self._process_cpu(p)[1] for (p,) in pids)
            ),
            "wrk": children.ru_utime + children.ru_stime,
        }


def _wrk(
    url: str,
    *,
    duration: int,
    connections: int,
    lua: Path | None,
    args: list[str],
    meter: _CpuMeter,
) -> dict[str, float]:
    before = meter.snapshot()
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if lua is not None:
        command += ["-s", str(lua)]
    command += [url, "--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after = meter.snapshot()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return {
        "rps": rate,
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "non_2xx": float(bad.group(1)) if bad else 0.0,
        "requests": float(total),
        **{f"{k}_cpu_ms": (after[k] - before[k]) * 1000 / max(total, 1) for k in after},
    }


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    notifica = str(Path(sys.executable).parent / "notifica")
    process = subprocess.Popen(
        [notifica, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: _stop reaches the workers too
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    _stop(process)
    raise SystemExit("notifica serve did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers (killing only the supervisor would orphan them)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keys", type=int, default=1_000_000)
    options = parser.parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        raise SystemExit("bench/server.py needs wrk: apt-get install wrk")

    name = f"notifica_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    work = Path(tempfile.mkdtemp(prefix="notifica-bench-"))
    now = datetime.now(UTC).replace(microsecond=0)  # bench: the real clock, as serve uses
    key_file = work / "signing.pem"
    key_file.write_bytes(generate_signing_key_pem())
    env = dict(
        os.environ,
        NOTIFICA_DATABASE_URL=url,
        NOTIFICA_DATA_DIR=str(work),
        NOTIFICA_SIGNING_KEY=str(key_file),
        NOTIFICA_RUN_JOBS_IN_PROCESS="false",
        NOTIFICA_INGESTION_RATE_LIMIT_PER_MINUTE="0",
        NOTIFICA_INGESTION_DELAY_MEAN_MS="0",
        NOTIFICA_INGESTION_DELAY_SIGMA_MS="0",
        NOTIFICA_DATABASE_POOL_SIZE="24",  # async upload connections per worker: c=64 over 2
    )
    results: dict[str, dict[str, float]] = {}
    try:
        settings = Settings(database_url=url, data_dir=work, signing_key=key_file)
        Backend(settings).upgrade()
        tokens = _copy_otps(url, 80_000, now)
        token_file = work / "tokens.txt"
        token_file.write_text("\n".join(tokens) + "\n")
        body_file = work / "upload.json"
        body_file.write_bytes(_upload_body(now))
        check_file = work / "check.json"
        check_file.write_bytes(
            json.dumps({"padding": "0" * (PACKET - 400 - len('{"padding": ""}'))}).encode()
        )
        lua = work / "ingestion.lua"
        lua.write_text(_LUA)
        one_token = work / "one.txt"  # check-otp does not consume: one live OTP is enough
        one_token.write_text(tokens[0] + "\n")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        common: dict[str, Any] = {
            "duration": options.duration,
            "connections": options.connections,
        }
        server = _serve(env, port, options.workers)
        common["meter"] = _CpuMeter(server, name)
        try:
            results["GET / (baseline)"] = _wrk(f"{base}/", lua=None, args=[], **common)
            results["check-otp"] = _wrk(
                f"{base}/",
                lua=lua,
                args=["2", str(one_token), str(check_file), "/v1/ingestion/check-otp"],
                **common,
            )
            results["check-otp, dummy (no database)"] = _wrk(
                f"{base}/",
                lua=lua,
                args=["2", str(one_token), str(check_file), "/v1/ingestion/check-otp", "1"],
                **common,
            )
            results["upload (14 keys, 110 kB)"] = _wrk(
                f"{base}/",
                lua=lua,
                args=["2", str(token_file), str(body_file), "/v1/ingestion/upload"],
                **common,
            )
        finally:
            _stop(server)
        delayed_env = {
            **env,
            "NOTIFICA_INGESTION_DELAY_MEAN_MS": "150",
            "NOTIFICA_INGESTION_DELAY_SIGMA_MS": "20",
        }
        server = _serve(delayed_env, port, options.workers)
        try:
            results["check-otp, N(150, 20) ms release"] = _wrk(
                f"{base}/",
                lua=lua,
                args=["2", str(one_token), str(check_file), "/v1/ingestion/check-otp"],
                duration=options.duration,
                connections=4 * options.connections,
                meter=_CpuMeter(server, name),
            )
        finally:
            _stop(server)

        with psycopg.connect(url) as conn:
            conn.execute("TRUNCATE pending_keys")
            conn.commit()
        _copy_keys(url, options.keys, now)
        backend = Backend(settings, clock=FixedClock(now))
        started = time.perf_counter()
        report = backend.publish()
        publish_s = time.perf_counter() - started
        backend.repository.close()
    finally:
        drop_database(name)

    baseline = results["GET / (baseline)"]["rps"]
    print(
        f"\nnotifica serve --workers {options.workers}, wrk -t2 -c{options.connections}"
        f" -d{options.duration}s, PostgreSQL"
    )
    print(
        "| request | requests/s | p50 | p99 | non-2xx | vs GET / "
        "| CPU ms per request: server / PostgreSQL / wrk | 2-core ceiling |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results.items():
        cpu = r["server_cpu_ms"] + r["postgres_cpu_ms"] + r["wrk_cpu_ms"]
        print(
            f"| {label} | {r['rps']:,.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms "
            f"| {int(r['non_2xx'])} of {int(r['requests'])} | ×{r['rps'] / baseline:.2f} "
            f"| {r['server_cpu_ms']:.2f} / {r['postgres_cpu_ms']:.2f} / {r['wrk_cpu_ms']:.2f} "
            f"| {2000 / cpu:,.0f}/s |"
        )
    print(
        "\n(2-core ceiling: 2 CPU-seconds divided by the CPU one request cost all three;"
        " what the two cores could serve with nothing else running.)"
    )
    print(
        f"\npublish: {report.keys_published:,} keys in {len(report.batches)} batches "
        f"in {publish_s:.1f} s ({report.keys_published / publish_s:,.0f} keys/s)"
    )


if __name__ == "__main__":
    main()
