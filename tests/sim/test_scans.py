from __future__ import annotations

import numpy as np
import pytest

from notifica.sim import DAY_S, DayContacts, ScanSchedule, Scenario, scan_sightings


def _schedule(times_by_person: dict[int, list[int]], n_people: int) -> ScanSchedule:
    row_of = np.full(n_people, -1, dtype=np.int32)
    times: list[int] = []
    offsets = [0]
    for row, (person, scans) in enumerate(sorted(times_by_person.items())):
        row_of[person] = row
        times += scans
        offsets.append(len(times))
    next_day = np.zeros(len(times_by_person))
    return ScanSchedule(
        row_of, np.array(times, dtype=np.int32), np.array(offsets, dtype=np.int64), next_day
    )


def test_scans_are_210_to_300_seconds_apart() -> None:
    has_phone = np.ones(500, dtype=bool)
    schedule = ScanSchedule.for_day(np.random.default_rng(1), has_phone, Scenario().scanning)
    for row in range(0, 500, 50):
        times = schedule.times_s[schedule.offsets[row] : schedule.offsets[row + 1]]
        gaps = np.diff(times)
        assert times[0] < 300
        assert times[-1] < DAY_S
        assert gaps.min() >= 209
        assert gaps.max() <= 300
    assert 86400 / 300 <= np.diff(schedule.offsets).mean() <= 86400 / 210 + 1


def test_schedule_continues_across_midnight() -> None:
    has_phone = np.ones(50, dtype=bool)
    params = Scenario().scanning
    today = ScanSchedule.for_day(np.random.default_rng(1), has_phone, params)
    tomorrow = ScanSchedule.for_day(np.random.default_rng(2), has_phone, params, previous=today)
    first = tomorrow.times_s[tomorrow.offsets[:-1]]
    gap = first + DAY_S - today.last_scan_s()
    assert (gap >= 209).all()
    assert (gap <= 300).all()


def test_sightings_are_the_scans_inside_each_episode_in_both_directions() -> None:
    schedule = _schedule({0: [100, 400, 700, 1000], 1: [50, 350, 650], 2: [10]}, 4)
    contacts = DayContacts.build(
        0,
        a=[0, 0, 1],
        b=[1, 3, 2],
        setting=[0, 0, 0],
        start_s=[300, 0, 0],
        duration_s=[400, 5000, 100],
        distance_m=[1.0, 1.0, 1.0],
    )
    seen = scan_sightings(contacts, schedule)
    got = sorted(
        zip(
            seen.receiver.tolist(),
            seen.sender.tolist(),
            seen.scan_s.tolist(),
            seen.episode.tolist(),
            strict=True,
        )
    )
    # Episode 0 covers [300, 700): person 1 scans at 350, 650; person 0 at 400.
    # Episode 1 involves person 3, who has no phone.
    # Episode 2 covers [0, 100): person 1 scans at 50, person 2 at 10.
    assert got == [(0, 1, 400, 0), (1, 0, 350, 0), (1, 0, 650, 0), (1, 2, 50, 2), (2, 1, 10, 2)]
    previous = dict(
        zip(
            zip(seen.receiver.tolist(), seen.scan_s.tolist(), strict=True),
            seen.previous_scan_s.tolist(),
            strict=True,
        )
    )
    assert previous[(1, 650)] == 350
    assert previous[(1, 50)] == -1
    assert previous[(0, 400)] == 100


def test_a_long_episode_is_heard_about_every_255_seconds() -> None:
    has_phone = np.ones(2, dtype=bool)
    schedule = ScanSchedule.for_day(np.random.default_rng(7), has_phone, Scenario().scanning)
    contacts = DayContacts.build(
        0, a=[0], b=[1], setting=[0], start_s=[3600], duration_s=[7200], distance_m=[1.0]
    )
    seen = scan_sightings(contacts, schedule)
    assert len(seen) == pytest.approx(2 * 7200 / 255, abs=4)
