"""The phone's clock-driven chores as functions of its state (the work `Phone.tick()` does).

Each takes a *copy* of the state, changes it and says whether it did anything; the phone
commits the copy. `next_due` is what keeps `tick()` cheap: the earliest time any job of the
current status (`JOBS`) has something to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from notifica.phone._advertising import KEEP_DAYS
from notifica.phone._model import CovidStatus, PhoneState
from notifica.phone._settings import AppSettings
from notifica.phone._state import JOBS, Event, Job, next_status
from notifica.phone._traffic import next_dummy_due

__all__ = ["expire_alert", "next_due", "remind"]

DAY_S = 86_400


def expire_alert(state: PhoneState, now: datetime) -> bool:
    """End a risk alert 14 days after the last contact (iOS ``CovidStatus.alertPeriodDays``,
    immuni-api.md §9.3 step 6)."""
    last = state.last_contact_date
    if state.status is not CovidStatus.RISK or last is None:
        return False
    if now.date() < last + timedelta(days=KEEP_DAYS):
        return False
    state.status = next_status(state.status, Event.ALERT_EXPIRED)
    state.last_contact_date = None
    state.alert_acknowledged, state.next_reminder_unix_s = True, None
    return True


def remind(state: PhoneState, now_s: float, settings: AppSettings) -> bool:
    """Show the reminder again every ``risk_reminder_notification_period`` until the user
    acknowledges the alert (immuni-api.md §9.3 step 4)."""
    due = state.next_reminder_unix_s
    if state.alert_acknowledged or due is None or now_s < due:
        return False
    state.notifications_shown += 1
    state.next_reminder_unix_s = now_s + settings.risk_reminder_notification_period
    return True


def next_due(state: PhoneState, now_s: float) -> float:
    """The earliest time after `now_s` at which some job of the current status is due."""
    candidates = [(now_s // DAY_S + 1) * DAY_S]  # next UTC midnight: keys, purge, expiry
    jobs = JOBS[state.status]
    if Job.DETECT in jobs and state.permissions.exposure_notifications:
        candidates.append(state.next_detection_unix_s or now_s)
    if Job.REMIND in jobs and not state.alert_acknowledged and state.next_reminder_unix_s:
        candidates.append(state.next_reminder_unix_s)
    if Job.DUMMY_TRAFFIC in jobs:
        due = next_dummy_due(state)
        candidates.append(now_s if due is None else due)
    return min(candidates)
