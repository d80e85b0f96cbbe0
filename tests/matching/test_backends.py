"""The contract every matching backend keeps: identical results to the reference semantics of
protocol.md §11 (and so to each other) on the official vectors, edge cases and random input."""

from __future__ import annotations

import random
from array import array
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifica.matching import (
    DerivedIdentifiers,
    Match,
    MatchBackend,
    NativeBackend,
    PythonBackend,
)
from notifica.protocol import DiagnosisKeyBatch, TemporaryExposureKey, derive_rpik
from notifica.protocol import rolling_proximity_identifiers as rpis_of
from tests.matching.conftest import (
    BACKENDS,
    all_ways,
    observations_of,
    random_case,
    reference_matches,
)

NO_NATIVE = "the native backend is not available or is disabled here"


def _vector_batch(v: dict[str, Any]) -> DiagnosisKeyBatch:
    return DiagnosisKeyBatch.from_keys(
        [
            TemporaryExposureKey(
                key_data=bytes.fromhex(v["tek"]),
                rolling_start_interval_number=int(v["rolling_start_interval_number"]),
                rolling_period=int(v["rolling_period"]),
            )
        ]
    )


def test_derive_matches_official_vectors(
    backend: MatchBackend, gaen_vectors: dict[str, Any]
) -> None:
    v = gaen_vectors["crypto_v1_2_test_vectors"]
    derived = backend.derive(_vector_batch(v))
    assert derived.rpis_of(0) == b"".join(bytes.fromhex(row["rpi"]) for row in v["rows"])
    assert len(derived.rpis) == 144 * 16


def test_vector_sightings_match_within_two_hours(
    backend: MatchBackend, gaen_vectors: dict[str, Any]
) -> None:
    v = gaen_vectors["crypto_v1_2_test_vectors"]
    row = v["rows"][100]
    rpi, interval = bytes.fromhex(row["rpi"]), row["en_interval_number"]
    # [j − 12, j + 13): the first and last valid intervals, and one step beyond each.
    obs = observations_of(
        [(rpi, interval - 13), (rpi, interval - 12), (rpi, interval + 12), (rpi, interval + 13)]
    )
    expected = [Match(0, interval, 1), Match(0, interval, 2)]
    for found in all_ways(backend, _vector_batch(v), obs):
        assert found == expected


def test_only_the_first_rolling_period_identifiers_match(backend: MatchBackend) -> None:
    tek, rsin = bytes(range(16)), 2_650_032
    batch = DiagnosisKeyBatch.from_keys(
        [TemporaryExposureKey(key_data=tek, rolling_start_interval_number=rsin, rolling_period=50)]
    )
    rpis = rpis_of(derive_rpik(tek), rsin, 144)
    obs = observations_of([(rpis[49], rsin + 49), (rpis[50], rsin + 50), (rpis[143], rsin + 143)])
    derived = backend.derive(batch)
    assert derived.rpis_of(0) == b"".join(rpis)  # all 144 are derived, as GMS does
    for found in all_ways(backend, batch, obs):
        assert found == [Match(0, rsin + 49, 0)]


@pytest.mark.parametrize(
    ("rsin", "offsets"),
    [
        (0, (-12, -1, 0, 5)),  # tolerance window reaching below interval 0
        (2**31 - 1, (0, 12, 143)),  # the largest int32 rolling start: RPIs up to 2^31 + 142
        (2**31 - 144, (143, 155, 156)),
        (2**24 - 1, (0, 1)),  # a carry across PaddedData bytes 14–15
    ],
)
def test_intervals_at_integer_edges(
    backend: MatchBackend, rsin: int, offsets: tuple[int, ...]
) -> None:
    tek = bytes(16)
    batch = DiagnosisKeyBatch.from_keys(
        [TemporaryExposureKey(key_data=tek, rolling_start_interval_number=rsin)]
    )
    rpis = rpis_of(derive_rpik(tek), rsin, 144)
    rows = [(rpis[j % 144], max(0, rsin + d)) for j, d in enumerate(offsets)]
    rows.append((rpis[0], 2**32 - 1))  # the last representable sighting interval
    obs = observations_of(rows)
    expected = reference_matches(batch, obs)
    for found in all_ways(backend, batch, obs):
        assert found == expected


def test_repeated_keys_and_sightings_all_match(backend: MatchBackend) -> None:
    key = TemporaryExposureKey(key_data=b"\x07" * 16, rolling_start_interval_number=2_650_000)
    other = TemporaryExposureKey(key_data=b"\x08" * 16, rolling_start_interval_number=2_650_000)
    batch = DiagnosisKeyBatch.from_keys([key, other, key])
    rpi = rpis_of(derive_rpik(key.key_data), 2_650_010, 1)[0]
    obs = observations_of([(rpi, 2_650_010)] * 3)
    expected = [Match(k, 2_650_010, o) for k in (0, 2) for o in range(3)]
    for found in all_ways(backend, batch, obs):
        assert found == expected


def test_empty_batch_or_observations_match_nothing(backend: MatchBackend) -> None:
    empty_batch = DiagnosisKeyBatch.from_keys([])
    batch, obs = random_case(random.Random(3), 3, 5)
    no_obs = observations_of([])
    assert len(backend.derive(empty_batch)) == 0
    for found in [*all_ways(backend, empty_batch, obs), *all_ways(backend, batch, no_obs)]:
        assert found == []


def test_random_keys_match_as_the_reference(backend: MatchBackend) -> None:
    batch, obs = random_case(random.Random(7), 40, 300, starts=(2_650_000, 0, 2**31 - 144))
    expected = reference_matches(batch, obs)
    assert len(expected) > 50
    for found in all_ways(backend, batch, obs):
        assert found == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32), keys=st.integers(0, 6), sightings=st.integers(0, 30))
def test_backends_agree_with_the_reference_on_small_random_inputs(
    backend: MatchBackend, seed: int, keys: int, sightings: int
) -> None:
    batch, obs = random_case(
        random.Random(seed), keys, sightings, starts=(0, 2_650_000, 2**31 - 144)
    )
    expected = reference_matches(batch, obs)
    for found in all_ways(backend, batch, obs):
        assert found == expected


def test_derived_identifiers_are_shared_across_backends() -> None:
    batch, obs = random_case(random.Random(11), 30, 200)
    derived = [b.derive(batch) for b in BACKENDS]
    assert all(bytes(d.rpis) == bytes(derived[0].rpis) for d in derived)
    # Any backend can match identifiers another derived, and each keeps its own index.
    expected = reference_matches(batch, obs)
    for b in BACKENDS:
        assert b.match(derived[0], obs) == expected


@pytest.mark.skipif(len(BACKENDS) == 1, reason=NO_NATIVE)
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("chunk_keys", [1, 7, 64])
def test_native_chunks_and_threads_do_not_change_results(threads: int, chunk_keys: int) -> None:
    batch, obs = random_case(random.Random(threads * 100 + chunk_keys), 50, 200)
    expected = PythonBackend().match_batch(batch, obs)
    native = NativeBackend(threads=threads, chunk_keys=chunk_keys)
    derived = native.derive(batch)
    assert bytes(derived.rpis) == bytes(PythonBackend().derive(batch).rpis)
    assert native.match(derived, obs) == expected
    assert native.match_batch(batch, obs) == expected


@pytest.mark.skipif(len(BACKENDS) == 1, reason=NO_NATIVE)
def test_native_one_pass_crosses_its_gil_free_chunk_boundary() -> None:
    # The kernel's one-pass loop works in stretches of 65,536 keys; put hits on both sides.
    rng = random.Random(5)
    count = 65_536 + 40
    keys = [
        TemporaryExposureKey(key_data=rng.randbytes(16), rolling_start_interval_number=2_650_000)
        for _ in range(count)
    ]
    batch = DiagnosisKeyBatch.from_keys(keys)
    rows = []
    for k in (0, 65_535, 65_536, count - 1):
        rows.append(
            (rpis_of(derive_rpik(keys[k].key_data), 2_650_000 + k % 144, 1)[0], 2_650_000 + k % 144)
        )
    obs = observations_of(rows)
    expected = [
        Match(k, 2_650_000 + k % 144, o) for o, k in enumerate((0, 65_535, 65_536, count - 1))
    ]
    native = NativeBackend()
    assert native.match_batch(batch, obs) == expected
    assert native.match(native.derive(batch), obs) == expected


@pytest.mark.parametrize("bad", ["keys", b"x" * 16, None, 3])
def test_derive_rejects_what_is_not_a_batch(backend: MatchBackend, bad: object) -> None:
    with pytest.raises(TypeError, match="DiagnosisKeyBatch"):
        backend.derive(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DiagnosisKeyBatch"):
        backend.match_batch(bad, observations_of([]))  # type: ignore[arg-type]


def test_match_rejects_bad_arguments(backend: MatchBackend) -> None:
    batch, obs = random_case(random.Random(1), 2, 3)
    derived = backend.derive(batch)
    with pytest.raises(TypeError, match="Observations"):
        backend.match(derived, b"\x00" * 16)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Observations"):
        backend.match_batch(batch, [(b"\x00" * 16, 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DerivedIdentifiers"):
        backend.match(batch, obs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="direction"):
        backend.match(derived, obs, direction="sideways")  # type: ignore[arg-type]


def test_derived_identifiers_reject_a_buffer_of_the_wrong_size() -> None:
    batch, _ = random_case(random.Random(1), 2, 0)
    with pytest.raises(ValueError, match=r"2304 bytes each"):
        DerivedIdentifiers(batch, bytes(100))
    derived = PythonBackend().derive(batch)
    with pytest.raises(IndexError):
        derived.rpis_of(2)
    with pytest.raises(TypeError):
        derived.rpis[0] = 1  # type: ignore[index]


def test_pure_index_is_built_once_and_reused() -> None:
    batch, obs = random_case(random.Random(2), 10, 50)
    backend = PythonBackend()
    derived = backend.derive(batch)
    assert not derived.has_index("python-dict")
    first = backend.match(derived, obs)
    assert derived.has_index("python-dict")
    assert backend.match(derived, obs) == first == reference_matches(batch, obs)


@pytest.mark.slow
@pytest.mark.skipif(len(BACKENDS) == 1, reason=NO_NATIVE)
def test_a_million_random_keys_match_identically() -> None:
    rng = random.Random(20_200_402)
    count = 1_000_000
    starts = array("i", (2_650_000 + 144 * rng.randrange(14) for _ in range(count)))
    periods = array("i", (rng.choice((144, 144, 144, 100, 1)) for _ in range(count)))
    batch = DiagnosisKeyBatch(
        key_data=rng.randbytes(16 * count),
        rolling_start_interval_numbers=starts,
        rolling_periods=periods,
    )
    native = NativeBackend()
    derived = native.derive(batch)
    buffer = derived.rpis
    rows = []
    for _ in range(20_000):  # sightings of real identifiers, within and beyond ±2 h
        k, j = rng.randrange(count), rng.randrange(144)
        position = (k * 144 + j) * 16
        rows.append((bytes(buffer[position : position + 16]), starts[k] + j + rng.randint(-14, 14)))
    rows += [(rng.randbytes(16), 2_650_000 + rng.randrange(2016)) for _ in range(30_000)]
    rng.shuffle(rows)
    obs = observations_of(rows)

    # One pass (identifiers never stored) and the scan of the shared table agree; the
    # index direction is covered by the contract tests above at smaller sizes.
    found = native.match_batch(batch, obs)
    assert len(found) > 10_000
    assert native.match(derived, obs, direction="scan") == found
    indexed = found

    # The pure path on a sample of keys: the same matches for those keys, key for key.
    sample = sorted(
        rng.sample(range(count), 3_000) + [m.key_index for m in indexed[:: len(indexed) // 500]]
    )
    sample = sorted(set(sample))
    sub = DiagnosisKeyBatch(
        key_data=b"".join(batch.key_data_at(k) for k in sample),
        rolling_start_interval_numbers=array("i", (starts[k] for k in sample)),
        rolling_periods=array("i", (periods[k] for k in sample)),
    )
    pure = [
        Match(sample[m.key_index], m.interval, m.observation_index)
        for m in PythonBackend().match_batch(sub, obs)
    ]
    chosen = set(sample)
    assert pure == [m for m in indexed if m.key_index in chosen]
    assert len(pure) > 400
