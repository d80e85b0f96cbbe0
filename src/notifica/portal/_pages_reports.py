"""Numbers: daily counts (administrators) and notifications per province (everyone)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from fastapi.responses import Response

from notifica.portal._charts import daily_chart, paired_chart
from notifica.portal._territories import (
    PER_RESIDENTS,
    RISING_P_VALUE,
    WINDOW_DAYS,
    territory_report,
)
from notifica.portal._web import PageDep
from notifica.protocol import POPULATION_YEAR
from notifica.server import DailyCounts

__all__ = ["CHART_PROVINCES", "COUNT_DAYS", "fill_days", "router"]

router = APIRouter()

COUNT_DAYS = 14
"""The admin page shows two weeks, today included (the retention of keys, §5.5)."""
CHART_PROVINCES = 15
"""The chart shows the provinces with the highest last-week rate; the table has them all."""


def fill_days(rows: list[DailyCounts], *, today: date, days: int) -> list[DailyCounts]:
    """One entry per day, oldest first, with zeros for days without activity."""
    by_day = {row.day: row for row in rows}
    out = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        out.append(
            by_day.get(day)
            or DailyCounts(
                day=day,
                otps_authorised=0,
                uploads_received=0,
                batches_published=0,
                keys_published=0,
            )
        )
    return out


@router.get("/admin/counts", name="counts")
async def counts(page: PageDep) -> Response:
    """Codes authorised, uploads received, batches published: a table and three small charts."""
    page.admin()
    rows = await page.run(page.portal.backend.daily_counts, days=COUNT_DAYS)
    days = fill_days(rows, today=page.portal.desk.today(), days=COUNT_DAYS)
    t = page.t
    chart = daily_chart(
        [
            (t("counts.codes"), "series-codes", [d.otps_authorised for d in days]),
            (t("counts.uploads"), "series-uploads", [d.uploads_received for d in days]),
            (t("counts.batches"), "series-batches", [d.batches_published for d in days]),
        ],
        [t.day(d.day) for d in days],
        format_number=t.number,
    )
    totals = {
        "codes": sum(d.otps_authorised for d in days),
        "uploads": sum(d.uploads_received for d in days),
        "batches": sum(d.batches_published for d in days),
        "keys_published": sum(d.keys_published for d in days),
    }
    return page.render("counts.html", days=list(reversed(days)), chart=chart, totals=totals)


@router.get("/territories", name="territories")
async def territories(page: PageDep) -> Response:
    """Notifications per 100,000 residents per province, last week against the one before."""
    page.operator()
    today = page.portal.desk.today()
    rows = await page.run(page.portal.backend.notifications_by_province, days=2 * WINDOW_DAYS + 1)
    report = territory_report(rows, today=today)
    t = page.t
    chart = paired_chart(
        [
            (f"{p.name.split('/')[0]} ({p.code})", p.previous_rate, p.last_rate, p.rising)
            for p in report.provinces[:CHART_PROVINCES]
        ],
        format_number=lambda v: t.number(v, 1),
    )
    return page.render(
        "territories.html",
        report=report,
        chart=chart,
        chart_count=min(CHART_PROVINCES, len(report.provinces)),
        window_days=WINDOW_DAYS,
        per_residents=PER_RESIDENTS,
        p_threshold=RISING_P_VALUE,
        population_year=POPULATION_YEAR,
    )
