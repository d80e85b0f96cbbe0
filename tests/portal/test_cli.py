"""``notifica portal ...``: accounts from the command line, and ``notifica serve``'s app."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from notifica.cli import app
from notifica.cli._serving import app_from_environment, prepare_portal
from notifica.portal import PortalStore
from notifica.server import Repository, Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("NOTIFICA_DATABASE_URL", url)
    monkeypatch.setenv("NOTIFICA_DATA_DIR", str(tmp_path))
    for name, value in {"ARGON2_MEMORY_KIB": "8192", "ARGON2_TIME_COST": "1"}.items():
        monkeypatch.setenv(f"NOTIFICA_PORTAL_{name}", value)
    return url


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["portal", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_add_operator_from_stdin_and_list(env: str) -> None:
    code, out, err = run(
        "add-operator",
        "Admin@ASL.example",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert (code, err) == (0, "")
    assert "admin admin@asl.example created" in out
    code, out, _ = run("list", "--json")
    rows = json.loads(out)
    assert [(r["email"], r["role"], r["active"]) for r in rows] == [
        ("admin@asl.example", "admin", True)
    ]
    assert PASSWORD not in out
    assert "argon2" not in out


def test_add_operator_with_the_prompt(env: str) -> None:
    code, out, _ = run("add-operator", "op@asl.example", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0
    assert "operator op@asl.example created" in out
    code, _, _err = run("add-operator", "two@asl.example", stdin=f"{PASSWORD}\nsomething else\n")
    assert code != 0  # the confirmation differs: click asks again, then input runs out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("add-operator", "x@asl.example", "--password-stdin"),
            "short\n",
            "at least 12 characters",
        ),
        (
            ("add-operator", "not-an-email", "--password-stdin"),
            PASSWORD + "\n",
            "Enter an e-mail address",
        ),
        (("add-operator", "x@asl.example", "--password-stdin"), "", "standard input is empty"),
        (("add-operator", "x@asl.example", "--role", "root", "--password-stdin"), PASSWORD, "root"),
        (("disable", "nobody@asl.example"), None, "There is no account nobody@asl.example."),
        (("remove", "nobody@asl.example"), None, "There is no account"),
        (("reset-password", "nobody@asl.example", "--temporary"), None, "There is no account"),
    ],
)
def test_errors_are_one_line_and_change_nothing(
    env: str, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    code, out, err = run(*args, stdin=stdin)
    assert code != 0
    assert message in err or message in out
    store = PortalStore.open(env)
    try:
        store.upgrade()
        assert store.operators.all() == []
    finally:
        store.close()


def test_duplicate_disable_enable_reset_remove(env: str) -> None:
    assert (
        run(
            "add-operator",
            "admin@asl.example",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD,
        )[0]
        == 0
    )
    assert run("add-operator", "op@asl.example", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, _, err = run("add-operator", "OP@asl.example", "--password-stdin", stdin=PASSWORD)
    assert code == 1
    assert "already exists" in err
    assert run("disable", "op@asl.example") == (0, "op@asl.example disabled\n", "")
    code, _, err = run("disable", "admin@asl.example")
    assert code == 1
    assert "last active administrator" in err
    assert run("enable", "op@asl.example")[1] == "op@asl.example enabled\n"
    code, out, _ = run("reset-password", "op@asl.example", "--temporary")
    assert code == 0
    assert out.startswith("temporary password of op@asl.example: ")
    code, out, _ = run(
        "reset-password", "op@asl.example", "--password-stdin", stdin="another fine password"
    )
    assert (code, out) == (0, "password of op@asl.example changed\n")
    assert run("remove", "op@asl.example")[0] == 0
    assert [r["email"] for r in json.loads(run("list", "--json")[1])] == ["admin@asl.example"]


def test_bad_portal_setting_is_one_line(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICA_PORTAL_SESSION_IDLE_S", "5")
    code, _, err = run("list")
    assert code == 1
    assert err.startswith("error: setting session_idle_s")


@pytest.mark.anyio
async def test_serve_mounts_the_portal_unless_disabled(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.load()
    repository = Repository.open(settings.effective_database_url)
    repository.upgrade()
    repository.close()
    prepare_portal(settings)
    served = app_from_environment()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=served), base_url="http://s"
    ) as client:
        assert (await client.get("/portal/sign-in")).status_code == 200
        assert (await client.get("/")).status_code == 200
    monkeypatch.setenv("NOTIFICA_PORTAL_ENABLED", "false")
    alone = app_from_environment()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=alone), base_url="http://s"
    ) as client:
        assert (await client.get("/portal/sign-in")).status_code == 404
