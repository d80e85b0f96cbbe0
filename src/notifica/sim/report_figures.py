"""What the report shows beyond the collectors: derived ratios and the published figures.

`derived_figures` computes the few numbers that combine two sections of the metrics (uptake,
infections averted per point of uptake, notifications per uploader as Immuni counted them);
`published_figures` returns the comparison targets of `docs/reference/simulation.md` (sim §1.3,
§4), each with its source and the dotted name of the simulated metric it is compared with.
Immuni's notifications per uploader over the run's calendar days are computed from the shipped
open data (`data/immuni-open-data/`, CC BY 4.0). `write_report` stores both in metrics.json
(`derived`, `published`), and the HTML shows only numbers read from there.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from importlib import resources
from typing import Any

__all__ = [
    "derived_figures",
    "immuni_notifications_per_uploader",
    "nhs_averted_per_uptake_point",
    "published_figures",
]

_NHS = (
    "NHS COVID-19 app",
    "Wymant et al., Nature 594:408-412 (2021), NHS COVID-19 app, England & Wales, Sep-Dec 2020",
    "https://doi.org/10.1038/s41586-021-03606-z",
)
_ZURICH = (
    "SwissCovid (Zurich)",
    "Menges et al., medRxiv 2021.02.01.21250972, SwissCovid, Canton of Zurich, Sep 2020",
    "https://doi.org/10.1101/2021.02.01.21250972",
)
_CWA = (
    "Corona-Warn-App",
    "Corona-Warn-App data donation analysis, CWA science blog SB04 (15 Oct 2021)",
    "",
)
_WA = (
    "WA Notify",
    "Elder et al., Front. Public Health (2024), WA Notify, Mar 2021-Feb 2022",
    "https://doi.org/10.3389/fpubh.2024.1408178",
)
_LEITH_FARRELL = (
    "Leith & Farrell (tram)",
    "Leith & Farrell, PLoS ONE 15(9):e0239943 (2020), 108 handset pairs in a Dublin tram",
    "https://doi.org/10.1371/journal.pone.0239943",
)
_IMMUNI = (
    "Immuni",
    "Immuni open data, andamento-dati-nazionali.csv (immuni-app/immuni-dashboard-data, CC BY 4.0)",
    "https://github.com/immuni-app/immuni-dashboard-data",
)
_IMMUNI_NOTE = (
    "notifications sent ÷ positive users who uploaded keys; Immuni counted every iOS "
    "notification but only about a third of Android's, so the published ratio undercounts"
)


def derived_figures(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """Ratios across sections of the metrics dict (`None` where a denominator is zero).

    Returns:
        ``uptake`` (phones ÷ residents), ``infections_averted_share_per_uptake_point`` (share of
        infections averted ÷ uptake in percentage points: a line through zero, the NHS
        figure's single-run counterpart), ``infections_averted_per_reporter`` and
        ``notifications_per_uploader`` (notifications shown ÷ real uploads).
    """
    run, comparison = metrics["run"], metrics["comparison"]
    notifications, system = metrics["notifications"], metrics["system"]
    uptake = _ratio(run["phones"], run["population"])
    averted_share = comparison["infections_averted_share"]
    return {
        "uptake": uptake,
        "infections_averted_share_per_uptake_point": (
            averted_share / (uptake * 100) if averted_share is not None and uptake else None
        ),
        "infections_averted_per_reporter": _ratio(
            comparison["infections_averted"], notifications["reporters"]
        ),
        "notifications_per_uploader": _ratio(system["notifications"], system["uploads"]),
    }


def published_figures(start_date: dt.date, days: int) -> dict[str, dict[str, Any]]:
    """The published figures to compare with, by stable id, in display order.

    Each entry: ``system``, ``quantity``, ``value`` or a ``low``-``high`` range, ``format``
    (how to show them), ``simulated`` (dotted name of the simulated metric), ``source``,
    ``url``, ``note``. Immuni's ratio is taken over the run's calendar days.
    """
    end = start_date + dt.timedelta(days=days - 1)
    window = immuni_notifications_per_uploader(start_date, end)
    everything = immuni_notifications_per_uploader(dt.date.min, dt.date.max)
    rows: list[tuple[str, dict[str, Any]]] = [
        (
            "nhs_notifications_per_index_case",
            _row(
                _NHS,
                "notifications per index case",
                4.2,
                "num",
                "notifications.notified_per_reporter",
                "per index case consenting to contact tracing (preprint: 3.2 per index case, "
                "4.4 per consenting one); simulated: people notified per reporter",
            ),
        ),
        (
            "nhs_notified_tested_positive",
            _row(
                _NHS,
                "notified contacts who then tested positive",
                0.06,
                "pct",
                "notifications.notified_tested_positive_share",
                "secondary attack rate among app-notified contacts (preprint 6.1 %)",
            ),
        ),
        (
            "nhs_notified_infected_by_index",
            _row(
                _NHS,
                "notified contacts infected by the index case",
                0.06,
                "pct",
                "notifications.infected_by_sender_share",
                "the NHS estimate of the same share; the simulation knows who infected whom",
            ),
        ),
        ("nhs_averted_per_uptake_point", nhs_averted_per_uptake_point()),
        (
            "nhs_averted_per_index_case",
            _row(
                _NHS,
                "infections averted per index case",
                1.0,
                "num",
                "derived.infections_averted_per_reporter",
                "about one case averted per consenting index case",
            ),
        ),
        (
            "immuni_window",
            _row(
                _IMMUNI,
                f"notifications per uploader, {start_date:%Y-%m-%d} to {end:%Y-%m-%d}",
                window["ratio"],
                "num",
                "derived.notifications_per_uploader",
                _IMMUNI_NOTE
                + (
                    f" ({window['notifications']:,} notifications, {window['uploaders']:,} "
                    "uploaders over the run's calendar days)"
                    if window["ratio"] is not None
                    else "; the run's calendar days are outside the published series"
                ),
            ),
        ),
        (
            "immuni_all_time",
            _row(
                _IMMUNI,
                f"notifications per uploader, {everything['first']} to {everything['last']}",
                everything["ratio"],
                "num",
                "derived.notifications_per_uploader",
                _IMMUNI_NOTE + "; the monthly ratio fell from about 29 (Oct 2020) to about 2",
            ),
        ),
        (
            "zurich_notified_per_code",
            _row(
                _ZURICH,
                "notifications per uploaded code",
                1374 / 324,
                "num",
                "notifications.notified_per_reporter",
                "324 codes entered, about 1,374 contacts notified",
            ),
        ),
        (
            "zurich_notified_tested_positive",
            _row(
                _ZURICH,
                "notified app users who then tested positive",
                30 / 1374,
                "pct",
                "notifications.notified_tested_positive_share",
                "30 of about 1,374 notified",
            ),
        ),
        (
            "cwa_red_per_sharer",
            _row(
                _CWA,
                "high-risk warnings per sharing user",
                5.0,
                "num",
                "notifications.notified_per_reporter",
                "red warnings only (about 11 green ones more)",
            ),
        ),
        (
            "wa_notify_per_case",
            _row(
                _WA,
                "notifications per reporting case",
                1_089_000 / 155_000,
                "num",
                "notifications.notified_per_reporter",
                "about 1,089,000 notifications for 155,000 cases",
            ),
        ),
        (
            "leith_farrell_tram_tpr",
            _row(
                _LEITH_FARRELL,
                "transport: true-positive rate (recall) of the Italian rule",
                0.5,
                "pct",
                "notifications.by_setting.transport.recall",
                "handset pairs within 2 m that the Immuni rule flagged; simulated: risky "
                "transport pair-days notified",
            ),
        ),
        (
            "leith_farrell_tram_fpr",
            _row(
                _LEITH_FARRELL,
                "transport: false-positive rate of the Italian rule",
                0.5,
                "pct",
                "notifications.by_setting.transport.false_positive_rate",
                "pairs farther than 2 m that were flagged; simulated: non-risky transport "
                "pair-days notified",
            ),
        ),
    ]
    return dict(rows)


def nhs_averted_per_uptake_point(
    simulated: str = "derived.infections_averted_share_per_uptake_point",
) -> dict[str, Any]:
    """The NHS app's "each percentage point of uptake averted 0.8-2.3 % of cases" (sim §4.1),
    compared with the metric named `simulated`."""
    return _row(
        _NHS,
        "share of infections averted per percentage point of uptake",
        None,
        "pct2",
        simulated,
        "0.8 % by modelling, 2.3 % by statistics; simulated: share averted ÷ uptake in points "
        "(one run: a line through zero; an adoption sweep gives the slope)",
        low=0.008,
        high=0.023,
    )


def immuni_notifications_per_uploader(first: dt.date, last: dt.date) -> dict[str, Any]:
    """Immuni's notifications sent and positive uploaders from `first` to `last` (inclusive).

    Days published as -1 ("5 or fewer") are left out of both sums and counted in
    ``suppressed_days``. ``ratio`` is ``None`` when no uploader falls in the range.
    """
    path = resources.files("notifica.sim").joinpath(
        "data/immuni-open-data/andamento-dati-nazionali.csv"
    )
    notifications = uploaders = suppressed = 0
    seen: list[dt.date] = []
    with path.open("r", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["data"][:10])
            if not first <= day <= last:
                continue
            sent, positive = int(row["notifiche_inviate"]), int(row["utenti_positivi"])
            seen.append(day)
            if sent < 0 or positive < 0:
                suppressed += 1
                continue
            notifications += sent
            uploaders += positive
    return {
        "first": seen[0].isoformat() if seen else None,
        "last": seen[-1].isoformat() if seen else None,
        "notifications": notifications,
        "uploaders": uploaders,
        "suppressed_days": suppressed,
        "ratio": notifications / uploaders if uploaders else None,
    }


def _row(
    source: tuple[str, str, str],
    quantity: str,
    value: float | None,
    fmt: str,
    simulated: str,
    note: str,
    *,
    low: float | None = None,
    high: float | None = None,
) -> dict[str, Any]:
    return {
        "system": source[0],
        "quantity": quantity,
        "value": value,
        "low": low,
        "high": high,
        "format": fmt,
        "simulated": simulated,
        "source": source[1],
        "url": source[2],
        "note": note,
    }


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
