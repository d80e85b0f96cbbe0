"""The SQLite default on a read-only or full disk, and a corrupted batch in storage.

* Read-only disk: ``notifica db upgrade`` says so in words and exits non-zero, no traceback,
  no file left behind.
* Full disk (a tiny tmpfs when running as root, else a file-size limit in a child process):
  uploads are refused with 503 and the Immuni body once the disk fills; every upload that got
  204 is whole in the database, none is half there, and uploads work again once space is back.
* A batch whose stored bytes were flipped is never served (503), on both engines; its
  neighbours still are.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from notifica.cli import app as cli
from notifica.clock import SimClock
from notifica.protocol import EcdsaSigner
from notifica.server import Backend, InMemoryDeviceCheck, NoSleep, Settings, create_app
from notifica.server.repository import DatabaseError, normalise_url
from notifica.server.signing import signature_info
from tests.server._support import ingestion_headers, make_otp, upload_body
from tests.server.conftest import START, BackendFactory, client_for

UNAVAILABLE = {"error_code": 1503, "message": "Service unavailable."}
IS_ROOT = os.geteuid() == 0


def _mount_tmpfs(path: Path, size_kib: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)], check=True
    )


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A read-only directory: a tmpfs remounted ``ro`` as root, else mode 0555."""
    path = tmp_path / "ro"
    if IS_ROOT:
        _mount_tmpfs(path, 1024)
        _remount(path, "ro")
        yield path
        subprocess.run(["umount", "-l", str(path)], check=False)
        return
    path.mkdir()
    path.chmod(0o555)
    yield path
    path.chmod(0o755)


@pytest.mark.parametrize("where", ["directory", "subdirectory"])
def test_readonly_disk_gives_a_clear_error_and_writes_nothing(
    readonly_dir: Path, where: str
) -> None:
    data_dir = readonly_dir if where == "directory" else readonly_dir / "notifica"
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"NOTIFICA_DATA_DIR": str(data_dir)})
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "read-only" in result.output.lower(), result.output
    assert list(readonly_dir.iterdir()) == []


@pytest.mark.skipif(not IS_ROOT, reason="remounting a tmpfs read-only needs root")
def test_disk_turning_readonly_while_serving_refuses_writes_with_503(
    tmp_path: Path, sqlite_template: Path, signing_pem: bytes
) -> None:
    """The volume goes read-only under a running server (what ext4 does on I/O errors); the
    pooled connections are closed first, as the kernel will not remount under open files."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, 8192)
    try:
        shutil.copyfile(sqlite_template, disk / "notifica.db")
        settings = Settings(data_dir=disk, generate_signing_key=False)
        signer = EcdsaSigner.from_pem(signing_pem, signature_info=signature_info(settings))
        clock = SimClock(START)
        backend = Backend(
            settings, clock=clock, sleeper=NoSleep(), rng=random.Random(3), signer=signer
        )
        rng = random.Random(6)
        otps = [make_otp(rng) for _ in range(10)]
        for otp in otps:
            backend.authorise_otp(otp, START.date())

        async def upload(otps: list[str]) -> list[tuple[int, object]]:
            async with client_for(backend) as client:
                answers = []
                for otp in otps:
                    response = await client.post(
                        "/v1/ingestion/upload",
                        content=upload_body(clock.now(), rng=rng),
                        headers=ingestion_headers(otp),
                    )
                    answers.append((response.status_code, response.content and response.json()))
                return answers

        assert [a[0] for a in asyncio.run(upload(otps[:5]))] == [204] * 5
        backend.repository.database.dispose()  # Linux refuses ro while files are open for writing
        _remount(disk, "ro")
        assert asyncio.run(upload(otps[5:])) == [(503, UNAVAILABLE)] * 5
        backend.repository.close()
        _remount(disk, "rw")
        conn = sqlite3.connect(disk / "notifica.db")
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("SELECT count(*) FROM upload_log").fetchone() == (5,)
            assert conn.execute("SELECT count(*) FROM pending_keys").fetchone() == (70,)
        finally:
            conn.close()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(
    data_dir: Path,
    signing_pem: bytes,
    answers: Connection | None = None,
    *,
    seed: int = 4,
    max_uploads: int = 3_000,
) -> dict[str, list[Any]]:
    """Upload until the disk refuses; report the statuses and the OTPs that got 204."""
    settings = Settings(
        data_dir=data_dir,
        generate_signing_key=False,
        otp_rate_limit_per_minute=0,
        ingestion_rate_limit_per_minute=0,
    )
    clock = SimClock(START)
    signer = EcdsaSigner.from_pem(signing_pem, signature_info=signature_info(settings))
    backend = Backend(settings, clock=clock, sleeper=NoSleep(), rng=random.Random(3), signer=signer)
    rng = random.Random(seed)
    _, his = backend.his.add_client(f"filler-{seed}")
    accepted: list[str] = []
    refused: list[tuple[str, int, object]] = []

    async def run() -> None:
        application = create_app(settings, backend=backend)
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(max_uploads):
                otp = make_otp(rng)
                response = await client.post(
                    "/v1/otp",
                    json={"otp": otp, "symptoms_started_on": START.date().isoformat()},
                    headers={"Authorization": f"Bearer {his}"},
                )
                if response.status_code == 204:
                    response = await client.post(
                        "/v1/ingestion/upload",
                        content=upload_body(clock.now(), rng=rng),
                        headers=ingestion_headers(otp),
                    )
                    if response.status_code == 204:
                        accepted.append(otp)
                        continue
                refused.append((response.request.url.path, response.status_code, response.json()))
                if len(refused) >= 5:
                    break

    asyncio.run(run())
    backend.repository.close()
    result: dict[str, list[Any]] = {"accepted": accepted, "refused": refused}
    if answers is not None:
        answers.send(result)
    return result


def _fill_with_file_size_limit(data_dir: Path, signing_pem: bytes, answers: Connection) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    database = data_dir / "notifica.db"
    limit = database.stat().st_size + 256 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    _fill(data_dir, signing_pem, answers)


@pytest.fixture(params=["tmpfs", "file-size-limit"])
def full_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "disk"
    if request.param == "tmpfs":
        if not IS_ROOT:
            pytest.skip("mounting a tmpfs needs root; the file-size-limit variant still runs")
        _mount_tmpfs(path, 768)
        yield request.param, path
        subprocess.run(["umount", "-l", str(path)], check=False)
        return
    path.mkdir()
    yield request.param, path


@pytest.mark.slow
def test_full_disk_refuses_uploads_with_503_and_keeps_every_accepted_one_whole(
    full_disk: tuple[str, Path], sqlite_template: Path, signing_pem: bytes
) -> None:
    how, data_dir = full_disk
    shutil.copyfile(sqlite_template, data_dir / "notifica.db")
    if how == "tmpfs":
        result = _fill(data_dir, signing_pem)
    else:
        fork = multiprocessing.get_context("fork")
        receiver, sender = fork.Pipe(duplex=False)
        child = fork.Process(
            target=_fill_with_file_size_limit, args=(data_dir, signing_pem, sender)
        )
        child.start()
        assert receiver.poll(120), "the child never answered"
        result = receiver.recv()
        child.join(30)
    accepted, refused = result["accepted"], result["refused"]
    print(how, len(accepted), "uploads accepted before the disk filled;", refused[:1])
    assert len(accepted) >= 5
    assert refused, "the disk never filled"
    assert all(answer[1:] == (503, UNAVAILABLE) for answer in refused), refused
    assert any(path == "/v1/ingestion/upload" for path, _, _ in refused)
    if how == "tmpfs":
        _remount(data_dir, "size=16m")  # space is back

    conn = sqlite3.connect(data_dir / "notifica.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        uploads = conn.execute("SELECT count(*) FROM upload_log").fetchone()[0]
        keys = conn.execute("SELECT count(*) FROM pending_keys").fetchone()[0]
        payloads = conn.execute("SELECT count(*) FROM exposure_payloads").fetchone()[0]
    finally:
        conn.close()
    assert uploads == len(accepted)
    assert keys == 14 * len(accepted)
    assert payloads == len(accepted)

    again = _fill(data_dir, signing_pem, seed=5, max_uploads=20) if how == "tmpfs" else None
    if again is not None:
        assert len(again["accepted"]) == 20  # space is back: accepted again


pytestmark = pytest.mark.anyio


async def test_corrupted_batch_is_never_served(
    backend_factory: BackendFactory, clock: SimClock, database_url: str
) -> None:
    backend = backend_factory(max_keys_per_batch=10)
    rng = random.Random(8)
    for _ in range(3):
        otp = make_otp(rng)
        backend.authorise_otp(otp, clock.now().date() - timedelta(days=12))
        async with client_for(backend) as client:
            response = await client.post(
                "/v1/ingestion/upload",
                content=upload_body(clock.now(), rng=rng),
                headers=ingestion_headers(otp),
            )
            assert response.status_code == 204
    assert len(backend.publish().batches) >= 3
    engine = sa.create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        good = bytes(
            conn.execute(sa.text("SELECT content FROM batches WHERE batch_index = 2")).scalar_one()
        )
        for index, offset in ((2, len(good) // 2), (3, 0)):
            content = bytearray(
                conn.execute(
                    sa.text("SELECT content FROM batches WHERE batch_index = :i"), {"i": index}
                ).scalar_one()
            )
            content[offset] ^= 0x5A
            conn.execute(
                sa.text("UPDATE batches SET content = :c WHERE batch_index = :i"),
                {"c": bytes(content), "i": index},
            )
    engine.dispose()
    async with client_for(backend) as client:
        assert (await client.get("/v1/keys/1")).status_code == 200
        for index in (2, 3):
            response = await client.get(f"/v1/keys/{index}")
            assert response.status_code == 503
            assert response.json() == UNAVAILABLE
            assert good[:100] not in response.content
    assert backend.repository.batches.content(1) is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_token_authorisation_in_the_background_survives_a_database_failure(
    backend_factory: BackendFactory,
    clock: SimClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The DeviceCheck dance runs after the 202; a database failure at its end is logged
    in words (no traceback from an unretrieved task) and the token stays unauthorised."""
    backend = backend_factory(device_check=InMemoryDeviceCheck(clock))

    def fail(**_: object) -> None:
        raise DatabaseError("database write failed: OperationalError")

    monkeypatch.setattr(backend.repository.analytics, "authorise_token", fail)
    body = {"analytics_token": "ab" * 64, "device_token": "ZGV2aWNl"}
    async with client_for(backend) as client:
        assert (await client.post("/v1/analytics/apple/token", json=body)).status_code == 202
        await backend.analytics.drain()
        assert (await client.post("/v1/analytics/apple/token", json=body)).status_code == 202
        await backend.analytics.drain()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors
    assert all("not stored" in r.getMessage() and not r.exc_info for r in errors)
