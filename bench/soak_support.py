"""Plumbing of `bench/soak.py`: a lean HTTP/1.1 client, the scratch database, the server, /proc."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "HIS_REGIONS",
    "Connection",
    "padded_request",
    "proc_cpu_s",
    "proc_rss_kib",
    "render",
    "serve",
    "worker_pids",
]

HIS_REGIONS = (
    "ABR",
    "BAS",
    "CAL",
    "CAM",
    "EMR",
    "FVG",
    "LAZ",
    "LIG",
    "LOM",
    "MAR",
    "MOL",
    "PAB",
    "PAT",
    "PIE",
    "PUG",
    "SAR",
    "SIC",
    "TOS",
    "UMB",
    "VDA",
    "VEN",
)
"""One health operators' system per region, each with its own API key and OTP rate limit."""
FIXED_HEADERS = {
    "User-Agent": "Immuni",
    "Accept-Language": "en-US;q=1.0",
    "Accept-Encoding": "identity",
}
"""What the phone sends on every request (`notifica.phone._http.FIXED_HEADERS`)."""
SESSION_REQUESTS = 12
"""A connection serves 1..12 requests (uniform) before it is closed."""
_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)
_TICKS = os.sysconf("SC_CLK_TCK")


def render(
    method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> bytes:
    """The request's bytes as an HTTP/1.1 client writes them."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in {**FIXED_HEADERS, **(headers or {})}.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def padded_request(
    target: str,
    headers: dict[str, str],
    fields: dict[str, Any],
    size: int,
    source: bytes | None = None,
) -> bytes:
    """A POST of `fields` whose hex ``padding`` makes it exactly `size` bytes (Immuni §6.1).

    `source` is lower-case hex to cut the padding from (random per request when omitted).
    """
    prefix = json.dumps({**fields, "padding": ""}, separators=(",", ":")).encode()[:-2]
    padding = 0
    for _ in range(4):
        missing = size - len(render("POST", target, headers, prefix + b"x" * padding + b'"}'))
        if missing == 0:
            break
        padding += missing
    pad = source[:padding] if source is not None else os.urandom(padding // 2 + 1).hex().encode()
    data = render("POST", target, headers, prefix + pad[:padding] + b'"}')
    if len(data) != size:
        raise ValueError(f"cannot pad {target} to {size} bytes")
    return data


class Connection:
    """A keep-alive HTTP/1.1 connection, one request at a time, reopened after a failure and
    after a few requests (a phone's session: settings, index, batches), so that new
    connections keep arriving and every server worker accepts its share."""

    def __init__(self, host: str, port: int, rng: random.Random) -> None:
        self._address = (host, port)
        self._rng = rng
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._left = 0

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(*self._address)
        self._left = self._rng.randint(1, SESSION_REQUESTS)

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self._writer is None or self._reader is None:
            await self.open()
        assert self._writer is not None
        assert self._reader is not None
        self._writer.write(data)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        found = _LENGTH.search(head)
        body = await self._reader.readexactly(int(found.group(1))) if found else b""
        self._left -= 1
        if self._left <= 0 or b"\r\nconnection: close" in head.lower():
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def serve(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """``notifica serve`` on `port` (output to `log`), once every worker has started."""
    notifica = str(Path(sys.executable).parent / "notifica")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [notifica, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            started = log.read_text().count("Application startup complete")
            if started >= workers and httpx.get(f"http://127.0.0.1:{port}/").status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit("notifica serve did not start")


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes: the children of `parent` that run Python."""
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return []
    found = []
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:  # not multiprocessing's resource tracker
            found.append(pid)
    return found


def proc_rss_kib(pid: int) -> int:
    """Resident set size from /proc (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS
