"""Shared helpers for the matching tests: backends, a brute-force reference, random inputs."""

from __future__ import annotations

import random
from array import array

import pytest

from notifica.matching import MatchBackend, Observations, available_backends
from notifica.matching._types import Match
from notifica.protocol import DiagnosisKeyBatch, TemporaryExposureKey, derive_rpik
from notifica.protocol import rolling_proximity_identifiers as rpis_of

BACKENDS = available_backends()


@pytest.fixture(params=BACKENDS, ids=[b.name for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> MatchBackend:
    """Every backend usable on this machine (the contract holds for each)."""
    chosen: MatchBackend = request.param
    return chosen


def reference_matches(batch: DiagnosisKeyBatch, observations: Observations) -> list[Match]:
    """protocol.md §11 by brute force on the protocol layer's own derivation: all 144 RPIs
    from the rolling start, only the first rolling_period usable, ±2 h drift."""
    found = []
    for k, (tek, rsin, period) in enumerate(batch):
        rpis = rpis_of(derive_rpik(tek), rsin, 144)
        for j in range(period):
            for o in range(len(observations)):
                seen = observations.intervals[o]
                if observations.rpi_at(o) == rpis[j] and rsin + j - 12 <= seen < rsin + j + 13:
                    found.append(Match(k, rsin + j, o))
    return sorted(found)


def all_ways(
    backend: MatchBackend, batch: DiagnosisKeyBatch, obs: Observations
) -> list[list[Match]]:
    """The matches through every path a backend offers: index, scan and one-pass."""
    derived = backend.derive(batch)
    return [
        backend.match(derived, obs),
        backend.match(derived, obs, direction="index"),
        backend.match(derived, obs, direction="scan"),
        backend.match_batch(batch, obs),
    ]


def random_case(
    rng: random.Random, keys: int, sightings: int, *, starts: tuple[int, ...] = (2_650_000,)
) -> tuple[DiagnosisKeyBatch, Observations]:
    """Random keys and a phone that saw some of their RPIs (near and far in time), some RPIs
    twice, and some unrelated identifiers."""
    batch = DiagnosisKeyBatch.from_keys(
        TemporaryExposureKey(
            key_data=rng.randbytes(16),
            rolling_start_interval_number=rng.choice(starts) + rng.choice((0, 0, 0, 7, 143)),
            rolling_period=rng.choice((144, 144, 144, 1, 37, 143)),
        )
        for _ in range(keys)
    )
    rows: list[tuple[bytes, int]] = []
    for _ in range(sightings):
        if batch and rng.random() < 0.6:
            k = rng.randrange(len(batch))
            tek, rsin, _period = list(batch)[k]
            j = rng.randrange(144)
            rpi = rpis_of(derive_rpik(tek), rsin + j, 1)[0]
            seen = max(0, min(2**32 - 1, rsin + j + rng.randint(-14, 14)))
            rows.append((rpi, seen))
            if rng.random() < 0.2:
                rows.append((rpi, seen))
        else:
            rows.append((rng.randbytes(16), rng.randrange(2**32)))
    return batch, Observations.from_sightings(rows)


def observations_of(rows: list[tuple[bytes, int]]) -> Observations:
    return Observations(
        rpis=b"".join(r for r, _ in rows), intervals=array("I", [t for _, t in rows])
    )
