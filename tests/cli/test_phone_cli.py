"""`notifica phone`: one-line errors, JSON output, a phone driven by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notifica.cli import app

PASS = {"NOTIFICA_PHONE_PASSPHRASE": "a long test passphrase"}
UNUSED_SERVER = "http://127.0.0.1:9"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["phone", *args], env=env if env is not None else PASS)
    return result.exit_code, result.stdout, result.stderr


def init(state: Path, *extra: str) -> tuple[int, str, str]:
    return invoke(
        "init",
        "--state",
        str(state),
        "--server",
        UNUSED_SERVER,
        "--province",
        "RM",
        "--confirm-age",
        "--json",
        *extra,
    )


def test_init_creates_an_onboarded_phone(tmp_path: Path) -> None:
    code, out, _ = init(tmp_path / "a")
    assert code == 0
    status = json.loads(out)
    assert status["onboarded"] is True
    assert status["service_active"] is True
    assert status["province"] == "RM"
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["endpoints"]["upload_url"] == UNUSED_SERVER
    assert b'"RM"' not in (tmp_path / "a" / "phone.db").read_bytes()


def test_init_needs_the_age_confirmation(tmp_path: Path) -> None:
    code, _, err = invoke(
        "init", "--state", str(tmp_path), "--server", UNUSED_SERVER, "--province", "RM"
    )
    assert code == 1
    assert err.count("\n") == 1
    assert "14" in err


@pytest.mark.parametrize("province", ["XX", "ROMA", "1"])
def test_init_refuses_a_bad_province(tmp_path: Path, province: str) -> None:
    code, _, err = invoke(
        "init",
        "--state",
        str(tmp_path),
        "--server",
        UNUSED_SERVER,
        "--province",
        province,
        "--confirm-age",
    )
    assert code == 1
    assert "province" in err


@pytest.mark.parametrize("server", ["ftp://x", "nonsense"])
def test_init_refuses_a_bad_server_url(tmp_path: Path, server: str) -> None:
    code, _, err = invoke(
        "init", "--state", str(tmp_path), "--server", server, "--province", "RM", "--confirm-age"
    )
    assert code == 1
    assert "URL" in err


def test_init_refuses_a_bad_public_key_spec(tmp_path: Path) -> None:
    code, _, err = init(tmp_path, "--public-key", "222-v1")
    assert code == 1
    assert "KEY_ID:VERSION:PEM_FILE" in err


def test_advertise_and_sight_between_two_phones(tmp_path: Path) -> None:
    init(tmp_path / "a")
    init(tmp_path / "b")
    code, out, _ = invoke("advertise", "--state", str(tmp_path / "a"), "--json")
    assert code == 0
    payload = json.loads(out)["payload"]
    assert len(bytes.fromhex(payload)) == 31
    code, out, _ = invoke(
        "sight", payload, "--rssi", "-70", "--state", str(tmp_path / "b"), "--json"
    )
    assert code == 0
    assert json.loads(out) == {"recorded": True, "sightings_stored": 1}


@pytest.mark.parametrize(
    ("payload", "message"),
    [("zz", "not hex"), ("00" * 31, "not an Exposure Notification"), ("00" * 100, "at most 31")],
)
def test_sight_refuses_bad_payloads(tmp_path: Path, payload: str, message: str) -> None:
    init(tmp_path)
    code, _, err = invoke("sight", payload, "--rssi", "-70", "--state", str(tmp_path))
    assert code == 1
    assert message in err


def test_sight_refuses_an_out_of_range_rssi(tmp_path: Path) -> None:
    init(tmp_path)
    code, _, _ = invoke("sight", "00", "--rssi", "-500", "--state", str(tmp_path))
    assert code == 2


def test_wrong_passphrase_is_one_line(tmp_path: Path) -> None:
    init(tmp_path)
    code, _, err = invoke(
        "status", "--state", str(tmp_path), env={"NOTIFICA_PHONE_PASSPHRASE": "wrong"}
    )
    assert code == 1
    assert "wrong passphrase" in err
    assert err.count("\n") == 1


def test_missing_state_is_reported(tmp_path: Path) -> None:
    code, _, err = invoke("status", "--state", str(tmp_path / "nothing"))
    assert code == 1
    assert "notifica phone init" in err


def test_detect_against_an_unreachable_server_fails_cleanly(tmp_path: Path) -> None:
    init(tmp_path)
    code, out, err = invoke(
        "detect", "--state", str(tmp_path), "--server", "http://127.0.0.1:1", "--json"
    )
    assert code == 1
    assert json.loads(out)["problems"]
    assert err.startswith("error: ")
    code, out, _ = invoke("status", "--state", str(tmp_path), "--json")
    assert json.loads(out)["detection_problems"]
