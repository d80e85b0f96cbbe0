"""How the report names and formats numbers: one table for the HTML page and the Rich summary.

Every number shown is looked up by its dotted name in the report's document (metrics.json) and
formatted by `format_value`; nothing is recomputed while rendering, so the page, the console
and metrics.json cannot disagree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from notifica.sim.errors import ReportError

__all__ = [
    "FORMATS",
    "KEY_NUMBERS",
    "MISSING",
    "OPTIONAL",
    "RUN_PARAMETERS",
    "format_value",
    "has",
    "lookup",
]

#: Shown for a metric that has no value (a ratio with a zero denominator).
MISSING = "–"

#: Format names: int, num (two decimals), pct (one decimal), pct2, bytes (kB/MB), hours,
#: seconds, text (strings as they are, anything else as JSON).
FORMATS = ("int", "num", "pct", "pct2", "bytes", "hours", "seconds", "text")

#: (label, dotted name, format) of the run's parameters.
RUN_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("seed", "run.seed", "int"),
    ("residents", "run.population", "int"),
    ("days", "run.days", "int"),
    ("adoption (scenario)", "run.adoption", "pct"),
    ("phones", "run.phones", "int"),
    ("provinces", "run.provinces", "text"),
    ("shards", "run.shards", "int"),
    ("radio channel", "run.channel", "text"),
    ("risk rule", "run.risk_rule", "text"),
    ("database", "run.database", "text"),
    ("elapsed", "run.elapsed_s", "seconds"),
)

#: (section, label, dotted name, format) of the key numbers. The system counters other than
#: ``uploads`` and ``notifications`` are shown when the orchestration reports them.
KEY_NUMBERS: tuple[tuple[str, str, str, str], ...] = (
    ("epidemic", "infections with the app", "comparison.infections_with_app", "int"),
    ("epidemic", "infections without the app", "comparison.infections_without_app", "int"),
    ("epidemic", "infections averted", "comparison.infections_averted", "int"),
    ("epidemic", "share of infections averted", "comparison.infections_averted_share", "pct"),
    ("epidemic", "attack rate with the app", "epidemic.attack_rate", "pct"),
    ("epidemic", "peak day (new infections)", "epidemic.peak_day", "int"),
    ("epidemic", "uptake (phones ÷ residents)", "derived.uptake", "pct"),
    ("notifications", "reporters (positive, uploaded)", "notifications.reporters", "int"),
    ("notifications", "notifications (pair-days)", "notifications.notifications", "int"),
    ("notifications", "people notified", "notifications.notified_people", "int"),
    ("notifications", "precision", "notifications.precision", "pct"),
    ("notifications", "recall", "notifications.recall", "pct"),
    ("notifications", "false-positive rate", "notifications.false_positive_rate", "pct"),
    ("notifications", "people notified per reporter", "notifications.notified_per_reporter", "num"),
    (
        "notifications",
        "notified and infected by that reporter",
        "notifications.infected_by_sender_share",
        "pct",
    ),
    (
        "notifications",
        "notified who then tested positive",
        "notifications.notified_tested_positive_share",
        "pct",
    ),
    (
        "notifications",
        "result → notification, median",
        "notifications.delay_result_to_notification_hours.median",
        "hours",
    ),
    (
        "notifications",
        "result → notification, 90th percentile",
        "notifications.delay_result_to_notification_hours.p90",
        "hours",
    ),
    ("system", "uploads", "system.uploads", "int"),
    ("system", "failed uploads", "system.upload_failures", "int"),
    ("system", "dummy uploads", "system.dummy_uploads", "int"),
    ("system", "OTPs authorised", "system.otps_authorised", "int"),
    ("system", "batches published", "system.batches_published", "int"),
    ("system", "keys published", "system.keys_published", "int"),
    ("system", "exposure detections", "system.detections", "int"),
    ("system", "notifications shown", "system.notifications", "int"),
    ("system", "sightings stored", "system.sightings", "int"),
    ("system", "notifications per upload", "derived.notifications_per_uploader", "num"),
    ("traffic", "downloaded per phone-day, median", "traffic.bytes_per_phone_day.median", "bytes"),
    ("traffic", "downloaded per phone-day, 90th pct", "traffic.bytes_per_phone_day.p90", "bytes"),
    ("traffic", "downloaded per phone-day, max", "traffic.bytes_per_phone_day.max", "bytes"),
    ("ground truth", "risky pair-days", "ground_truth.risky_pair_days", "int"),
    (
        "ground truth",
        "risky pair-days, both with the app",
        "ground_truth.risky_adopter_pair_days",
        "int",
    ),
)


#: Key numbers that may be absent (shown only when present).
OPTIONAL = frozenset(
    path
    for section, _, path, _ in KEY_NUMBERS
    if section == "system" and path not in ("system.uploads", "system.notifications")
)


def lookup(document: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted name (``"notifications.by_setting.work.recall"``; list items by
    index).

    Raises:
        ReportError: the document has no such name.
    """
    node: Any = document
    for part in dotted.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit():
            if int(part) >= len(node):
                raise ReportError(f"the metrics have no {dotted!r}")
            node = node[int(part)]
        else:
            raise ReportError(f"the metrics have no {dotted!r}")
    return node


def has(document: Mapping[str, Any], dotted: str) -> bool:
    """Whether `lookup` finds the name."""
    try:
        lookup(document, dotted)
    except ReportError:
        return False
    return True


def format_value(value: Any, fmt: str) -> str:
    """A metric as the report shows it (`MISSING` for ``None``).

    Raises:
        ReportError: an unknown format, or a value that is not a number where one is needed.
    """
    if fmt not in FORMATS:
        raise ReportError(f"unknown number format {fmt!r}")
    if value is None:
        return MISSING
    if fmt == "text":
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReportError(f"expected a number, got {value!r}")
    if fmt == "int":
        return f"{round(value):,}"
    if fmt == "num":
        return f"{value:,.2f}"
    if fmt == "pct":
        return f"{value * 100:.1f} %"
    if fmt == "pct2":
        return f"{value * 100:.2f} %"
    if fmt == "hours":
        return f"{value:,.1f} h"
    if fmt == "seconds":
        return f"{value:,.1f} s"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f} MB"
    return f"{value / 1e3:,.1f} kB"
