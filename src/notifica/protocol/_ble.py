"""The Exposure Notification Bluetooth advertisement: building and parsing it (protocol.md §8.1).

A sender advertises 31 bytes made of three AD structures, each ``length | type | value`` with
``length`` counting the type byte and the value::

    02 01 1A                      Flags
    03 03 6F FD                   Complete List of 16-bit Service UUIDs: 0xFD6F
    17 16 6F FD <RPI 16> <AEM 4>  Service Data - 16-bit UUID: 0xFD6F, then RPI and AEM

Rules of the parser, which follow what receivers do:

1. It walks the AD structures generically by length and type; it never relies on their order
   or on the Flags value ("Receivers should not depend on this value", protocol.md §8.1).
2. What identifies the payload is the service data for 0xFD6F: GMS scans with a filter on that
   service data only (INT ``BleScannerImpl``, ``ScanFilter.setServiceData``). So a missing
   UUID list, a UUID list naming other services, and extra AD structures (TX power,
   manufacturer data, service data of other UUIDs, unknown types) are accepted and ignored.
   As in Android's ``ScanRecord``, service data keyed by the 32-bit or 128-bit form of the
   same UUID counts as the Exposure Notification service data.
3. Service data of at least 16 bytes is accepted: the first 16 are the RPI, the rest (4 bytes
   from a conforming sender) the AEM, exactly as INT ``BleScannerImpl.onScanResult`` and MG
   ``ScannerService.kt`` do. A wrong-sized AEM surfaces when it is decrypted
   (`BluetoothMetadata.from_bytes`), where the RPI is still known.
4. A zero length byte ends the significant part (Core spec Vol 3 Part C §11); what follows is
   padding and is ignored, as Android's ``ScanRecord.parseFromBytes`` does.
5. Deliberately stricter than Android, which keeps the last copy: two Exposure Notification
   service data structures, or two Flags structures, are rejected as ambiguous, since
   recording either copy would be a guess.
6. An advertisement longer than 31 bytes is rejected: EN uses legacy advertising
   (INT ``advertiseLegacyMode() = true``), whose data field holds at most 31 bytes.

The parser raises only `MalformedAdvertisement`, naming the AD structure (1-based, with its
byte offset) and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifica.protocol._keys import RPI_LENGTH
from notifica.protocol._metadata import METADATA_LENGTH
from notifica.protocol.errors import MalformedAdvertisement

__all__ = [
    "ADVERTISEMENT_LENGTH",
    "EN_SERVICE_UUID",
    "Advertisement",
    "build_advertisement",
    "parse_advertisement",
]

EN_SERVICE_UUID = 0xFD6F
"""The Exposure Notification Service's 16-bit UUID, registered with the Bluetooth SIG (§8.1)."""

ADVERTISEMENT_LENGTH = 31
"""Bytes in a built advertisement, and the most a legacy advertising data field holds."""

_ANDROID_FLAGS = 0x1A
"""What Android stacks send: LE General Discoverable (bit 1) plus BR/EDR bits (§8.1)."""

_LE_GENERAL_DISCOVERABLE = 0x02
"""Flags bit 1, which the EN Bluetooth spec requires of a sender (protocol.md §8.1)."""

# AD types (Bluetooth Assigned Numbers, "Common Data Types").
_FLAGS = 0x01
_UUID16_INCOMPLETE, _UUID16_COMPLETE = 0x02, 0x03
_UUID32_INCOMPLETE, _UUID32_COMPLETE = 0x04, 0x05
_UUID128_INCOMPLETE, _UUID128_COMPLETE = 0x06, 0x07
_SERVICE_DATA16, _SERVICE_DATA32, _SERVICE_DATA128 = 0x16, 0x20, 0x21

_UUID_LIST_WIDTH = {
    _UUID16_INCOMPLETE: 2,
    _UUID16_COMPLETE: 2,
    _UUID32_INCOMPLETE: 4,
    _UUID32_COMPLETE: 4,
    _UUID128_INCOMPLETE: 16,
    _UUID128_COMPLETE: 16,
}
_SERVICE_DATA_WIDTH = {_SERVICE_DATA16: 2, _SERVICE_DATA32: 4, _SERVICE_DATA128: 16}
_TYPE_NAMES = {
    _FLAGS: "Flags",
    _UUID16_INCOMPLETE: "Incomplete List of 16-bit Service UUIDs",
    _UUID16_COMPLETE: "Complete List of 16-bit Service UUIDs",
    _UUID32_INCOMPLETE: "Incomplete List of 32-bit Service UUIDs",
    _UUID32_COMPLETE: "Complete List of 32-bit Service UUIDs",
    _UUID128_INCOMPLETE: "Incomplete List of 128-bit Service UUIDs",
    _UUID128_COMPLETE: "Complete List of 128-bit Service UUIDs",
    _SERVICE_DATA16: "Service Data - 16-bit UUID",
    _SERVICE_DATA32: "Service Data - 32-bit UUID",
    _SERVICE_DATA128: "Service Data - 128-bit UUID",
}

_EN_UUID_FORMS = {
    2: EN_SERVICE_UUID.to_bytes(2, "little"),
    4: EN_SERVICE_UUID.to_bytes(4, "little"),
    16: int("0000FD6F00001000800000805F9B34FB", 16).to_bytes(16, "little"),
}
"""0xFD6F on air (little-endian) as a 16-, 32- and 128-bit UUID; the 128-bit form is
``0000FD6F-0000-1000-8000-00805F9B34FB`` (INT ``Constants.CONTACT_TRACER_UUID``, §8.1)."""


_LAYOUT = bytes.fromhex("03036ffd17166ffd")
"""Bytes 3-10 of a conforming advertisement: the UUID list and the service data's header."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Advertisement:
    """What a receiver keeps from an Exposure Notification advertisement.

    `rpi` is the 16-byte Rolling Proximity Identifier; `aem` the Associated Encrypted
    Metadata that followed it (4 bytes from a conforming sender, see the module docstring);
    `flags` the Flags byte, or ``None`` when the advertisement carried no Flags structure.
    """

    rpi: bytes
    aem: bytes
    flags: int | None = _ANDROID_FLAGS

    def __post_init__(self) -> None:
        if len(self.rpi) != RPI_LENGTH:
            raise ValueError(f"rpi must be {RPI_LENGTH} bytes, got {len(self.rpi)}")
        if self.flags is not None and not 0 <= self.flags <= 0xFF:
            raise ValueError(f"flags must be one byte (0..255), got {self.flags}")


def build_advertisement(rpi: bytes, aem: bytes, *, flags: int = _ANDROID_FLAGS) -> bytes:
    """Build the 31-byte advertising data a sender broadcasts (protocol.md §8.1).

    Args:
        rpi: the current Rolling Proximity Identifier, 16 bytes.
        aem: its Associated Encrypted Metadata, 4 bytes.
        flags: the Flags byte; must have LE General Discoverable (bit 1) set, as the EN
            Bluetooth spec requires. ``0x1A`` is what Android sends, ``0x06`` is also seen.

    Returns:
        Flags, Complete List of 16-bit Service UUIDs and Service Data AD structures.

    Raises:
        ValueError: if `rpi` or `aem` has the wrong length or `flags` is not a valid byte
            with bit 1 set.
    """
    if len(rpi) != RPI_LENGTH:
        raise ValueError(f"rpi must be {RPI_LENGTH} bytes, got {len(rpi)}")
    if len(aem) != METADATA_LENGTH:
        raise ValueError(f"aem must be {METADATA_LENGTH} bytes, got {len(aem)}")
    if not 0 <= flags <= 0xFF:
        raise ValueError(f"flags must be one byte (0..255), got {flags}")
    if not flags & _LE_GENERAL_DISCOVERABLE:
        raise ValueError(f"flags 0x{flags:02X} lack LE General Discoverable mode (bit 1)")
    uuid = _EN_UUID_FORMS[2]
    service_data = uuid + bytes(rpi) + bytes(aem)
    return b"".join(
        (
            bytes((2, _FLAGS, flags)),
            bytes((1 + len(uuid), _UUID16_COMPLETE)) + uuid,
            bytes((1 + len(service_data), _SERVICE_DATA16)) + service_data,
        )
    )


def parse_advertisement(data: bytes) -> Advertisement:
    """Read an Exposure Notification advertisement the way receivers do (module docstring).

    Args:
        data: the advertising data as received (at most 31 bytes).

    Returns:
        The RPI, AEM and Flags it carries.

    Raises:
        MalformedAdvertisement: if `data` is oversized, an AD structure is truncated or too
            short for its type, the EN service data is missing, shorter than 16 bytes or
            repeated, or the Flags structure is repeated.
        TypeError: if `data` is not bytes-like.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"advertisement must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > ADVERTISEMENT_LENGTH:
        raise MalformedAdvertisement(
            f"advertisement is {len(data)} bytes: legacy advertising data holds at most "
            f"{ADVERTISEMENT_LENGTH}"
        )
    if not data:
        raise MalformedAdvertisement(
            "advertisement is empty: expected AD structures with Exposure Notification service data"
        )
    if len(data) == ADVERTISEMENT_LENGTH and data[:2] == b"\x02\x01" and data[3:11] == _LAYOUT:
        # The layout every conforming sender uses; the walk below would read the same.
        return Advertisement(rpi=data[11:27], aem=data[27:], flags=data[2])
    return _walk(data)


def _walk(data: bytes) -> Advertisement:
    types: list[int] = []
    flags: int | None = None
    flags_at: str | None = None
    service_data: bytes | None = None
    service_data_at: str | None = None
    offset = 0
    while offset < len(data):
        length = data[offset]
        if length == 0:
            break  # the rest is the non-significant part (padding)
        end = offset + 1 + length
        if end > len(data):
            raise MalformedAdvertisement(
                f"AD structure {len(types) + 1} at byte {offset}: declares a length of "
                f"{length} but only {len(data) - offset - 1} bytes remain (truncated "
                "advertisement)"
            )
        ad_type, value = data[offset + 1], data[offset + 2 : end]
        types.append(ad_type)
        if ad_type == _FLAGS:
            if not value:
                raise MalformedAdvertisement(
                    f"{_where(types, offset)}: expected a flags byte, found none"
                )
            if flags_at is not None:
                raise MalformedAdvertisement(
                    f"{_where(types, offset)}: a second Flags structure after {flags_at}"
                )
            flags, flags_at = value[0], _where(types, offset)
        elif ad_type in _UUID_LIST_WIDTH:
            width = _UUID_LIST_WIDTH[ad_type]
            if len(value) % width:
                raise MalformedAdvertisement(
                    f"{_where(types, offset)}: {len(value)} bytes of UUIDs is not a multiple "
                    f"of {width}"
                )
        elif ad_type in _SERVICE_DATA_WIDTH:
            width = _SERVICE_DATA_WIDTH[ad_type]
            if len(value) < width:
                raise MalformedAdvertisement(
                    f"{_where(types, offset)}: {len(value)} bytes, expected at least a "
                    f"{width}-byte UUID"
                )
            if value[:width] == _EN_UUID_FORMS[width]:
                if service_data_at is not None:
                    raise MalformedAdvertisement(
                        f"{_where(types, offset)}: a second Exposure Notification service "
                        f"data structure after {service_data_at}"
                    )
                service_data, service_data_at = value[width:], _where(types, offset)
        offset = end
    if service_data is None or service_data_at is None:
        found = ", ".join(_type_name(ad_type) for ad_type in types) or "none before the padding"
        raise MalformedAdvertisement(
            f"no Service Data for UUID 0x{EN_SERVICE_UUID:04X} among the AD structures "
            f"({found}): not an Exposure Notification advertisement"
        )
    if len(service_data) < RPI_LENGTH:
        raise MalformedAdvertisement(
            f"{service_data_at}: Exposure Notification service data is {len(service_data)} "
            f"bytes, expected at least the {RPI_LENGTH}-byte RPI"
        )
    return Advertisement(rpi=service_data[:RPI_LENGTH], aem=service_data[RPI_LENGTH:], flags=flags)


def _where(types: list[int], offset: int) -> str:
    """Names the AD structure just read: its 1-based number, byte offset and type."""
    return f"AD structure {len(types)} at byte {offset} ({_type_name(types[-1])})"


def _type_name(ad_type: int) -> str:
    return f"{_TYPE_NAMES.get(ad_type, 'type')} 0x{ad_type:02X}"
