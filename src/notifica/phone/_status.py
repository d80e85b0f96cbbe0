"""What the phone shows and reports: the status snapshot and the results of its events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from notifica.phone._model import CovidStatus, PhoneState
from notifica.phone._reporting import otp_retry_after_s
from notifica.protocol import format_otp

__all__ = ["DetectionReport", "PhoneStatus", "TickReport", "build_status"]

RISK_NOTIFICATION_TEXT = "Someone you've had close contact with has tested positive."
"""The explanation shown with the alert (immuni-api.md §9.3 step 2, Immuni's English text)."""

REMINDER_TEXT = "Important message for you — Open the app for more information."
"""The local notification and its reminders (immuni-api.md §9.3 step 4)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionReport:
    """What one exposure detection did."""

    ran_at: datetime
    batches_processed: tuple[int, ...] = ()
    batches_failed: tuple[int, ...] = ()
    matched_keys: int = 0
    matched_key_data: tuple[bytes, ...] = ()
    """The 16-byte key data of each matched key (for a simulator's ground truth; never stored)."""
    matched_sightings: int = 0
    dropped_sightings: int = 0
    is_at_risk: bool = False
    notified: bool = False
    last_contact_date: date | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ran_at": self.ran_at.isoformat(),
            "batches_processed": list(self.batches_processed),
            "batches_failed": list(self.batches_failed),
            "matched_keys": self.matched_keys,
            "matched_sightings": self.matched_sightings,
            "dropped_sightings": self.dropped_sightings,
            "is_at_risk": self.is_at_risk,
            "notified": self.notified,
            "last_contact_date": _iso(self.last_contact_date),
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TickReport:
    """What one `Phone.tick()` did (all false/None when nothing was due)."""

    new_key: bool = False
    purged_sightings: int = 0
    detection: DetectionReport | None = None
    reminded: bool = False
    alert_expired: bool = False
    dummy_requests: int = 0
    analytics_sent: str | None = None


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneStatus:
    """A snapshot of the phone as its user (and `notifica phone status`) sees it."""

    onboarded: bool
    province: str | None
    service_active: bool
    inactive_reasons: tuple[str, ...]
    covid_status: str
    last_contact_date: date | None
    notification: str | None
    notifications_shown: int
    upload_step: str
    otp: str | None
    otp_retry_after_s: float
    last_detection_at: datetime | None
    next_detection_at: datetime | None
    last_processed_index: int | None
    detection_problems: tuple[str, ...]
    keys_stored: int
    sightings_stored: int
    malformed_advertisements: int

    def to_json(self) -> dict[str, Any]:
        return {
            "onboarded": self.onboarded,
            "province": self.province,
            "service_active": self.service_active,
            "inactive_reasons": list(self.inactive_reasons),
            "covid_status": self.covid_status,
            "last_contact_date": _iso(self.last_contact_date),
            "notification": self.notification,
            "notifications_shown": self.notifications_shown,
            "upload_step": self.upload_step,
            "otp": self.otp,
            "otp_retry_after_s": self.otp_retry_after_s,
            "last_detection_at": _iso(self.last_detection_at),
            "next_detection_at": _iso(self.next_detection_at),
            "last_processed_index": self.last_processed_index,
            "detection_problems": list(self.detection_problems),
            "keys_stored": self.keys_stored,
            "sightings_stored": self.sightings_stored,
            "malformed_advertisements": self.malformed_advertisements,
        }


def build_status(
    state: PhoneState,
    *,
    inactive_reasons: tuple[str, ...],
    sightings_stored: int,
    now_s: float,
) -> PhoneStatus:
    """The snapshot of `state` at `now_s`."""

    def at(unix_s: float | None) -> datetime | None:
        return None if unix_s is None else datetime.fromtimestamp(unix_s, UTC)

    notification = None
    if state.status is CovidStatus.RISK and not state.alert_acknowledged:
        notification = RISK_NOTIFICATION_TEXT
    return PhoneStatus(
        onboarded=state.onboarded,
        province=state.province,
        service_active=not inactive_reasons,
        inactive_reasons=inactive_reasons,
        covid_status=state.status.value,
        last_contact_date=state.last_contact_date,
        notification=notification,
        notifications_shown=state.notifications_shown,
        upload_step=state.upload_step.value,
        otp=format_otp(state.otp) if state.otp else None,
        otp_retry_after_s=otp_retry_after_s(state.otp_failures_unix_s, now_s),
        last_detection_at=at(state.last_detection_unix_s),
        next_detection_at=at(state.next_detection_unix_s),
        last_processed_index=state.last_processed_index,
        detection_problems=tuple(state.detection_problems),
        keys_stored=len(state.teks),
        sightings_stored=sightings_stored,
        malformed_advertisements=state.malformed_advertisements,
    )
