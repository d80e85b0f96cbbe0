"""The run's key numbers as a Rich table, for the CLI's summary on stdout.

The same names and formats as the HTML report's key numbers (`_report_format.KEY_NUMBERS`), so
the console and the page show the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from notifica.sim._report_format import KEY_NUMBERS, format_value, has, lookup
from notifica.sim.errors import ReportError
from notifica.sim.report_figures import derived_figures

__all__ = ["summary_table"]


def summary_table(metrics: Mapping[str, Any]) -> Table:
    """The key numbers of a run: epidemic, notifications, system, traffic, ground truth.

    Args:
        metrics: the run's metrics (schema ``notifica.sim.metrics/1``), or a report's
            metrics.json (its ``derived`` section is then used as written).

    Raises:
        ReportError: the metrics lack a section the derived figures need.
    """
    document = dict(metrics)
    if "derived" not in document:
        try:
            document["derived"] = derived_figures(metrics)
        except (KeyError, TypeError) as exc:
            raise ReportError(f"the metrics lack a value the summary derives from: {exc}") from None
    table = Table(title="notifica simulation", show_header=True, header_style="bold")
    table.add_column("", style="dim")
    table.add_column("metric")
    table.add_column("value", justify="right")
    previous = None
    for section, label, path, fmt in KEY_NUMBERS:
        if not has(document, path):
            continue
        table.add_row(
            section if section != previous else "", label, format_value(lookup(document, path), fmt)
        )
        previous = section
    return table
