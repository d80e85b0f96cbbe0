"""The seeded baseline run of the simulator (Covasim's test_baselines idea).

`tests/sim/baseline.json` holds the metrics of a small seeded run without phones. A change that
moves them must be deliberate: review the difference, then refresh the file with

    .venv/bin/python -m tests.sim.baseline
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notifica.sim import Scenario, run_epidemic

BASELINE_FILE = Path(__file__).with_name("baseline.json")
BASELINE_VALUES = {
    "run.population": 3000,
    "run.days": 14,
    "run.initial_infections": 15,
    "run.seed": 2,
}


def baseline_metrics() -> dict[str, Any]:
    """The metrics of the baseline run, JSON-normalised."""
    result = run_epidemic(Scenario().with_values(BASELINE_VALUES))
    data: dict[str, Any] = json.loads(json.dumps(result.metrics, sort_keys=True))
    return data


def main() -> None:
    BASELINE_FILE.write_text(
        json.dumps(baseline_metrics(), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {BASELINE_FILE}")


if __name__ == "__main__":
    main()
