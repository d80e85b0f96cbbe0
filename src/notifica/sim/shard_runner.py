"""One shard with its phones on its own clock, app replica and CDN cache (`docs/sim-design.md`
§10); the coordinator that ticks the runners is `notifica.sim.orchestration`.

Per shard:

1. at each day boundary, the shard's epidemic day (`Shard.step`), each phone's key of the day
   (`ShardPhones.advertise`), the day's scans and radio into the sightings store;
2. events, earliest first (a heap): each reporter's result → the phone shows an OTP →
   `Backend.authorise_otp` (what ``POST /v1/otp`` and the portal run) → the phone's check-otp
   and upload over HTTP; each phone's ``Phone.tick()`` when its engine says something is due
   — its first detection staggered uniformly over one ``app.detection_period``, then every
   ``app.detection_period`` (the server's ``exposure_detection_period`` is set to it), and
   its dummy traffic (Immuni's schedule) only when ``app.dummy_traffic`` is on;
3. every notification shown is attributed to its senders (`AttributingRule` keeps the keys,
   `ShardPhones.key_owner` names their owners) → `NotificationEvents`; at the end of the day
   the notified residents are asked to quarantine from the next day
   (``EpidemicModel.quarantine``) and are offered a test (``order_tests``); the bytes each
   phone downloaded go to the `TrafficCollector`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from notifica.clock import SimClock
from notifica.phone import CovidStatus, DetectionCache, PhoneError
from notifica.sim.backend import SimServer
from notifica.sim.contacts import DAY_S
from notifica.sim.devices import DeviceSampler, load_device_sampler
from notifica.sim.epidemic import DayOutcome
from notifica.sim.metrics import Collector, EpidemicCurves, GroundTruthCollector, TrafficCollector
from notifica.sim.notifications import NotificationCollector, NotificationEvents
from notifica.sim.phones import ShardPhones
from notifica.sim.radio import RadioChannel
from notifica.sim.risk import rule_for_scenario
from notifica.sim.run import Shard, ShardSpec
from notifica.sim.scans import ScanSchedule, scan_sightings
from notifica.sim.scenario import Scenario

__all__ = ["COLLECTORS", "ShardRunner", "SystemCounts", "collectors"]

COLLECTORS = ("epidemic", "ground_truth", "notifications", "traffic")
_REPORT, _TICK = 1, 2


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


def collectors() -> list[Collector]:
    truth = GroundTruthCollector()
    return [EpidemicCurves(), truth, NotificationCollector(truth), TrafficCollector()]


class ShardRunner:
    """One shard with its phones, its clock, its app replica and its CDN cache.

    Args:
        scenario: the scenario.
        spec: the shard.
        data_dir: the run's directory (the SQLite database).
        database_url: PostgreSQL instead of SQLite.
        cache: the process's detection cache (batches parsed, verified and derived once).
    """

    def __init__(
        self,
        scenario: Scenario,
        spec: ShardSpec,
        data_dir: Path,
        *,
        database_url: str | None = None,
        cache: DetectionCache | None = None,
        devices: DeviceSampler | None = None,
    ) -> None:
        self.scenario = scenario
        self.index = spec.index
        self.start = datetime.combine(scenario.run.start_date, time(), UTC)
        self.start_unix_s = int(self.start.timestamp())
        self.clock = SimClock(self.start)
        self.counts = SystemCounts()
        self.shard = Shard(
            scenario, spec, devices=devices or load_device_sampler(), collectors=collectors()
        )
        self.server = SimServer(
            clock=self.clock,
            data_dir=data_dir,
            phones=int(self.shard.population.devices.has_phone.sum()),
            seed=scenario.run.seed,
            rng_seed=int(self.shard.seeds.generator("orchestration", 2).integers(0, 2**63)),
            publish_period_s=scenario.app.publish_period_s,
            database_url=database_url,
            upgrade=False,
        )
        self.channel = RadioChannel.from_scenario(scenario)
        self.phones = ShardPhones(
            self.shard,
            self.server,
            self.clock,
            rule_for_scenario(scenario),
            cache or DetectionCache(),
            first_index=0,
            start_unix_s=self.start_unix_s,
            dummy_traffic=scenario.app.dummy_traffic,
        )
        self._schedule: ScanSchedule | None = None
        self._events: list[tuple[float, int, int, int, float]] = []
        self._seq = 0
        self._notified: list[int] = []
        self._next_day = 0
        period = scenario.app.detection_period_s
        offsets = self.shard.seeds.generator("orchestration", 1).uniform(
            0, period, len(self.phones)
        )
        for row, offset in enumerate(offsets.tolist()):
            self._push(offset, _TICK, row)

    # -- events ---------------------------------------------------------------------------
    def _push(self, at_s: float, kind: int, row: int, value: float = 0.0) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at_s, kind, self._seq, row, value))

    def _move_to(self, at_s: float) -> None:
        target = self.start + timedelta(seconds=at_s)
        if target > self.clock.now():
            self.clock.set(target)

    def _sim_s(self) -> float:
        return self.clock.now().timestamp() - self.start_unix_s

    # -- the run --------------------------------------------------------------------------
    async def advance(self, until_s: float) -> None:
        """Simulate every day boundary at or before `until_s` and every event before it."""
        days = self.scenario.run.days
        while True:
            boundary = self._next_day * DAY_S if self._next_day <= days else math.inf
            event = self._events[0][0] if self._events else math.inf
            if boundary <= until_s and boundary <= event:
                self._boundary(self._next_day)
                self._next_day += 1
            elif event < until_s and event < days * DAY_S:
                at_s, kind, _, row, value = heapq.heappop(self._events)
                self._move_to(at_s)
                if kind == _REPORT:
                    await self._report(row, value)
                else:
                    await self._tick(row)
            else:
                return

    def finish(self) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
        """The collectors' summaries and the system counts (after the last day)."""
        return self.shard.finish(), self.counts.as_dict()

    def _boundary(self, day: int) -> None:
        self._move_to(day * DAY_S)
        if day > 0:
            self._end_of_day(day - 1)
        if day < self.scenario.run.days:
            self._start_of_day(day)

    def _start_of_day(self, day: int) -> None:
        outcome = self.shard.step()
        self._world(day, outcome)
        reporters = outcome.reporters
        for person, result_s, onset_s in zip(
            reporters.person.tolist(),
            reporters.result_s.tolist(),
            reporters.onset_s.tolist(),
            strict=True,
        ):
            row = int(self.phones.row_of[person])
            if row >= 0:
                at = result_s if math.isfinite(result_s) else day * DAY_S
                onset = onset_s if math.isfinite(onset_s) else at
                self._push(max(at, day * DAY_S), _REPORT, row, onset)

    def _end_of_day(self, day: int) -> None:
        traffic = self.shard.collectors[3]
        assert isinstance(traffic, TrafficCollector)
        traffic.record_download(self.phones.person, day, self.server.cdn.take_received())
        if self._notified:
            period = max(1, round(self.scenario.app.quarantine_period_d))
            self.shard.epidemic.quarantine(self._notified, day + 1, day + 1 + period)
            self.shard.epidemic.order_tests(self._notified, day + 1)
            self._notified = []

    def _world(self, day: int, outcome: DayOutcome) -> None:
        """The day's keys, scans and radio into the shard's sightings store."""
        shard, phones = self.shard, self.phones
        phones.advertise(day)
        population = shard.population
        schedule = ScanSchedule.for_day(
            shard.seeds.generator("scans", day),
            population.devices.has_phone,
            self.scenario.scanning,
            previous=self._schedule,
        )
        self._schedule = schedule
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

    async def _report(self, row: int, onset_s: float) -> None:
        phone = self.phones.phones[row]
        self.server.cdn.phone = row
        start = self.scenario.run.start_date
        onset: date = start + timedelta(days=math.floor(onset_s / DAY_S))
        try:
            shown = phone.report_positive()
            today = self.clock.now().date()
            self.server.backend.authorise_otp(shown.replace("-", ""), min(onset, today))
            self.counts.otps_authorised += 1
            await phone.verify_otp()
            await phone.upload_keys()
            self.counts.uploads += 1
        except PhoneError:
            self.counts.upload_failures += 1
        finally:
            self.server.cdn.phone = -1

    async def _tick(self, row: int) -> None:
        phones = self.phones
        phone = phones.phones[row]
        self.server.cdn.phone = row
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
                self._notified.append(int(phones.person[row]))
            if detection.is_at_risk and phone.state.status is CovidStatus.RISK:
                # shown now, or covered by the alert the user already has (the app notifies
                # again only for a later contact date): either way the user was told
                self._attribute(row, phones.rules[row].risky_keys)
        self._push(_next_tick_s(phone.state, self._sim_s(), self.start_unix_s), _TICK, row)

    def _attribute(self, row: int, keys: Sequence[bytes]) -> None:
        phones = self.phones
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
        collector = self.shard.collectors[2]
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
