"""Dummy-traffic schedules follow Immuni's distributions (immuni-api.md §6.2, §6.3).

The schedulers run on simulated time with a seeded generator, so every statistic below is
deterministic; the bounds are the usual 99.9 % acceptance regions, and they fail if the
parameters are mis-wired (a mean of 15 s instead of 10 s, p_T reversed, a missing window).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from itertools import pairwise

import pytest

from notifica.phone._model import PhoneState
from notifica.phone._settings import AppSettings
from notifica.phone._traffic import (
    DummyAction,
    cancel_dummy_sequence,
    dummy_analytics_due,
    next_dummy_action,
    next_dummy_due,
)
from notifica.phone.errors import BadServerResponse

SETTINGS = AppSettings()


def _run_sequences(
    count: int, seed: int, settings: AppSettings = SETTINGS
) -> tuple[list[list[float]], list[float]]:
    """Simulate until `count` sequences ran: their request times, and sequence start times."""
    rng = random.Random(seed)
    state = PhoneState()
    now = 0.0
    sequences: list[list[float]] = []
    current: list[float] = []
    while len(sequences) < count:
        action = next_dummy_action(state, now, settings, rng)
        if action is DummyAction.CHECK_OTP:
            current = [now]
        elif action is DummyAction.UPLOAD:
            current.append(now)
        if action is not DummyAction.NOTHING and state.dummy_next_request_unix_s is None:
            sequences.append(current)
        due = next_dummy_due(state)
        assert due is not None
        now = max(now, due)
    return sequences, [s[0] for s in sequences]


def test_requests_per_sequence_follow_the_continuation_probabilities() -> None:
    sequences, _ = _run_sequences(4_000, seed=11)
    counts = Counter(len(s) for s in sequences)
    p0, p1 = SETTINGS.dummy_teks_request_probabilities
    expected = {1: 1 - p0, 2: p0 * (1 - p1), 3: p0 * p1 * (1 - p1)}
    expected[4] = 1 - sum(expected.values())  # 4 or more
    observed = {k: counts[k] for k in (1, 2, 3)}
    observed[4] = sum(v for k, v in counts.items() if k >= 4)
    chi2 = sum((observed[k] - 4_000 * p) ** 2 / (4_000 * p) for k, p in expected.items())
    assert chi2 < 16.27  # χ²(3 dof) at 99.9 %
    assert all(s == sorted(s) for s in sequences)


def test_gaps_inside_a_sequence_are_exponential_with_the_configured_mean() -> None:
    sequences, _ = _run_sequences(4_000, seed=12)
    gaps = [b - a for s in sequences for a, b in pairwise(s)]
    mean = SETTINGS.dummy_teks_average_request_waiting_time
    n = len(gaps)
    sample_mean = sum(gaps) / n
    assert abs(sample_mean - mean) < 3.3 * mean / math.sqrt(n)
    # Exponential shape: the share below the mean is 1 − 1/e.
    share = sum(g < mean for g in gaps) / n
    assert abs(share - (1 - math.exp(-1))) < 3.3 * math.sqrt(0.4 * 0.6 / n)


def test_sequences_start_about_every_opportunity_waiting_time() -> None:
    _, starts = _run_sequences(2_000, seed=13)
    waits = [b - a for a, b in pairwise(starts)]
    mean = SETTINGS.dummy_teks_average_opportunity_waiting_time
    n = len(waits)
    sample_mean = sum(waits) / n
    # Exp(60 d) to the window, then Exp(15 s) inside it: the mean is 60 d + 15 s.
    assert abs(sample_mean - mean) < 3.3 * mean / math.sqrt(n)
    assert abs(sum(w < mean for w in waits) / n - (1 - math.exp(-1))) < 0.04


def test_start_hours_move_every_sequence_start_into_them() -> None:
    settings = AppSettings(dummy_teks_start_hours_utc=(8.0, 20.0))
    _, starts = _run_sequences(2_000, seed=14, settings=settings)
    hours = [(t % 86_400) / 3600 for t in starts]
    assert all(8 <= h < 20 for h in hours)
    assert min(hours) < 9  # spread over the hours, not piled at 08:00
    assert max(hours) > 19
    n = len(starts) - 1
    mean = SETTINGS.dummy_teks_average_opportunity_waiting_time
    # A postponed start adds ~12 h on average to its cycle: invisible against 60 days.
    assert abs((starts[-1] - starts[0]) / n - mean) < 3.3 * mean / math.sqrt(n)
    _, anytime = _run_sequences(500, seed=14)
    assert any(not 8 <= (t % 86_400) / 3600 < 20 for t in anytime)  # Immuni's default


def test_start_hours_are_read_from_the_settings_and_checked() -> None:
    parsed = AppSettings.from_immuni({"dummy_teks_start_hours_utc": [7, 19.5]})
    assert parsed.dummy_teks_start_hours_utc == (7.0, 19.5)
    assert AppSettings.from_immuni({}).dummy_teks_start_hours_utc is None
    for bad in ([20, 8], [8], "8-20", [8, 25]):
        with pytest.raises(BadServerResponse, match="dummy_teks_start_hours_utc"):
            AppSettings.from_immuni({"dummy_teks_start_hours_utc": bad})


def test_a_window_missed_while_the_phone_was_off_is_redrawn_from_now() -> None:
    rng = random.Random(5)
    state = PhoneState()
    next_dummy_action(state, 0.0, SETTINGS, rng)
    assert state.dummy_window_end_unix_s is not None
    later = state.dummy_window_end_unix_s + 1
    assert next_dummy_action(state, later, SETTINGS, rng) is DummyAction.NOTHING
    assert state.dummy_window_start_unix_s is not None
    assert state.dummy_window_start_unix_s >= later
    assert state.dummy_next_request_unix_s is None


def test_cancel_stops_a_running_sequence() -> None:
    rng = random.Random(6)
    state = PhoneState(dummy_next_request_unix_s=100.0, dummy_requests_in_sequence=1)
    cancel_dummy_sequence(state)
    assert next_dummy_action(state, 100.0, SETTINGS, rng) is DummyAction.NOTHING
    assert state.dummy_next_request_unix_s is None


def test_dummy_analytics_come_about_every_waiting_time_within_a_day() -> None:
    rng = random.Random(21)
    state = PhoneState()
    period = 4 * 3_600.0
    sent: list[float] = []
    now = 0.0
    horizon = 200 * SETTINGS.dummy_analytics_waiting_time
    while now < horizon:
        if dummy_analytics_due(state, now, SETTINGS, rng, genuine_sent=False):
            sent.append(now)
        now += period
    gaps = [b - a for a, b in pairwise(sent)]
    mean = SETTINGS.dummy_analytics_waiting_time
    assert len(sent) > 150
    # Detections every 4 h always land inside a 1-day window: one send per draw.
    assert abs(sum(gaps) / len(gaps) - mean) < 3.3 * mean / math.sqrt(len(gaps)) + period


def test_a_genuine_upload_takes_precedence_but_the_window_is_redrawn() -> None:
    rng = random.Random(2)
    state = PhoneState(dummy_analytics_at_unix_s=1_000.0)
    assert not dummy_analytics_due(state, 1_500.0, SETTINGS, rng, genuine_sent=True)
    assert state.dummy_analytics_at_unix_s is not None
    assert state.dummy_analytics_at_unix_s > 1_500.0


def test_a_missed_dummy_analytics_window_sends_nothing() -> None:
    rng = random.Random(3)
    state = PhoneState(dummy_analytics_at_unix_s=1_000.0)
    assert not dummy_analytics_due(state, 1_000.0 + 86_401, SETTINGS, rng, genuine_sent=False)
    assert state.dummy_analytics_at_unix_s is not None
    assert state.dummy_analytics_at_unix_s > 87_401
