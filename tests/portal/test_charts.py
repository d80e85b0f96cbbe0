"""Chart geometry: round axis tops, bars proportional to their values."""

from __future__ import annotations

import pytest

from notifica.portal._charts import daily_chart, nice_ceiling, paired_chart


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 1),
        (1, 1),
        (3, 3),
        (3.1, 4),
        (7, 8),
        (12, 12),
        (13, 15),
        (23, 25),
        (251, 300),
        (1000, 1000),
    ],
)
def test_nice_ceiling(value: float, top: float) -> None:
    assert nice_ceiling(value) == top


def test_daily_bars_are_proportional_and_share_the_baseline() -> None:
    chart = daily_chart([("codes", "c", [0, 5, 10]), ("uploads", "u", [0, 0, 0])], ["a", "b", "c"])
    codes, uploads = chart.panels
    assert codes.axis_max == "10"
    heights = [b.height for b in codes.bars]
    assert heights[0] == 0
    assert heights[2] == pytest.approx(2 * heights[1])
    assert {round(b.y + b.height, 6) for b in codes.bars} == {round(codes.top + codes.height, 6)}
    assert all(b.height == 0 for b in uploads.bars)
    assert uploads.top > codes.top + codes.height
    with pytest.raises(ValueError, match="2 values for 3 days"):
        daily_chart([("x", "x", [1, 2])], ["a", "b", "c"])


def test_paired_bars_share_one_scale() -> None:
    chart = paired_chart([("A", 10.0, 20.0, True), ("B", 5.0, 0.0, False)])
    a, b = chart.rows
    assert a.last.width == pytest.approx(2 * a.previous.width)
    assert b.previous.width == pytest.approx(a.previous.width / 2)
    assert b.last.width == 0
    assert (a.last.css, b.last.css) == ("bar-rising", "bar-last")
    assert a.last.width == pytest.approx(chart.plot_width * 20 / 20)
