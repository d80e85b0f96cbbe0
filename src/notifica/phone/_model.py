"""The phone's persistent record: everything that survives a restart, in one object.

`PhoneState` is the engine's one mutable record (as h11's ``ConnectionState``): only `Phone`
changes it, and every change that matters is saved through the store inside a transaction,
so a crash leaves either the old or the new record. It holds what Immuni kept (immuni-api.md
§9.4): province, status, last processed batch index, summaries of the last 14 days,
analytics and dummy-traffic windows, OTP back-off counters; plus the TEKs of the last 14 days,
which the operating system kept for it. The JSON codec here is the plaintext that the store
seals; it never reaches the network.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

__all__ = ["CovidStatus", "Permissions", "PhoneState", "UploadStep"]


class CovidStatus(enum.StrEnum):
    """The user's status (iOS ``CovidStatus``: neutral, risk(lastContact), positive)."""

    NEUTRAL = "neutral"
    RISK = "risk"
    POSITIVE = "positive"


class UploadStep(enum.StrEnum):
    """Where the positive-report flow stands (immuni-api.md §4.3)."""

    IDLE = "idle"
    OTP_SHOWN = "otp-shown"
    OTP_VERIFIED = "otp-verified"


@dataclass(frozen=True, slots=True, kw_only=True)
class Permissions:
    """What the user granted (immuni-api.md §9.1): EN, Bluetooth on, notifications."""

    exposure_notifications: bool = False
    bluetooth: bool = False
    notifications: bool = False


@dataclass(slots=True, kw_only=True)
class PhoneState:
    """The persistent state of one phone (see the module docstring)."""

    # onboarding (immuni-api.md §9.1)
    onboarded: bool = False
    province: str | None = None
    permissions: Permissions = field(default_factory=Permissions)
    # status (immuni-api.md §9.3)
    status: CovidStatus = CovidStatus.NEUTRAL
    last_contact_date: date | None = None
    alert_acknowledged: bool = True
    next_reminder_unix_s: float | None = None
    notifications_shown: int = 0
    positive_since_unix_s: float | None = None
    # reporting positive (immuni-api.md §4.3)
    upload_step: UploadStep = UploadStep.IDLE
    otp: str | None = None
    otp_failures_unix_s: list[float] = field(default_factory=list)
    # keys: (key_data hex, rolling start interval, rolling period)
    teks: list[tuple[str, int, int]] = field(default_factory=list)
    # detection (immuni-api.md §3.5, §9.2)
    last_processed_index: int | None = None
    retry_indices: list[int] = field(default_factory=list)
    last_detection_unix_s: float | None = None
    next_detection_unix_s: float | None = None
    detection_problems: list[str] = field(default_factory=list)
    detections_run: int = 0
    summaries: list[dict[str, Any]] = field(default_factory=list)
    # dummy traffic (immuni-api.md §6.2, §6.3)
    dummy_window_start_unix_s: float | None = None
    dummy_window_end_unix_s: float | None = None
    dummy_next_request_unix_s: float | None = None
    dummy_requests_in_sequence: int = 0
    dummy_analytics_at_unix_s: float | None = None
    # analytics (immuni-api.md §7.2)
    analytics_month: str | None = None
    analytics_with_exposure_used: bool = False
    analytics_without_exposure_used: bool = False
    analytics_without_exposure_at_unix_s: float | None = None
    # counters
    malformed_advertisements: int = 0
    sightings_recorded: int = 0

    def to_json(self) -> bytes:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Permissions):
                value = {
                    "exposure_notifications": value.exposure_notifications,
                    "bluetooth": value.bluetooth,
                    "notifications": value.notifications,
                }
            elif isinstance(value, date):
                value = value.isoformat()
            out[f.name] = value
        return json.dumps(out, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> PhoneState:
        """Decode `to_json` output; unknown fields from a newer version are ignored.

        Raises:
            ValueError: if `data` is not such a record.
        """
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict):
                raise ValueError("phone state must be a JSON object")
            known = {f.name for f in fields(cls)}
            values = {k: v for k, v in raw.items() if k in known}
            if "permissions" in values:
                values["permissions"] = Permissions(**values["permissions"])
            if "status" in values:
                values["status"] = CovidStatus(values["status"])
            if "upload_step" in values:
                values["upload_step"] = UploadStep(values["upload_step"])
            if values.get("last_contact_date") is not None:
                values["last_contact_date"] = date.fromisoformat(values["last_contact_date"])
            if "teks" in values:
                values["teks"] = [(str(k), int(s), int(p)) for k, s, p in values["teks"]]
            return cls(**values)
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"bad phone state record: {exc}") from exc

    def copy(self) -> PhoneState:
        """A copy whose lists can change without touching this one (work on it, then swap).

        Field by field rather than ``dataclasses.replace``: a phone copies its state twice per
        detection, and a simulator runs hundreds of thousands of detections.
        """
        clone = object.__new__(PhoneState)
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if isinstance(value, list):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            object.__setattr__(clone, name, value)
        return clone


_FIELD_NAMES = tuple(f.name for f in fields(PhoneState))
