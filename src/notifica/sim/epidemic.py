"""The epidemic: who infects whom, symptoms, tests, isolation and quarantine, day by day.

`EpidemicModel.step()` simulates one day on the contact episodes of that day:

1. residents away (symptomatic and staying home, isolating after a positive test, or
   quarantined by `quarantine`) meet only their household;
2. each episode between an infectious and a susceptible resident transmits with probability
   ``1 - exp(-dose)``, dose = rate × relative infectiousness(τ) × exp(-decay·(d - 1 m)) ×
   minutes × setting factor × susceptibility(age) — closer and longer means likelier
   (`docs/sim-design.md`, "Dose model");
3. tests that return a result that day are reported; a positive adopter who consents becomes a
   *reporter* (`DayOutcome.reporters`): the orchestration makes that phone go through the real
   OTP and upload flow.

Each resident's traits (asymptomatic or not, incubation, whether they get tested, comply, ...)
are drawn once at the start from the ``"person"`` stream and the transmission draws of day d
from ``("transmission", d)``: the same seed gives the same results, and an app run and a no-app
run differ only where the app changed something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from notifica.sim._disease import incubation_days, relative_infectiousness
from notifica.sim._outcome import (
    COMPARTMENTS,
    DayOutcome,
    Infections,
    Reporters,
    TestReason,
    TestResults,
)
from notifica.sim.contacts import DAY_S, ContactModel, DayContacts, Setting, keep_present
from notifica.sim.population import Population
from notifica.sim.scenario import Scenario
from notifica.sim.seeds import Seeds

__all__ = [
    "COMPARTMENTS",
    "DayOutcome",
    "EpidemicModel",
    "Infections",
    "Reporters",
    "TestReason",
    "TestResults",
]


Ids = npt.NDArray[np.int32]
Seconds = npt.NDArray[np.float64]


@dataclass(slots=True, eq=False)
class _Traits:
    """Per-resident draws made once (``"person"`` stream)."""

    asymptomatic: npt.NDArray[np.bool_]
    incubation_d: Seconds
    tests_on_symptoms: npt.NDArray[np.bool_]
    sensitive: npt.NDArray[np.bool_]
    stays_home: npt.NDArray[np.bool_]
    isolates: npt.NDArray[np.bool_]
    reports: npt.NDArray[np.bool_]
    quarantines: npt.NDArray[np.bool_]
    tests_when_notified: npt.NDArray[np.bool_]


class EpidemicModel:
    """One shard's epidemic (see the module docstring). Not thread-safe; one per process."""

    def __init__(
        self,
        scenario: Scenario,
        population: Population,
        contacts: ContactModel,
        seeds: Seeds,
        *,
        initial_infections: int | None = None,
    ) -> None:
        """Build the shard's epidemic; `initial_infections` residents are infected at 00:00 of
        day 0 (default: ``run.initial_infections`` × the province's share)."""
        self._scenario = scenario
        self._population = population
        self._contacts = contacts
        self._seeds = seeds
        n = population.size
        self.day = 0
        self.infected_s = np.full(n, np.nan)
        self.infector = np.full(n, -1, dtype=np.int32)
        self.onset_s = np.full(n, np.nan)
        self.positive_s = np.full(n, np.nan)
        self._absence = np.zeros((3, 2, n), dtype=np.int32)  # kind × (from, until) × person
        self._pending: list[tuple[Ids, Seconds, npt.NDArray[np.bool_], npt.NDArray[np.int8]]] = []
        self._traits = self._draw_traits(seeds.generator("person"), n)
        self._susceptibility = np.asarray(scenario.epidemic.susceptibility_by_age)[
            population.decade()
        ]
        contacts_params = scenario.contacts
        self._setting_factor = np.array(
            [getattr(contacts_params, s.label).transmission_factor for s in Setting],
            dtype=np.float64,
        )
        count = self._initial_count() if initial_infections is None else initial_infections
        if not 0 <= count <= population.size:
            raise ValueError(f"initial_infections must be in 0..{population.size}, got {count}")
        self._seeded = self._seed_infections(seeds.generator("seeding"), count)

    # ---------------------------------------------------------------- public API
    def step(self) -> DayOutcome:
        """Simulate day `self.day` and move to the next one."""
        day = self.day
        absent = self.absent_on(day)
        potential = self._contacts.potential(day)
        draws = self._seeds.generator("transmission", day).random(len(potential))
        keep = keep_present(potential, absent)
        contacts, draws = potential.select(keep), draws[keep]
        infections = self._transmit(contacts, draws)
        if day == 0:
            infections = _concat_infections(self._seeded, infections)
        results = self._results_until((day + 1) * DAY_S)
        reporters = self._apply_results(results)
        self.day += 1
        return DayOutcome(
            day, contacts, infections, results, reporters, self.counts_at(self.day * DAY_S)
        )

    def quarantine(self, person_ids: npt.ArrayLike, from_day: int, until_day: int) -> Ids:
        """Ask residents to stay home (outside their household) on days ``[from_day, until_day)``.

        Each complies with probability ``app.quarantine_compliance`` (a fixed trait of the
        person). Call it when the orchestration shows a notification; contacts from `from_day`
        on are generated without the compliant residents.

        Returns:
            The ids that comply.

        Raises:
            ValueError: an id outside the population or an empty or negative day range.
        """
        ids = self._ids(person_ids)
        if from_day < 0 or until_day <= from_day:
            raise ValueError(f"need 0 ≤ from_day < until_day, got {from_day}, {until_day}")
        complying = ids[self._traits.quarantines[ids]]
        self._set_absence(2, complying, from_day, until_day)
        return complying

    def order_tests(self, person_ids: npt.ArrayLike, day: int) -> Ids:
        """Test residents on `day` (e.g. after a notification), each with probability
        ``app.notified_test_probability`` (a fixed trait). Results arrive after
        ``testing.test_to_result``.

        Returns:
            The ids actually tested.
        """
        ids = self._ids(person_ids)
        if day < 0:
            raise ValueError(f"day must be ≥ 0, got {day}")
        tested: Ids = ids[self._traits.tests_when_notified[ids] & np.isnan(self.positive_s[ids])]
        test_s = np.full(len(tested), (day + 0.5) * DAY_S)
        self._queue_tests(tested, test_s, TestReason.NOTIFIED)
        return tested

    def absent_on(self, day: int) -> npt.NDArray[np.bool_]:
        """Residents who meet only their household on `day`."""
        start, until = self._absence[:, 0, :], self._absence[:, 1, :]
        absent: npt.NDArray[np.bool_] = np.any((start <= day) & (day < until), axis=0)
        return absent

    def counts_at(self, time_s: float) -> dict[str, int]:
        """Residents per compartment (`COMPARTMENTS`) and in isolation/quarantine at `time_s`."""
        params = self._scenario.epidemic
        tau = (time_s - self.infected_s) / DAY_S
        infected = ~np.isnan(self.infected_s)
        asym = self._traits.asymptomatic
        latent = infected & (tau < params.latent_period_d)
        active = infected & ~latent & (tau < params.infectious_period_d)
        before_onset = ~(self.onset_s <= time_s)
        day = int(time_s // DAY_S)
        counts = {
            "susceptible": int((~infected).sum()),
            "exposed": int(latent.sum()),
            "presymptomatic": int((active & ~asym & before_onset).sum()),
            "symptomatic": int((active & ~asym & ~before_onset).sum()),
            "asymptomatic": int((active & asym).sum()),
            "recovered": int((infected & (tau >= params.infectious_period_d)).sum()),
        }
        counts["isolated"] = int(((self._absence[1, 0] <= day) & (day < self._absence[1, 1])).sum())
        counts["quarantined"] = int(
            ((self._absence[2, 0] <= day) & (day < self._absence[2, 1])).sum()
        )
        counts["positive"] = int((~np.isnan(self.positive_s)).sum())
        return counts

    # ---------------------------------------------------------------- internals
    def _ids(self, person_ids: npt.ArrayLike) -> Ids:
        ids = np.unique(np.asarray(person_ids, dtype=np.int64))
        if len(ids) and (ids[0] < 0 or ids[-1] >= self._population.size):
            raise ValueError(f"person ids must be in 0..{self._population.size - 1}")
        return ids.astype(np.int32)

    def _initial_count(self) -> int:
        run = self._scenario.run
        share = dict(run.provinces).get(self._population.province, 1.0)
        return min(self._population.size, round(run.initial_infections * share))

    def _draw_traits(self, rng: np.random.Generator, n: int) -> _Traits:
        s = self._scenario
        return _Traits(
            asymptomatic=rng.random(n) < s.epidemic.asymptomatic_fraction,
            incubation_d=incubation_days(rng.standard_normal(n), s.epidemic),
            tests_on_symptoms=rng.random(n) < s.testing.symptomatic_test_probability,
            sensitive=rng.random(n) < s.testing.sensitivity,
            stays_home=rng.random(n) < s.epidemic.symptomatic_stay_home,
            isolates=rng.random(n) < s.testing.isolation_compliance,
            reports=(rng.random(n) < s.app.reporting_probability) & self._population.adopter,
            quarantines=rng.random(n) < s.app.quarantine_compliance,
            tests_when_notified=rng.random(n) < s.app.notified_test_probability,
        )

    def _seed_infections(self, rng: np.random.Generator, count: int) -> Infections:
        ids = np.sort(rng.choice(self._population.size, size=count, replace=False)).astype(np.int32)
        times = np.zeros(len(ids))
        self._infect(ids, times, np.full(len(ids), -1, dtype=np.int32))
        return Infections(
            ids,
            np.full(len(ids), -1, dtype=np.int32),
            times,
            np.full(len(ids), -1, dtype=np.int8),
            np.full(len(ids), np.nan, dtype=np.float32),
            np.zeros(len(ids), dtype=np.int32),
        )

    def _transmit(self, contacts: DayContacts, draws: npt.NDArray[np.float64]) -> Infections:
        params = self._scenario.epidemic
        day_start = contacts.day * DAY_S
        tau_start = (day_start - self.infected_s) / DAY_S
        infectious = (tau_start + 1 > params.latent_period_d) & (
            tau_start < params.infectious_period_d
        )
        susceptible = np.isnan(self.infected_s)
        a, b = contacts.a, contacts.b
        a_to_b = infectious[a] & susceptible[b]
        candidate = np.flatnonzero(a_to_b | (infectious[b] & susceptible[a]))
        source = np.where(a_to_b[candidate], a[candidate], b[candidate])
        target = np.where(a_to_b[candidate], b[candidate], a[candidate])
        mid_s = day_start + contacts.start_s[candidate] + contacts.duration_s[candidate] / 2
        weight = relative_infectiousness((mid_s - self.infected_s[source]) / DAY_S, params)
        weight = np.where(
            self._traits.asymptomatic[source], weight * params.asymptomatic_infectiousness, weight
        )
        distance = np.maximum(contacts.distance_m[candidate], params.min_distance_m)
        dose = (
            params.transmission_rate_per_min
            * weight
            * np.exp(-params.distance_decay_per_m * (distance - 1.0))
            * (contacts.duration_s[candidate] / 60.0)
            * self._setting_factor[contacts.setting[candidate]]
            * self._susceptibility[target]
        )
        hit = draws[candidate] < -np.expm1(-dose)
        episodes, source, target, mid_s = candidate[hit], source[hit], target[hit], mid_s[hit]
        order = np.lexsort((mid_s, target))
        first = order[np.r_[True, target[order][1:] != target[order][:-1]]] if len(order) else order
        episodes, source, target, mid_s = (
            episodes[first],
            source[first],
            target[first],
            mid_s[first],
        )
        self._infect(target, mid_s, source)
        return Infections(
            target.astype(np.int32),
            source.astype(np.int32),
            mid_s,
            contacts.setting[episodes],
            contacts.distance_m[episodes],
            contacts.duration_s[episodes],
        )

    def _infect(self, ids: Ids, times: Seconds, infector: Ids) -> None:
        """Set the infection and schedule its symptoms, stay-home and symptom test."""
        params, testing = self._scenario.epidemic, self._scenario.testing
        traits = self._traits
        self.infected_s[ids] = times
        self.infector[ids] = infector
        symptomatic = ids[~traits.asymptomatic[ids]]
        onset = self.infected_s[symptomatic] + traits.incubation_d[symptomatic] * DAY_S
        self.onset_s[symptomatic] = onset
        recovery_day = np.floor((self.infected_s[symptomatic] / DAY_S) + params.infectious_period_d)
        home = traits.stays_home[symptomatic]
        onset_day = np.floor(onset / DAY_S).astype(np.int64) + 1
        self._set_absence(
            0, symptomatic[home], onset_day[home], recovery_day[home].astype(np.int64)
        )
        tested = traits.tests_on_symptoms[symptomatic]
        self._queue_tests(
            symptomatic[tested],
            onset[tested] + testing.onset_to_test_d * DAY_S,
            TestReason.SYMPTOMS,
        )

    def _queue_tests(self, ids: Ids, test_s: Seconds, reason: int) -> None:
        testing, params = self._scenario.testing, self._scenario.epidemic
        tau = (test_s - self.infected_s[ids]) / DAY_S
        detectable = (tau >= testing.detectable_after_d) & (tau < params.infectious_period_d)
        positive = detectable & self._traits.sensitive[ids]
        result_s = test_s + testing.test_to_result_d * DAY_S
        self._pending.append((ids, result_s, positive, np.full(len(ids), reason, dtype=np.int8)))

    def _results_until(self, until_s: float) -> TestResults:
        if not self._pending:
            return TestResults(
                np.zeros(0, np.int32), np.zeros(0), np.zeros(0, bool), np.zeros(0, np.int8)
            )
        ids, result_s, positive, reason = (
            np.concatenate(column) for column in zip(*self._pending, strict=True)
        )
        due = result_s < until_s
        self._pending = [(ids[~due], result_s[~due], positive[~due], reason[~due])]
        order = np.argsort(result_s[due], kind="stable")
        return TestResults(
            ids[due][order], result_s[due][order], positive[due][order], reason[due][order]
        )

    def _apply_results(self, results: TestResults) -> Reporters:
        positive = results.positive & np.isnan(self.positive_s[results.person])
        ids, result_s = results.person[positive], results.result_s[positive]
        ids, first = np.unique(ids, return_index=True)
        result_s = result_s[first]
        self.positive_s[ids] = result_s
        isolating = self._traits.isolates[ids]
        start = np.floor(result_s / DAY_S).astype(np.int64)
        period = math.ceil(self._scenario.testing.isolation_period_d)
        self._set_absence(1, ids[isolating], start[isolating], start[isolating] + period)
        reporting = self._traits.reports[ids]
        return Reporters(
            ids[reporting].astype(np.int32), result_s[reporting], self.onset_s[ids[reporting]]
        )

    def _set_absence(self, kind: int, ids: Ids, start: npt.ArrayLike, until: npt.ArrayLike) -> None:
        start = np.broadcast_to(np.asarray(start, dtype=np.int64), ids.shape)
        until = np.broadcast_to(np.asarray(until, dtype=np.int64), ids.shape)
        current_from, current_until = self._absence[kind, 0, ids], self._absence[kind, 1, ids]
        overlapping = (current_until >= start) & (current_from < current_until)
        new_from = np.where(overlapping, np.minimum(current_from, start), start)
        new_until = np.where(overlapping, np.maximum(current_until, until), until)
        self._absence[kind, 0, ids] = new_from
        self._absence[kind, 1, ids] = new_until


def _concat_infections(first: Infections, second: Infections) -> Infections:
    columns = ("infectee", "infector", "time_s", "setting", "distance_m", "duration_s")
    return Infections(*(np.concatenate([getattr(first, c), getattr(second, c)]) for c in columns))
