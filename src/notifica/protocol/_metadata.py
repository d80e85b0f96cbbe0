"""Associated Encrypted Metadata: the 4-byte metadata and its AES-CTR encryption.

protocol.md §6: ``AEM = AES-128-CTR(AEMK, IV = RPI, metadata)``, the RPI being the whole
initial counter block. Metadata byte 0 holds the version (bits 7:6 major, 5:4 minor) and, from
v1.1, the TX calibration confidence (bits 3:2); byte 1 is the TX power as a signed int8 dBm.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from notifica.protocol._keys import KEY_LENGTH, RPI_LENGTH
from notifica.protocol.errors import MalformedPayload

__all__ = ["METADATA_LENGTH", "BluetoothMetadata", "decrypt_aem", "encrypt_aem"]

METADATA_LENGTH = 4
"""Bytes of GAEN Bluetooth metadata (protocol.md §6.2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BluetoothMetadata:
    """The metadata an advertisement carries, encrypted, after its RPI (protocol.md §6.2).

    `major_version` / `minor_version` default to v1.1 (byte 0 = ``0x50``), what current
    Android emits; `calibration_confidence` (0 LOWEST .. 3 HIGH) is only carried from v1.1.
    """

    tx_power_dbm: int
    major_version: int = 1
    minor_version: int = 1
    calibration_confidence: int = 0

    def __post_init__(self) -> None:
        if not -128 <= self.tx_power_dbm <= 127:
            raise ValueError(f"tx_power_dbm must fit a signed byte, got {self.tx_power_dbm}")
        if not 0 <= self.major_version <= 3 or not 0 <= self.minor_version <= 3:
            raise ValueError("major and minor versions are 2-bit fields (0..3)")
        if not 0 <= self.calibration_confidence <= 3:
            raise ValueError(
                f"calibration_confidence must be in 0..3, got {self.calibration_confidence}"
            )

    def to_bytes(self) -> bytes:
        version = (self.major_version << 6) | (self.minor_version << 4)
        confidence = self.calibration_confidence << 2 if self.minor_version >= 1 else 0
        return bytes([version | confidence, self.tx_power_dbm & 0xFF, 0, 0])

    @classmethod
    def from_bytes(cls, data: bytes) -> BluetoothMetadata:
        """Read decrypted metadata; confidence bits only count from v1.1 (protocol.md §6.3).

        Raises:
            MalformedPayload: if `data` is not 4 bytes.
        """
        if len(data) != METADATA_LENGTH:
            raise MalformedPayload(
                f"Bluetooth metadata must be {METADATA_LENGTH} bytes, got {len(data)}"
            )
        major, minor = data[0] >> 6, (data[0] >> 4) & 0x3
        confidence = (data[0] >> 2) & 0x3 if data[0] >= 0x50 else 0
        tx_power = data[1] - 256 if data[1] >= 128 else data[1]
        return cls(
            tx_power_dbm=tx_power,
            major_version=major,
            minor_version=minor,
            calibration_confidence=confidence,
        )


def encrypt_aem(aemk: bytes, rpi: bytes, metadata: bytes) -> bytes:
    """Encrypt `metadata` for the advertisement whose RPI is `rpi` (protocol.md §6.1)."""
    if len(aemk) != KEY_LENGTH:
        raise ValueError(f"aemk must be {KEY_LENGTH} bytes, got {len(aemk)}")
    if len(rpi) != RPI_LENGTH:
        raise ValueError(f"rpi must be {RPI_LENGTH} bytes, got {len(rpi)}")
    encryptor = Cipher(algorithms.AES(aemk), modes.CTR(rpi)).encryptor()
    return encryptor.update(bytes(metadata)) + encryptor.finalize()


def decrypt_aem(aemk: bytes, rpi: bytes, aem: bytes) -> bytes:
    """Decrypt an AEM; CTR mode makes this the same operation as `encrypt_aem`."""
    return encrypt_aem(aemk, rpi, aem)
