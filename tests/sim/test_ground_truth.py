from __future__ import annotations

import pytest

from notifica.sim import DayContacts, Setting, pair_days

H, W, T = int(Setting.HOUSEHOLD), int(Setting.WORK), int(Setting.TRANSPORT)


def _day() -> DayContacts:
    minute = 60
    return DayContacts.build(
        3,
        a=[0, 1, 2, 4, 6, 7, 8],
        b=[1, 0, 3, 5, 7, 6, 9],
        setting=[W, T, W, T, H, W, T],
        start_s=[0, 3600, 0, 0, 0, 0, 0],
        duration_s=[
            10 * minute,
            6 * minute,
            14 * minute,
            40 * minute,
            15 * minute,
            30 * minute,
            15 * minute,
        ],
        distance_m=[1.5, 1.9, 0.5, 2.5, 2.0, 3.0, 2.01],
    )


def test_risky_means_within_two_metres_for_fifteen_minutes_in_a_day() -> None:
    days = pair_days(_day(), max_distance_m=2.0, min_duration_s=900)
    table = {
        (int(a), int(b)): (bool(r), int(c), int(t), int(s))
        for a, b, r, c, t, s in zip(
            days.a, days.b, days.risky, days.close_s, days.total_s, days.setting, strict=True
        )
    }
    assert days.day == 3
    assert table[(0, 1)] == (True, 960, 960, W)  # 10 + 6 min close, in either order
    assert table[(2, 3)] == (False, 840, 840, W)  # 14 min is not enough
    assert table[(4, 5)] == (False, 0, 2400, T)  # 40 min but at 2.5 m
    assert table[(6, 7)] == (True, 900, 2700, H)  # exactly 2 m for exactly 15 min counts
    assert table[(8, 9)] == (False, 0, 900, T)  # 2.01 m
    assert len(days) == 5


def test_thresholds_are_settable() -> None:
    days = pair_days(_day(), max_distance_m=3.0, min_duration_s=600)
    risky = {(int(a), int(b)) for a, b, r in zip(days.a, days.b, days.risky, strict=True) if r}
    assert risky == {(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)}


def test_thresholds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        pair_days(_day(), max_distance_m=0, min_duration_s=900)


def test_an_empty_day_has_no_pairs() -> None:
    empty = DayContacts.build(0, a=[], b=[], setting=[], start_s=[], duration_s=[], distance_m=[])
    assert len(pair_days(empty, max_distance_m=2, min_duration_s=900)) == 0
