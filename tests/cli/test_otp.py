from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from notifica.cli import app
from notifica.protocol import format_otp, is_valid_otp, otp_bearer_token

EXAMPLE_SHA256 = "b39e0733843b1b5d7c558f52f117a824dc41216e0c2bb671b3d79ba82105dd94"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_new_prints_code_display_and_token(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "new"])
    assert result.exit_code == 0, result.output
    lines = dict(
        line.split(maxsplit=1)
        for line in result.stdout.replace("bearer token", "token").splitlines()
    )
    assert is_valid_otp(lines["code"])
    assert lines["display"] == format_otp(lines["code"])
    assert lines["token"] == otp_bearer_token(lines["code"])


def test_new_json_is_one_object(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "new", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert is_valid_otp(data["code"])
    assert data["display"] == format_otp(data["code"])
    assert data["bearer_token"] == otp_bearer_token(data["code"])


def test_new_makes_a_fresh_code_each_time(runner: CliRunner) -> None:
    codes = {
        json.loads(runner.invoke(app, ["otp", "new", "--json"]).stdout)["code"] for _ in range(5)
    }
    assert len(codes) == 5


def test_check_accepts_a_typed_code(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "check", "9k2-ray8 uuq", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "valid": True,
        "code": "9K2RAY8UUQ",
        "display": "9K2-RAY8-UUQ",
        "bearer_token": EXAMPLE_SHA256,
    }
    assert result.stderr == ""


def test_check_prints_for_people(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "check", "9K2RAY8UUQ"])
    assert result.exit_code == 0
    assert "9K2-RAY8-UUQ" in result.stdout
    assert EXAMPLE_SHA256 in result.stdout


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("9K2RAY8UUA", "check character 'A' at position 10 does not match"),
        ("9K2RAY8UUN", "'N' at position 10"),
        ("9K2RAY8UU", "the OTP has 9 characters: expected 10"),
        ("", "the OTP is empty"),
        ("x" * 5000, "the OTP is 5000 characters long"),
        ("9K2RAY8UU\u00e9", "'é' at position 10"),
    ],
)
def test_check_rejects_with_one_line_on_stderr(runner: CliRunner, code: str, message: str) -> None:
    result = runner.invoke(app, ["otp", "check", code])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid OTP: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_check_json_says_what_is_wrong(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "check", "9K2RAY8UUA", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "valid": False,
        "problem": "check_character",
        "message": "check character 'A' at position 10 does not match: the first nine "
        "characters call for 'Q', so one character is mistyped",
        "length": 10,
        "positions": [10],
        "character": "A",
        "expected": "Q",
    }
    assert "check character" in result.stderr


def test_check_json_lists_forbidden_positions(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "check", "0K2RAYOUUQ", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["problem"], data["positions"], data["character"]) == ("character", [1, 7], "0")


def test_check_without_a_code_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["otp", "check"])
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
