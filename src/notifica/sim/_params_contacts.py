"""Scenario sections for daily contact episodes, one per setting (sim §5.3).

Sources are cited as in `docs/reference/simulation.md` (``sim §n``). A value marked
*assumption* has no measured source; `docs/sim-design.md` explains the reasoning behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifica.sim._schema import Invalid, Section, param, table
from notifica.sim._units import TIME_OF_DAY

__all__ = [
    "ENVIRONMENTS",
    "CommunityParams",
    "ContactsParams",
    "GatheringParams",
    "TransportParams",
    "VenueParams",
]

#: Radio environments (`RadioParams.environments`): where a contact happens.
ENVIRONMENTS = ("home", "indoor", "vehicle", "outdoor")
_DAY_S = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GatheringParams(Section):
    """People meeting in a room in slots: households, school classes, work teams.

    Positions are drawn uniformly in the room at each slot; a pair's distance is the distance
    between their positions and the episode lasts the slot.
    """

    environment: str = param(
        "indoor",
        choices=ENVIRONMENTS,
        source="radio environments (sim §1.2, §1.3)",
        doc="radio environment",
    )
    days: str = param(
        "all",
        choices=("all", "weekdays"),
        source="assumption",
        doc="days on which the setting meets",
    )
    window_start_s: float = param(
        0.0, unit=TIME_OF_DAY, source="assumption", doc="start of the daily window"
    )
    window_s: float = param(
        3600.0, unit="s", gt=0, le=_DAY_S, source="assumption", doc="length of the daily window"
    )
    slot_s: float = param(
        3600.0,
        unit="s",
        gt=0,
        le=_DAY_S,
        source="assumption",
        doc="positions are redrawn every slot",
    )
    presence: float = param(
        0.9, ge=0, le=1, source="assumption", doc="probability that a member is there in a slot"
    )
    room_width_m: float = param(5.0, unit="m", gt=0, le=1000, source="assumption", doc="room width")
    room_length_m: float = param(
        6.0, unit="m", gt=0, le=1000, source="assumption", doc="room length"
    )
    transmission_factor: float = param(
        1.0,
        ge=0,
        le=100,
        source="households: 0.6 calibrated to a household SAR ≈ 0.2 (docs/sim-design.md); else 1",
        doc="relative infectious dose (ventilation, masks)",
    )

    def check(self) -> None:
        if self.window_start_s + self.window_s > _DAY_S:
            raise Invalid("window", "the window must end by 24:00")
        if self.slot_s > self.window_s:
            raise Invalid("slot", "must not exceed the window")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportParams(Section):
    """Commuter rides on buses and trams: riders board and leave along a vehicle's trip."""

    environment: str = param(
        "vehicle",
        choices=ENVIRONMENTS,
        source="Leith & Farrell bus and tram (sim §1.3)",
        doc="radio environment",
    )
    morning_start_s: float = param(
        27000.0, unit=TIME_OF_DAY, source="assumption: morning peak", doc="first morning departure"
    )
    evening_start_s: float = param(
        63000.0, unit=TIME_OF_DAY, source="assumption: evening peak", doc="first evening departure"
    )
    departure_window_s: float = param(
        3600.0,
        unit="s",
        gt=0,
        le=6 * 3600,
        source="assumption",
        doc="departures spread over this window",
    )
    trip_s: float = param(
        2400.0,
        unit="s",
        gt=0,
        le=4 * 3600,
        source="assumption: urban bus line end to end",
        doc="a vehicle's trip",
    )
    ride_median_s: float = param(
        1200.0,
        unit="s",
        gt=0,
        le=4 * 3600,
        source="assumption: ISTAT typical commute 20 min (verify)",
        doc="median ride (log-normal)",
    )
    ride_sigma: float = param(
        0.5, ge=0, le=3, source="assumption", doc="log-normal sigma of the ride"
    )
    occupancy: int = param(
        40,
        ge=2,
        le=500,
        source="assumption: a busy 12 m bus (Leith & Farrell bus: 60 handset pairs, sim §1.3)",
        doc="riders per vehicle trip",
    )
    vehicle_length_m: float = param(
        12.0, unit="m", gt=0, le=200, source="standard 12 m city bus", doc="vehicle length"
    )
    vehicle_width_m: float = param(
        2.5, unit="m", gt=0, le=10, source="standard city bus", doc="vehicle width"
    )
    transmission_factor: float = param(
        1.0, ge=0, le=100, source="assumption", doc="relative infectious dose"
    )

    def check(self) -> None:
        for key, start in (
            ("morning_start", self.morning_start_s),
            ("evening_start", self.evening_start_s),
        ):
            if start + self.departure_window_s + self.trip_s > _DAY_S:
                raise Invalid(key, "rides must end by 24:00")


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueParams(Section):
    """Visits to restaurants or shops: parties arrive, stay, and share the room with others."""

    environment: str = param(
        "indoor",
        choices=ENVIRONMENTS,
        source="radio environments (sim §1.2)",
        doc="radio environment",
    )
    daily_visit_probability: float = param(
        0.1,
        ge=0,
        le=1,
        source="assumption",
        doc="probability that a resident visits on a given day",
    )
    residents_per_venue: int = param(
        250,
        ge=1,
        le=1_000_000,
        source="assumption",
        doc="residents per venue (sets the number of venues)",
    )
    opens_s: float = param(68400.0, unit=TIME_OF_DAY, source="assumption", doc="first arrivals")
    arrival_window_s: float = param(
        7200.0,
        unit="s",
        gt=0,
        le=_DAY_S,
        source="assumption",
        doc="arrivals spread over this window",
    )
    stay_median_s: float = param(
        4500.0, unit="s", gt=0, le=_DAY_S, source="assumption", doc="median stay (log-normal)"
    )
    stay_sigma: float = param(
        0.3, ge=0, le=3, source="assumption", doc="log-normal sigma of the stay"
    )
    party_size: float = param(
        3.0, ge=1, le=50, source="assumption", doc="mean party size (1 + Poisson)"
    )
    party_spread_m: float = param(
        0.5,
        unit="m",
        ge=0,
        le=10,
        source="assumption: a shared table",
        doc="party members sit within this of the party's centre",
    )
    room_width_m: float = param(
        12.0, unit="m", gt=0, le=1000, source="assumption", doc="room width"
    )
    room_length_m: float = param(
        15.0, unit="m", gt=0, le=1000, source="assumption", doc="room length"
    )
    transmission_factor: float = param(
        1.0, ge=0, le=100, source="assumption", doc="relative infectious dose"
    )

    def check(self) -> None:
        if self.opens_s + self.arrival_window_s > _DAY_S:
            raise Invalid("arrival_window", "arrivals must end by 24:00")


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityParams(Section):
    """Other encounters (friends, errands, street): random pairs each day."""

    environment: str = param(
        "outdoor", choices=ENVIRONMENTS, source="assumption", doc="radio environment"
    )
    daily_contacts: float = param(
        3.0,
        ge=0,
        le=200,
        source="OpenABM random network, mean 2-4 a day by age (sim §3.1)",
        doc="mean encounters per person per day",
    )
    dispersion: float = param(
        1.0,
        gt=0,
        le=1000,
        source="OpenABM: negative binomial with SD equal to the mean (sim §3.1)",
        doc="negative-binomial shape k of encounters per person",
    )
    same_age_share: float = param(
        0.5,
        ge=0,
        le=1,
        source="assumption: POLYMOD contacts are age-assortative",
        doc="share of partners drawn from one's own ten-year band",
    )
    distance_median_m: float = param(
        1.5, unit="m", gt=0, le=100, source="assumption", doc="median distance (log-normal)"
    )
    distance_sigma: float = param(
        0.5, ge=0, le=3, source="assumption", doc="log-normal sigma of the distance"
    )
    duration_median_s: float = param(
        600.0,
        unit="s",
        gt=0,
        le=_DAY_S,
        source="assumption: heavy-tailed encounter durations (sim §5.3)",
        doc="median duration (log-normal)",
    )
    duration_sigma: float = param(
        1.0, ge=0, le=3, source="assumption", doc="log-normal sigma of the duration"
    )
    window_start_s: float = param(
        32400.0, unit=TIME_OF_DAY, source="assumption", doc="earliest encounter"
    )
    window_s: float = param(
        46800.0,
        unit="s",
        gt=0,
        le=_DAY_S,
        source="assumption",
        doc="encounters start within this window",
    )
    transmission_factor: float = param(
        1.0, ge=0, le=100, source="assumption", doc="relative infectious dose"
    )

    def check(self) -> None:
        if self.window_start_s + self.window_s > _DAY_S:
            raise Invalid("window", "the window must end by 24:00")


def _household() -> GatheringParams:
    return GatheringParams(
        environment="home",
        days="all",
        window_start_s=18 * 3600.0,
        window_s=5 * 3600.0,
        slot_s=3600.0,
        presence=0.9,
        room_width_m=5.0,
        room_length_m=6.0,
        transmission_factor=0.6,
    )


def _school() -> GatheringParams:
    return GatheringParams(
        environment="indoor",
        days="weekdays",
        window_start_s=8.5 * 3600,
        window_s=5 * 3600.0,
        slot_s=5 * 3600.0,
        presence=0.95,
        room_width_m=7.0,
        room_length_m=8.0,
    )


def _work() -> GatheringParams:
    return GatheringParams(
        environment="indoor",
        days="weekdays",
        window_start_s=9 * 3600.0,
        window_s=8 * 3600.0,
        slot_s=4 * 3600.0,
        presence=0.9,
        room_width_m=6.0,
        room_length_m=8.0,
    )


def _restaurant() -> VenueParams:
    return VenueParams()


def _shop() -> VenueParams:
    return VenueParams(
        daily_visit_probability=0.4,
        residents_per_venue=150,
        opens_s=9 * 3600.0,
        arrival_window_s=10 * 3600.0,
        stay_median_s=900.0,
        stay_sigma=0.6,
        party_size=1.2,
        party_spread_m=0.5,
        room_width_m=20.0,
        room_length_m=25.0,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactsParams(Section):
    """Daily contact episodes per setting (sim §5.3: layered networks plus venue cohorts)."""

    household: GatheringParams = field(
        default_factory=_household, metadata=table("evenings at home")
    )
    school: GatheringParams = field(
        default_factory=_school, metadata=table("a class at its desks, weekdays")
    )
    work: GatheringParams = field(
        default_factory=_work, metadata=table("a team in its office, weekdays")
    )
    transport: TransportParams = field(
        default_factory=TransportParams, metadata=table("commuter rides, weekdays")
    )
    restaurant: VenueParams = field(default_factory=_restaurant, metadata=table("dinners"))
    shop: VenueParams = field(default_factory=_shop, metadata=table("shopping"))
    community: CommunityParams = field(
        default_factory=CommunityParams, metadata=table("other encounters")
    )
