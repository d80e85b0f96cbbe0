"""The backend's commands: db upgrade, his add-client/list/remove, publish, retention, serve."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from notifica.cli import app
from notifica.server import Backend, Settings

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"NOTIFICA_DATABASE_URL": database_url, "NOTIFICA_DATA_DIR": str(tmp_path)}


def test_db_upgrade_reports_the_revision(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revision"] == "0002"


def test_his_add_client_prints_a_working_token_last(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["his", "add-client", "ASL Roma 1"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.split()[-1]
    backend = Backend(Settings(database_url=database_url, data_dir=tmp_path))
    client = backend.his.authenticate(authorization=f"Bearer {token}", cert_fingerprint=None)
    assert client.name == "ASL Roma 1"
    backend.repository.close()
    again = runner.invoke(app, ["his", "add-client", "ASL Roma 1"], env=env)
    assert again.exit_code == 1
    assert "already exists" in again.output
    listed = runner.invoke(app, ["his", "list", "--json"], env=env)
    assert [c["name"] for c in json.loads(listed.stdout)] == ["ASL Roma 1"]
    assert token not in listed.stdout
    assert runner.invoke(app, ["his", "remove", "ASL Roma 1"], env=env).exit_code == 0
    assert runner.invoke(app, ["his", "remove", "ASL Roma 1"], env=env).exit_code == 1


def test_publish_and_retention_print_reports(env: dict[str, str]) -> None:
    published = runner.invoke(app, ["publish", "--json"], env=env)
    assert published.exit_code == 0, published.output
    assert json.loads(published.stdout)["batches"] == []
    retained = runner.invoke(app, ["retention", "--json"], env=env)
    assert retained.exit_code == 0, retained.output
    assert json.loads(retained.stdout)["sunset"] is False


def test_publish_without_a_key_and_without_generation_fails_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["publish"], env={**env, "NOTIFICA_SIGNING_KEY": str(tmp_path / "absent.pem")}
    )
    assert result.exit_code == 1
    assert "absent.pem" in result.output


def test_bad_setting_is_one_line_error(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("otp_ttl_s = -5\n")
    result = runner.invoke(app, ["db", "upgrade", "--config", str(config)], env=env)
    assert result.exit_code == 1
    assert "otp_ttl_s" in result.output


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)  # real time: a real TLS handshake checks validity
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_speaks_tls_12_or_newer_only(env: dict[str, str], tmp_path: Path) -> None:
    if "postgresql" in env["NOTIFICA_DATABASE_URL"]:
        pytest.skip("serving does not depend on the engine")
    cert, key = _self_signed(tmp_path)
    port = _free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "notifica"),
            "serve",
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env={**os.environ, **env, "NOTIFICA_RUN_JOBS_IN_PROCESS": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        context = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 45
        while True:
            try:
                response = httpx.get(f"https://localhost:{port}/", verify=context)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        assert response.status_code == 200
        assert "date" in response.headers
        old = ssl.create_default_context(cafile=str(cert))
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://localhost:{port}/", verify=old)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_gives_workers_time_to_start_before_the_health_check_kills_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    env = {  # its own SQLite file: serve also creates the portal's tables
        "NOTIFICA_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "NOTIFICA_DATA_DIR": str(tmp_path),
    }

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    result = runner.invoke(app, ["serve", "--workers", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert calls[0]["workers"] == 2
    assert calls[0]["timeout_worker_healthcheck"] == 60  # uvicorn's 5 s < a loaded start
    env = {**env, "NOTIFICA_WORKER_HEALTHCHECK_TIMEOUT_S": "90"}
    assert runner.invoke(app, ["serve", "--workers", "2"], env=env).exit_code == 0
    assert calls[1]["timeout_worker_healthcheck"] == 90
