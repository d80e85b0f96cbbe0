"""Exposure notifications per province, and which provinces are rising.

The early warning Immuni's analytics were for (immuni-api.md §3.6, §7): how many apps in
each province reported an exposure notification per day, scaled to 100,000 residents with
ISTAT's populations (`notifica.protocol.PROVINCES`).

Definitions (shown on the page):

* The window is the last `WINDOW_DAYS` × 2 complete UTC days (today is still filling up).
* A province is **rising** when its notifications per 100,000 residents in the last seven
  days are higher than in the seven days before *and* the rise is unlikely to be chance:
  a one-sided exact binomial test of the last week's count given the two weeks' total
  (under "no change" each notification falls in either week with probability ½) gives
  p < `RISING_P_VALUE`. The population is the same in both weeks, so the rates compare as
  the counts do; the test keeps 1 → 3 notifications from lighting up a small province.
* ``EX`` (users living abroad) has no population: counted apart, never rising.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from notifica.protocol import ABROAD, PROVINCES
from notifica.server import ProvinceNotifications

__all__ = [
    "PER_RESIDENTS",
    "RISING_P_VALUE",
    "WINDOW_DAYS",
    "ProvinceTrend",
    "TerritoryReport",
    "rise_p_value",
    "territory_report",
]

WINDOW_DAYS = 7
"""Weeks are compared: weekday effects (fewer tests at weekends) cancel out."""
RISING_P_VALUE = 0.05
"""The usual one-sided significance level."""
PER_RESIDENTS = 100_000
"""Rates per 100,000 residents, as Italy's weekly incidence reports give them."""
_EXACT_UP_TO = 2000
"""Binomial tails are summed exactly up to this many notifications, then approximated."""


def rise_p_value(last: int, previous: int) -> float:
    """P(at least `last` of the ``last + previous`` notifications fall in the last week)
    when each falls in either week with probability ½ (one-sided exact binomial test).

    Raises:
        ValueError: for a negative count.
    """
    if last < 0 or previous < 0:
        raise ValueError(f"counts must not be negative, got {last} and {previous}")
    n = last + previous
    if n == 0:
        return 1.0
    if n <= _EXACT_UP_TO:
        tail: int = sum(math.comb(n, k) for k in range(last, n + 1))
        return tail / (1 << n)
    # Normal approximation with continuity correction: error far below the threshold here.
    z = (last - 0.5 - n / 2) / math.sqrt(n / 4)
    return 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvinceTrend:
    """One province over the window."""

    code: str
    name: str
    region: str
    population: int
    daily: tuple[int, ...]
    """Notifications per day, oldest first."""
    previous: int
    """Notifications in the first week of the window."""
    last: int
    """Notifications in the last week."""
    p_value: float
    rising: bool

    @property
    def previous_rate(self) -> float:
        """Previous week's notifications per 100,000 residents."""
        return self.previous * PER_RESIDENTS / self.population

    @property
    def last_rate(self) -> float:
        """Last week's notifications per 100,000 residents."""
        return self.last * PER_RESIDENTS / self.population

    @property
    def change(self) -> float | None:
        """Relative change of the last week against the previous (None from zero)."""
        return None if self.previous == 0 else self.last / self.previous - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TerritoryReport:
    """The territories page's data."""

    days: tuple[date, ...]
    provinces: tuple[ProvinceTrend, ...]
    """Provinces with a notification in the window, highest last-week rate first."""
    quiet: int
    """Provinces without any notification in the window."""
    abroad: int
    """Notifications reported by users living abroad (``EX``)."""

    @property
    def rising(self) -> tuple[ProvinceTrend, ...]:
        """The rising provinces, in the same order."""
        return tuple(p for p in self.provinces if p.rising)

    @property
    def total_daily(self) -> tuple[int, ...]:
        """National notifications per day (without ``EX``)."""
        return tuple(sum(p.daily[i] for p in self.provinces) for i in range(len(self.days)))


def territory_report(rows: Iterable[ProvinceNotifications], *, today: date) -> TerritoryReport:
    """Group the backend's per-day, per-province rows into the window ending yesterday.

    Rows outside the window and codes that are not provinces (other than ``EX``) are left
    out.
    """
    span = 2 * WINDOW_DAYS
    first = today - timedelta(days=span)
    days = tuple(first + timedelta(days=i) for i in range(span))
    counts: dict[str, list[int]] = {}
    abroad = 0
    for row in rows:
        offset = (row.day - first).days
        if not 0 <= offset < span or row.notifications <= 0:
            continue
        if row.province == ABROAD:
            abroad += row.notifications
        elif row.province in PROVINCES:
            counts.setdefault(row.province, [0] * span)[offset] += row.notifications
    trends = []
    for code, daily in counts.items():
        province = PROVINCES[code]
        previous, last = sum(daily[:WINDOW_DAYS]), sum(daily[WINDOW_DAYS:])
        p_value = rise_p_value(last, previous)
        trends.append(
            ProvinceTrend(
                code=code,
                name=province.name,
                region=province.region,
                population=province.population,
                daily=tuple(daily),
                previous=previous,
                last=last,
                p_value=p_value,
                rising=last > previous and p_value < RISING_P_VALUE,
            )
        )
    trends.sort(key=lambda t: (-t.last_rate, -t.previous_rate, t.code))
    return TerritoryReport(
        days=days, provinces=tuple(trends), quiet=len(PROVINCES) - len(trends), abroad=abroad
    )
