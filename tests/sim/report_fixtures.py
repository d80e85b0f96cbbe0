"""A small real run's metrics dict for the report tests: the epidemic, ground truth and traffic
of a no-phone run, with notifications synthesised from who reported and whom they met."""

from __future__ import annotations

from typing import Any

import numpy as np

from notifica.sim import (
    DAY_S,
    EpidemicCurves,
    GroundTruthCollector,
    NotificationCollector,
    NotificationEvents,
    Scenario,
    Shard,
    TrafficCollector,
    compare_with_baseline,
    plan_shards,
    run_epidemic,
)
from notifica.sim.report_html import METRICS_SCHEMA


def small_scenario(**values: object) -> Scenario:
    return Scenario().with_values(
        {
            "run.population": 400,
            "run.days": 8,
            "run.initial_infections": 12,
            "run.seed": 5,
            "adoption.overall": 0.9,
            "adoption.min_age": "0 yr",
            "testing.test_to_result": "0.5 d",
            "testing.onset_to_test": "0.5 d",
            **values,
        }
    )


def small_run_metrics(scenario: Scenario, *, adoption: float | None = None) -> dict[str, Any]:
    """The metrics dict `notifica sim run` saves, from a real run of `scenario` without phones;
    each reporter's contacts of the last three days are notified 6 h after its result."""
    (spec,) = plan_shards(scenario)
    truth = GroundTruthCollector()
    notifications = NotificationCollector(truth)
    traffic = TrafficCollector()
    epidemic = EpidemicCurves()
    shard = Shard(scenario, spec, collectors=[epidemic, truth, notifications, traffic])
    adopter = shard.population.adopter
    phones = np.flatnonzero(adopter)
    rng = np.random.default_rng(1)
    history = []
    shown = 0
    for day in range(scenario.run.days):
        outcome = shard.step()
        history.append(outcome.contacts)
        traffic.record_download(phones, day, rng.integers(20_000, 400_000, len(phones)))
        for person, result_s in zip(
            outcome.reporters.person, outcome.reporters.result_s, strict=True
        ):
            receivers, days = [], []
            for contacts in history[-3:]:
                mine = (contacts.a == person) | (contacts.b == person)
                other = np.where(contacts.a[mine] == person, contacts.b[mine], contacts.a[mine])
                other = np.unique(other[adopter[other]])
                receivers.extend(other.tolist())
                days.extend([contacts.day] * len(other))
            if receivers:
                events = NotificationEvents.build(
                    receiver=receivers,
                    sender=[person] * len(receivers),
                    exposure_day=days,
                    notified_s=[min(result_s + 6 * 3600, scenario.run.days * DAY_S - 1)]
                    * len(receivers),
                )
                notifications.record(events)
                shown += len(events)
    summaries = shard.finish()
    app = EpidemicCurves.combine([summaries["epidemic"]])
    baseline = run_epidemic(scenario.with_values({"run.seed": scenario.run.seed + 1}))
    combined = NotificationCollector.combine([summaries["notifications"]])
    return {
        "schema": METRICS_SCHEMA,
        "run": {
            "seed": scenario.run.seed,
            "population": scenario.run.population,
            "days": scenario.run.days,
            "adoption": scenario.adoption.overall if adoption is None else adoption,
            "provinces": [code for code, _ in scenario.run.provinces],
            "phones": len(phones),
            "shards": 1,
            "channel": scenario.radio.channel,
            "risk_rule": scenario.app.risk_rule,
            "database": "sqlite:///sim.db",
            "elapsed_s": 12.5,
        },
        "epidemic": app,
        "ground_truth": GroundTruthCollector.combine([summaries["ground_truth"]]),
        "notifications": combined,
        "traffic": TrafficCollector.combine([summaries["traffic"]]),
        "baseline": {"epidemic": baseline.metrics["epidemic"]},
        "comparison": compare_with_baseline(app, baseline.metrics["epidemic"]),
        "system": {
            "uploads": combined["reporters"],
            "upload_failures": 0,
            "sightings": 1234,
            "dummy_uploads": 3 * len(phones),
            "otps_authorised": combined["reporters"],
            "batches_published": 4 * scenario.run.days,
            "keys_published": 14 * combined["reporters"],
            "detections": 6 * scenario.run.days * len(phones),
            "notifications": shown,
        },
    }
