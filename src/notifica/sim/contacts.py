"""Daily contact episodes per setting, columnar (`DayContacts`), built by `ContactModel`.

An episode is two residents, a setting, a start time, a duration and one distance (constant
during the episode: settings that move people around split their window into slots). Settings
and their models (parameters and sources in ``[contacts.*]`` of the scenario):

- household, school, work — *gatherings*: fixed groups meeting in a room every (week)day in
  slots; positions uniform in the room per slot, so distances are those of real layouts;
- transport — commuters board a vehicle along its trip, positions uniform in the vehicle: the
  crowded, metal setting where Leith & Farrell measured most false alarms (sim §1.3);
- restaurant, shop — visitors in parties share a venue for overlapping stays;
- community — random pairs with log-normal distance and duration, partly age-assortative.

Randomness: day `d` of setting `s` uses its own stream (`Seeds.generator("contacts", d, s)`),
so a day's potential contacts do not depend on earlier days or on who is quarantined;
`ContactModel.day` then drops the episodes of absent residents outside their household.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from notifica.sim._groups import pairs_within
from notifica.sim._params_contacts import (
    CommunityParams,
    GatheringParams,
    TransportParams,
    VenueParams,
)
from notifica.sim.population import Population, decade_band
from notifica.sim.scenario import Scenario
from notifica.sim.seeds import Seeds

__all__ = ["DAY_S", "MIN_EPISODE_S", "ContactModel", "DayContacts", "Setting"]

DAY_S = 86400
#: Episodes shorter than this are dropped (below one scan interval they barely register).
MIN_EPISODE_S = 60


class Setting(IntEnum):
    """Where an episode happens (values are stored in `DayContacts.setting`)."""

    HOUSEHOLD = 0
    SCHOOL = 1
    WORK = 2
    TRANSPORT = 3
    RESTAURANT = 4
    SHOP = 5
    COMMUNITY = 6

    @property
    def label(self) -> str:
        """Lower-case name, as in scenario keys and metric names."""
        return self.name.lower()


@dataclass(frozen=True, slots=True, eq=False)
class DayContacts:
    """One day's contact episodes, one entry per episode in each array.

    ``start_s`` is seconds after midnight (UTC) of `day`; episodes end by midnight.
    """

    day: int
    a: npt.NDArray[np.int32]
    b: npt.NDArray[np.int32]
    setting: npt.NDArray[np.int8]
    start_s: npt.NDArray[np.int32]
    duration_s: npt.NDArray[np.int32]
    distance_m: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        n = len(self.a)
        for name in ("b", "setting", "start_s", "duration_s", "distance_m"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"DayContacts.{name} has {len(getattr(self, name))} entries, a has {n}"
                )

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def build(
        cls,
        day: int,
        *,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        setting: npt.ArrayLike,
        start_s: npt.ArrayLike,
        duration_s: npt.ArrayLike,
        distance_m: npt.ArrayLike,
    ) -> DayContacts:
        """Build from any array-likes, converting to the column types (tests, hand-made days)."""
        return cls(
            day,
            np.asarray(a, dtype=np.int32),
            np.asarray(b, dtype=np.int32),
            np.asarray(setting, dtype=np.int8),
            np.asarray(start_s, dtype=np.int32),
            np.asarray(duration_s, dtype=np.int32),
            np.asarray(distance_m, dtype=np.float32),
        )

    @classmethod
    def concat(cls, day: int, parts: Sequence[DayContacts]) -> DayContacts:
        """All episodes of `parts`, in order."""
        if not parts:
            return cls.build(day, a=[], b=[], setting=[], start_s=[], duration_s=[], distance_m=[])
        columns = ("a", "b", "setting", "start_s", "duration_s", "distance_m")
        return cls(day, *(np.concatenate([getattr(p, c) for p in parts]) for c in columns))

    def select(self, which: npt.NDArray[np.bool_] | npt.NDArray[np.integer]) -> DayContacts:
        """The episodes picked by a boolean mask or an index array."""
        return DayContacts(
            self.day,
            self.a[which],
            self.b[which],
            self.setting[which],
            self.start_s[which],
            self.duration_s[which],
            self.distance_m[which],
        )

    @property
    def end_s(self) -> npt.NDArray[np.int32]:
        """End of each episode, seconds after midnight."""
        return self.start_s + self.duration_s


class ContactModel:
    """Generates each day's contact episodes for one population (see the module docstring)."""

    def __init__(self, scenario: Scenario, population: Population, seeds: Seeds) -> None:
        self._scenario = scenario
        self._population = population
        self._seeds = seeds
        self._start = scenario.run.start_date
        self._household = _member_pairs(
            population.households.members, population.households.offsets
        )
        self._class = _member_pairs(population.classes.members, population.classes.offsets)
        self._team = _member_pairs(population.teams.members, population.teams.offsets)
        self._riders = np.flatnonzero(population.transit).astype(np.int32)
        band = decade_band(population.age)
        self._band_order = np.argsort(band, kind="stable").astype(np.int32)
        self._band_size = np.bincount(band, minlength=int(band.max()) + 1)
        self._band_start = np.cumsum(self._band_size) - self._band_size
        self._band = band

    def date(self, day: int) -> dt.date:
        """The calendar date of simulated day `day`."""
        return self._start + dt.timedelta(days=day)

    def is_weekday(self, day: int) -> bool:
        """Monday to Friday."""
        return self.date(day).weekday() < 5

    def potential(self, day: int) -> DayContacts:
        """Every episode of `day` as if nobody stayed home."""
        if day < 0:
            raise ValueError(f"day must be ≥ 0, got {day}")
        contacts = self._scenario.contacts
        n = self._population.size
        weekday = self.is_weekday(day)
        parts = []
        for setting, params, pairs in (
            (Setting.HOUSEHOLD, contacts.household, self._household),
            (Setting.SCHOOL, contacts.school, self._class),
            (Setting.WORK, contacts.work, self._team),
        ):
            if params.days == "all" or weekday:
                parts.append(_gather(self._rng(day, setting), n, pairs, params, setting, day))
        if weekday and len(self._riders):
            parts.append(
                _transport(self._rng(day, Setting.TRANSPORT), self._riders, contacts.transport, day)
            )
        for setting, venue in (
            (Setting.RESTAURANT, contacts.restaurant),
            (Setting.SHOP, contacts.shop),
        ):
            parts.append(_venue(self._rng(day, setting), n, venue, setting, day))
        parts.append(self._community(self._rng(day, Setting.COMMUNITY), contacts.community, day))
        return DayContacts.concat(day, parts)

    def day(self, day: int, absent: npt.NDArray[np.bool_] | None = None) -> DayContacts:
        """The episodes of `day`; residents flagged in `absent` meet only their household."""
        contacts = self.potential(day)
        if absent is None:
            return contacts
        return contacts.select(keep_present(contacts, absent))

    def _rng(self, day: int, setting: Setting) -> np.random.Generator:
        return self._seeds.generator("contacts", day, int(setting))

    def _community(
        self, rng: np.random.Generator, params: CommunityParams, day: int
    ) -> DayContacts:
        n = self._population.size
        mean = params.daily_contacts / 2  # each encounter is initiated by one of its two people
        if mean == 0 or n < 2:
            return DayContacts.concat(day, [])
        shape = params.dispersion
        initiated = rng.negative_binomial(shape, shape / (shape + mean), size=n)
        a = np.repeat(np.arange(n, dtype=np.int32), initiated)
        band = self._band[a]
        pick = np.floor(rng.random(len(a)) * self._band_size[band]).astype(np.int64)
        same_band = self._band_order[self._band_start[band] + pick]
        anyone = rng.integers(0, n, size=len(a), dtype=np.int32)
        b = np.where(rng.random(len(a)) < params.same_age_share, same_band, anyone)
        keep = a != b
        a, b = a[keep], b[keep]
        m = len(a)
        start = params.window_start_s + rng.random(m) * params.window_s
        duration = params.duration_median_s * np.exp(params.duration_sigma * rng.standard_normal(m))
        duration = np.minimum(duration, DAY_S - start)
        distance = params.distance_median_m * np.exp(params.distance_sigma * rng.standard_normal(m))
        return _episodes(day, a, b, Setting.COMMUNITY, start, duration, distance)


def keep_present(contacts: DayContacts, absent: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Mask of the episodes that still happen when `absent` residents stay home."""
    keep: npt.NDArray[np.bool_] = (contacts.setting == Setting.HOUSEHOLD) | ~(
        absent[contacts.a] | absent[contacts.b]
    )
    return keep


def _member_pairs(
    members: npt.NDArray[np.int32], offsets: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    i, j = pairs_within(offsets)
    return members[i], members[j]


def _episodes(
    day: int,
    a: npt.NDArray[np.integer],
    b: npt.NDArray[np.integer],
    setting: Setting,
    start: npt.NDArray[np.floating],
    duration: npt.NDArray[np.floating],
    distance: npt.NDArray[np.floating],
) -> DayContacts:
    """Columns from float times, dropping episodes shorter than `MIN_EPISODE_S`."""
    keep = duration >= MIN_EPISODE_S
    start_s = np.floor(start[keep]).astype(np.int32)
    duration_s = np.floor(duration[keep]).astype(np.int32)
    duration_s = np.minimum(duration_s, DAY_S - start_s)
    return DayContacts(
        day,
        np.asarray(a[keep], dtype=np.int32),
        np.asarray(b[keep], dtype=np.int32),
        np.full(int(keep.sum()), int(setting), dtype=np.int8),
        start_s,
        duration_s,
        np.asarray(distance[keep], dtype=np.float32),
    )


def _gather(
    rng: np.random.Generator,
    n_people: int,
    pairs: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]],
    params: GatheringParams,
    setting: Setting,
    day: int,
) -> DayContacts:
    pa, pb = pairs
    n_slots = math.ceil(params.window_s / params.slot_s - 1e-9)
    slot_start = params.window_start_s + params.slot_s * np.arange(n_slots)
    slot_length = np.minimum(params.slot_s, params.window_start_s + params.window_s - slot_start)
    present = rng.random((n_slots, n_people)) < params.presence
    x = rng.random((n_slots, n_people)) * params.room_width_m
    y = rng.random((n_slots, n_people)) * params.room_length_m
    together = present[:, pa] & present[:, pb]
    slot, pair = np.nonzero(together)
    a, b = pa[pair], pb[pair]
    distance = np.hypot(x[slot, a] - x[slot, b], y[slot, a] - y[slot, b])
    return _episodes(day, a, b, setting, slot_start[slot], slot_length[slot], distance)


def _even_sizes(total: int, capacity: int) -> npt.NDArray[np.int64]:
    groups = max(1, math.ceil(total / capacity))
    sizes = np.full(groups, total // groups, dtype=np.int64)
    sizes[: total % groups] += 1
    return sizes


def _overlaps(
    day: int,
    people: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    t_in: npt.NDArray[np.float64],
    t_out: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    setting: Setting,
) -> DayContacts:
    """Episodes between everyone sharing a group (vehicle, venue) for overlapping times."""
    i, j = pairs_within(offsets)
    start = np.maximum(t_in[i], t_in[j])
    duration = np.minimum(t_out[i], t_out[j]) - start
    distance = np.hypot(x[i] - x[j], y[i] - y[j])
    return _episodes(day, people[i], people[j], setting, start, duration, distance)


def _transport(
    rng: np.random.Generator, riders: npt.NDArray[np.int32], params: TransportParams, day: int
) -> DayContacts:
    parts = []
    for first_departure in (params.morning_start_s, params.evening_start_s):
        order = rng.permutation(riders)
        sizes = _even_sizes(len(order), params.occupancy)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        departure = first_departure + rng.random(len(sizes)) * params.departure_window_s
        ride = params.ride_median_s * np.exp(params.ride_sigma * rng.standard_normal(len(order)))
        ride = np.minimum(ride, params.trip_s)
        board = np.repeat(departure, sizes) + rng.random(len(order)) * (params.trip_s - ride)
        x = rng.random(len(order)) * params.vehicle_length_m
        y = rng.random(len(order)) * params.vehicle_width_m
        parts.append(_overlaps(day, order, offsets, board, board + ride, x, y, Setting.TRANSPORT))
    return DayContacts.concat(day, parts)


def _venue(
    rng: np.random.Generator, n_people: int, params: VenueParams, setting: Setting, day: int
) -> DayContacts:
    visitors = rng.permutation(
        np.flatnonzero(rng.random(n_people) < params.daily_visit_probability)
    )
    n_venues = max(1, n_people // params.residents_per_venue)
    venue = rng.integers(0, n_venues, size=len(visitors))
    order = np.argsort(venue, kind="stable")
    visitors, venue = visitors[order].astype(np.int32), venue[order]
    first_of_venue = np.ones(len(visitors), dtype=bool)
    first_of_venue[1:] = venue[1:] != venue[:-1]
    new_party = first_of_venue | (rng.random(len(visitors)) < 1.0 / params.party_size)
    party = np.cumsum(new_party) - 1
    n_parties = int(party[-1]) + 1 if len(party) else 0
    arrival = params.opens_s + rng.random(n_parties) * params.arrival_window_s
    stay = params.stay_median_s * np.exp(params.stay_sigma * rng.standard_normal(n_parties))
    leave = np.minimum(arrival + stay, DAY_S)
    centre_x = rng.random(n_parties) * params.room_width_m
    centre_y = rng.random(n_parties) * params.room_length_m
    spread = params.party_spread_m
    x = np.clip(
        centre_x[party] + rng.uniform(-spread, spread, len(visitors)), 0, params.room_width_m
    )
    y = np.clip(
        centre_y[party] + rng.uniform(-spread, spread, len(visitors)), 0, params.room_length_m
    )
    offsets = np.concatenate([[0], np.cumsum(np.bincount(venue, minlength=n_venues))])
    return _overlaps(day, visitors, offsets, arrival[party], leave[party], x, y, setting)
