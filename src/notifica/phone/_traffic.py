"""Dummy traffic on the clock: dummy upload sequences and dummy analytics (immuni-api.md §6).

Each function takes the state, the time and a random generator and says what to do; the phone
does the I/O. The model is iOS's (immuni-api.md §6.2, IOS ``DataUploadLogic+DummyTraffic``),
with its "foreground session" being any `Phone.tick()`:

- an **opportunity window** ``[T + dT, T + dT + W]``, ``dT ~ Exp(mean
  dummy_teks_average_opportunity_waiting_time)``, ``W = dummy_teks_window_duration``, drawn at
  first start; a window that passed unused is redrawn from now;
- inside the window a **sequence** is scheduled after ``Exp(mean
  dummy_teks_average_start_waiting_time)`` (moved into the next ``dummy_teks_start_hours_utc``
  when that setting is given and the time falls outside them); when it starts the window is
  redrawn from now;
- a sequence sends one request, then after the (i+1)-th request continues with probability
  ``p_T[i]`` (the last element reused), waiting ``Exp(mean
  dummy_teks_average_request_waiting_time)`` between requests;
- opening the real upload flow cancels a running sequence (immuni-api.md §4.3 step 1).

The first request of a sequence is a check-otp and the others uploads, the shape of a real
report (check, then upload); both go to the upload host with the same padded size.

Dummy analytics (immuni-api.md §6.3): after each detection, if now is in ``[T_OD, T_OD + 1 d]``
send one dummy operational info and redraw ``T_OD = now + Exp(mean dummy_analytics_waiting_time)``;
if now is past the window redraw without sending; a genuine upload due at the same detection
takes precedence (the window is still redrawn).
"""

from __future__ import annotations

import enum
import random

from notifica.phone._model import PhoneState
from notifica.phone._settings import AppSettings

__all__ = ["DummyAction", "cancel_dummy_sequence", "dummy_analytics_due", "next_dummy_action"]

DAY_S = 86_400
"""Length of the dummy-analytics sending window (immuni-api.md §6.3)."""


class DummyAction(enum.Enum):
    """What the dummy-upload scheduler wants done now."""

    NOTHING = "nothing"
    CHECK_OTP = "check-otp"
    UPLOAD = "upload"


def _draw_window(state: PhoneState, now: float, settings: AppSettings, rng: random.Random) -> None:
    start = now + rng.expovariate(1 / settings.dummy_teks_average_opportunity_waiting_time)
    state.dummy_window_start_unix_s = start
    state.dummy_window_end_unix_s = start + settings.dummy_teks_window_duration


def next_dummy_action(
    state: PhoneState, now: float, settings: AppSettings, rng: random.Random
) -> DummyAction:
    """Advance the dummy-upload schedule to `now`; return the request to send, if any.

    Call it again after the request: it schedules the next one or ends the sequence.
    """
    if state.dummy_next_request_unix_s is not None:
        if now < state.dummy_next_request_unix_s:
            return DummyAction.NOTHING
        sent = state.dummy_requests_in_sequence
        if sent == 0:
            _draw_window(state, now, settings, rng)  # "when it starts, redraw the window"
        state.dummy_requests_in_sequence = sent + 1
        probabilities = settings.dummy_teks_request_probabilities
        if rng.random() < probabilities[min(sent, len(probabilities) - 1)]:
            state.dummy_next_request_unix_s = now + rng.expovariate(
                1 / settings.dummy_teks_average_request_waiting_time
            )
        else:
            state.dummy_next_request_unix_s = None
            state.dummy_requests_in_sequence = 0
        return DummyAction.CHECK_OTP if sent == 0 else DummyAction.UPLOAD
    if (
        state.dummy_window_start_unix_s is None
        or state.dummy_window_end_unix_s is None
        or now > state.dummy_window_end_unix_s
    ):
        _draw_window(state, now, settings, rng)
    elif now >= state.dummy_window_start_unix_s:
        start = now + rng.expovariate(1 / settings.dummy_teks_average_start_waiting_time)
        state.dummy_next_request_unix_s = _within_hours(
            start, settings.dummy_teks_start_hours_utc, rng
        )
        state.dummy_requests_in_sequence = 0
    return DummyAction.NOTHING


def _within_hours(at: float, hours: tuple[float, float] | None, rng: random.Random) -> float:
    """`at`, or a uniform time in the next allowed UTC hours when `at` is outside them."""
    if hours is None:
        return at
    day = at // DAY_S * DAY_S
    hour = (at - day) / 3600
    if hours[0] <= hour < hours[1]:
        return at
    if hour >= hours[1]:
        day += DAY_S
    return day + rng.uniform(hours[0] * 3600, hours[1] * 3600)


def next_dummy_due(state: PhoneState) -> float | None:
    """When the dummy scheduler next has something to do (for a cheap `tick`)."""
    if state.dummy_next_request_unix_s is not None:
        return state.dummy_next_request_unix_s
    return state.dummy_window_start_unix_s


def cancel_dummy_sequence(state: PhoneState) -> None:
    """Stop a running sequence (the user opened the real upload flow)."""
    state.dummy_next_request_unix_s = None
    state.dummy_requests_in_sequence = 0


def dummy_analytics_due(
    state: PhoneState,
    now: float,
    settings: AppSettings,
    rng: random.Random,
    *,
    genuine_sent: bool,
) -> bool:
    """After a detection: whether to send a dummy operational info now (and redraw)."""
    mean = settings.dummy_analytics_waiting_time
    at = state.dummy_analytics_at_unix_s
    if at is None:
        state.dummy_analytics_at_unix_s = now + rng.expovariate(1 / mean)
        return False
    if now < at:
        return False
    state.dummy_analytics_at_unix_s = now + rng.expovariate(1 / mean)
    return now <= at + DAY_S and not genuine_sent
