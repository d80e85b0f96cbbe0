from __future__ import annotations

import math

import numpy as np
import pytest

from notifica.sim import (
    DAY_S,
    ContactModel,
    DayContacts,
    Scenario,
    Seeds,
    Setting,
    build_population,
)
from notifica.sim.contacts import MIN_EPISODE_S


@pytest.fixture(scope="module")
def model() -> ContactModel:
    scenario = Scenario()
    people = build_population(scenario, size=3000, seeds=Seeds(4))
    return ContactModel(scenario, people, Seeds(4))


def _columns(contacts: DayContacts) -> tuple[np.ndarray, ...]:
    return (
        contacts.a,
        contacts.b,
        contacts.setting,
        contacts.start_s,
        contacts.duration_s,
        contacts.distance_m,
    )


def test_same_seed_same_contacts(model: ContactModel) -> None:
    scenario = Scenario()
    people = build_population(scenario, size=3000, seeds=Seeds(4))
    again = ContactModel(scenario, people, Seeds(4))
    for day in (0, 3):
        assert all(
            np.array_equal(x, y)
            for x, y in zip(
                _columns(model.potential(day)), _columns(again.potential(day)), strict=True
            )
        )


def test_days_differ_and_do_not_depend_on_order(model: ContactModel) -> None:
    later_first = model.potential(2)
    model.potential(0)
    assert np.array_equal(model.potential(2).distance_m, later_first.distance_m)
    assert not np.array_equal(model.potential(1).distance_m[:100], later_first.distance_m[:100])


def test_episodes_are_well_formed(model: ContactModel) -> None:
    contacts = model.potential(0)
    assert len(contacts) > 10 * 3000 / 2
    assert (contacts.a != contacts.b).all()
    assert (contacts.duration_s >= MIN_EPISODE_S - 1).all()
    assert (contacts.start_s >= 0).all()
    assert (contacts.end_s <= DAY_S).all()
    assert (contacts.distance_m >= 0).all()
    household = Setting.HOUSEHOLD
    diagonal = math.hypot(5.0, 6.0)
    assert contacts.distance_m[contacts.setting == household].max() <= diagonal


def test_all_settings_meet_on_a_weekday_and_no_school_work_or_commute_on_sunday(
    model: ContactModel,
) -> None:
    monday, sunday = model.potential(0), model.potential(6)
    assert model.date(0).weekday() == 0
    assert model.date(6).weekday() == 6
    assert set(np.unique(monday.setting)) == {int(s) for s in Setting}
    assert not np.isin(sunday.setting, [Setting.SCHOOL, Setting.WORK, Setting.TRANSPORT]).any()
    assert (sunday.setting == Setting.HOUSEHOLD).any()
    assert (sunday.setting == Setting.SHOP).any()


def test_household_members_meet_every_evening(model: ContactModel) -> None:
    contacts = model.potential(0)
    home = contacts.select(contacts.setting == Setting.HOUSEHOLD)
    labels = model._population.households.labels(model._population.size)
    assert (labels[home.a] == labels[home.b]).all()
    assert (home.start_s >= 18 * 3600).all()
    assert (home.end_s <= 23 * 3600).all()


def test_absent_residents_meet_only_their_household(model: ContactModel) -> None:
    absent = np.zeros(model._population.size, dtype=bool)
    absent[:500] = True
    contacts = model.day(1, absent)
    outside = contacts.setting != Setting.HOUSEHOLD
    assert not (absent[contacts.a[outside]] | absent[contacts.b[outside]]).any()
    home_before = (model.potential(1).setting == Setting.HOUSEHOLD).sum()
    assert (contacts.setting == Setting.HOUSEHOLD).sum() == home_before


def test_transport_is_crowded_and_mostly_beyond_two_metres(model: ContactModel) -> None:
    contacts = model.potential(0)
    ride = contacts.select(contacts.setting == Setting.TRANSPORT)
    assert len(ride) > 0
    assert (ride.distance_m > 2).mean() > 0.5
    assert ride.distance_m.max() <= math.hypot(12.0, 2.5)


def test_day_contacts_check_their_columns() -> None:
    with pytest.raises(ValueError, match="distance_m"):
        DayContacts.build(0, a=[1], b=[2], setting=[0], start_s=[0], duration_s=[60], distance_m=[])
    with pytest.raises(ValueError, match="day must be"):
        ContactModel(
            Scenario(), build_population(Scenario(), size=10, seeds=Seeds(1)), Seeds(1)
        ).potential(-1)
