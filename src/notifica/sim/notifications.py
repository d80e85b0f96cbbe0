"""Notifications against the ground truth: precision, recall, delays (sim §5.2).

The orchestration reports every notification a phone shows, attributed to the sender whose key
matched and to the exposure day (`NotificationEvents`); `NotificationCollector` joins them with
the ground truth (`GroundTruthCollector`), the reporters and the infections of the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from notifica.sim.contacts import DAY_S
from notifica.sim.epidemic import DayOutcome
from notifica.sim.ground_truth import PairDays
from notifica.sim.metrics import SETTING_LABELS, Collector, GroundTruthCollector, quantiles

__all__ = ["NotificationCollector", "NotificationEvents"]

Keys = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class NotificationEvents:
    """Notifications shown, attributed: `receiver`'s phone matched `sender`'s key of
    `exposure_day` (simulated day of the TEK) and notified at `notified_s` (simulation seconds)."""

    receiver: npt.NDArray[np.int32]
    sender: npt.NDArray[np.int32]
    exposure_day: npt.NDArray[np.int32]
    notified_s: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.receiver)
        if not all(len(getattr(self, c)) == n for c in ("sender", "exposure_day", "notified_s")):
            raise ValueError("NotificationEvents columns must have the same length")

    def __len__(self) -> int:
        return len(self.receiver)

    @classmethod
    def build(
        cls,
        *,
        receiver: npt.ArrayLike,
        sender: npt.ArrayLike,
        exposure_day: npt.ArrayLike,
        notified_s: npt.ArrayLike,
    ) -> NotificationEvents:
        return cls(
            np.asarray(receiver, dtype=np.int32),
            np.asarray(sender, dtype=np.int32),
            np.asarray(exposure_day, dtype=np.int32),
            np.asarray(notified_s, dtype=np.float64),
        )


class NotificationCollector(Collector):
    """Precision and recall of notifications against the ground truth (sim §5.2).

    Unit: a directed pair-day (sender's key of one day → receiver). A notification is a true
    positive when the pair had a risky contact that day. The recall counts risky adopter
    pair-days the system could have caught: the sender reported, the day was within the keys it
    uploaded (14 days before the result, from symptom onset − 2 days, Immuni's filter) and one
    publish period plus one detection period fit before the end of the run — and the receiver
    had not reported positive itself by then (a positive user's app never notifies).

    Epidemiological labels beside the proximity ones: `infected_by_sender_share` (notified
    pairs where the sender infected the receiver) and `notified_tested_positive_share` (notified
    people with a positive result at or after their first notification, what the NHS app's
    "SAR among notified contacts" measures, sim §4.1). `series` counts per day of `notified_s`.
    """

    name = "notifications"

    def __init__(self, ground_truth: GroundTruthCollector) -> None:
        super().__init__()
        self._truth = ground_truth

    def _start(self) -> None:
        self._events: list[NotificationEvents] = []
        self._reporters: list[_Reporters] = []
        n = self.context.population.size
        self._infector = np.full(n, -1, dtype=np.int32)
        self._positives: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]] = []

    def _day(self, outcome: DayOutcome) -> None:
        r = outcome.reporters
        self._reporters.append(_Reporters(r.person, r.result_s, r.onset_s))
        self._infector[outcome.infections.infectee] = outcome.infections.infector
        tests = outcome.test_results
        self._positives.append((tests.person[tests.positive], tests.result_s[tests.positive]))

    def record(self, events: NotificationEvents) -> None:
        """Add notifications (any time after `initialize`, before `finalize`)."""
        self._require_running("record")
        self._events.append(events)

    def _summary(self) -> dict[str, Any]:
        n = self.context.population.size
        events = _first_notifications(_concat_events(self._events), n)
        reporters = _Reporters.of(self._reporters)
        truth = _TruthTable.of(self._truth.adopter_pair_days, n)
        risky, setting = truth.look_up(
            _pair_key(events.exposure_day, events.sender, events.receiver, n)
        )
        event_key = _directed_key(events.exposure_day, events.sender, events.receiver, n)
        eligible_key, eligible_setting = self._eligible(truth, reporters, n, risky=True)
        notified = np.isin(eligible_key, event_key)
        negative_key, negative_setting = self._eligible(truth, reporters, n, risky=False)
        false_alarm = np.isin(negative_key, event_key)
        report_at = np.full(n, np.nan)
        report_at[reporters.person] = reporters.result_s
        delay_h = (events.notified_s - report_at[events.sender]) / 3600
        pairs = np.unique(events.sender.astype(np.int64) * n + events.receiver)
        infected_by_sender = self._infector[pairs % n] == pairs // n
        first_notified_s = np.full(n, np.inf)
        np.minimum.at(first_notified_s, events.receiver, events.notified_s)
        positive_person = np.concatenate([p for p, _ in self._positives] or [np.zeros(0, np.int32)])
        positive_s = np.concatenate([t for _, t in self._positives] or [np.zeros(0)])
        tested_positive = np.unique(
            positive_person[positive_s >= first_notified_s[positive_person]]
        )
        return {
            "notifications": len(events),
            "true_positives": int(risky.sum()),
            "by_setting": _setting_counts(
                (setting, risky), (eligible_setting, notified), (negative_setting, false_alarm)
            ),
            "eligible": len(eligible_key),
            "eligible_notified": int(notified.sum()),
            "negatives": len(negative_key),
            "negatives_notified": int(false_alarm.sum()),
            "reporters": len(reporters.person),
            "notified_people": len(np.unique(events.receiver)),
            "notified_pairs": len(pairs),
            "notified_pairs_infected_by_sender": int(infected_by_sender.sum()),
            "delay_hours": delay_h[~np.isnan(delay_h)].tolist(),
            "notified_tested_positive": len(tested_positive),
            "daily": self._daily(events, risky, first_notified_s),
        }

    def _daily(
        self,
        events: NotificationEvents,
        risky: npt.NDArray[np.bool_],
        first_notified_s: npt.NDArray[np.float64],
    ) -> dict[str, list[int]]:
        """Per simulated day of `notified_s`: notifications, true ones, people notified anew."""
        days = self.context.scenario.run.days

        def count(seconds: npt.NDArray[np.float64]) -> list[int]:
            day = np.floor(seconds / DAY_S).astype(np.int64)
            return np.bincount(day, minlength=days).tolist()  # type: ignore[no-any-return]

        return {
            "notifications": count(events.notified_s),
            "true_positives": count(events.notified_s[risky]),
            "people_first_notified": count(first_notified_s[np.isfinite(first_notified_s)]),
        }

    def _eligible(
        self, truth: _TruthTable, reporters: _Reporters, n: int, *, risky: bool
    ) -> tuple[Keys, npt.NDArray[np.int8]]:
        """Directed risky (or, with `risky` false, non-risky) pair-days whose sender's keys the
        receiver could have matched: the recall's (or the false-positive rate's) denominator."""
        scenario = self.context.scenario
        delay = scenario.app.publish_period_s + scenario.app.detection_period_s
        latest = self.context.end_s - delay
        ok = reporters.result_s <= latest
        person, result_s, onset_s = (
            reporters.person[ok],
            reporters.result_s[ok],
            reporters.onset_s[ok],
        )
        first_day = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        last_day = np.full(n, -1, dtype=np.int64)
        result_day = np.floor(result_s / DAY_S).astype(np.int64)
        start_s = np.where(np.isnan(onset_s), result_s, onset_s)
        first_day[person] = np.maximum(
            np.floor(start_s / DAY_S).astype(np.int64) - 2, result_day - 14
        )
        last_day[person] = result_day
        # a receiver who reported positive first can no longer be notified (its app is in the
        # positive state): not a miss of the system
        catchable_until = np.full(n, -np.inf)
        catchable_until[person] = result_s + delay
        reported_at = np.full(n, np.inf)
        reported_at[reporters.person] = reporters.result_s
        chosen = truth.risky == risky
        risky_key, setting = truth.key[chosen], truth.setting[chosen]
        day, a, b = risky_key // (n * n), (risky_key // n) % n, risky_key % n
        keys, settings = [], []
        for sender, receiver in ((a, b), (b, a)):
            can = (first_day[sender] <= day) & (day <= last_day[sender])
            can &= reported_at[receiver] > catchable_until[sender]
            keys.append(_directed_key(day[can], sender[can], receiver[can], n))
            settings.append(setting[can])
        return np.concatenate(keys), np.concatenate(settings)

    @classmethod
    def combine(cls, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        total = sum(s["notifications"] for s in summaries)
        tp = sum(s["true_positives"] for s in summaries)
        eligible = sum(s["eligible"] for s in summaries)
        caught = sum(s["eligible_notified"] for s in summaries)
        reporters = sum(s["reporters"] for s in summaries)
        pairs = sum(s["notified_pairs"] for s in summaries)
        delays = np.array([d for s in summaries for d in s["delay_hours"]])
        notified_people = sum(s["notified_people"] for s in summaries)
        negatives = sum(s["negatives"] for s in summaries)
        negatives_notified = sum(s["negatives_notified"] for s in summaries)
        by_setting: dict[str, dict[str, float | None]] = {}
        for label in (*SETTING_LABELS, "none"):
            cells = [s["by_setting"].get(label, {}) for s in summaries]
            n_notified = sum(c.get("notified", 0) for c in cells)
            n_tp = sum(c.get("true_positives", 0) for c in cells)
            n_eligible = sum(c.get("eligible", 0) for c in cells)
            n_caught = sum(c.get("eligible_notified", 0) for c in cells)
            n_negatives = sum(c.get("negatives", 0) for c in cells)
            n_false = sum(c.get("negatives_notified", 0) for c in cells)
            by_setting[label] = {
                "notifications": n_notified,
                "precision": n_tp / n_notified if n_notified else None,
                "recall": n_caught / n_eligible if n_eligible else None,
                "false_positive_rate": n_false / n_negatives if n_negatives else None,
            }
        return {
            "notifications": total,
            "precision": tp / total if total else None,
            "recall": caught / eligible if eligible else None,
            "false_positive_rate": negatives_notified / negatives if negatives else None,
            "by_setting": by_setting,
            "reporters": reporters,
            "notified_per_reporter": pairs / reporters if reporters else None,
            "notified_people": notified_people,
            "infected_by_sender_share": (
                sum(s["notified_pairs_infected_by_sender"] for s in summaries) / pairs
                if pairs
                else None
            ),
            "delay_result_to_notification_hours": quantiles(delays),
            "notified_tested_positive_share": (
                sum(s["notified_tested_positive"] for s in summaries) / notified_people
                if notified_people
                else None
            ),
            "series": _sum_series([s["daily"] for s in summaries]),
        }


def _sum_series(parts: Sequence[Mapping[str, Sequence[int]]]) -> dict[str, list[int]]:
    """Add daily series of shards element-wise (a shorter series counts as zeros after its end)."""
    out: dict[str, list[int]] = {}
    for part in parts:
        for key, values in part.items():
            old = out.get(key, [])
            length = max(len(old), len(values))
            out[key] = [
                (old[i] if i < len(old) else 0) + (values[i] if i < len(values) else 0)
                for i in range(length)
            ]
    return out


def _pair_key(day: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike, n: int) -> Keys:
    """Key of an unordered pair-day (as in the ground truth)."""
    low = np.minimum(x, y).astype(np.int64)
    high = np.maximum(x, y).astype(np.int64)
    return (np.asarray(day, dtype=np.int64) * n + low) * n + high


def _directed_key(
    day: npt.ArrayLike, sender: npt.ArrayLike, receiver: npt.ArrayLike, n: int
) -> Keys:
    """Key of a directed pair-day (sender's key → receiver)."""
    return (
        np.asarray(day, dtype=np.int64) * n + np.asarray(sender, dtype=np.int64)
    ) * n + np.asarray(receiver, dtype=np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class _Reporters:
    person: npt.NDArray[np.int32]
    result_s: npt.NDArray[np.float64]
    onset_s: npt.NDArray[np.float64]

    @classmethod
    def of(cls, parts: list[_Reporters]) -> _Reporters:
        if not parts:
            return cls(np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
        return cls(
            *(
                np.concatenate([getattr(p, c) for p in parts])
                for c in ("person", "result_s", "onset_s")
            )
        )


@dataclass(frozen=True, slots=True, eq=False)
class _TruthTable:
    """Adopter pair-days sorted by `_pair_key`."""

    key: Keys
    setting: npt.NDArray[np.int8]
    risky: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, days: list[PairDays], n: int) -> _TruthTable:
        if not days:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, bool))
        key = np.concatenate([_pair_key(np.full(len(d), d.day), d.a, d.b, n) for d in days])
        order = np.argsort(key, kind="stable")
        setting = np.concatenate([d.setting for d in days])[order]
        return cls(key[order], setting, np.concatenate([d.risky for d in days])[order])

    def look_up(self, keys: Keys) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int8]]:
        """Whether each pair-day was risky, and its setting (-1 if the pair never met)."""
        if len(self.key) == 0:
            return np.zeros(len(keys), bool), np.full(len(keys), -1, np.int8)
        at = np.minimum(np.searchsorted(self.key, keys), len(self.key) - 1)
        met = self.key[at] == keys
        return met & self.risky[at], np.where(met, self.setting[at], -1).astype(np.int8)


def _first_notifications(events: NotificationEvents, n: int) -> NotificationEvents:
    """One event per (receiver, sender, exposure day): the earliest."""
    key = _directed_key(events.exposure_day, events.sender, events.receiver, n)
    order = np.lexsort((events.notified_s, key))
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]] if len(order) else order
    return NotificationEvents(
        events.receiver[first],
        events.sender[first],
        events.exposure_day[first],
        events.notified_s[first],
    )


def _concat_events(events: list[NotificationEvents]) -> NotificationEvents:
    if not events:
        return NotificationEvents.build(receiver=[], sender=[], exposure_day=[], notified_s=[])
    columns = ("receiver", "sender", "exposure_day", "notified_s")
    return NotificationEvents(*(np.concatenate([getattr(e, c) for e in events]) for c in columns))


Labelled = tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]


def _setting_counts(
    events: Labelled, positives: Labelled, negatives: Labelled
) -> dict[str, dict[str, int]]:
    """Per setting: notifications (setting, risky), risky eligible pair-days (setting, notified),
    non-risky eligible pair-days (setting, notified)."""
    out: dict[str, dict[str, int]] = {}
    for code, label in [*enumerate(SETTING_LABELS), (-1, "none")]:
        mine, theirs, clear = events[0] == code, positives[0] == code, negatives[0] == code
        out[label] = {
            "notified": int(mine.sum()),
            "true_positives": int((mine & events[1]).sum()),
            "eligible": int(theirs.sum()),
            "eligible_notified": int((theirs & positives[1]).sum()),
            "negatives": int(clear.sum()),
            "negatives_notified": int((clear & negatives[1]).sum()),
        }
    return out
