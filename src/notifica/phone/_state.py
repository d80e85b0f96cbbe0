"""The phone's state machines, as data (after h11's ``_state.py``).

Rules of this file:

1. Everything that decides which event is allowed in which state, and which periodic job runs
   in which state, lives in the tables below; `Phone` only looks them up.
2. An event missing from a state's row is refused with `PhoneStateError`; nothing changes.
3. This file knows no clock, store or network.

Two machines run side by side. The **status** of the user (iOS ``CovidStatus``,
immuni-api.md §9.3, §4.3)::

    NEUTRAL ──risky exposure──▶ RISK ──risky exposure──▶ RISK (last contact = the later one)
       ▲                          │
       └──────alert expired───────┘     (14 days after the last contact)
    NEUTRAL / RISK ──upload completed──▶ POSITIVE   (never notified again)

and the **upload flow** of a positive report (immuni-api.md §4.3)::

    IDLE ──OTP requested──▶ OTP_SHOWN ──OTP accepted (check-otp 204)──▶ OTP_VERIFIED
            (a new OTP each time)  │ ▲ OTP rejected (401, back-off)          │
                                   └─┘                                        │
    OTP_SHOWN ◀── OTP rejected (the upload got 401: expired or used) ─────────┤
    IDLE ◀──────────────────────── upload completed ─────────────────────────┘
    any step ──upload cancelled──▶ IDLE
"""

from __future__ import annotations

import enum

from notifica.phone._model import CovidStatus, UploadStep
from notifica.phone.errors import PhoneStateError

__all__ = [
    "JOBS",
    "NOTIFIES",
    "STATUS_TRANSITIONS",
    "UPLOAD_TRANSITIONS",
    "Event",
    "Job",
    "next_status",
    "next_upload_step",
]


class Event(enum.Enum):
    """What drives the machines (each is the effect of one `Phone` method)."""

    RISKY_EXPOSURE = "risky exposure"
    ALERT_EXPIRED = "alert expired"
    UPLOAD_COMPLETED = "upload completed"
    OTP_REQUESTED = "OTP requested"
    OTP_ACCEPTED = "OTP accepted"
    OTP_REJECTED = "OTP rejected"
    UPLOAD_CANCELLED = "upload cancelled"


class Job(enum.Enum):
    """Periodic work that `Phone.tick()` runs when it is due."""

    ROLL_KEYS = "roll keys"  # a new TEK at UTC midnight, keys older than 14 days dropped
    PURGE = "purge"  # sightings older than 14 days deleted
    DETECT = "detect"  # every exposure_detection_period
    REMIND = "remind"  # risk reminder every risk_reminder_notification_period
    EXPIRE_ALERT = "expire alert"  # the risk alert ends 14 days after the last contact
    DUMMY_TRAFFIC = "dummy traffic"  # dummy upload sequences


STATUS_TRANSITIONS: dict[CovidStatus, dict[Event, CovidStatus]] = {
    CovidStatus.NEUTRAL: {
        Event.RISKY_EXPOSURE: CovidStatus.RISK,
        Event.UPLOAD_COMPLETED: CovidStatus.POSITIVE,
    },
    CovidStatus.RISK: {
        Event.RISKY_EXPOSURE: CovidStatus.RISK,
        Event.ALERT_EXPIRED: CovidStatus.NEUTRAL,
        Event.UPLOAD_COMPLETED: CovidStatus.POSITIVE,
    },
    CovidStatus.POSITIVE: {
        # "after which exposure info is never fetched/notified" (immuni-api.md §4.3 step 5);
        # a second report (a new test) keeps the status.
        Event.UPLOAD_COMPLETED: CovidStatus.POSITIVE,
    },
}

UPLOAD_TRANSITIONS: dict[UploadStep, dict[Event, UploadStep]] = {
    UploadStep.IDLE: {
        Event.OTP_REQUESTED: UploadStep.OTP_SHOWN,
        Event.UPLOAD_CANCELLED: UploadStep.IDLE,
    },
    UploadStep.OTP_SHOWN: {
        Event.OTP_REQUESTED: UploadStep.OTP_SHOWN,
        Event.OTP_ACCEPTED: UploadStep.OTP_VERIFIED,
        Event.OTP_REJECTED: UploadStep.OTP_SHOWN,
        Event.UPLOAD_CANCELLED: UploadStep.IDLE,
    },
    UploadStep.OTP_VERIFIED: {
        Event.OTP_REQUESTED: UploadStep.OTP_SHOWN,
        # the upload itself got 401: the OTP expired (150 s) or was used meanwhile
        Event.OTP_REJECTED: UploadStep.OTP_SHOWN,
        Event.UPLOAD_COMPLETED: UploadStep.IDLE,
        Event.UPLOAD_CANCELLED: UploadStep.IDLE,
    },
}

JOBS: dict[CovidStatus, tuple[Job, ...]] = {
    CovidStatus.NEUTRAL: (Job.ROLL_KEYS, Job.PURGE, Job.DETECT, Job.DUMMY_TRAFFIC),
    CovidStatus.RISK: (
        Job.ROLL_KEYS,
        Job.PURGE,
        Job.DETECT,
        Job.REMIND,
        Job.EXPIRE_ALERT,
        Job.DUMMY_TRAFFIC,
    ),
    # A positive user keeps downloading (its traffic must look like everyone's) but is never
    # notified; see NOTIFIES.
    CovidStatus.POSITIVE: (Job.ROLL_KEYS, Job.PURGE, Job.DETECT, Job.DUMMY_TRAFFIC),
}

NOTIFIES: dict[CovidStatus, bool] = {
    CovidStatus.NEUTRAL: True,
    CovidStatus.RISK: True,
    CovidStatus.POSITIVE: False,
}
"""Whether a risky exposure found in this status may notify the user (immuni-api.md §9.3)."""


def next_status(status: CovidStatus, event: Event) -> CovidStatus:
    """The status after `event`, or `PhoneStateError` if `status` does not allow it."""
    try:
        return STATUS_TRANSITIONS[status][event]
    except KeyError:
        raise PhoneStateError(f"{event.value!r} is not allowed in status {status.value}") from None


def next_upload_step(step: UploadStep, event: Event) -> UploadStep:
    """The upload step after `event`, or `PhoneStateError` if `step` does not allow it."""
    try:
        return UPLOAD_TRANSITIONS[step][event]
    except KeyError:
        raise PhoneStateError(
            f"{event.value!r} is not allowed while the upload flow is {step.value}"
        ) from None
