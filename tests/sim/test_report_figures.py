"""The report's derived ratios, published figures, number formats and JSON conversion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from notifica.sim import ReportError
from notifica.sim._report_format import format_value, lookup
from notifica.sim.report_figures import (
    derived_figures,
    immuni_notifications_per_uploader,
    published_figures,
)
from notifica.sim.report_html import _mask_password, jsonable


def _metrics(**changes: Any) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "run": {"phones": 250, "population": 1000},
        "comparison": {"infections_averted": 30, "infections_averted_share": 0.1},
        "notifications": {"reporters": 20},
        "system": {"notifications": 90, "uploads": 18},
    }
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        metrics[section][key] = value
    return metrics


def test_derived_figures() -> None:
    derived = derived_figures(_metrics())
    assert derived["uptake"] == 0.25
    assert derived["infections_averted_share_per_uptake_point"] == pytest.approx(0.1 / 25)
    assert derived["infections_averted_per_reporter"] == 1.5
    assert derived["notifications_per_uploader"] == 5.0


def test_derived_figures_without_denominators_are_none() -> None:
    derived = derived_figures(
        _metrics(run__phones=0, notifications__reporters=0, system__uploads=0)
    )
    assert derived == {
        "uptake": 0.0,
        "infections_averted_share_per_uptake_point": None,
        "infections_averted_per_reporter": None,
        "notifications_per_uploader": None,
    }
    no_baseline = derived_figures(_metrics(comparison__infections_averted_share=None))
    assert no_baseline["infections_averted_share_per_uptake_point"] is None


def test_immuni_open_data_ratios() -> None:
    october = immuni_notifications_per_uploader(dt.date(2020, 10, 1), dt.date(2020, 10, 31))
    assert october["first"] == "2020-10-01"
    assert october["last"] == "2020-10-31"
    assert october["ratio"] == pytest.approx(october["notifications"] / october["uploaders"])
    assert 20 < october["ratio"] < 40  # sim §4.3: ≈28.6 in October 2020
    before = immuni_notifications_per_uploader(dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert before["ratio"] is None
    assert before["first"] is None
    figures = published_figures(dt.date(2019, 1, 1), 28)
    assert figures["immuni_window"]["value"] is None
    assert "outside the published series" in figures["immuni_window"]["note"]


def test_published_figures_name_real_metrics_and_sources() -> None:
    figures = published_figures(dt.date(2020, 10, 5), 28)
    assert figures["nhs_notifications_per_index_case"]["value"] == 4.2
    assert figures["leith_farrell_tram_tpr"]["simulated"] == (
        "notifications.by_setting.transport.recall"
    )
    for row in figures.values():
        assert row["source"]
        assert row["value"] is not None or row["low"] is not None or row["system"] == "Immuni"
        assert row["simulated"].split(".")[0] in {"notifications", "derived"}


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (12345, "int", "12,345"),
        (4.236, "num", "4.24"),
        (0.0612, "pct", "6.1 %"),
        (0.00812, "pct2", "0.81 %"),
        (-0.05, "pct", "-5.0 %"),
        (2_345_678, "bytes", "2.35 MB"),
        (212_345, "bytes", "212.3 kB"),
        (6.04, "hours", "6.0 h"),
        (None, "pct", "–"),
        ("realistic", "text", "realistic"),
        ({"BO": 1.0}, "text", '{"BO": 1.0}'),
    ],
)
def test_format_value(value: Any, fmt: str, text: str) -> None:
    assert format_value(value, fmt) == text


@pytest.mark.parametrize(("value", "fmt"), [("x", "int"), (True, "num"), (1, "fancy")])
def test_format_value_refuses_what_it_cannot_show(value: Any, fmt: str) -> None:
    with pytest.raises(ReportError):
        format_value(value, fmt)


def test_lookup_reads_dotted_names_and_names_what_is_missing() -> None:
    document = {"points": [{"recall": 0.5}], "a": {"b": None}}
    assert lookup(document, "points.0.recall") == 0.5
    assert lookup(document, "a.b") is None
    for missing in ("points.1.recall", "a.c", "points.x"):
        with pytest.raises(ReportError, match=missing):
            lookup(document, missing)


def test_jsonable_unwraps_numpy_dates_and_non_finite_floats() -> None:
    value = {
        "n": np.int64(3),
        "x": np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "series": np.arange(3),
        "pair": ("BO", 1.0),
        "day": dt.date(2020, 10, 5),
    }
    assert jsonable(value) == {
        "n": 3,
        "x": 0.5,
        "nan": None,
        "inf": None,
        "series": [0, 1, 2],
        "pair": ["BO", 1.0],
        "day": "2020-10-05",
    }
    with pytest.raises(ReportError, match=r"run\.ids: cannot write a set"):
        jsonable({"run": {"ids": {1, 2}}})


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql+psycopg://u:p@ss@[::1]/db", "postgresql+psycopg://u:***@[::1]/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////tmp/sim.db", "sqlite:////tmp/sim.db"),
    ],
)
def test_database_password_is_masked(url: str, shown: str) -> None:
    assert _mask_password(url) == shown
