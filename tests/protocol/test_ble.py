from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import (
    ADVERTISEMENT_LENGTH,
    Advertisement,
    MalformedAdvertisement,
    build_advertisement,
    parse_advertisement,
)
from notifica.protocol._ble import _walk

RPI = bytes.fromhex("8be6cd371c5c891604bfbe49df845096")
AEM = bytes.fromhex("72033874")
FLAGS = bytes.fromhex("02011a")
UUIDS = bytes.fromhex("03036ffd")
SERVICE_DATA = bytes.fromhex("17166ffd") + RPI + AEM


def _en_service_data(value: bytes) -> bytes:
    return bytes([3 + len(value), 0x16, 0x6F, 0xFD]) + value


def test_build_matches_the_vector(gaen_vectors: dict[str, Any]) -> None:
    v = gaen_vectors["ble_advertisement_example"]
    data = build_advertisement(bytes.fromhex(v["rpi"]), bytes.fromhex(v["aem"]))
    assert data.hex() == v["adv_data"]
    assert len(data) == v["length"] == ADVERTISEMENT_LENGTH


def test_parse_reads_the_vector(gaen_vectors: dict[str, Any]) -> None:
    v = gaen_vectors["ble_advertisement_example"]
    advertisement = parse_advertisement(bytes.fromhex(v["adv_data"]))
    assert advertisement == Advertisement(
        rpi=bytes.fromhex(v["rpi"]), aem=bytes.fromhex(v["aem"]), flags=0x1A
    )


@given(
    rpi=st.binary(min_size=16, max_size=16),
    aem=st.binary(min_size=4, max_size=4),
    flags=st.integers(0, 255).filter(lambda f: f & 0x02),
)
def test_build_then_parse_round_trips(rpi: bytes, aem: bytes, flags: int) -> None:
    data = build_advertisement(rpi, aem, flags=flags)
    assert len(data) == ADVERTISEMENT_LENGTH
    assert parse_advertisement(data) == Advertisement(rpi=rpi, aem=aem, flags=flags)


@given(
    rpi=st.binary(min_size=16, max_size=16),
    aem=st.binary(min_size=4, max_size=4),
    flags=st.integers(0, 255),
)
def test_fast_path_reads_what_the_generic_walk_reads(rpi: bytes, aem: bytes, flags: int) -> None:
    data = bytes([2, 1, flags]) + UUIDS + _en_service_data(rpi + aem)
    assert parse_advertisement(data) == _walk(data) == Advertisement(rpi=rpi, aem=aem, flags=flags)


@given(rpi=st.binary(min_size=16, max_size=16), aem=st.binary(min_size=4, max_size=4))
def test_parse_accepts_bytearray_and_memoryview(rpi: bytes, aem: bytes) -> None:
    data = build_advertisement(rpi, aem)
    assert parse_advertisement(bytearray(data)) == parse_advertisement(memoryview(data))


@pytest.mark.parametrize("flags", [0x00, 0x06, 0x1A, 0xFF])
def test_parse_does_not_depend_on_the_flags_value(flags: int) -> None:
    data = bytes([2, 1, flags]) + UUIDS + SERVICE_DATA
    assert parse_advertisement(data) == Advertisement(rpi=RPI, aem=AEM, flags=flags)


def test_parse_accepts_missing_flags_and_reports_none() -> None:
    assert parse_advertisement(UUIDS + SERVICE_DATA).flags is None


def test_parse_accepts_missing_uuid_list() -> None:
    # GMS filters scans on the service data only (INT BleScannerImpl).
    assert parse_advertisement(FLAGS + SERVICE_DATA).rpi == RPI


def test_parse_accepts_any_order_and_extra_structures() -> None:
    tx_power = bytes.fromhex("020af4")  # TX Power Level, -12 dBm
    other_list = bytes.fromhex("03039ffe")  # a UUID list naming another service
    assert parse_advertisement(SERVICE_DATA + tx_power).aem == AEM
    assert parse_advertisement(other_list + SERVICE_DATA).rpi == RPI
    assert parse_advertisement(bytes.fromhex("0199") + SERVICE_DATA).rpi == RPI  # unknown type


def test_parse_ignores_service_data_of_other_uuids() -> None:
    other = bytes.fromhex("04169ffe01")
    assert parse_advertisement(other + SERVICE_DATA).rpi == RPI


def test_parse_stops_at_zero_length_padding() -> None:
    data = FLAGS + SERVICE_DATA + bytes(4)
    assert len(data) == ADVERTISEMENT_LENGTH
    assert parse_advertisement(data).rpi == RPI
    # Whatever follows the zero length byte is the non-significant part, as on Android.
    assert parse_advertisement(SERVICE_DATA + b"\x00\x05\x16").rpi == RPI


def test_parse_accepts_the_32_bit_uuid_form() -> None:
    data = FLAGS + bytes([1 + 4 + 20, 0x20]) + bytes.fromhex("6ffd0000") + RPI + AEM
    assert parse_advertisement(data) == Advertisement(rpi=RPI, aem=AEM, flags=0x1A)


@pytest.mark.parametrize("extra", [0, 1, 3, 5])
def test_parse_splits_rpi_and_aem_like_receivers(extra: int) -> None:
    # INT keeps bytes [16:] as metadata whatever their length; it must decrypt to be used.
    aem = bytes(range(extra))
    data = bytes([3 + 16 + extra, 0x16, 0x6F, 0xFD]) + RPI + aem
    assert parse_advertisement(data) == Advertisement(rpi=RPI, aem=aem, flags=None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "advertisement is empty"),
        (bytes(1), "none before the padding"),
        (
            FLAGS + UUIDS + SERVICE_DATA + b"\x00",
            "32 bytes: legacy advertising data holds at most 31",
        ),
        (bytes(200), "200 bytes"),
        (FLAGS + UUIDS, "no Service Data for UUID 0xFD6F among the AD structures (Flags 0x01, "),
        (
            FLAGS + bytes.fromhex("0201"),
            "AD structure 2 at byte 3: declares a length of 2 but only 1",
        ),
        (FLAGS + bytes.fromhex("03036f"), "AD structure 2 at byte 3: declares a length of 3"),
        (
            FLAGS + bytes.fromhex("0101") + SERVICE_DATA,
            "AD structure 2 at byte 3 (Flags 0x01): exp",
        ),
        (FLAGS + FLAGS + SERVICE_DATA, "AD structure 2 at byte 3 (Flags 0x01): a second Flags"),
        (bytes.fromhex("04036ffd00") + SERVICE_DATA, "3 bytes of UUIDs is not a multiple of 2"),
        (bytes.fromhex("0405aabbcc") + SERVICE_DATA, "3 bytes of UUIDs is not a multiple of 4"),
        (bytes.fromhex("021601") + SERVICE_DATA, "(Service Data - 16-bit UUID 0x16): 1 bytes, exp"),
        (bytes.fromhex("0420aabbcc") + SERVICE_DATA, "3 bytes, expected at least a 4-byte UUID"),
        (bytes.fromhex("0521aabbccdd") + SERVICE_DATA, "4 bytes, expected at least a 16-byte UUID"),
        (
            _en_service_data(RPI[:15]),
            "(Service Data - 16-bit UUID 0x16): Exposure Notification service data is 15 bytes, "
            "expected at least the 16-byte RPI",
        ),
        (bytes.fromhex("03166ffd"), "service data is 0 bytes"),
        (
            bytes([18, 0x21]) + bytes.fromhex("0000FD6F00001000800000805F9B34FB")[::-1] + b"\x01",
            "(Service Data - 128-bit UUID 0x21): Exposure Notification service data is 1 bytes",
        ),
        (
            _en_service_data(RPI[:15]) + _en_service_data(b"\x00"),
            "AD structure 2 at byte 19 (Service Data - 16-bit UUID 0x16): a second Exposure "
            "Notification service data structure after AD structure 1 at byte 0",
        ),
    ],
)
def test_parse_rejects_malformed_advertisements(data: bytes, message: str) -> None:
    with pytest.raises(MalformedAdvertisement) as excinfo:
        parse_advertisement(data)
    assert message in str(excinfo.value)


def test_parse_rejects_every_truncation_of_the_vector() -> None:
    data = FLAGS + UUIDS + SERVICE_DATA
    for end in range(len(data)):
        with pytest.raises(MalformedAdvertisement):
            parse_advertisement(data[:end])


def test_parse_rejects_a_replayed_service_data_structure() -> None:
    half = bytes.fromhex("0b166ffd") + RPI[:8]
    with pytest.raises(MalformedAdvertisement, match="a second Exposure Notification"):
        parse_advertisement(half + half)


def test_parse_refuses_non_bytes() -> None:
    with pytest.raises(TypeError, match="advertisement must be bytes, got str"):
        parse_advertisement("02011a")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rpi", "aem", "flags", "message"),
    [
        (RPI[:15], AEM, 0x1A, "rpi must be 16 bytes, got 15"),
        (RPI, AEM + b"\x00", 0x1A, "aem must be 4 bytes, got 5"),
        (RPI, AEM[:3], 0x1A, "aem must be 4 bytes, got 3"),
        (RPI, AEM, 256, "flags must be one byte"),
        (RPI, AEM, -1, "flags must be one byte"),
        (RPI, AEM, 0x18, "flags 0x18 lack LE General Discoverable mode"),
    ],
)
def test_build_rejects_bad_arguments(rpi: bytes, aem: bytes, flags: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_advertisement(rpi, aem, flags=flags)


def test_advertisement_cannot_hold_a_bad_rpi_or_flags() -> None:
    with pytest.raises(ValueError, match="rpi must be 16 bytes"):
        Advertisement(rpi=b"", aem=AEM)
    with pytest.raises(ValueError, match="flags must be one byte"):
        Advertisement(rpi=RPI, aem=AEM, flags=300)


def _mutations(rng: random.Random, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        at = rng.randrange(len(data) + 1)
        if kind == 0 and data:
            data[at % len(data)] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            data[at % len(data)] = rng.randrange(256)
        elif kind == 2:
            data.insert(at, rng.randrange(256))
        elif kind == 3 and data:
            del data[at % len(data)]
        else:
            data = data[:at]
    return bytes(data)


@pytest.mark.slow
def test_fuzz_parse_raises_only_malformed_advertisement() -> None:
    rng = random.Random(20200601)
    base = FLAGS + UUIDS + SERVICE_DATA
    accepted = rejected = 0
    messages: set[str] = set()
    for case in range(60_000):
        if case % 3 == 0:
            data = rng.randbytes(rng.randrange(0, 40))
        elif case % 3 == 1:
            data = _mutations(rng, base)
        else:
            structures = [FLAGS, UUIDS, SERVICE_DATA, bytes.fromhex("020af4"), bytes(2)]
            rng.shuffle(structures)
            data = b"".join(structures)[: rng.randrange(0, 45)]
        try:
            advertisement = parse_advertisement(data)
        except MalformedAdvertisement as exc:
            messages.add(str(exc).split(":")[0][:12])
            rejected += 1
        else:
            assert len(advertisement.rpi) == 16
            assert advertisement.rpi + advertisement.aem in data
            accepted += 1
    assert accepted > 1_000
    assert rejected > 10_000
    assert "" not in messages
