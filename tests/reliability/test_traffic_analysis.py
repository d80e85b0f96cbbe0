"""The traffic-analysis observer (`scripts/traffic_analysis.py`): its statistics and a small month.

The full experiment (a thousand phones, a month) is a script; here its parts are checked on
cases with known answers and on a few phones over a few days.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "traffic_analysis.py"


@pytest.fixture(scope="module")
def ta() -> ModuleType:
    spec = importlib.util.spec_from_file_location("traffic_analysis", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["traffic_analysis"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_auc_counts_pairs_and_ties(ta: ModuleType) -> None:
    assert ta.auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert ta.auc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0
    assert ta.auc([1, 1, 1, 1], [0, 1, 0, 1]) == 0.5
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, 60).astype(float)
    labels = rng.random(60) < 0.3
    pairs = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(scores[labels], scores[~labels])
    ]
    assert ta.auc(scores, labels) == pytest.approx(np.mean(pairs))


def test_the_classifier_finds_a_signal_and_not_noise(ta: ModuleType) -> None:
    rng = np.random.default_rng(5)
    labels = rng.random(400) < 0.2
    noise = rng.normal(size=(400, 4))
    signal = noise.copy()
    signal[:, 2] += 1.5 * labels
    assert ta.auc(ta.cross_validated_scores(signal, labels, folds=5, seed=0), labels) > 0.8
    assert (
        abs(ta.auc(ta.cross_validated_scores(noise, labels, folds=5, seed=0), labels) - 0.5) < 0.1
    )


def test_a_small_month_records_what_an_observer_sees(ta: ModuleType, tmp_path: Path) -> None:
    month = asyncio.run(
        ta.simulate(phones=6, days=3, uploaders=0.34, dummy_wait=3600.0, seed=2, work=tmp_path)
    )
    assert month.uploaded.sum() == 2
    for requests, uploaded in zip(month.requests, month.uploaded, strict=True):
        real = [r for r in requests if r.host == "upload" and not r.dummy]
        assert len(real) == (2 if uploaded else 0)  # check-otp, then upload
        assert {r.up for r in requests if r.host == "upload"} <= {110_000}
        assert all(r.delay > 0 for r in requests if r.host == "upload")
        assert sum(r.host == "get" for r in requests) >= 3 * 6  # index + settings every 4 h
    assert sum(r.dummy and r.host == "upload" for rs in month.requests for r in rs) > 0
    without = ta.observe(month, with_dummy=False, folds=2)
    assert without["feature_auc"]["upload requests"] == 1.0
    assert len(ta.features(month.requests[0], with_dummy=True)) == len(ta.FEATURES)
