"""The native kernel's own interface: exact derivations on both code paths, and clear errors
(never a crash) for wrong lengths, empty input, wrong types and non-contiguous buffers."""

from __future__ import annotations

import os
import random
from array import array
from concurrent.futures import ThreadPoolExecutor

import pytest

from notifica.matching._native import Kernel, load_kernel
from notifica.protocol import derive_rpik, rolling_proximity_identifiers

KERNEL = load_kernel()
pytestmark = pytest.mark.skipif(KERNEL is None, reason="the native kernel is not built")


@pytest.fixture
def kernel() -> Kernel:
    assert KERNEL is not None
    return KERNEL


@pytest.mark.parametrize("accelerated", [True, False], ids=["accelerated", "portable"])
def test_rpiks_and_rpis_equal_the_protocol_layer(kernel: Kernel, accelerated: bool) -> None:
    rng = random.Random(9)
    keys = [rng.randbytes(16) for _ in range(64)]
    starts = array("i", [0, 2**31 - 1, 2**24 - 1, *(rng.randrange(2**31) for _ in range(61))])
    assert kernel.derive_rpiks(b"".join(keys), accelerated=accelerated) == b"".join(
        derive_rpik(k) for k in keys
    )
    out = bytearray(64 * 2304)
    kernel.derive_rpis(b"".join(keys), starts, out, accelerated=accelerated)
    assert bytes(out) == b"".join(
        b"".join(rolling_proximity_identifiers(derive_rpik(k), s, 144))
        for k, s in zip(keys, starts, strict=True)
    )


def test_threads_derive_concurrently_and_correctly(kernel: Kernel) -> None:
    keys = os.urandom(16 * 2000)
    starts = array("i", [2_650_000] * 2000)

    def derive(_: int) -> bytes:
        out = bytearray(2000 * 2304)
        kernel.derive_rpis(keys, starts, out)
        return bytes(out)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(derive, range(8)))
    assert all(r == results[0] for r in results)


def test_cpu_features_are_reported(kernel: Kernel) -> None:
    features = kernel.cpu_features()
    assert set(features) >= {"aes", "sha", "sse41", "ssse3", "x86_kernels", "aes_kernel"}
    assert all(isinstance(v, bool) for v in features.values())


@pytest.mark.parametrize(
    ("key_data", "error", "message"),
    [
        (b"", ValueError, "key_data is empty"),
        (b"x" * 15, ValueError, "multiple of 16 bytes, got 15"),
        (b"x" * 33, ValueError, "multiple of 16 bytes, got 33"),
        (memoryview(b"x" * 64)[::2], ValueError, "key_data must be a C-contiguous buffer"),
        ("0123456789abcdef", TypeError, "key_data must be a bytes-like object or array, not str"),
        (12, TypeError, "not int"),
        ([b"x" * 16], TypeError, "not list"),
        (array("i", [0, 0, 0, 0]), TypeError, "key_data must hold bytes"),
    ],
)
def test_bad_key_data_is_refused(
    kernel: Kernel, key_data: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        kernel.derive_rpiks(key_data)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        kernel.derive_rpis(key_data, array("i", [0]), bytearray(2304))  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        kernel.match_keys(key_data, array("i", [0]), array("i", [1]), bytes(16), array("I", [0]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rsins", "periods", "error", "message"),
    [
        (array("i", [0, 0]), array("i", [1]), ValueError, "rsins has 2 entries for 1 keys"),
        (array("i", [0]), array("i", [1, 1]), ValueError, "periods has 2 entries"),
        (array("q", [0]), array("i", [1]), TypeError, r"rsins must hold signed 32-bit integers"),
        (array("I", [0]), array("i", [1]), TypeError, r"rsins must hold signed 32-bit"),
        (b"\x00" * 4, array("i", [1]), TypeError, "rsins must hold signed 32-bit"),
        (array("i", [-1]), array("i", [1]), ValueError, r"rsins\[0\] = -1 is negative"),
        (array("i", [0]), array("i", [0]), ValueError, r"periods\[0\] = 0 is outside 1..144"),
        (array("i", [0]), array("i", [145]), ValueError, r"periods\[0\] = 145 is outside"),
        (memoryview(array("i", [0, 0, 0, 0]))[::2], array("i", [1]), ValueError, "C-contiguous"),
    ],
)
def test_bad_key_columns_are_refused(
    kernel: Kernel, rsins: object, periods: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        kernel.match_keys(bytes(16), rsins, periods, bytes(16), array("I", [0]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obs_rpis", "obs_intervals", "error", "message"),
    [
        (b"", array("I"), ValueError, "obs_rpis is empty"),
        (bytes(17), array("I", [0]), ValueError, "obs_rpis must be a multiple of 16"),
        (bytes(32), array("I", [0]), ValueError, "obs_intervals has 1 entries"),
        (bytes(16), array("i", [0]), TypeError, "obs_intervals must hold unsigned 32-bit"),
        (bytes(16), [0], TypeError, "obs_intervals must be a bytes-like object"),
    ],
)
def test_bad_observations_are_refused(
    kernel: Kernel, obs_rpis: object, obs_intervals: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        kernel.match_keys(bytes(16), array("i", [0]), array("i", [1]), obs_rpis, obs_intervals)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        kernel.match_scan(bytes(2304), array("i", [0]), array("i", [1]), obs_rpis, obs_intervals)  # type: ignore[arg-type]


def test_output_buffer_must_fit_and_be_writable(kernel: Kernel) -> None:
    with pytest.raises(ValueError, match="out must be 2304 bytes"):
        kernel.derive_rpis(bytes(16), array("i", [0]), bytearray(2303))
    with pytest.raises(ValueError, match="out must be a C-contiguous, writable buffer"):
        kernel.derive_rpis(bytes(16), array("i", [0]), bytes(2304))
    with pytest.raises(ValueError, match="C-contiguous"):
        kernel.derive_rpis(bytes(16), array("i", [0]), memoryview(bytearray(4608))[::2])


def test_index_must_come_from_build_index_and_fit(kernel: Kernel) -> None:
    records = bytes(2304 * 2)
    index = kernel.build_index(records)
    assert kernel.index_nbytes(index) > 288 * 8
    obs, when = bytes(16), array("I", [0])
    with pytest.raises(TypeError, match="index must be what build_index returned"):
        kernel.match_indexed(records, object(), array("i", [0, 0]), array("i", [1, 1]), obs, when)
    with pytest.raises(ValueError, match="the index covers 288 identifiers, records hold 144"):
        kernel.match_indexed(bytes(2304), index, array("i", [0]), array("i", [1]), obs, when)
    with pytest.raises(ValueError, match="records is empty"):
        kernel.build_index(b"")
    # 288 equal records (one crowded bucket) equal to the sighting: at interval 0, the RPIs of
    # intervals 0..12 of both keys are within the ±2 h window.
    found = kernel.match_indexed(
        records, index, array("i", [0, 0]), array("i", [144, 144]), obs, when
    )
    assert array("I", found).tolist() == [x for k in (0, 1) for j in range(13) for x in (k, j, 0)]
