"""The portal's settings: ``NOTIFICA_PORTAL_*`` variables, one frozen object passed to factories.

The server's `Settings` (database, OTP life, trusted proxy header) still apply: the portal
reads them from the `Backend` it is mounted on. Defaults follow the references named beside
each field.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PortalSettings"]


class PortalSettings(BaseSettings):
    """Everything a deployment can set about the portal (docs in README, "The portal")."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICA_PORTAL_", extra="forbid", frozen=True)

    enabled: bool = True
    """Mount the portal at ``/portal`` in ``notifica serve``."""

    # --- sessions (OWASP Session Management Cheat Sheet: idle and absolute time-outs) ------
    session_idle_s: int = Field(default=1800, ge=60, le=86_400)
    """A session unused this long is over (30 minutes: a desk left alone)."""
    session_absolute_s: int = Field(default=12 * 3600, ge=300, le=7 * 86_400)
    """No session lives longer than this, used or not (12 hours: one shift)."""
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    """``auto``: the cookie is ``Secure`` when the request came over HTTPS. Behind a proxy that
    terminates TLS, set ``always``."""

    # --- sign-in lockout (NIST SP 800-63B §5.2.2: limit failed attempts) --------------------
    account_free_failures: int = Field(default=5, ge=1, le=100)
    """Failed sign-ins of one account before it is paused."""
    client_free_failures: int = Field(default=20, ge=1, le=1000)
    """Failed sign-ins from one client address (any account) before it is paused."""
    lock_base_s: int = Field(default=60, ge=1, le=3600)
    """The first pause; each further failure doubles it."""
    lock_max_s: int = Field(default=3600, ge=1, le=86_400)
    """The longest pause."""

    # --- passwords (RFC 9106 §4, second recommended option; OWASP Password Storage) ---------
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8 * 1024, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=4, ge=1, le=64)
    min_password_length: int = Field(default=12, ge=8, le=128)
    """NIST SP 800-63B §3.1.1.2 asks at least 8; 12 for accounts that unlock uploads."""

    # --- presentation -----------------------------------------------------------------------
    default_language: Literal["it", "en"] = "it"
    """When neither the language cookie nor ``Accept-Language`` names a known language."""
    timezone: str = "Europe/Rome"
    """Times are stored in UTC and shown in this zone."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _pauses_grow(self) -> PortalSettings:
        if self.lock_max_s < self.lock_base_s:
            raise ValueError(
                f"lock_max_s ({self.lock_max_s}) must not be below lock_base_s ({self.lock_base_s})"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The display time zone."""
        return ZoneInfo(self.timezone)
