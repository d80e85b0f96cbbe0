"""The phones of one shard: real phone engines over the shard's columnar sightings store.

Every adopter gets a `notifica.phone.Phone` with its device's calibration (from the shard's
`Devices`), its own seeded random generator, a `PhoneView` of the shard's `SightingsStore`,
the run's shared HTTP client and `DetectionCache`, and the scenario's risk rule wrapped in an
`AttributingRule`. Per day:

1. `advertise(day)`: each phone's engine rolls its key (``Phone.day_identifiers``: the day's
   144 RPIs and AEMs with its calibrated TX power) into one table of the shard; the key's
   owner and day are remembered, so a matched key names its sender.
2. `record_day(...)`: the day's scans (`scan_sightings`) and what the radio heard
   (`RadioChannel.observe`) become sightings in the store: the sender's RPI and AEM of the
   scan's 10-minute interval, the receiver's calibrated RSSI (``calibrate_rssi`` with the
   receiver's correction, as the phone engine applies it), the scan and previous-scan times.

One row per (scan, sender) with the scan's median RSSI stands for the scan's packets (the
phone's v1/v2 scoring uses one attenuation per scan).
"""

from __future__ import annotations

import random

import numpy as np

from notifica.clock import SimClock
from notifica.phone import (
    CalibrationConfidence,
    DetectionCache,
    DeviceCalibration,
    Permissions,
    Phone,
    calibrate_rssi,
)
from notifica.protocol import METADATA_LENGTH, RPI_LENGTH, RiskRule
from notifica.sim.backend import SimServer
from notifica.sim.contacts import DAY_S, DayContacts
from notifica.sim.radio import ScanObservations
from notifica.sim.risk import AttributingRule
from notifica.sim.run import Shard
from notifica.sim.scans import ScanSchedule, ScanSightings
from notifica.sim.sightings_store import SightingsStore

__all__ = ["ALL_PERMISSIONS", "ShardPhones"]

ALL_PERMISSIONS = Permissions(exposure_notifications=True, bluetooth=True, notifications=True)
INTERVAL_S = 600
INTERVALS_PER_DAY = DAY_S // INTERVAL_S


class ShardPhones:
    """The phones of one shard (see the module docstring).

    Args:
        shard: the shard (population with devices, epidemic).
        server: the run's backend and shared client.
        clock: the run's clock.
        rule: the scenario's risk rule (each phone wraps it in its own `AttributingRule`).
        cache: the run's detection cache (batches parsed, verified and derived once).
        first_index: index of this shard's first phone among the run's phones (byte counters).
        start_unix_s: the run's day 0, 00:00 UTC.
        dummy_traffic: whether the phones send dummy ingestion requests (``app.dummy_traffic``).
    """

    def __init__(
        self,
        shard: Shard,
        server: SimServer,
        clock: SimClock,
        rule: RiskRule,
        cache: DetectionCache,
        *,
        first_index: int,
        start_unix_s: int,
        dummy_traffic: bool = True,
    ) -> None:
        devices = shard.population.devices
        self.shard = shard
        self.person = np.flatnonzero(devices.has_phone).astype(np.int32)
        self.row_of = np.full(shard.population.size, -1, dtype=np.int32)
        self.row_of[self.person] = np.arange(len(self.person), dtype=np.int32)
        self.first_index = first_index
        self.start_unix_s = start_unix_s
        self.store = SightingsStore(len(self.person))
        self.rules = [AttributingRule(rule) for _ in self.person]
        seeds = shard.seeds.generator("orchestration").integers(0, 2**63, len(self.person))
        self.phones: list[Phone] = []
        for row, person in enumerate(self.person.tolist()):
            device = DeviceCalibration(
                oem="sim",
                device="sim",
                model="sim",
                rssi_correction_db=int(devices.rssi_correction_db[person]),
                tx_power_dbm=int(devices.tx_power_dbm[person]),
                calibration_confidence=CalibrationConfidence(
                    int(devices.calibration_confidence[person])
                ),
            )
            phone = Phone(
                clock=clock,
                store=self.store.view(row),
                device=device,
                http=server.client,
                endpoints=server.endpoints,
                public_keys=server.public_keys,
                rng=random.Random(int(seeds[row])),  # noqa: S311 - simulated phones, reproducible
                risk_rule=self.rules[row],
                detection_cache=cache,
                platform="ios" if devices.is_ios[person] else "android",
                dummy_traffic=dummy_traffic,
            )
            phone.onboard(
                age_confirmed=True, province=shard.spec.province, permissions=ALL_PERMISSIONS
            )
            self.phones.append(phone)
        self.key_owner: dict[bytes, tuple[int, int]] = {}
        self._rpis = np.zeros((0, INTERVALS_PER_DAY, RPI_LENGTH), dtype=np.uint8)
        self._aems = np.zeros((0, INTERVALS_PER_DAY, METADATA_LENGTH), dtype=np.uint8)
        self._previous: ScanSchedule | None = None

    def __len__(self) -> int:
        return len(self.phones)

    def advertise(self, day: int) -> None:
        """Roll every phone's key for `day` (the clock must be within that day)."""
        n = len(self.phones)
        rpis = np.empty((n, INTERVALS_PER_DAY, RPI_LENGTH), dtype=np.uint8)
        aems = np.empty((n, INTERVALS_PER_DAY, METADATA_LENGTH), dtype=np.uint8)
        for row, phone in enumerate(self.phones):
            ids = phone.day_identifiers()
            rpis[row] = np.frombuffer(ids.rpis, dtype=np.uint8).reshape(-1, RPI_LENGTH)
            aems[row] = np.frombuffer(ids.aems, dtype=np.uint8).reshape(-1, METADATA_LENGTH)
            key_hex = next(r[0] for r in reversed(phone.state.teks) if r[1] == ids.start_interval)
            self.key_owner[bytes.fromhex(key_hex)] = (int(self.person[row]), day)
        self._rpis, self._aems = rpis, aems

    def record_day(
        self,
        day: int,
        contacts: DayContacts,
        schedule: ScanSchedule,
        sightings: ScanSightings,
        heard: ScanObservations,
    ) -> int:
        """Store what every phone heard on `day`; returns the number of sightings."""
        devices = self.shard.population.devices
        rows = heard.sighting
        receiver = sightings.receiver[rows]
        sender_row = self.row_of[sightings.sender[rows]]
        receiver_row = self.row_of[receiver]
        scan_s = sightings.scan_s[rows].astype(np.int64)
        interval = np.minimum(scan_s // INTERVAL_S, INTERVALS_PER_DAY - 1)
        previous = sightings.previous_scan_s[rows].astype(np.int64)
        unknown = previous < 0
        if self._previous is not None:
            last = self._previous.last_scan_s()
            before = self._previous.row_of[receiver]
            yesterday = np.where(before >= 0, last[np.maximum(before, 0)], -1).astype(np.int64)
            carried = unknown & (yesterday >= 0)
            previous = np.where(carried, yesterday - DAY_S, previous)
            unknown &= ~carried
        self._previous = schedule
        day_unix = self.start_unix_s + day * DAY_S
        raw = np.rint(heard.rssi_dbm).astype(np.int32)
        correction = devices.rssi_correction_db[receiver].astype(np.int32)
        self.store.add_day(
            day,
            receiver_row=receiver_row,
            rpis=self._rpis[sender_row, interval],
            aems=self._aems[sender_row, interval],
            rssi_dbm=calibrate_rssi(raw + correction, 0),
            unix_s=day_unix + scan_s,
            previous_scan_unix_s=np.where(unknown, 0, day_unix + previous),
        )
        return len(rows)

    def owners(self, key_data: list[bytes]) -> tuple[list[int], list[int]]:
        """Senders and days of matched keys (keys of other shards are skipped)."""
        senders, days = [], []
        for key in key_data:
            owner = self.key_owner.get(key)
            if owner is not None:
                senders.append(owner[0])
                days.append(owner[1])
        return senders, days
