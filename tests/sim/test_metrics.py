from __future__ import annotations

import numpy as np
import pytest

from notifica.sim import (
    DAY_S,
    CollectorStateError,
    DayContacts,
    DayOutcome,
    EpidemicCurves,
    GroundTruthCollector,
    Infections,
    NotificationCollector,
    NotificationEvents,
    Reporters,
    RunContext,
    Scenario,
    Seeds,
    Setting,
    TestResults,
    TrafficCollector,
    build_population,
    compare_with_baseline,
)

W, T = int(Setting.WORK), int(Setting.TRANSPORT)


def _context() -> RunContext:
    scenario = Scenario().with_values(
        {"run.days": 3, "adoption.overall": 1.0, "adoption.min_age": "0 yr"}
    )
    return RunContext(scenario, build_population(scenario, size=10, seeds=Seeds(1)))


def _outcome(
    day: int,
    contacts: DayContacts,
    reporters: Reporters | None = None,
    infections: Infections | None = None,
) -> DayOutcome:
    none_i = np.zeros(0, np.int32)
    return DayOutcome(
        day,
        contacts,
        infections
        or Infections(
            none_i, none_i, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.float32), none_i
        ),
        TestResults(none_i, np.zeros(0), np.zeros(0, bool), np.zeros(0, np.int8)),
        reporters or Reporters(none_i, np.zeros(0), np.zeros(0)),
        {"susceptible": 10},
    )


def test_collectors_enforce_their_life_cycle() -> None:
    collector = EpidemicCurves()
    contacts = DayContacts.build(
        0, a=[], b=[], setting=[], start_s=[], duration_s=[], distance_m=[]
    )
    with pytest.raises(CollectorStateError, match="before initialize"):
        collector.apply(_outcome(0, contacts))
    collector.initialize(_context())
    with pytest.raises(CollectorStateError, match="initialized twice"):
        collector.initialize(_context())
    collector.apply(_outcome(0, contacts))
    collector.finalize()
    with pytest.raises(CollectorStateError, match="after finalize"):
        collector.finalize()
    with pytest.raises(CollectorStateError, match="after finalize"):
        collector.apply(_outcome(1, contacts))


def test_notification_precision_recall_and_delays_on_hand_built_days() -> None:
    context = _context()
    truth = GroundTruthCollector()
    notifications = NotificationCollector(truth)
    for collector in (truth, notifications):
        collector.initialize(context)
    # Day 0: 0-1 risky at work (20 min at 1 m); 0-2 not risky on the bus (20 min at 4 m);
    # 0-3 risky on the bus. Person 0 tests positive on day 1 at noon (symptoms day 0) and
    # infected person 1 on day 0.
    day0 = DayContacts.build(
        0,
        a=[0, 0, 0],
        b=[1, 2, 3],
        setting=[W, T, T],
        start_s=[0, 0, 0],
        duration_s=[1200] * 3,
        distance_m=[1.0, 4.0, 1.0],
    )
    infections = Infections(
        np.array([1], np.int32),
        np.array([0], np.int32),
        np.array([600.0]),
        np.array([W], np.int8),
        np.array([1.0], np.float32),
        np.array([1200], np.int32),
    )
    empty = DayContacts.build(0, a=[], b=[], setting=[], start_s=[], duration_s=[], distance_m=[])
    reporters = Reporters(np.array([0], np.int32), np.array([1.5 * DAY_S]), np.array([0.2 * DAY_S]))
    for collector in (truth, notifications):
        collector.apply(_outcome(0, day0, infections=infections))
        collector.apply(
            _outcome(
                1,
                DayContacts(
                    1,
                    *[
                        getattr(empty, c)
                        for c in ("a", "b", "setting", "start_s", "duration_s", "distance_m")
                    ],
                ),
                reporters=reporters,
            )
        )
    positive = TestResults(
        np.array([2, 3], np.int32),
        np.array([2.5 * DAY_S, 2.5 * DAY_S]),
        np.array([True, True]),
        np.array([1, 0], np.int8),
    )
    notifications.apply(
        DayOutcome(
            2,
            DayContacts.build(2, a=[], b=[], setting=[], start_s=[], duration_s=[], distance_m=[]),
            _outcome(2, empty).infections,
            positive,
            Reporters(np.zeros(0, np.int32), np.zeros(0), np.zeros(0)),
        )
    )
    truth.apply(_outcome(2, empty))
    # Phones 1 and 2 are notified because of 0's key of day 0, 6 h after the result; 1 twice.
    notifications.record(
        NotificationEvents.build(
            receiver=[1, 2, 1],
            sender=[0, 0, 0],
            exposure_day=[0, 0, 0],
            notified_s=[1.75 * DAY_S, 1.75 * DAY_S, 2 * DAY_S],
        )
    )
    summary = NotificationCollector.combine([notifications.finalize()])
    assert summary["notifications"] == 2
    assert summary["precision"] == 0.5  # 1 was risky, 2 was not
    assert summary["recall"] == 0.5  # risky 0→1 caught, 0→3 missed
    assert summary["by_setting"]["work"] == {
        "notifications": 1,
        "precision": 1.0,
        "recall": 1.0,
        "false_positive_rate": None,  # no non-risky work contact
    }
    assert summary["by_setting"]["transport"] == {
        "notifications": 1,
        "precision": 0.0,
        "recall": 0.0,
        "false_positive_rate": 1.0,  # 0→2 at 4 m notified
    }
    assert summary["false_positive_rate"] == 1.0
    assert summary["series"] == {
        "notifications": [0, 2, 0],
        "true_positives": [0, 1, 0],
        "people_first_notified": [0, 2, 0],
    }
    assert summary["notified_tested_positive_share"] == 0.5  # 2 tested positive on day 2
    assert summary["notified_per_reporter"] == 2.0
    assert summary["infected_by_sender_share"] == 0.5
    assert summary["delay_result_to_notification_hours"]["median"] == pytest.approx(6.0)
    ground = GroundTruthCollector.combine([truth.finalize()])
    assert ground["risky_pair_days"] == 2
    assert ground["risky_pair_days_by_setting"]["transport"] == 1


def test_events_must_have_equal_columns() -> None:
    with pytest.raises(ValueError, match="same length"):
        NotificationEvents.build(receiver=[1], sender=[], exposure_day=[0], notified_s=[0.0])


def test_traffic_per_phone_and_day() -> None:
    traffic = TrafficCollector()
    traffic.initialize(_context())
    traffic.record_download([0, 1], day=0, n_bytes=1000)
    traffic.record_download([0], day=1, n_bytes=[3000])
    other_shard = TrafficCollector()
    other_shard.initialize(_context())
    other_shard.record_download([5], day=2, n_bytes=500)
    merged = TrafficCollector.combine([traffic.finalize(), other_shard.finalize()])
    summary = merged["bytes_per_phone_day"]
    assert summary["count"] == 60  # 2 shards × 10 phones × 3 days
    assert summary["max"] == 3000
    assert summary["mean"] == pytest.approx(5500 / 60)
    assert merged["series"]["mean"] == pytest.approx([100.0, 150.0, 25.0])  # per day over 20
    assert merged["series"]["max"] == [1000.0, 3000.0, 500.0]


def test_curves_of_shards_add_up_and_infections_averted() -> None:
    shard = {
        "population": 10,
        "series": {"new_infections": [1, 2, 3], "new_infections_work": [0, 2, 3]},
    }
    merged = EpidemicCurves.combine([shard, shard])
    assert merged["infections"] == 12
    assert merged["attack_rate"] == 0.6
    assert merged["peak_day"] == 2
    assert merged["infections_by_setting"]["work"] == 10
    averted = compare_with_baseline({"infections": 9}, merged)
    assert averted["infections_averted"] == 3
    assert averted["infections_averted_share"] == 0.25
