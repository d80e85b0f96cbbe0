"""Metric collectors: watch a run day by day, then report numbers under stable names.

Each collector has the life cycle of Covasim's analyzers and Mesa's data collectors (STYLE §5):
`initialize(context)` once, `apply(outcome)` once per simulated day, `finalize()` once, which
returns an *additive* summary (counts, sums, samples) of its shard. Summaries of the shards of
a run are merged with the collector class's `combine`, which turns them into the metrics
(ratios, medians). Using a collector out of order raises `CollectorStateError`.

The orchestration feeds what only it knows: `NotificationCollector.record` (who was notified,
because of whose keys, for which exposure day, when; in `notifications.py`) and
`TrafficCollector.record_download` (bytes each phone downloaded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from notifica.sim.contacts import DAY_S, Setting
from notifica.sim.epidemic import COMPARTMENTS, DayOutcome
from notifica.sim.errors import CollectorStateError
from notifica.sim.ground_truth import PairDays, pair_days
from notifica.sim.population import Population
from notifica.sim.scenario import Scenario

__all__ = [
    "Collector",
    "EpidemicCurves",
    "GroundTruthCollector",
    "RunContext",
    "TrafficCollector",
    "compare_with_baseline",
    "quantiles",
]

SETTING_LABELS = tuple(s.label for s in Setting)


@dataclass(frozen=True, slots=True, eq=False)
class RunContext:
    """What a collector may look at: the scenario and the shard's population."""

    scenario: Scenario
    population: Population
    shard: int = 0

    @property
    def end_s(self) -> float:
        """End of the run, simulation seconds."""
        return float(self.scenario.run.days * DAY_S)


class Collector:
    """Base class enforcing the initialize → apply* → finalize life cycle."""

    name: ClassVar[str] = "collector"

    def __init__(self) -> None:
        self._state = "new"
        self._context: RunContext | None = None

    @property
    def context(self) -> RunContext:
        if self._context is None:
            raise CollectorStateError(f"{self.name}: not initialized")
        return self._context

    def initialize(self, context: RunContext) -> None:
        """Start watching a run."""
        if self._state != "new":
            raise CollectorStateError(f"{self.name}: initialized twice")
        self._context = context
        self._state = "running"
        self._start()

    def apply(self, outcome: DayOutcome) -> None:
        """Look at one simulated day."""
        self._require_running("apply")
        self._day(outcome)

    def finalize(self) -> dict[str, Any]:
        """Stop and return the shard's additive summary (merge shards with `combine`)."""
        self._require_running("finalize")
        self._state = "finalized"
        return self._summary()

    def _require_running(self, action: str) -> None:
        if self._state == "new":
            raise CollectorStateError(f"{self.name}: {action} before initialize")
        if self._state == "finalized":
            raise CollectorStateError(f"{self.name}: {action} after finalize")

    def _start(self) -> None:
        """Hook: set up per-run state."""

    def _day(self, outcome: DayOutcome) -> None:
        """Hook: look at one day."""

    def _summary(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def combine(cls, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Merge the shards' summaries into the run's metrics."""
        raise NotImplementedError


class EpidemicCurves(Collector):
    """Daily compartments, new infections by setting, tests and reporters."""

    name = "epidemic"

    def _start(self) -> None:
        self._rows: list[dict[str, int]] = []

    def _day(self, outcome: DayOutcome) -> None:
        setting = outcome.infections.setting
        row = dict(outcome.counts)
        row["new_infections"] = len(outcome.infections)
        row["new_infections_seeded"] = int((setting < 0).sum())
        for label, count in zip(
            SETTING_LABELS, np.bincount(setting[setting >= 0], minlength=len(Setting)), strict=True
        ):
            row[f"new_infections_{label}"] = int(count)
        row["positive_results"] = int(outcome.test_results.positive.sum())
        row["tests"] = len(outcome.test_results)
        row["reporters"] = len(outcome.reporters)
        row["contacts"] = len(outcome.contacts)
        self._rows.append(row)

    def _summary(self) -> dict[str, Any]:
        keys = self._rows[0].keys() if self._rows else ()
        return {
            "population": self.context.population.size,
            "series": {k: [row[k] for row in self._rows] for k in keys},
        }

    @classmethod
    def combine(cls, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        population = sum(s["population"] for s in summaries)
        series: dict[str, list[int]] = {}
        for summary in summaries:
            for key, values in summary["series"].items():
                series[key] = [
                    a + b for a, b in zip(series.get(key, [0] * len(values)), values, strict=True)
                ]
        new = series.get("new_infections", [])
        total = int(sum(new))
        by_setting = {
            label: int(sum(series.get(f"new_infections_{label}", []))) for label in SETTING_LABELS
        }
        return {
            "population": population,
            "days": len(new),
            "infections": total,
            "attack_rate": total / population if population else 0.0,
            "infections_by_setting": by_setting,
            "peak_day": int(np.argmax(new)) if new else 0,
            "positive_results": int(sum(series.get("positive_results", []))),
            "reporters": int(sum(series.get("reporters", []))),
            "series": series,
            "compartments": list(COMPARTMENTS),
        }


class GroundTruthCollector(Collector):
    """Risky pair-days per setting, and the table of adopter pairs that notifications need."""

    name = "ground_truth"

    def _start(self) -> None:
        self._risky = np.zeros(len(Setting), dtype=np.int64)
        self._pairs = np.zeros(len(Setting), dtype=np.int64)
        self._adopter_days: list[PairDays] = []

    def _day(self, outcome: DayOutcome) -> None:
        truth = self.context.scenario.ground_truth
        days = pair_days(
            outcome.contacts,
            max_distance_m=truth.max_distance_m,
            min_duration_s=truth.min_duration_s,
        )
        self._pairs += np.bincount(days.setting, minlength=len(Setting))
        self._risky += np.bincount(days.setting[days.risky], minlength=len(Setting))
        adopter = self.context.population.adopter
        self._adopter_days.append(days.select(adopter[days.a] & adopter[days.b]))

    @property
    def adopter_pair_days(self) -> list[PairDays]:
        """Per day, the pairs of two adopters in contact (risky or not)."""
        return self._adopter_days

    def _summary(self) -> dict[str, Any]:
        adopter_risky = sum(int(d.risky.sum()) for d in self._adopter_days)
        return {
            "pair_days": dict(zip(SETTING_LABELS, self._pairs.tolist(), strict=True)),
            "risky_pair_days": dict(zip(SETTING_LABELS, self._risky.tolist(), strict=True)),
            "risky_adopter_pair_days": adopter_risky,
        }

    @classmethod
    def combine(cls, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        risky = {
            label: sum(s["risky_pair_days"][label] for s in summaries) for label in SETTING_LABELS
        }
        pairs = {label: sum(s["pair_days"][label] for s in summaries) for label in SETTING_LABELS}
        return {
            "risky_pair_days": sum(risky.values()),
            "risky_pair_days_by_setting": risky,
            "pair_days": sum(pairs.values()),
            "pair_days_by_setting": pairs,
            "risky_adopter_pair_days": sum(s["risky_adopter_pair_days"] for s in summaries),
        }


class TrafficCollector(Collector):
    """Bytes each phone downloads per day (Immuni promised a few megabytes)."""

    name = "traffic"

    def _start(self) -> None:
        self._bytes = np.zeros(
            (self.context.scenario.run.days, self.context.population.size), dtype=np.int64
        )

    def record_download(self, person_ids: npt.ArrayLike, day: int, n_bytes: npt.ArrayLike) -> None:
        """Add `n_bytes` (one value or one per person) downloaded by phones on `day`."""
        self._require_running("record_download")
        ids = np.asarray(person_ids, dtype=np.int64)
        np.add.at(
            self._bytes[day], ids, np.broadcast_to(np.asarray(n_bytes, dtype=np.int64), ids.shape)
        )

    def _summary(self) -> dict[str, Any]:
        phones = self.context.population.adopter
        return {
            "phones": int(phones.sum()),
            "per_phone_day": self._bytes[:, phones].ravel().tolist(),
        }

    @classmethod
    def combine(cls, summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Quantiles over all phone-days, and per day over the phones (`series`)."""
        tables = [
            np.array(s["per_phone_day"], dtype=np.float64).reshape(-1, s["phones"])
            for s in summaries
            if s["phones"]
        ]
        days = max((len(t) for t in tables), default=0)
        by_day = np.concatenate(
            [np.pad(t, ((0, days - len(t)), (0, 0))) for t in tables] or [np.zeros((0, 0))],
            axis=1,
        )
        series: dict[str, list[float | None]] = {"mean": [], "median": [], "p90": [], "max": []}
        for row in by_day:
            for key, value in quantiles(row).items():
                if key in series:
                    series[key].append(value)
        return {"bytes_per_phone_day": quantiles(by_day.ravel()), "series": series}


def compare_with_baseline(app: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Infections averted by the app against a no-app run with the same seed.

    Args:
        app: `EpidemicCurves.combine` of the run with the app.
        baseline: the same for the run without it.
    """
    averted = baseline["infections"] - app["infections"]
    return {
        "infections_with_app": app["infections"],
        "infections_without_app": baseline["infections"],
        "infections_averted": averted,
        "infections_averted_share": averted / baseline["infections"]
        if baseline["infections"]
        else None,
    }


def quantiles(values: npt.NDArray[np.float64]) -> dict[str, float | None]:
    if len(values) == 0:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    return {
        "count": len(values),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "max": float(values.max()),
    }
