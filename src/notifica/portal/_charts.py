"""Geometry of the server-rendered SVG charts (templates/_charts.html draws it).

No JavaScript and no charting library: a chart is a few rectangles whose coordinates are
computed here, in user units of a fixed ``viewBox`` that CSS scales. Every chart has a table
beside it with the same numbers, which is the accessible version; the SVG is an image with
a title.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "Bar",
    "BarChart",
    "HorizontalChart",
    "Panel",
    "Row",
    "daily_chart",
    "nice_ceiling",
    "paired_chart",
]

_WIDTH = 640.0
_LEFT = 44.0  # room for the axis numbers
_RIGHT = 8.0
_PANEL_HEIGHT = 92.0
_PANEL_GAP = 44.0
_LABEL_BAND = 22.0


def _plain(value: float) -> str:
    return f"{value:g}"


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ᵏ) at or above
    `value`, at least 1: an axis top that wastes at most a fifth of the plot."""
    if value <= 1:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        top = step * 10.0**exponent
        if top >= value - 1e-9:
            return top
    return float(10.0 ** (exponent + 1))  # pragma: no cover - the loop always returns


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One rectangle with its value (for the tooltip title)."""

    x: float
    y: float
    width: float
    height: float
    value: str
    label: str
    css: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Panel:
    """One small multiple: a series of daily bars on its own scale."""

    title: str
    top: float
    height: float
    axis_max: str
    bars: tuple[Bar, ...]
    css: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BarChart:
    """Small multiples sharing the day axis."""

    width: float
    height: float
    left: float
    panels: tuple[Panel, ...]
    x_labels: tuple[tuple[float, str], ...]


def daily_chart(
    series: Sequence[tuple[str, str, Sequence[int]]],
    day_labels: Sequence[str],
    *,
    format_number: Callable[[float], str] = _plain,
) -> BarChart:
    """One panel per ``(title, css class, values)``, one bar per day.

    Raises:
        ValueError: if a series does not have one value per day.
    """
    n = len(day_labels)
    slot = (_WIDTH - _LEFT - _RIGHT) / max(n, 1)
    fmt = format_number
    panels = []
    for index, (title, css, values) in enumerate(series):
        if len(values) != n:
            raise ValueError(f"series {title!r} has {len(values)} values for {n} days")
        top = _LABEL_BAND + index * (_PANEL_HEIGHT + _PANEL_GAP)
        axis_max = nice_ceiling(max(values, default=0))
        bars = tuple(
            Bar(
                x=_LEFT + i * slot + slot * 0.15,
                y=top + _PANEL_HEIGHT - _PANEL_HEIGHT * v / axis_max,
                width=slot * 0.7,
                height=_PANEL_HEIGHT * v / axis_max,
                value=fmt(v),
                label=day_labels[i],
            )
            for i, v in enumerate(values)
        )
        panels.append(
            Panel(
                title=title,
                top=top,
                height=_PANEL_HEIGHT,
                axis_max=fmt(axis_max),
                bars=bars,
                css=css,
            )
        )
    height = _LABEL_BAND + len(series) * (_PANEL_HEIGHT + _PANEL_GAP)
    x_labels = tuple(
        (_LEFT + (i + 0.5) * slot, label) for i, label in enumerate(day_labels) if i % 2 == 0
    )
    return BarChart(
        width=_WIDTH, height=height, left=_LEFT, panels=tuple(panels), x_labels=x_labels
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One province: previous and last week's bars."""

    label: str
    y: float
    previous: Bar
    last: Bar
    rising: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HorizontalChart:
    """Paired horizontal bars per province on one rate scale."""

    width: float
    height: float
    left: float
    plot_width: float
    axis_max: str
    rows: tuple[Row, ...]


def paired_chart(
    items: Sequence[tuple[str, float, float, bool]],
    *,
    format_number: Callable[[float], str] = _plain,
) -> HorizontalChart:
    """Rows of ``(label, previous, last, rising)`` values on a shared scale."""
    left, row_height, bar = 170.0, 30.0, 11.0
    plot_width = _WIDTH - left - 56.0
    fmt = format_number
    axis_max = nice_ceiling(max((max(p, q) for _, p, q, _ in items), default=0.0))
    rows = []
    for i, (label, previous, last, rising) in enumerate(items):
        y = _LABEL_BAND + i * row_height
        rows.append(
            Row(
                label=label,
                y=y,
                previous=Bar(
                    x=left,
                    y=y + 3,
                    width=plot_width * previous / axis_max,
                    height=bar,
                    value=fmt(previous),
                    label=label,
                    css="bar-previous",
                ),
                last=Bar(
                    x=left,
                    y=y + 3 + bar,
                    width=plot_width * last / axis_max,
                    height=bar,
                    value=fmt(last),
                    label=label,
                    css="bar-rising" if rising else "bar-last",
                ),
                rising=rising,
            )
        )
    return HorizontalChart(
        width=_WIDTH,
        height=_LABEL_BAND + len(items) * row_height + 8,
        left=left,
        plot_width=plot_width,
        axis_max=fmt(axis_max),
        rows=tuple(rows),
    )
