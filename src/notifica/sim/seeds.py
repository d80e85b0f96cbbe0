"""Randomness of a run: independent, reproducible streams derived from one seed.

A run has one seed. Each shard (province) and each use of randomness gets its own stream,
derived with NumPy's `SeedSequence` spawn keys, ``(shard, stream, *index)``: the contacts of
day 12 in shard 3 are the same whatever happened before, whichever process computes them, and
whether or not the app is on. That makes the app and no-app runs share their random numbers
(common random numbers), so that "infections averted" measures the app and not the noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["STREAMS", "Seeds"]

#: Stream names and their fixed codes (never renumber: results depend on them).
STREAMS = {
    "population": 1,
    "devices": 2,
    "contacts": 3,
    "transmission": 4,
    "seeding": 5,
    "person": 6,
    "scans": 7,
    "radio": 8,
    "orchestration": 9,
}


@dataclass(frozen=True, slots=True)
class Seeds:
    """The random streams of one shard of a run."""

    seed: int
    shard: int = 0

    def __post_init__(self) -> None:
        if self.seed < 0 or self.shard < 0:
            raise ValueError(f"seed and shard must be ≥ 0, got {self.seed}, {self.shard}")

    def generator(self, stream: str, *index: int) -> np.random.Generator:
        """A fresh generator for `stream` (one of `STREAMS`) and optional indices (day, ...)."""
        key = (self.shard, STREAMS[stream], *index)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def for_shard(self, shard: int) -> Seeds:
        """The streams of another shard of the same run."""
        return Seeds(self.seed, shard)
