"""Rolling keys and what the phone broadcasts: one TEK per UTC day, one RPI + AEM per interval.

protocol.md §3: a new TEK when none is valid for the current interval, its start aligned to
UTC midnight (``144 × floor(i / 144)``, INT ``getAlignedEnIntervalNumber``), kept 14 days
(``contactRecordDaysToKeep() = 14``). protocol.md §8.2: the metadata carries the device's
calibrated TX power and, from v1.1, its calibration confidence in bits 3:2.

`day_identifiers` computes all 144 (RPI, AEM) pairs of a key in two AES-ECB calls: the RPIs
over the 144 PaddedData blocks, then, since ``AEM = metadata XOR AES-ECB(AEMK, RPI)[0:4]``
for 4-byte metadata (protocol.md §6.1), the AEM keystream over the 144 RPIs. The simulator
uses it to get a whole day of broadcasts in one call.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from notifica.protocol import (
    KEY_LENGTH,
    METADATA_LENGTH,
    RPI_LENGTH,
    TEK_ROLLING_PERIOD,
    BluetoothMetadata,
    TemporaryExposureKey,
    derive_aemk,
    derive_rpik,
    rolling_start,
)

__all__ = ["KEEP_DAYS", "DayIdentifiers", "current_key", "day_identifiers", "keep_recent_keys"]

KEEP_DAYS = 14
"""Days of keys and sightings kept (protocol.md §3, §9; INT ``contactRecordDaysToKeep``)."""

_RPI_PREFIX = b"EN-RPI" + bytes(6)
"""PaddedData bytes 0–11 (protocol.md §5)."""

TekRecord = tuple[str, int, int]
"""A stored TEK: key data (hex), rolling start interval number, rolling period."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DayIdentifiers:
    """What one key broadcasts: ``rpis`` and ``aems`` hold one entry per interval from
    ``start_interval`` (16 and 4 bytes each)."""

    start_interval: int
    rpis: bytes
    aems: bytes

    def __len__(self) -> int:
        return len(self.rpis) // RPI_LENGTH

    def at(self, interval: int) -> tuple[bytes, bytes]:
        """The (RPI, AEM) broadcast during `interval`."""
        offset = interval - self.start_interval
        if not 0 <= offset < len(self):
            raise ValueError(f"interval {interval} is outside this key's validity")
        return (
            self.rpis[offset * RPI_LENGTH : (offset + 1) * RPI_LENGTH],
            self.aems[offset * METADATA_LENGTH : (offset + 1) * METADATA_LENGTH],
        )


def day_identifiers(tek: TemporaryExposureKey, metadata: BluetoothMetadata) -> DayIdentifiers:
    """Every (RPI, AEM) of `tek` over its rolling period, in two AES calls."""
    start, count = tek.rolling_start_interval_number, tek.rolling_period
    padded = b"".join(_RPI_PREFIX + struct.pack("<I", start + i) for i in range(count))
    rpi_cipher = Cipher(algorithms.AES(derive_rpik(tek.key_data)), modes.ECB())  # noqa: S305
    encryptor = rpi_cipher.encryptor()
    rpis = encryptor.update(padded) + encryptor.finalize()
    aem_cipher = Cipher(algorithms.AES(derive_aemk(tek.key_data)), modes.ECB())  # noqa: S305
    encryptor = aem_cipher.encryptor()
    stream = np.frombuffer(encryptor.update(rpis) + encryptor.finalize(), dtype=np.uint8)
    keystream = stream.reshape(count, RPI_LENGTH)[:, :METADATA_LENGTH]
    aems = np.bitwise_xor(keystream, np.frombuffer(metadata.to_bytes(), dtype=np.uint8))
    return DayIdentifiers(start_interval=start, rpis=rpis, aems=aems.tobytes())


def tek_from_record(record: TekRecord) -> TemporaryExposureKey:
    key_hex, start, period = record
    return TemporaryExposureKey(
        key_data=bytes.fromhex(key_hex),
        rolling_start_interval_number=start,
        rolling_period=period,
    )


def current_key(
    records: list[TekRecord], interval: int, random_bytes: Callable[[int], bytes]
) -> tuple[TemporaryExposureKey, bool]:
    """The key valid at `interval`, generating (and appending) a new one when none is.

    Returns the key and whether it is new. A new key starts at the UTC midnight of
    `interval` and lasts the whole day (protocol.md §3).
    """
    for record in reversed(records):
        start, period = record[1], record[2]
        if start <= interval < start + period:
            return tek_from_record(record), False
    key_data = random_bytes(KEY_LENGTH)
    tek = TemporaryExposureKey(
        key_data=key_data,
        rolling_start_interval_number=rolling_start(interval),
        rolling_period=TEK_ROLLING_PERIOD,
    )
    records.append((key_data.hex(), tek.rolling_start_interval_number, tek.rolling_period))
    return tek, True


def keep_recent_keys(records: list[TekRecord], interval: int) -> list[TekRecord]:
    """The keys still valid at some time in the last `KEEP_DAYS` days before `interval`."""
    horizon = interval - KEEP_DAYS * TEK_ROLLING_PERIOD
    return [r for r in records if r[1] + r[2] > horizon]
