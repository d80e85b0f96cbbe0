"""`notifica phone` against the real backend served by uvicorn on the loopback interface."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from notifica.cli import app
from notifica.phone import ScryptKeyProvider, SqliteStore
from notifica.protocol import EcdsaSigner, generate_signing_key_pem
from notifica.server import Backend, NoSleep, Settings, create_app
from notifica.server.signing import signature_info

PASSPHRASE = "a long test passphrase"
ENV = {"NOTIFICA_PHONE_PASSPHRASE": PASSPHRASE}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Backend, Path]]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'server.db'}")
    signer = EcdsaSigner.from_pem(
        generate_signing_key_pem(), signature_info=signature_info(settings)
    )
    backend = Backend(settings, signer=signer, sleeper=NoSleep(), rng=random.Random(0))
    backend.upgrade()
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, backend=backend), host="127.0.0.1", port=port, log_level="error"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    key_file = tmp_path / "signing-public.pem"
    key_file.write_bytes(signer.public_key_pem())
    yield f"http://127.0.0.1:{port}", backend, key_file
    running.should_exit = True
    thread.join(timeout=10)
    backend.repository.close()


def phone(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["phone", *args], env=ENV)
    return result.exit_code, result.stdout, result.stderr


def _shown_otp(state: Path) -> str | None:
    store = SqliteStore.open(state / "phone.db", ScryptKeyProvider(PASSPHRASE))
    try:
        saved = store.load_state()
        return None if saved is None else saved.otp
    finally:
        store.close()


def test_a_phone_reports_positive_and_another_detects(
    server: tuple[str, Backend, Path], tmp_path: Path
) -> None:
    url, backend, key_file = server
    a, b = tmp_path / "a", tmp_path / "b"
    for state in (a, b):
        code, _, err = phone(
            "init",
            "--state",
            str(state),
            "--server",
            url,
            "--province",
            "TO",
            "--confirm-age",
            "--public-key",
            f"222:v1:{key_file}",
            "--json",
        )
        assert code == 0, err
    _, out, _ = phone("advertise", "--state", str(a), "--json")
    code, _, _ = phone("sight", json.loads(out)["payload"], "--rssi", "-85", "--state", str(b))
    assert code == 0

    def authorise_when_shown() -> None:
        for _ in range(500):
            otp = _shown_otp(a)
            if otp:
                backend.authorise_otp(otp, datetime.now(UTC).date())
                return
            time.sleep(0.02)

    operator = threading.Thread(target=authorise_when_shown)
    operator.start()
    code, out, err = phone("report-positive", "--state", str(a), "--timeout", "60", "--json")
    operator.join()
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert len(first["otp"]) == 12
    assert second == {"uploaded": True, "status": "positive"}

    code, out, err = phone("detect", "--state", str(b), "--json")
    assert code == 0, err
    assert json.loads(out)["problems"] == []
    code, out, _ = phone("status", "--state", str(a), "--json")
    assert json.loads(out)["covid_status"] == "positive"
