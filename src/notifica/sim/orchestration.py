"""Phones through the real backend on a simulated clock (`docs/sim-design.md` §10).

`Orchestration` steps every shard of a run a day at a time and replays the day's events in
time order on one `SimClock`, all shards sharing one backend (so phones of every province see
the same national batches):

1. each shard's epidemic day (`Shard.step`), each phone's key of the day
   (`ShardPhones.advertise`), the day's scans and radio into the sightings store;
2. events, earliest first (a heap): the publish job every ``app.publish_period``; each
   reporter's result → the phone shows an OTP → `Backend.authorise_otp` (what ``POST /v1/otp``
   and the portal run) → the phone's check-otp and upload over HTTP; each phone's
   ``Phone.tick()`` when its engine says something is due — its first detection staggered
   uniformly over one ``app.detection_period``, then as the server's configuration schedules
   it, and its dummy traffic (Immuni's schedule) when ``app.dummy_traffic`` is on;
3. every notification shown is attributed to its senders (`AttributingRule` keeps the keys,
   `ShardPhones.key_owner` names their owners) → `NotificationEvents`; at the end of the day
   the notified residents are asked to quarantine from the next day
   (``EpidemicModel.quarantine``) and are offered a test (``order_tests``); the bytes each
   phone downloaded go to the `TrafficCollector`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from notifica.clock import SimClock
from notifica.phone import CovidStatus, DetectionCache, PhoneError
from notifica.server import INLINE_BLOCKING_CALLS
from notifica.sim.backend import SimServer
from notifica.sim.contacts import DAY_S
from notifica.sim.devices import load_device_sampler
from notifica.sim.epidemic import DayOutcome
from notifica.sim.metrics import Collector, EpidemicCurves, GroundTruthCollector, TrafficCollector
from notifica.sim.notifications import NotificationCollector, NotificationEvents
from notifica.sim.phones import ShardPhones
from notifica.sim.radio import RadioChannel
from notifica.sim.risk import rule_for_scenario
from notifica.sim.run import Shard, ShardSpec, plan_shards
from notifica.sim.scans import ScanSchedule, scan_sightings
from notifica.sim.scenario import Scenario

__all__ = ["COLLECTORS", "Orchestration", "SystemCounts"]

COLLECTORS = ("epidemic", "ground_truth", "notifications", "traffic")
_PUBLISH, _REPORT, _TICK = 0, 1, 2


@dataclass(slots=True)
class SystemCounts:
    """What the system did during a run (the ``system`` section of the metrics)."""

    uploads: int = 0
    upload_failures: int = 0
    dummy_uploads: int = 0
    otps_authorised: int = 0
    batches_published: int = 0
    keys_published: int = 0
    detections: int = 0
    notifications: int = 0
    sightings: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _collectors() -> list[Collector]:
    truth = GroundTruthCollector()
    return [EpidemicCurves(), truth, NotificationCollector(truth), TrafficCollector()]


class Orchestration:
    """One run with phones (see the module docstring).

    Args:
        scenario: the scenario.
        data_dir: the run's temporary directory (the SQLite database).
        database_url: PostgreSQL instead of SQLite (an empty database).
        on_day: called after each simulated day with the day's index.
    """

    def __init__(
        self,
        scenario: Scenario,
        data_dir: Path,
        *,
        database_url: str | None = None,
        on_day: Callable[[int], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.specs: tuple[ShardSpec, ...] = plan_shards(scenario)
        self.start = datetime.combine(scenario.run.start_date, time(), UTC)
        self.start_unix_s = int(self.start.timestamp())
        self.clock = SimClock(self.start)
        self.counts = SystemCounts()
        self._on_day = on_day
        sampler = load_device_sampler()
        self.shards = [
            Shard(scenario, spec, devices=sampler, collectors=_collectors()) for spec in self.specs
        ]
        total = sum(int(s.population.devices.has_phone.sum()) for s in self.shards)
        self.server = SimServer(
            clock=self.clock,
            data_dir=data_dir,
            phones=total,
            seed=scenario.run.seed,
            publish_period_s=scenario.app.publish_period_s,
            database_url=database_url,
        )
        self.channel = RadioChannel.from_scenario(scenario)
        rule = rule_for_scenario(scenario)
        cache = DetectionCache()
        self.phones: list[ShardPhones] = []
        first = 0
        for shard in self.shards:
            phones = ShardPhones(
                shard,
                self.server,
                self.clock,
                rule,
                cache,
                first_index=first,
                start_unix_s=self.start_unix_s,
            )
            self.phones.append(phones)
            first += len(phones)
        self._schedules: list[ScanSchedule | None] = [None] * len(self.shards)
        self._events: list[tuple[float, int, int, int, int, float]] = []
        self._seq = 0
        self._notified: list[list[int]] = [[] for _ in self.shards]
        self._seed_events()

    # -- events ---------------------------------------------------------------------------
    def _push(self, at_s: float, kind: int, shard: int, row: int, value: float = 0.0) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at_s, kind, self._seq, shard, row, value))

    def _seed_events(self) -> None:
        period = self.scenario.app.detection_period_s
        rng = np.random.default_rng(np.random.SeedSequence(self.scenario.run.seed, spawn_key=(99,)))
        for index, phones in enumerate(self.phones):
            offsets = rng.uniform(0, period, len(phones))
            for row, offset in enumerate(offsets.tolist()):
                self._push(offset, _TICK, index, row)
        self._push(self.scenario.app.publish_period_s, _PUBLISH, -1, 0)

    def _move_to(self, at_s: float) -> None:
        target = self.start + timedelta(seconds=at_s)
        if target > self.clock.now():
            self.clock.set(target)

    def _sim_s(self) -> float:
        return self.clock.now().timestamp() - self.start_unix_s

    # -- the run --------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        """Simulate every day; return the collectors' merged metrics and the system counts."""
        INLINE_BLOCKING_CALLS.set(True)  # one request at a time: no thread hand-off
        try:
            for day in range(self.scenario.run.days):
                await self._day(day)
                if self._on_day is not None:
                    self._on_day(day)
        finally:
            await self.server.aclose()
        summaries = [shard.finish() for shard in self.shards]
        collectors = _collectors()
        metrics: dict[str, Any] = {
            c.name: type(c).combine([s[c.name] for s in summaries]) for c in collectors
        }
        metrics["system"] = self.counts.as_dict()
        return metrics

    async def _day(self, day: int) -> None:
        self._move_to(day * DAY_S)
        for index, shard in enumerate(self.shards):
            outcome = shard.step()
            self._world(index, day, outcome)
            reporters = outcome.reporters
            for person, result_s, onset_s in zip(
                reporters.person.tolist(),
                reporters.result_s.tolist(),
                reporters.onset_s.tolist(),
                strict=True,
            ):
                row = int(self.phones[index].row_of[person])
                if row >= 0:
                    at = result_s if math.isfinite(result_s) else day * DAY_S
                    onset = onset_s if math.isfinite(onset_s) else at
                    self._push(max(at, day * DAY_S), _REPORT, index, row, onset)
        end = (day + 1) * DAY_S
        while self._events and self._events[0][0] < end:
            at_s, kind, _, index, row, value = heapq.heappop(self._events)
            self._move_to(at_s)
            if kind == _PUBLISH:
                self._publish()
                self._push(at_s + self.scenario.app.publish_period_s, _PUBLISH, -1, 0)
            elif kind == _REPORT:
                await self._report(index, row, value)
            else:
                await self._tick(index, row)
        received = self.server.cdn.take_received()
        for index, phones in enumerate(self.phones):
            shard = self.shards[index]
            traffic = shard.collectors[3]
            assert isinstance(traffic, TrafficCollector)
            traffic.record_download(
                phones.person, day, received[phones.first_index : phones.first_index + len(phones)]
            )
            notified = self._notified[index]
            if notified:
                period = max(1, round(self.scenario.app.quarantine_period_d))
                shard.epidemic.quarantine(notified, day + 1, day + 1 + period)
                shard.epidemic.order_tests(notified, day + 1)
                self._notified[index] = []

    def _world(self, index: int, day: int, outcome: DayOutcome) -> None:
        """The day's keys, scans and radio into the shard's sightings store."""
        shard, phones = self.shards[index], self.phones[index]
        phones.advertise(day)
        population = shard.population
        schedule = ScanSchedule.for_day(
            shard.seeds.generator("scans", day),
            population.devices.has_phone,
            self.scenario.scanning,
            previous=self._schedules[index],
        )
        self._schedules[index] = schedule
        contacts = outcome.contacts
        sightings = scan_sightings(contacts, schedule)
        carriage = self.channel.draw_carriage(
            shard.seeds.generator("radio", day, 1), population.size
        )
        loss = self.channel.episode_loss_db(
            shard.seeds.generator("radio", day, 2), contacts, carriage
        )
        heard = self.channel.observe(
            shard.seeds.generator("radio", day), sightings, contacts, population.devices, loss
        )
        self.counts.sightings += phones.record_day(day, contacts, schedule, sightings, heard)

    def _publish(self) -> None:
        report = self.server.backend.publish()
        self.counts.batches_published += len(report.batches)
        self.counts.keys_published += report.keys_published

    async def _report(self, index: int, row: int, onset_s: float) -> None:
        phones = self.phones[index]
        phone = phones.phones[row]
        self.server.cdn.phone = phones.first_index + row
        onset: date = self.scenario.run.start_date + timedelta(days=math.floor(onset_s / DAY_S))
        try:
            shown = phone.report_positive()
            self.server.backend.authorise_otp(shown.replace("-", ""), min(onset, self._today()))
            self.counts.otps_authorised += 1
            await phone.verify_otp()
            await phone.upload_keys()
            self.counts.uploads += 1
        except PhoneError:
            self.counts.upload_failures += 1
        finally:
            self.server.cdn.phone = -1

    def _today(self) -> date:
        return self.clock.now().date()

    async def _tick(self, index: int, row: int) -> None:
        phones = self.phones[index]
        phone = phones.phones[row]
        self.server.cdn.phone = phones.first_index + row
        try:
            report = await phone.tick()
        finally:
            self.server.cdn.phone = -1
        self.counts.dummy_uploads += report.dummy_requests
        detection = report.detection
        if detection is not None:
            self.counts.detections += 1
            if detection.notified:
                self.counts.notifications += 1
                self._notified[index].append(int(phones.person[row]))
            if detection.is_at_risk and phone.state.status is CovidStatus.RISK:
                # shown now, or covered by the alert the user already has (the app notifies
                # again only for a later contact date): either way the user was told
                self._attribute(index, row, phones.rules[row].risky_keys)
        self._push(_next_tick_s(phone.state, self._sim_s(), self.start_unix_s), _TICK, index, row)

    def _attribute(self, index: int, row: int, keys: Sequence[bytes]) -> None:
        phones = self.phones[index]
        senders, days = phones.owners(list(keys))
        if not senders:
            return
        receiver = int(phones.person[row])
        events = NotificationEvents.build(
            receiver=[receiver] * len(senders),
            sender=senders,
            exposure_day=days,
            notified_s=[self._sim_s()] * len(senders),
        )
        collector = self.shards[index].collectors[2]
        assert isinstance(collector, NotificationCollector)
        collector.record(events)


def _next_tick_s(state: Any, now_s: float, start_unix_s: int) -> float:
    """When the phone's engine next has something to do (detection or dummy traffic)."""
    candidates = [
        state.next_detection_unix_s,
        state.dummy_next_request_unix_s,
        state.dummy_window_start_unix_s,
    ]
    due = [c - start_unix_s for c in candidates if c is not None and c - start_unix_s > now_s]
    # whole milliseconds after the due time: the clock keeps microseconds, and a tick a hair
    # before the due time would find nothing to do
    return math.ceil(min(due) * 1000) / 1000 + 0.001 if due else now_s + DAY_S
