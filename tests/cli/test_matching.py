"""`notifica matching info`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from notifica.cli import app


def test_info_json_names_the_active_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFICA_MATCHING_BACKEND", raising=False)
    result = CliRunner().invoke(app, ["matching", "info", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] in ("native", "python")
    assert data["reason"]
    assert set(data["cpu"]) == {"aes", "sha"}


def test_info_reports_a_forced_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICA_MATCHING_BACKEND", "python")
    result = CliRunner().invoke(app, ["matching", "info", "--json"])
    assert json.loads(result.stdout)["backend"] == "python"
    human = CliRunner().invoke(app, ["matching", "info"])
    assert "backend: python (forced by NOTIFICA_MATCHING_BACKEND=python)" in human.stdout


def test_info_refuses_an_unknown_backend_in_one_line() -> None:
    result = CliRunner().invoke(app, ["matching", "info", "--backend", "gpu"])
    assert result.exit_code == 2
    assert "error: backend must be one of auto, python, native; got 'gpu'" in result.output
