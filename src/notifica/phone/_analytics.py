"""Operational information: when to send it, what it says, and how the device vouches for it.

Monthly rules (immuni-api.md §7.2), evaluated after each detection:

- at most one "with exposure" and one "without exposure" upload per UTC calendar month;
- with exposure: after a detection that found a risky exposure, consume this month's slot,
  then send with probability ``operational_info_with_exposure_sampling_rate``;
- without exposure: on the first activation of a month draw ``dT ~ U[0, (n_days − 1) · 1 d)``
  from 00:00 UTC of day 1; after a detection in ``[T + dT, T + dT + 1 d]``, if not attempted
  this month, consume the slot and send with probability
  ``operational_info_without_exposure_sampling_rate``. A window already past when the phone
  was installed mid-month is skipped, as Immuni intended.
- at most one analytics upload per detection; a genuine one takes precedence over a dummy.

Device integrity is Android's flow (immuni-api.md §7.4): ``salt`` = base64 of 16 random
bytes; the nonce is SHA-256 over ``province + the four 0/1 flags + last_risky_exposure_on +
salt`` (``protocol._wire.operational_info_nonce``, shared with the server); an
`AttestationProvider` returns a JWS over it (SafetyNet did; `TestCaAttestation`
signs one with a certificate chain from a test CA). iOS's DeviceCheck token flow
(immuni-api.md §7.3) would be a second provider behind the same seam.
"""

from __future__ import annotations

import base64
import calendar
import random
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

from notifica.phone._model import PhoneState
from notifica.phone._settings import AppSettings

__all__ = ["AttestationProvider", "genuine_analytics_due", "new_salt"]

DAY_S = 86_400

AnalyticsKind = Literal["with-exposure", "without-exposure"]


@runtime_checkable
class AttestationProvider(Protocol):
    """Vouches that a request comes from a genuine device running the genuine app."""

    def attest(self, nonce: bytes, *, now: datetime) -> str:
        """A signed attestation (a JWS in compact form) whose ``nonce`` claim is base64(nonce)."""
        ...


def new_salt(random_bytes: bytes) -> str:
    """base64 of 16 random bytes: 24 characters (immuni-api.md §3.6)."""
    if len(random_bytes) != 16:
        raise ValueError("a salt is made of 16 random bytes")
    return base64.b64encode(random_bytes).decode()


def _month_key(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def roll_month(state: PhoneState, now: datetime, rng: random.Random) -> None:
    """On the first activation in a month: fresh slots and a new without-exposure time."""
    key = _month_key(now)
    if state.analytics_month == key:
        return
    state.analytics_month = key
    state.analytics_with_exposure_used = False
    state.analytics_without_exposure_used = False
    days = calendar.monthrange(now.year, now.month)[1]
    month_start = datetime(now.year, now.month, 1, tzinfo=UTC).timestamp()
    state.analytics_without_exposure_at_unix_s = month_start + rng.uniform(0, (days - 1) * DAY_S)


def genuine_analytics_due(
    state: PhoneState,
    now: datetime,
    settings: AppSettings,
    rng: random.Random,
    *,
    risky_exposure: bool,
) -> AnalyticsKind | None:
    """After a detection: which genuine operational info to send now, if any.

    Consumes the month's slot even when sampling decides not to send (immuni-api.md §7.2).
    """
    roll_month(state, now, rng)
    if risky_exposure and not state.analytics_with_exposure_used:
        state.analytics_with_exposure_used = True
        if rng.random() < settings.operational_info_with_exposure_sampling_rate:
            return "with-exposure"
        return None
    at = state.analytics_without_exposure_at_unix_s
    moment = now.timestamp()
    if not state.analytics_without_exposure_used and at is not None and at <= moment <= at + DAY_S:
        state.analytics_without_exposure_used = True
        if rng.random() < settings.operational_info_without_exposure_sampling_rate:
            return "without-exposure"
    return None
