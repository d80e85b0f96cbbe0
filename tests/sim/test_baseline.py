from __future__ import annotations

import json

from .baseline import BASELINE_FILE, baseline_metrics


def test_seeded_run_matches_the_baseline() -> None:
    # If this fails after a deliberate change of the model, review the difference and run
    #   .venv/bin/python -m tests.sim.baseline
    expected = json.loads(BASELINE_FILE.read_text("utf-8"))
    actual = baseline_metrics()
    differences = {
        f"{section}.{key}": (expected[section].get(key), value)
        for section, values in actual.items()
        for key, value in values.items()
        if expected.get(section, {}).get(key) != value
    }
    assert differences == {}
