"""Notifications per province: the window, rates per 100,000 and the rising test."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from notifica.portal._territories import rise_p_value, territory_report
from notifica.protocol import PROVINCES
from notifica.server import ProvinceNotifications

TODAY = date(2020, 6, 29)
FIRST = TODAY - timedelta(days=14)


def row(offset: int, province: str, notifications: int) -> ProvinceNotifications:
    return ProvinceNotifications(
        day=FIRST + timedelta(days=offset),
        province=province,
        reports=notifications * 10,
        notifications=notifications,
    )


def test_p_value_is_the_exact_binomial_tail() -> None:
    assert rise_p_value(0, 0) == 1.0
    assert rise_p_value(5, 0) == pytest.approx(1 / 32)
    assert rise_p_value(4, 0) == pytest.approx(1 / 16)
    assert rise_p_value(3, 3) == pytest.approx(42 / 64)
    assert rise_p_value(0, 7) == 1.0
    with pytest.raises(ValueError, match="negative"):
        rise_p_value(-1, 2)


def test_p_value_approximation_joins_the_exact_sum() -> None:
    exact = sum(math.comb(2000, k) for k in range(1050, 2001)) / 2**2000
    assert rise_p_value(1050, 950) == pytest.approx(exact, rel=1e-9)
    near = rise_p_value(1051, 950)  # 2001 notifications: approximated
    assert near == pytest.approx(exact, rel=0.2)
    assert near < exact


def test_report_counts_weeks_and_rates() -> None:
    rows = [row(0, "BO", 2), row(6, "BO", 1), row(7, "BO", 9), row(13, "BO", 6), row(3, "RM", 4)]
    report = territory_report(rows, today=TODAY)
    assert report.days[0] == FIRST
    assert report.days[-1] == TODAY - timedelta(days=1)
    bo = next(p for p in report.provinces if p.code == "BO")
    assert (bo.previous, bo.last) == (3, 15)
    assert bo.last_rate == pytest.approx(15 * 100_000 / PROVINCES["BO"].population)
    assert bo.daily[0] == 2
    assert bo.daily[13] == 6
    assert sum(bo.daily) == 18
    assert bo.rising
    assert bo.p_value < 0.05
    rm = next(p for p in report.provinces if p.code == "RM")
    assert not rm.rising
    assert rm.change == -1.0
    assert report.rising == (bo,)
    assert report.quiet == len(PROVINCES) - 2
    assert report.total_daily[0] == 2
    assert report.total_daily[3] == 4


def test_small_rises_and_falls_are_not_rising() -> None:
    rows = [row(1, "AO", 1), row(8, "AO", 3), row(2, "MI", 20), row(9, "MI", 25)]
    report = territory_report(rows, today=TODAY)
    assert report.rising == ()  # 1 → 3 and 20 → 25 can be chance
    big = territory_report([row(2, "MI", 200), row(9, "MI", 260)], today=TODAY)
    assert [p.code for p in big.rising] == ["MI"]  # the same +25 % on more notifications


def test_rows_outside_the_window_and_unknown_codes_are_left_out() -> None:
    rows = [
        row(-1, "BO", 50),  # before the window
        row(14, "BO", 50),  # today: still filling up
        row(5, "EX", 7),  # abroad: counted apart
        row(5, "ZZ", 9),  # not a province
        row(5, "TO", 0),
    ]
    report = territory_report(rows, today=TODAY)
    assert report.provinces == ()
    assert report.abroad == 7
    assert report.total_daily == (0,) * 14


def test_provinces_are_ordered_by_last_week_rate() -> None:
    rows = [row(8, "RM", 40), row(8, "AO", 5), row(8, "MI", 10)]
    codes = [p.code for p in territory_report(rows, today=TODAY).provinces]
    rates = {
        c: n * 100_000 / PROVINCES[c].population for c, n in (("RM", 40), ("AO", 5), ("MI", 10))
    }
    assert codes == sorted(rates, key=lambda c: -rates[c])
