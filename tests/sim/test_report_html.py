"""The HTML report: files, numbers that agree with metrics.json, atomic writes, escaping, sweeps."""

from __future__ import annotations

import copy
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest
from rich.console import Console

from notifica.sim import ReportError, Scenario, report_plots
from notifica.sim._report_files import MARKER
from notifica.sim._report_format import KEY_NUMBERS, format_value
from notifica.sim.report import build_document, summary_table, write_report, write_sweep_report
from notifica.sim.report_html import _render_run

from .report_fixtures import small_run_metrics, small_scenario

PNG = b"\x89PNG\r\n\x1a\n"
RUN_PLOTS = ("epidemic.png", "settings.png", "notifications.png", "traffic.png", "attenuation.png")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return small_scenario()


@pytest.fixture(scope="module")
def metrics(scenario: Scenario) -> dict[str, Any]:
    return small_run_metrics(scenario)


@pytest.fixture(scope="module")
def written(
    metrics: dict[str, Any], scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return write_report(metrics, tmp_path_factory.mktemp("run") / "report", scenario=scenario)


class _Cells(HTMLParser):
    """Collects (data-metric, data-format, text) of every element with data-metric, and the
    images' sources."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found["src"] or "")
        if tag == "a" and (found["href"] or "").endswith("report.html"):
            self.links.append(found["href"] or "")
        if "data-metric" in found:
            self._open.append((found["data-metric"] or "", found["data-format"] or "", []))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open:
            path, fmt, text = self._open.pop()
            self.cells.append((path, fmt, "".join(text)))


def _parse(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def _look_up(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


_UNIT = {"kB": 1e3, "MB": 1e6}


def _agrees(text: str, fmt: str, value: Any) -> bool:
    """Whether the text shown is `value` rounded as the format says (parsed back, independently
    of the report's formatter)."""
    if value is None:
        return text == "–"
    if fmt == "text":
        return text == value if isinstance(value, str) else json.loads(text) == value
    number = re.fullmatch(r"(-?[\d,]+(?:\.\d+)?)\s*(%|h|s|kB|MB)?", text)
    assert number, f"not a number: {text!r}"
    shown, unit = float(number.group(1).replace(",", "")), number.group(2)
    if fmt == "int":
        return shown == round(value)
    if fmt in ("pct", "pct2"):
        return unit == "%" and math.isclose(
            shown, value * 100, abs_tol=0.051 if fmt == "pct" else 0.0051
        )
    if fmt == "bytes":
        return math.isclose(shown * _UNIT[unit], value, rel_tol=0.01, abs_tol=51)
    return math.isclose(shown, value, abs_tol=0.051 if fmt in ("hours", "seconds") else 0.0051)


def test_report_files_and_plots_are_written(written: Path) -> None:
    directory = written.parent
    assert written.name == "report.html"
    assert (directory / MARKER).read_text() == "run\n"
    for name in RUN_PLOTS:
        data = (directory / name).read_bytes()
        assert data.startswith(PNG)
        height, width, _ = matplotlib.image.imread(directory / name).shape
        assert width >= 600
        assert height >= 350
    assert sorted(_parse(written.read_text()).images) == sorted(RUN_PLOTS)
    assert not [p for p in directory.parent.iterdir() if p.name.startswith(".")]


def test_every_number_in_the_html_agrees_with_metrics_json(
    written: Path, metrics: dict[str, Any]
) -> None:
    document = json.loads((written.parent / "metrics.json").read_text())
    cells = _parse(written.read_text()).cells
    assert len(cells) > 100
    for path, fmt, text in cells:
        assert _agrees(text.strip(), fmt, _look_up(document, path)), (path, fmt, text)
    shown = {path for path, _, _ in cells}
    for _, _, path, _ in KEY_NUMBERS:
        assert path in shown
    for label in ("household", "transport", "community"):
        for measure in ("precision", "recall", "false_positive_rate"):
            assert f"notifications.by_setting.{label}.{measure}" in shown
        assert f"ground_truth.risky_pair_days_by_setting.{label}" in shown
    for row in document["published"].values():
        assert row["simulated"] in shown
    assert "published.nhs_notifications_per_index_case.value" in shown
    assert "published.nhs_averted_per_uptake_point.low" in shown
    assert "published.leith_farrell_tram_fpr.value" in shown
    # metrics.json is the run's metrics plus what the report adds, unchanged otherwise
    assert document["notifications"]["precision"] == metrics["notifications"]["precision"]
    assert document["scenario"]["run"]["population"] == 400
    assert document["derived"]["uptake"] == metrics["run"]["phones"] / 400


def test_metrics_json_has_sorted_keys_and_the_published_figures(written: Path) -> None:
    text = (written.parent / "metrics.json").read_text()
    document = json.loads(text)
    assert list(document) == sorted(document)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    window = document["published"]["immuni_window"]
    # Immuni open data, 5 Oct - 12 Oct 2020 (the run's 8 days)
    assert "2020-10-05 to 2020-10-12" in window["quantity"]
    assert 5 < window["value"] < 60
    assert document["published"]["immuni_all_time"]["value"] == pytest.approx(196114 / 92073)
    assert document["published"]["nhs_notifications_per_index_case"]["url"].startswith("https://")


@pytest.mark.parametrize("failure", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_interrupted_report_leaves_nothing(
    failure: BaseException,
    metrics: dict[str, Any],
    scenario: Scenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> Path:
        raise failure

    # the attenuation plot is drawn last, after metrics.json and four plots were written
    monkeypatch.setattr(report_plots, "plot_attenuation_vs_distance", broken)
    with pytest.raises(type(failure)):
        write_report(metrics, tmp_path / "out", scenario=scenario)
    assert list(tmp_path.iterdir()) == []


def test_existing_report_is_replaced_and_a_failed_replacement_keeps_it(
    written: Path,
    metrics: dict[str, Any],
    scenario: Scenario,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    write_report(metrics, out, scenario=scenario)
    (out / "stale.txt").write_text("from an older report")
    changed = copy.deepcopy(metrics)
    changed["run"]["elapsed_s"] = 99.0
    write_report(changed, out, scenario=scenario)
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "metrics.json").read_text())["run"]["elapsed_s"] == 99.0

    monkeypatch.setattr(report_plots, "plot_epidemic_curves", _raise)
    with pytest.raises(RuntimeError):
        write_report(metrics, out, scenario=scenario)
    assert json.loads((out / "metrics.json").read_text())["run"]["elapsed_s"] == 99.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _raise(*args: object, **kwargs: object) -> Path:
    raise RuntimeError("plot failed")


def test_a_directory_that_is_not_a_report_is_refused(
    metrics: dict[str, Any], scenario: Scenario, tmp_path: Path
) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    with pytest.raises(ReportError, match="not a notifica report"):
        write_report(metrics, mine, scenario=scenario)
    assert [p.name for p in mine.iterdir()] == ["chapter1.tex"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ReportError, match="not a directory"):
        write_report(metrics, a_file, scenario=scenario)
    link = tmp_path / "link"
    link.symlink_to(mine)
    with pytest.raises(ReportError, match="not a directory"):
        write_report(metrics, link, scenario=scenario)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_report(metrics, empty, scenario=scenario).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.pop("notifications"), "no 'notifications' section"),
        (lambda m: m.update(schema="other/9"), "schema"),
        (lambda m: m["system"].pop("uploads"), "uploads"),
        (lambda m: m["run"].update(elapsed_s=object()), "run.elapsed_s"),
        (lambda m: m["notifications"].pop("series"), "notifications.series"),
        (lambda m: m["traffic"].pop("bytes_per_phone_day"), "traffic.bytes_per_phone_day"),
        (lambda m: m["system"].pop("notifications"), "notifications"),
    ],
)
def test_bad_metrics_are_refused_before_anything_is_written(
    change: Any, message: str, metrics: dict[str, Any], scenario: Scenario, tmp_path: Path
) -> None:
    bad = copy.deepcopy(metrics)
    change(bad)
    with pytest.raises(ReportError, match=message):
        write_report(bad, tmp_path / "out", scenario=scenario)
    assert list(tmp_path.iterdir()) == []


def test_strings_are_escaped_and_the_database_password_masked(
    metrics: dict[str, Any], tmp_path: Path
) -> None:
    hostile = copy.deepcopy(metrics)
    script = "<script>alert('x')</script>"
    hostile["run"]["channel"] = script
    hostile["run"]["risk_rule"] = 'a" onmouseover="alert(1)'
    hostile["run"]["database"] = "postgresql://sim:s3cret@db.example:5432/notifica"
    scenario = small_scenario(**{"contacts.school.days": "weekdays", "run.provinces": {"RM": 1.0}})
    page = write_report(hostile, tmp_path / "out", scenario=scenario)
    html = page.read_text()
    assert "<script>" not in html
    assert "s3cret" not in html
    assert "s3cret" not in (tmp_path / "out" / "metrics.json").read_text()
    shown = {path: text for path, _, text in _parse(html).cells}
    assert shown["run.channel"] == script
    assert shown["run.risk_rule"] == 'a" onmouseover="alert(1)'
    assert shown["run.database"] == "postgresql://sim:***@db.example:5432/notifica"
    assert json.loads(shown["scenario.run.provinces"]) == {"RM": 1.0}  # differs from default


def test_summary_table_shows_the_key_numbers(metrics: dict[str, Any]) -> None:
    console = Console(record=True, width=120)
    console.print(summary_table(metrics))
    text = console.export_text()
    assert f"{format_value(metrics['notifications']['precision'], 'pct')}" in text
    assert f"{metrics['comparison']['infections_averted']:,}" in text
    assert "people notified per reporter" in text


def test_build_document_is_json_idempotent_and_renders_the_same_page(
    metrics: dict[str, Any], scenario: Scenario
) -> None:
    document = build_document(metrics, scenario)
    assert build_document(document, scenario) == document
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    plots = ["epidemic.png"]
    assert _render_run(document, scenario, plots) == _render_run(document, scenario, plots)


def test_sweep_report(metrics: dict[str, Any], tmp_path: Path) -> None:
    runs = []
    # uptake 0.2, 0.5, 0.8 with 2 %, 5 %, 8 % averted: a slope of 0.1 % per point
    for share in (0.8, 0.2, 0.5):
        run = copy.deepcopy(metrics)
        run["run"]["adoption"] = share
        run["run"]["phones"] = round(share * run["run"]["population"])
        run["comparison"]["infections_averted_share"] = share / 10
        runs.append(run)
    page = write_sweep_report(runs, tmp_path / "sweep")
    directory = page.parent
    parsed = _parse(page.read_text())
    assert parsed.links == []
    assert (directory / "sweep.png").read_bytes().startswith(PNG)
    document = json.loads((directory / "sweep.json").read_text())
    assert [p["adoption"] for p in document["points"]] == [0.2, 0.5, 0.8]
    assert document["slope"]["infections_averted_share_per_uptake_point"] == pytest.approx(0.001)
    assert document["slope"]["intercept"] == pytest.approx(0.0, abs=1e-12)
    cells = parsed.cells
    assert len(cells) >= 3 * 14
    for path, fmt, text in cells:
        assert _agrees(text.strip(), fmt, _look_up(document, path)), (path, fmt, text)
    assert {"points.2.recall", "slope.infections_averted_share_per_uptake_point"} <= {
        path for path, _, _ in cells
    }
    with pytest.raises(ReportError, match="at least one run"):
        write_sweep_report([], tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_a_run_without_phones_has_no_ratios_and_no_traffic_plot(tmp_path: Path) -> None:
    scenario = small_scenario(**{"adoption.overall": 0.0})
    metrics = small_run_metrics(scenario)
    del metrics["system"]["sightings"]  # an optional counter
    page = write_report(metrics, tmp_path / "out", scenario=scenario)
    document = json.loads((page.parent / "metrics.json").read_text())
    shown = {path: text for path, _, text in _parse(page.read_text()).cells}
    assert document["notifications"]["notifications"] == 0
    for path in (
        "notifications.precision",
        "notifications.by_setting.transport.recall",
        "derived.infections_averted_share_per_uptake_point",
        "traffic.bytes_per_phone_day.median",
    ):
        assert shown[path] == "–"
    assert shown["notifications.notifications"] == "0"
    assert "system.sightings" not in shown
    assert not (page.parent / "traffic.png").exists()
    assert (page.parent / "notifications.png").read_bytes().startswith(PNG)


def test_sweep_report_links_each_runs_report(metrics: dict[str, Any], tmp_path: Path) -> None:
    runs, scenarios = [], []
    for share in (0.5, 0.2):
        run = copy.deepcopy(metrics)
        run["run"]["adoption"] = share
        runs.append(run)
        scenarios.append(small_scenario(**{"adoption.overall": share}))
    page = write_sweep_report(runs, tmp_path / "sweep", scenarios=scenarios)
    links = _parse(page.read_text()).links
    assert links == ["adoption-0.2/report.html", "adoption-0.5/report.html"]
    for link in links:
        run_page = page.parent / link
        run_json = json.loads((run_page.parent / "metrics.json").read_text())
        assert run_json["scenario"]["adoption"]["overall"] == float(link[9:12])
        for path, fmt, text in _parse(run_page.read_text()).cells:
            assert _agrees(text.strip(), fmt, _look_up(run_json, path)), (link, path)
        assert (run_page.parent / "epidemic.png").read_bytes().startswith(PNG)
    with pytest.raises(ValueError, match="1 scenarios for 2 runs"):
        write_sweep_report(runs, tmp_path / "other", scenarios=scenarios[:1])
