"""Temporary Exposure Keys and what is derived from them: RPIK, AEMK and the RPIs.

protocol.md §3–§5:

    RPIK  = HKDF-SHA256(tek, salt=None, info="EN-RPIK", 16)
    AEMK  = HKDF-SHA256(tek, salt=None, info="EN-AEMK", 16)
    RPI_j = AES-128-ECB(RPIK, "EN-RPI" || 00*6 || uint32_le(j))

With a 16-byte output, HKDF is exactly two HMAC-SHA256 calls (extract with a 32-zero-byte
salt, then one expand block), which is how it is computed here: `hmac.digest` is the fastest
correct path in CPython. All RPIs of a key come from one AES-ECB call over a prebuilt buffer.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from notifica.protocol._intervals import MAX_INTERVAL_NUMBER, TEK_ROLLING_PERIOD

__all__ = [
    "KEY_LENGTH",
    "RPI_LENGTH",
    "ReportType",
    "TemporaryExposureKey",
    "derive_aemk",
    "derive_rpik",
    "padded_data",
    "rolling_proximity_identifier",
    "rolling_proximity_identifiers",
]

KEY_LENGTH = 16
"""Bytes in a TEK, RPIK and AEMK (protocol.md §3–§4)."""

RPI_LENGTH = 16
"""Bytes in a Rolling Proximity Identifier (one AES block)."""

_HKDF_SALT = bytes(32)
"""A NULL HKDF salt is HashLen zero bytes (RFC 5869 §2.2; protocol.md §4)."""

_RPIK_INFO = b"EN-RPIK"
_AEMK_INFO = b"EN-AEMK"
_RPI_PREFIX = b"EN-RPI" + bytes(6)
"""PaddedData bytes 0–11 (protocol.md §5)."""

_MAX_INT32 = 2**31 - 1


class ReportType(enum.IntEnum):
    """How a diagnosis was established (protocol.md §12.5, proto enum ``ReportType``)."""

    UNKNOWN = 0
    CONFIRMED_TEST = 1
    CONFIRMED_CLINICAL_DIAGNOSIS = 2
    SELF_REPORT = 3
    RECURSIVE = 4
    REVOKED = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class TemporaryExposureKey:
    """A TEK with the metadata a diagnosis key carries (protocol.md §3, §12.5).

    Cannot exist in a bad state: the constructor checks every field against the ranges the
    export format can carry. ``days_since_onset_of_symptoms`` is ``None`` when unset; values
    outside −14..14 are representable (real files hold them) and mean "unknown" to scoring.
    """

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = TEK_ROLLING_PERIOD
    transmission_risk_level: int = 0
    report_type: ReportType = ReportType.UNKNOWN
    days_since_onset_of_symptoms: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key_data, bytes):
            raise TypeError(f"key_data must be bytes, got {type(self.key_data).__name__}")
        if len(self.key_data) != KEY_LENGTH:
            raise ValueError(f"key_data must be {KEY_LENGTH} bytes, got {len(self.key_data)}")
        if not 0 <= self.rolling_start_interval_number <= _MAX_INT32:
            raise ValueError(
                "rolling_start_interval_number must be in 0..2^31-1 (int32 in the export), "
                f"got {self.rolling_start_interval_number}"
            )
        if not 1 <= self.rolling_period <= TEK_ROLLING_PERIOD:
            raise ValueError(f"rolling_period must be in 1..144, got {self.rolling_period}")
        if not 0 <= self.transmission_risk_level <= 8:
            raise ValueError(
                f"transmission_risk_level must be in 0..8, got {self.transmission_risk_level}"
            )
        object.__setattr__(self, "report_type", ReportType(self.report_type))
        onset = self.days_since_onset_of_symptoms
        if onset is not None and not -(2**31) <= onset <= _MAX_INT32:
            raise ValueError(f"days_since_onset_of_symptoms must fit an int32, got {onset}")

    @classmethod
    def generate(
        cls,
        *,
        rolling_start_interval_number: int,
        rolling_period: int = TEK_ROLLING_PERIOD,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> TemporaryExposureKey:
        """A new key from a cryptographically secure random source (protocol.md §3).

        `random_bytes` is injectable so that simulations can be seeded; production code
        keeps the default CSPRNG.
        """
        return cls(
            key_data=random_bytes(KEY_LENGTH),
            rolling_start_interval_number=rolling_start_interval_number,
            rolling_period=rolling_period,
        )

    @property
    def rolling_end_interval_number(self) -> int:
        """The first interval after this key's validity."""
        return self.rolling_start_interval_number + self.rolling_period

    def is_expired_at(self, interval: int) -> bool:
        """Whether the key is no longer valid at `interval` (protocol.md §3)."""
        return interval >= self.rolling_end_interval_number

    def __repr__(self) -> str:
        # Key material never appears in logs or tracebacks by accident.
        return (
            f"TemporaryExposureKey(rolling_start_interval_number="
            f"{self.rolling_start_interval_number}, rolling_period={self.rolling_period}, "
            f"transmission_risk_level={self.transmission_risk_level}, "
            f"report_type={self.report_type.name}, "
            f"days_since_onset_of_symptoms={self.days_since_onset_of_symptoms})"
        )


def _hkdf16(ikm: bytes, info: bytes) -> bytes:
    prk = hmac.digest(_HKDF_SALT, ikm, "sha256")
    return hmac.digest(prk, info + b"\x01", "sha256")[:KEY_LENGTH]


def _check_key(name: str, key: bytes) -> None:
    if not isinstance(key, bytes):
        raise TypeError(f"{name} must be bytes, got {type(key).__name__}")
    if len(key) != KEY_LENGTH:
        raise ValueError(f"{name} must be {KEY_LENGTH} bytes, got {len(key)}")


def derive_rpik(tek: bytes) -> bytes:
    """The Rolling Proximity Identifier Key of a TEK's key data (protocol.md §4)."""
    _check_key("tek", tek)
    return _hkdf16(tek, _RPIK_INFO)


def derive_aemk(tek: bytes) -> bytes:
    """The Associated Encrypted Metadata Key of a TEK's key data (protocol.md §4)."""
    _check_key("tek", tek)
    return _hkdf16(tek, _AEMK_INFO)


def padded_data(interval: int) -> bytes:
    """PaddedData_j: ``"EN-RPI" || 00*6 || uint32_le(j)`` (protocol.md §5)."""
    if not 0 <= interval <= MAX_INTERVAL_NUMBER:
        raise ValueError(f"interval number {interval} is outside 0..{MAX_INTERVAL_NUMBER}")
    return _RPI_PREFIX + struct.pack("<I", interval)


def rolling_proximity_identifier(rpik: bytes, interval: int) -> bytes:
    """The RPI broadcast during `interval` by the key whose RPIK is `rpik`."""
    return rolling_proximity_identifiers(rpik, interval, 1)[0]


def rolling_proximity_identifiers(
    rpik: bytes, start_interval: int, count: int = TEK_ROLLING_PERIOD
) -> list[bytes]:
    """The RPIs of `count` consecutive intervals from `start_interval`, in one AES call.

    Raises:
        ValueError: for a bad RPIK, a count outside 1..144 or intervals past uint32.
    """
    _check_key("rpik", rpik)
    if not 1 <= count <= TEK_ROLLING_PERIOD:
        raise ValueError(f"count must be in 1..{TEK_ROLLING_PERIOD}, got {count}")
    if not 0 <= start_interval <= MAX_INTERVAL_NUMBER - count + 1:
        raise ValueError(f"intervals from {start_interval} (+{count}) exceed the uint32 range")
    plaintext = b"".join(_RPI_PREFIX + struct.pack("<I", start_interval + i) for i in range(count))
    encryptor = Cipher(algorithms.AES(rpik), modes.ECB()).encryptor()  # noqa: S305
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return [ciphertext[i : i + RPI_LENGTH] for i in range(0, len(ciphertext), RPI_LENGTH)]
