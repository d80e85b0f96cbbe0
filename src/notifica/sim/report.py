"""The simulator's report, one import away: the HTML report, the sweep report, the console
summary and the plots they are made of.

    from notifica.sim.report import summary_table, write_report, write_sweep_report

    path = write_report(metrics, Path("sim-report"), scenario=scenario)  # .../report.html
    console.print(summary_table(metrics))

The parts: `report_html` (files, all or nothing; `docs/sim-design.md` §9 *Report*),
`report_plots` (PNG, the only matplotlib user), `report_figures` (derived ratios and published
figures), `report_sweep` (adoption sweeps), `report_summary` (Rich).
"""

from notifica.sim.report_html import (
    METRICS_SCHEMA,
    build_document,
    write_report,
    write_sweep_report,
)
from notifica.sim.report_plots import (
    plot_attenuation_vs_distance,
    plot_bytes_per_phone_day,
    plot_epidemic_curves,
    plot_notifications_over_time,
    plot_precision_recall_by_setting,
    plot_sweep,
)
from notifica.sim.report_summary import summary_table
from notifica.sim.report_sweep import SWEEP_SCHEMA

__all__ = [
    "METRICS_SCHEMA",
    "SWEEP_SCHEMA",
    "build_document",
    "plot_attenuation_vs_distance",
    "plot_bytes_per_phone_day",
    "plot_epidemic_curves",
    "plot_notifications_over_time",
    "plot_precision_recall_by_setting",
    "plot_sweep",
    "summary_table",
    "write_report",
    "write_sweep_report",
]
