"""Fixtures of the simulator tests: small seeded scenarios and a device-model sampler."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from notifica.sim import DeviceDraw, Scenario

ROOT = Path(__file__).resolve().parents[2]
#: Where Google's calibration table may be, in order: the phone layer's copy (branch ble-otp,
#: once merged), the shared data set of this workspace, then the few rows the radio fit ships.
CALIBRATION_CSV = (
    ROOT / "src" / "notifica" / "phone" / "data" / "en-calibration-2020-08-12.csv",
    Path("/work/shared/data/google-en-calibration/en-calibration-2020-08-12.csv"),
    ROOT / "src" / "notifica" / "sim" / "data" / "herald-phone-calibration.csv",
)


class CsvCalibrationSampler:
    """Test-only stand-in for ``notifica.phone.calibration.CalibrationTable``: rows uniformly."""

    def __init__(self, path: Path) -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        self.tx = np.array([int(r["tx"]) for r in rows], dtype=np.int8)
        self.correction = np.array([int(r["rssi correction"]) for r in rows], dtype=np.int8)
        self.confidence = np.array([int(r["calibration confidence"]) for r in rows], dtype=np.int8)

    def sample(self, rng: np.random.Generator, n: int) -> DeviceDraw:
        rows = rng.integers(0, len(self.tx), size=n)
        return DeviceDraw(self.tx[rows], self.correction[rows], self.confidence[rows])


@pytest.fixture(scope="session")
def device_sampler() -> CsvCalibrationSampler:
    path = next(p for p in CALIBRATION_CSV if p.exists())
    return CsvCalibrationSampler(path)


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    """A 2,000-resident, 10-day scenario with an epidemic large enough to test."""
    return Scenario().with_values(
        {"run.population": 2000, "run.days": 10, "run.initial_infections": 20, "run.seed": 11}
    )
