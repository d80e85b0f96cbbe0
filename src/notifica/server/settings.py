"""The backend's settings: one object, from ``NOTIFICA_*`` variables and an optional TOML file.

`Settings` is passed to `create_app` and to the jobs; nothing reads it from a global. Every
field is documented in docs/server.md (a test keeps the two in step). Defaults are Immuni's
unless the comment says why not.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["SERVICES", "Settings", "default_data_dir"]

SERVICES = frozenset({"app-configuration", "otp", "ingestion", "keys", "analytics"})
"""The Immuni services, each a router that can be mounted alone (immuni-api.md §1.1)."""


def default_data_dir() -> Path:
    """Where the embedded mode keeps its SQLite file and generated signing key.

    ``$XDG_DATA_HOME/notifica`` or ``~/.local/share/notifica``.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "notifica"


class Settings(BaseSettings):
    """Everything an operator can set. See docs/server.md for each field."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICA_", extra="forbid", frozen=True)

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    """SQLAlchemy URL; ``None`` means SQLite in ``data_dir/notifica.db`` (embedded mode)."""
    database_pool_size: int = Field(default=10, ge=1, le=500)
    """PostgreSQL connections per process (plus as many again in overflow), and as many again
    for check-otp and upload, which use their own async connections."""
    redis_url: str | None = None
    """Rate-limit counters shared by replicas; ``None`` keeps them in process memory."""

    # --- signing (immuni-api.md §5.4) ----------------------------------------------------
    signing_key: Path | None = None
    """PEM of the P-256 export signing key; ``None`` = ``data_dir/signing-key.pem``, created
    on first use when ``generate_signing_key`` is true."""
    generate_signing_key: bool = True
    signing_key_id: str = "222"
    signing_key_version: str = "v1"
    app_bundle_id: str = "it.ministerodellasalute.immuni"
    android_package: str | None = None
    region: str = "222"

    # --- services --------------------------------------------------------------------------
    services: frozenset[str] = SERVICES

    # --- app configuration (immuni-api.md §3.1) ---------------------------------------------
    max_allowed_build: int = Field(default=2_100_000_000, ge=1)
    """Immuni's 20 000 rejects Android's real versionCodes (2641892; §12.5); Google Play caps
    versionCode at 2 100 000 000."""

    # --- OTP (immuni-api.md §3.2, §4) --------------------------------------------------------
    otp_ttl_s: int = Field(default=150, ge=1)
    his_cert_header: str | None = None
    """Header in which a TLS-terminating proxy passes the verified client certificate's
    SHA-256 fingerprint; off by default (see docs/server.md before turning it on)."""
    his_cert_clients: dict[str, str] = Field(default_factory=dict)
    """Client-certificate fingerprint (lower-case hex) → HIS client name."""
    otp_rate_limit_per_minute: int = Field(default=120, ge=0)
    """Per HIS client; 0 turns the limit off."""

    # --- ingestion (immuni-api.md §3.3, §5, §6) ------------------------------------------------
    max_keys_per_upload: int = Field(default=30, ge=1, le=9_999)
    max_body_bytes: int = Field(default=262_144, ge=1_024)
    """Hard cap checked before the body is read: 150 000 padding characters plus the largest
    genuine content (summaries and infos) fit under 256 KiB."""
    ingestion_delay_mean_ms: float = Field(default=150.0, ge=0)
    ingestion_delay_sigma_ms: float = Field(default=20.0, ge=0)
    """Every ingestion response (real or dummy) is released at arrival + N(mean, sigma) ms
    (``DUMMY_REQUEST_TIMEOUT_MILLIS`` / ``_SIGMA``, immuni-api.md §2)."""
    dummy_check_otp_error_rate: float = Field(default=0.01, ge=0, le=1)
    """Share of dummy check-otp answered 401 (``DUMMY_DATA_TOKEN_ERROR_CHANCE_PERCENT``)."""
    ingestion_rate_limit_per_minute: int = Field(default=120, ge=0)
    """Per client address (salted hash in memory, never stored); 0 turns the limit off."""
    client_address_header: str | None = None
    """Header carrying the client address set by a trusted proxy (e.g. X-Forwarded-For)."""
    client_address_hops: int = Field(default=1, ge=1, le=10)
    """Trusted proxies that append to ``client_address_header``: the client address is that
    many entries from the right (entries further left come from the client, forgeable)."""

    # --- publishing and retention (immuni-api.md §5.2–§5.5) -------------------------------------
    days_before_onset_at_risk: int = Field(default=2, ge=0)
    max_keys_per_batch: int = Field(default=10_000, ge=1, le=750_000)
    publish_interval_s: int = Field(default=86_400, ge=60)
    retention_interval_s: int = Field(default=86_400, ge=60)
    index_days: int = Field(default=14, ge=1)
    data_retention_days: int = Field(default=14, ge=1)
    analytics_retention_days: int = Field(default=30, ge=1)
    data_sunset: date | None = None
    """After this date the retention job deletes everything (Immuni promised 31 Dec 2020)."""
    run_jobs_in_process: bool = True
    """``notifica serve`` runs publish and retention on their intervals in the background."""

    # --- analytics (immuni-api.md §3.6, §7) -----------------------------------------------------
    attestation_roots: Path | None = None
    """PEM bundle of the roots that attestation certificate chains must reach; without it
    Android operational info is accepted with 204 and dropped."""
    attestation_hostname: str = "attest.android.com"
    attestation_package: str = "it.ministerodellasalute.immuni"
    attestation_apk_digests: list[str] = Field(default_factory=list)
    attestation_max_skew_s: int = Field(default=600, ge=0)
    attestation_salt_window_s: int = Field(default=600, ge=0)
    analytics_token_ttl_days: int = Field(default=62, ge=1)

    # --- serving -------------------------------------------------------------------------------
    access_log: bool = False
    """uvicorn's access log (client addresses); off by default for privacy."""
    worker_healthcheck_timeout_s: int = Field(default=60, ge=1)
    """How long uvicorn's supervisor waits for a worker's answer before killing and replacing
    it. uvicorn's 5 s is shorter than a worker's start on a busy machine (importing the app
    took 11 s of wall time on 2 loaded cores), so a worker that died under load was replaced
    by one killed before it could start, forever (RELIABILITY.md, "Load and soak")."""

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = set(value) - SERVICES
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}; choose from {sorted(SERVICES)}")
        return frozenset(value)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'notifica.db'}"

    @property
    def effective_signing_key(self) -> Path:
        """Path of the signing key PEM."""
        return self.signing_key or self.data_dir / "signing-key.pem"

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Settings from the environment and, when given, a TOML file (the environment wins).

        Raises:
            pydantic.ValidationError: naming the setting at fault.
        """
        if config_file is None:
            return cls(**overrides)
        toml_path = config_file

        class _FromFile(cls):  # type: ignore[valid-type,misc]
            model_config = SettingsConfigDict(toml_file=toml_path)

            @classmethod
            def settings_customise_sources(
                cls,
                settings_cls: type[BaseSettings],
                init_settings: PydanticBaseSettingsSource,
                env_settings: PydanticBaseSettingsSource,
                dotenv_settings: PydanticBaseSettingsSource,
                file_secret_settings: PydanticBaseSettingsSource,
            ) -> tuple[PydanticBaseSettingsSource, ...]:
                return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

        if not toml_path.is_file():
            raise FileNotFoundError(f"settings file {toml_path} does not exist")
        loaded: Settings = _FromFile(**overrides)
        return loaded
