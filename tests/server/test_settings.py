"""Settings from the environment and TOML, each one documented in docs/server.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from notifica.server import SERVICES, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [name for name in Settings.model_fields if f"| `{name}` |" not in text]
    assert missing == []


def test_immuni_defaults() -> None:
    settings = Settings()
    assert (settings.signing_key_id, settings.signing_key_version, settings.region) == (
        "222",
        "v1",
        "222",
    )
    assert settings.app_bundle_id == "it.ministerodellasalute.immuni"
    assert (settings.otp_ttl_s, settings.max_keys_per_upload, settings.max_keys_per_batch) == (
        150,
        30,
        10_000,
    )
    assert settings.max_allowed_build >= 2_641_892  # Android's real build numbers
    assert settings.services == SERVICES


def test_environment_and_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "notifica.toml"
    config.write_text('otp_ttl_s = 300\nregion = "999"\nservices = ["keys"]\n')
    monkeypatch.setenv("NOTIFICA_REGION", "111")
    monkeypatch.setenv("NOTIFICA_DATABASE_URL", "sqlite:///x.db")
    settings = Settings.load(config)
    assert settings.otp_ttl_s == 300
    assert settings.region == "111"  # the environment wins over the file
    assert settings.services == frozenset({"keys"})
    assert settings.effective_database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    "content",
    [
        'otp_ttl_s = "soon"\n',
        'services = ["printing"]\n',
        "unknown_setting = 1\n",
        "max_keys_per_upload = 0\n",
    ],
)
def test_bad_settings_name_the_field(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(ValidationError):
        Settings.load(config)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Settings.load(tmp_path / "absent.toml")


def test_embedded_defaults_live_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'notifica.db'}"
    assert settings.effective_signing_key == tmp_path / "signing-key.pem"
