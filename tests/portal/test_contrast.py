"""WCAG 2.1 AA contrast of the portal's colours, computed from portal.css itself.

Text needs 4.5:1 (SC 1.4.3); chart bars, input borders and focus indicators need 3:1 against
what surrounds them (SC 1.4.11). The pairs below are every combination the stylesheet uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "src" / "notifica" / "portal" / "static" / "portal.css"
TEXT = 4.5
GRAPHIC = 3.0


def _colours() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6});", CSS.read_text()))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


PAIRS = [
    # (foreground, background, minimum)
    ("text", "background", TEXT),
    ("text", "surface", TEXT),
    ("muted", "background", TEXT),
    ("muted", "surface", TEXT),
    ("link", "background", TEXT),
    ("link", "surface", TEXT),
    ("link-visited", "background", TEXT),
    ("on-primary", "primary", TEXT),
    ("on-primary", "primary-dark", TEXT),
    ("on-masthead", "masthead", TEXT),
    ("error", "background", TEXT),
    ("error", "error-surface", TEXT),
    ("text", "error-surface", TEXT),
    ("warning-text", "warning-surface", TEXT),
    ("success", "success-surface", TEXT),
    ("text", "success-surface", TEXT),
    ("focus-text", "focus", TEXT),
    ("focus", "masthead", GRAPHIC),
    ("focus-text", "background", GRAPHIC),
    ("border", "background", GRAPHIC),
    ("series-codes", "background", GRAPHIC),
    ("series-uploads", "background", GRAPHIC),
    ("series-batches", "background", GRAPHIC),
    ("bar-previous", "background", GRAPHIC),
    ("bar-last", "background", GRAPHIC),
    ("bar-rising", "background", GRAPHIC),
    ("bar-rising", "bar-last", 1.0),  # told apart by the ▲ label, not by colour alone
]


def test_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("foreground", "background", "minimum"), PAIRS)
def test_colour_pairs_meet_wcag_aa(foreground: str, background: str, minimum: float) -> None:
    colours = _colours()
    ratio = contrast(colours[foreground], colours[background])
    assert ratio >= minimum, f"{foreground} on {background}: {ratio:.2f} < {minimum}"


def test_every_colour_is_a_custom_property() -> None:
    rules = CSS.read_text().split("}", 1)[1]  # after :root
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b", rules) == []
