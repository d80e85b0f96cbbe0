"""Value types of GAEN key-export files: what export.bin and export.sig hold.

protocol.md §12: a zip with ``export.bin`` (the 16-byte header ``"EK Export v1    "`` and a
proto2 ``TemporaryExposureKeyExport``) and ``export.sig`` (a ``TEKSignatureList``). These types
are the notifica-side form of those messages; `_export_write` turns them into bytes and
`_export_read` back. They check what the format can carry (integer widths, field types), not
policy: a reader must be able to represent what real files hold (protocol.md §12.11).
"""

from __future__ import annotations

from dataclasses import dataclass

from notifica.protocol._keys import TemporaryExposureKey

__all__ = [
    "ECDSA_SHA256_OID",
    "ECDSA_SHA512_OID",
    "EXPORT_HEADER",
    "IMMUNI_REGION",
    "IMMUNI_SIGNATURE_INFO",
    "LEGACY_ECDSA_P256_SHA256",
    "ExportLimits",
    "ExportMetadata",
    "SignatureInfo",
    "SkippedKey",
    "TEKSignature",
    "TemporaryExposureKeyExport",
]

EXPORT_HEADER = b"EK Export v1    "
"""Bytes 0–15 of every export.bin: "EK Export v1" right-padded with spaces (protocol.md §12.2)."""

ECDSA_SHA256_OID = "1.2.840.10045.4.3.2"
"""ecdsa-with-SHA256, the algorithm every current writer names (protocol.md §12.4, §12.8)."""

ECDSA_SHA512_OID = "1.2.840.10045.4.3.4"
"""ecdsa-with-SHA512, the other OID Google's verifier accepts (protocol.md §12.8)."""

LEGACY_ECDSA_P256_SHA256 = "ECDSA p-256 SHA-256"
"""The free-text algorithm of the May 2020 Google sample (fixture #4, protocol.md §12.11).

Readers accept it as an alias of `ECDSA_SHA256_OID` restricted to P-256, the curve its text
names: the sample verifies with its published key that way. Writers never emit it.
"""

IMMUNI_REGION = "222"
"""Italy's mobile country code, Immuni's ``region`` (immuni-api.md §5.4 ``REGION``)."""

_UINT64_MAX = 2**64 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, got {type(value).__name__}")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureInfo:
    """Which key signed a file and how (protocol.md §12.4).

    Empty strings stand for fields a file leaves out (the May 2020 sample has neither key id nor
    version). `app_bundle_id` and `android_package` are the legacy fields 1 and 2: current
    schemas reserve them, but Immuni, the Dutch and the German servers still write field 1, so
    they are kept when present and written when set.
    """

    verification_key_id: str
    verification_key_version: str
    signature_algorithm: str = ECDSA_SHA256_OID
    app_bundle_id: str | None = None
    android_package: str | None = None

    def __post_init__(self) -> None:
        for name in ("verification_key_id", "verification_key_version", "signature_algorithm"):
            _check_str(name, getattr(self, name))
        for name in ("app_bundle_id", "android_package"):
            if (value := getattr(self, name)) is not None:
                _check_str(name, value)

    @property
    def key_name(self) -> tuple[str, str]:
        """``(verification_key_id, verification_key_version)``: how verifiers look keys up."""
        return (self.verification_key_id, self.verification_key_version)


IMMUNI_SIGNATURE_INFO = SignatureInfo(
    verification_key_id=IMMUNI_REGION,
    verification_key_version="v1",
    signature_algorithm=ECDSA_SHA256_OID,
    app_bundle_id="it.ministerodellasalute.immuni",
)
"""The SignatureInfo Immuni writes: key "222" version "v1", ECDSA P-256/SHA-256, and the legacy
bundle id field (immuni-api.md §5.4, ING ``generate_zip.py``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportMetadata:
    """Everything in export.bin except its keys: cheap to keep for files of 10⁶ keys.

    ``start_timestamp`` / ``end_timestamp`` are UTC seconds of the window in which the keys
    reached the server (fixed64); ``batch_num`` is 1-based within ``batch_size`` files, both
    int32 (protocol.md §12.3). Files that omit a field read as 0 / "" (proto2 defaults).
    """

    start_timestamp: int
    end_timestamp: int
    region: str
    batch_num: int = 1
    batch_size: int = 1
    signature_infos: tuple[SignatureInfo, ...] = ()

    def __post_init__(self) -> None:
        _check_int("start_timestamp", self.start_timestamp, 0, _UINT64_MAX)
        _check_int("end_timestamp", self.end_timestamp, 0, _UINT64_MAX)
        _check_str("region", self.region)
        _check_int("batch_num", self.batch_num, _INT32_MIN, _INT32_MAX)
        _check_int("batch_size", self.batch_size, _INT32_MIN, _INT32_MAX)
        infos = tuple(self.signature_infos)
        if not all(isinstance(info, SignatureInfo) for info in infos):
            raise TypeError("signature_infos must hold SignatureInfo values")
        object.__setattr__(self, "signature_infos", infos)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemporaryExposureKeyExport:
    """The whole content of export.bin (protocol.md §12.3).

    `keys` are released for the first time; `revised_keys` (API v1.5) were released before and
    changed report type or were revoked. Order is kept as given: writers that publish should
    sort by key_data first, so that the order carries no information (protocol.md §12.10).
    """

    start_timestamp: int
    end_timestamp: int
    region: str
    batch_num: int = 1
    batch_size: int = 1
    signature_infos: tuple[SignatureInfo, ...] = ()
    keys: tuple[TemporaryExposureKey, ...] = ()
    revised_keys: tuple[TemporaryExposureKey, ...] = ()

    def __post_init__(self) -> None:
        # The metadata checks are the same; building it validates those fields.
        self.metadata  # noqa: B018
        for name in ("keys", "revised_keys"):
            keys = tuple(getattr(self, name))
            if not all(isinstance(key, TemporaryExposureKey) for key in keys):
                raise TypeError(f"{name} must hold TemporaryExposureKey values")
            object.__setattr__(self, name, keys)
        object.__setattr__(self, "signature_infos", tuple(self.signature_infos))

    @property
    def metadata(self) -> ExportMetadata:
        """The fields of this export other than its keys."""
        return ExportMetadata(
            start_timestamp=self.start_timestamp,
            end_timestamp=self.end_timestamp,
            region=self.region,
            batch_num=self.batch_num,
            batch_size=self.batch_size,
            signature_infos=self.signature_infos,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TEKSignature:
    """One entry of export.sig's ``TEKSignatureList`` (protocol.md §12.7).

    `signature` is a DER-encoded ECDSA signature of the whole export.bin, header included.
    `signature_info` is None when the entry leaves it out.
    """

    signature_info: SignatureInfo | None
    batch_num: int
    batch_size: int
    signature: bytes

    def __post_init__(self) -> None:
        if self.signature_info is not None and not isinstance(self.signature_info, SignatureInfo):
            raise TypeError("signature_info must be a SignatureInfo or None")
        _check_int("batch_num", self.batch_num, _INT32_MIN, _INT32_MAX)
        _check_int("batch_size", self.batch_size, _INT32_MIN, _INT32_MAX)
        if not isinstance(self.signature, bytes):
            raise TypeError(f"signature must be bytes, got {type(self.signature).__name__}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedKey:
    """A key of a file that could not be a `TemporaryExposureKey`, and why.

    `field` is ``"keys"`` or ``"revised_keys"``; `index` is the key's position in that list in
    the file (counting every key, valid or not). Google's matcher skips such keys one by one
    (nanopb ``max_size = 16`` on key_data; protocol.md §12.11), and so does `read_export`.
    """

    field: str
    index: int
    reason: str

    def __str__(self) -> str:
        return f"export.bin {self.field}[{self.index}]: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportLimits:
    """Hard caps that keep reading a hostile file bounded in memory and time.

    The defaults admit the largest files real servers make with room to spare: ENS splits
    batches at 500,000 keys (``EXPORT_FILE_MAX_RECORDS``, protocol.md §12.10) and a key costs
    30–36 bytes, so 64 MiB of export.bin holds about 1.8 million full keys. export.sig holds
    one ~150-byte entry per signing key (ENS allows at most 10). A GAEN zip has two entries;
    a few more are tolerated so that `allow_extra_entries` can skip them.
    """

    max_file_bytes: int = 64 * 1024 * 1024
    max_export_bin_bytes: int = 64 * 1024 * 1024
    max_export_sig_bytes: int = 64 * 1024
    max_zip_entries: int = 16

    def __post_init__(self) -> None:
        for name in (
            "max_file_bytes",
            "max_export_bin_bytes",
            "max_export_sig_bytes",
            "max_zip_entries",
        ):
            _check_int(name, getattr(self, name), 1, 2**40)
