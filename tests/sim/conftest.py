"""Fixtures of the simulator tests: a small seeded scenario and the device-model sampler."""

from __future__ import annotations

import pytest

from notifica.sim import CalibrationTableSampler, Scenario, load_device_sampler


@pytest.fixture(scope="session")
def device_sampler() -> CalibrationTableSampler:
    """Google's calibration table as the phone layer ships it."""
    return load_device_sampler()


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    """A 2,000-resident, 10-day scenario with an epidemic large enough to test."""
    return Scenario().with_values(
        {"run.population": 2000, "run.days": 10, "run.initial_infections": 20, "run.seed": 11}
    )
