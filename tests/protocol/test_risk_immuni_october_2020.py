"""Immuni's October 2020 rule, end to end from synthetic sightings.

What the specifications say at the edges, and therefore what these tests pin down:

- **Attenuation.** The v1 attenuation buckets test ``attenuation > bound`` (protocol.md §13.2,
  INT ``RiskScoreCalculator``): 63 dB is not > 63, so it falls in index 2 ("63 ≥ att > 51")
  and scores 5 (Android, [0,0,5,…]) or 3 (iOS, [0,0,3,…]); 64 dB is > 63 and falls in index 1,
  which scores 0 in both. The attenuation compared is the exposure's time-weighted value,
  rounded half up (§13.4 step 5), so a mix of 62 and 65 dB can land on either side.
- **Duration.** The duration buckets test ``minutes ≤ bound``: a bucketized duration of
  exactly 15 minutes is "≤ 15" (index 3, score 0); 20 minutes is "≤ 20" (index 4, score 5).
  Durations are always multiples of 5 minutes, so "> 15 minutes" means "20 minutes or more".
- **From scans to bucket minutes.** The duration of one exposure is
  ``bucketize(last − first + 300 s)`` (§13.4 step 3): each sighting is taken to stand for one
  5-minute scan interval, and a remainder over 150 s rounds up. Spans of 451–750 s give
  15 minutes, 751–1050 s give 20 minutes. So the rule is exactly: notify iff
  ``weighted attenuation ≤ 63 dB`` and ``last − first ≥ 751 s`` within one run. Packets up
  to 25.5 s apart are one scan, which keeps the time of its strongest packet (the first one on
  a tie); runs are cut where two scans' kept times are more than 600 s apart, so a packet gap
  of 600 s can still cut a run when the scan before it kept an earlier packet.
- **Consequences for a contact of a given length.** GMS scans every 210–300 s (§8.3). A
  20-minute contact scanned every 251–300 s always spans ≥ 3 × 251 s = 753 s and notifies,
  whatever the phase of the scans. Scanned every 240–250 s, a late first scan can leave only
  4 sightings spanning ≤ 750 s: no notification. A 15-minute contact scanned every 300 s or
  every 240 s never notifies; scanned every 270 s it notifies when the first scan comes at
  most 89 s after the contact began (4 sightings spanning 810 s → 20 minutes). The spec's
  "> 15 min" is a statement about scan spans, not about true contact time.
- Scores: Android 5 × 5 = 25 ≥ 20, iOS 3 × 5 = 15 ≥ 12; days-since and TRL scores are all 1
  (Immuni publishes every key with TRL 8, immuni-api.md §5.2).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import IMMUNI_2020_10_ANDROID, IMMUNI_2020_10_IOS, ImmuniPreset, KeyExposure
from tests.protocol.risk_support import NOON, contact, exposure

OCTOBER = pytest.mark.parametrize(
    "preset", [IMMUNI_2020_10_ANDROID, IMMUNI_2020_10_IOS], ids=lambda p: p.name
)


def notifies(preset: ImmuniPreset, *exposures: KeyExposure) -> bool:
    return preset.rule().assess(exposures, now_unix_s=NOON + 3600).is_at_risk


def run(span_s: int, attenuation: int) -> KeyExposure:
    """Evenly spaced sightings, 26..250 s apart, from 0 to exactly `span_s`."""
    count = -(-span_s // 250)
    return exposure([i * span_s // count for i in range(count + 1)], attenuation)


@OCTOBER
@pytest.mark.parametrize(
    ("attenuation", "span_s", "expected"),
    [
        (63, 751, True),  # exactly 63 dB and the shortest span that buckets to 20 min
        (64, 751, False),  # 64 dB is > 63: attenuation score 0
        (63, 750, False),  # 750 + 300 = 1050 → remainder 150 rounds down → 15 min
        (0, 751, True),
        (51, 3600, True),
        (64, 3600, False),
        (73, 3600, False),
        (63, 450, False),
    ],
)
def test_decision_at_the_edges(
    preset: ImmuniPreset, attenuation: int, span_s: int, expected: bool
) -> None:
    assert notifies(preset, run(span_s, attenuation)) is expected


@OCTOBER
@pytest.mark.parametrize("spacing_s", [251, 260, 270, 280, 290, 300])
@pytest.mark.parametrize("attenuation", [40, 55, 63])
def test_twenty_minutes_at_63_db_or_closer_notify_whatever_the_scan_phase(
    preset: ImmuniPreset, spacing_s: int, attenuation: int
) -> None:
    for phase_s in range(0, spacing_s, 7):
        assert notifies(preset, contact(1200, spacing_s, phase_s, attenuation)), phase_s


@OCTOBER
@pytest.mark.parametrize("spacing_s", [240, 300])
def test_fifteen_minutes_never_notify_with_scans_every_4_or_5_minutes(
    preset: ImmuniPreset, spacing_s: int
) -> None:
    for phase_s in range(spacing_s):
        assert not notifies(preset, contact(900, spacing_s, phase_s, 40)), phase_s


@OCTOBER
def test_fifteen_minutes_scanned_every_270_s_notify_only_with_an_early_first_scan(
    preset: ImmuniPreset,
) -> None:
    decisions = {phase: notifies(preset, contact(900, 270, phase, 40)) for phase in range(270)}
    assert {p for p, d in decisions.items() if d} == set(range(90))


@OCTOBER
def test_twenty_minutes_scanned_every_241_s_can_miss(preset: ImmuniPreset) -> None:
    # First scan 240 s into the contact: 240, 481, 722, 963 → span 723 s → 15 minutes.
    assert not notifies(preset, contact(1200, 241, 240, 40))
    assert notifies(preset, contact(1200, 241, 0, 40))  # 5 sightings, span 964 s


@OCTOBER
@pytest.mark.parametrize("attenuation", [64, 65, 73, 74, 90, 120])
def test_64_db_and_above_never_notify(preset: ImmuniPreset, attenuation: int) -> None:
    for minutes in (5, 15, 20, 30, 60, 240):
        for spacing_s in (60, 240, 300):
            assert not notifies(preset, contact(minutes * 60, spacing_s, 0, attenuation))


@OCTOBER
def test_the_compared_attenuation_is_time_weighted(preset: ImmuniPreset) -> None:
    # Scans at 0, 300, 600, 900: (450×62 + 300×62 + 300×65 + 150×65) / 1200 = 63.125 → 63.
    assert notifies(preset, exposure([0, 300, 600, 900], [62, 62, 65, 65]))
    # (450×62 + 300×65 + 300×65 + 150×65) / 1200 = 63.875 → 64.
    assert not notifies(preset, exposure([0, 300, 600, 900], [62, 65, 65, 65]))


@OCTOBER
def test_a_gap_over_ten_minutes_splits_the_contact(preset: ImmuniPreset) -> None:
    # Two 10-minute halves 601 s apart never add up: each is scored on its own.
    assert not notifies(preset, exposure([0, 300, 901, 1201], 40))
    assert notifies(preset, exposure([0, 300, 900, 1200], 40))


@OCTOBER
@given(
    gaps=st.lists(st.integers(0, 600), max_size=12),
    attenuation=st.integers(0, 255),
)
def test_rule_is_attenuation_at_most_63_and_span_at_least_751_s(
    preset: ImmuniPreset, gaps: list[int], attenuation: int
) -> None:
    times = [0]
    for gap in gaps:
        times.append(times[-1] + gap)
    # Packets ≤ 25.5 s apart are one scan, which at equal attenuation keeps its first time;
    # runs are then cut where two scans' kept times are more than 600 s apart.
    scans = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 25]
    spans, first = [], scans[0]
    for previous, t in itertools.pairwise([*scans, scans[-1] + 601]):
        if t - previous > 600:
            spans.append(previous - first)
            first = t
    expected = attenuation <= 63 and max(spans) >= 751
    assert notifies(preset, exposure(times, attenuation)) is expected
