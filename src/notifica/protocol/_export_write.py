"""Writing and signing key exports (protocol.md §12; Immuni: immuni-api.md §5.4).

    export.bin = "EK Export v1    " || TemporaryExposureKeyExport
    export.sig = TEKSignatureList{ one TEKSignature per signer }
    zip        = export.bin, export.sig (DEFLATE, pinned metadata: same input, same bytes)

Each signature is DER-encoded ECDSA over the WHOLE export.bin, header included (ENS
``generateSignature``, INT ``SignatureVerifier``; protocol.md §12.8). Keys are written with
every field explicit except ``report_type`` (only when known) and
``days_since_onset_of_symptoms`` (only when set), so that files whose keys carry the same fields
share one wire layout and read back on `read_export`'s fast path.

Signing keys live outside this sans-IO layer: callers pass PEM bytes in. Key generation draws
on the operating system's CSPRNG through `cryptography`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifica.protocol import _export_pb2 as pb
from notifica.protocol._export_types import (
    ECDSA_SHA256_OID,
    ECDSA_SHA512_OID,
    EXPORT_HEADER,
    SignatureInfo,
    TemporaryExposureKeyExport,
)
from notifica.protocol._export_zip import EXPORT_BIN_NAME, EXPORT_SIG_NAME, write_zip
from notifica.protocol._keys import ReportType, TemporaryExposureKey

__all__ = [
    "P256",
    "EcdsaSigner",
    "ExportSigner",
    "generate_signing_key_pem",
    "public_key_pem",
    "write_export_bin",
    "write_export_zip",
]

P256 = "secp256r1"
"""The curve GAEN requires: "signed using the ECDSA on the P-256 Curve with a SHA-256 digest"
(ENS docs/server_functional_requirements.md; protocol.md §12.8)."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    ECDSA_SHA256_OID: hashes.SHA256,
    ECDSA_SHA512_OID: hashes.SHA512,
}
"""The OIDs Google's verifier maps to an algorithm; any other string fails there
(INT ``SignatureVerifier``, protocol.md §12.8)."""


class ExportSigner(Protocol):
    """Something that signs export.bin bytes for one `SignatureInfo` (a key in a file, an HSM)."""

    @property
    def signature_info(self) -> SignatureInfo: ...

    def sign(self, data: bytes) -> bytes:
        """A DER-encoded ECDSA signature of `data`."""
        ...


def _load_private_key(
    pem: bytes, allowed_curves: Collection[str] | None
) -> ec.EllipticCurvePrivateKey:
    if not isinstance(pem, bytes):
        raise TypeError(f"pem must be bytes, got {type(pem).__name__}")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"expected an elliptic-curve private key, got {type(key).__name__}")
    if allowed_curves is not None and key.curve.name not in allowed_curves:
        raise ValueError(
            f"the signing key is on {key.curve.name}; allowed: {', '.join(sorted(allowed_curves))}"
        )
    return key


@dataclass(frozen=True, slots=True)
class EcdsaSigner:
    """An `ExportSigner` holding an elliptic-curve private key (P-256 unless told otherwise)."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    signature_info: SignatureInfo

    def __post_init__(self) -> None:
        if self.signature_info.signature_algorithm not in _HASHES:
            raise ValueError(
                f"signature_algorithm must be one of {sorted(_HASHES)}, "
                f"got {self.signature_info.signature_algorithm!r}"
            )

    @classmethod
    def from_pem(
        cls,
        pem: bytes,
        *,
        signature_info: SignatureInfo,
        allowed_curves: Collection[str] = (P256,),
    ) -> EcdsaSigner:
        """A signer from an unencrypted PKCS#8 or SEC1 PEM private key.

        Raises:
            ValueError: the PEM is not an EC private key on an allowed curve, or the
                signature_info names an algorithm other than the two ECDSA OIDs.
        """
        return cls(_load_private_key(pem, allowed_curves), signature_info)

    def sign(self, data: bytes) -> bytes:
        """DER ECDSA signature of `data` with the hash the signature_info's OID names."""
        algorithm = _HASHES[self.signature_info.signature_algorithm]()
        return self.private_key.sign(data, ec.ECDSA(algorithm))

    def public_key_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM, the form phones are configured with."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def generate_signing_key_pem() -> bytes:
    """A new P-256 private key as unencrypted PKCS#8 PEM (store it with care: mode 0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(private_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM of a PEM private key (any curve).

    Raises:
        ValueError: `private_pem` is not an unencrypted EC private key.
    """
    key = _load_private_key(private_pem, allowed_curves=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _signature_info_message(info: SignatureInfo) -> pb.SignatureInfo:
    message = pb.SignatureInfo()
    if info.app_bundle_id is not None:
        message.app_bundle_id = info.app_bundle_id
    if info.android_package is not None:
        message.android_package = info.android_package
    if info.verification_key_version:
        message.verification_key_version = info.verification_key_version
    if info.verification_key_id:
        message.verification_key_id = info.verification_key_id
    if info.signature_algorithm:
        message.signature_algorithm = info.signature_algorithm
    return message


def _add_keys(target: Any, keys: Sequence[TemporaryExposureKey]) -> None:
    add = target.add
    for key in keys:
        message = add(
            key_data=key.key_data,
            transmission_risk_level=key.transmission_risk_level,
            rolling_start_interval_number=key.rolling_start_interval_number,
            rolling_period=key.rolling_period,
        )
        if key.report_type is not ReportType.UNKNOWN:
            message.report_type = int(key.report_type)
        if key.days_since_onset_of_symptoms is not None:
            message.days_since_onset_of_symptoms = key.days_since_onset_of_symptoms


def write_export_bin(export: TemporaryExposureKeyExport) -> bytes:
    """export.bin: the 16-byte header and the serialized export (protocol.md §12.2–§12.5)."""
    if not isinstance(export, TemporaryExposureKeyExport):
        raise TypeError(f"export must be a TemporaryExposureKeyExport, got {type(export).__name__}")
    message = pb.TemporaryExposureKeyExport(
        start_timestamp=export.start_timestamp,
        end_timestamp=export.end_timestamp,
        region=export.region,
        batch_num=export.batch_num,
        batch_size=export.batch_size,
    )
    message.signature_infos.extend(_signature_info_message(i) for i in export.signature_infos)
    _add_keys(message.keys, export.keys)
    _add_keys(message.revised_keys, export.revised_keys)
    payload: bytes = message.SerializeToString(deterministic=True)
    return EXPORT_HEADER + payload


def write_export_zip(export: TemporaryExposureKeyExport, signers: Sequence[ExportSigner]) -> bytes:
    """The zip a server publishes: export.bin signed by every signer, and export.sig.

    The export's signature_infos become those of the signers, in order (ENS lists the newest
    signing key first). Returns deterministic zip bytes; ECDSA signatures themselves are
    randomized, so two calls differ only inside export.sig.

    Raises:
        ValueError: no signer, or the export already lists other signature_infos.
    """
    if not signers:
        raise ValueError("at least one signer is needed: phones reject unsigned exports")
    infos = tuple(signer.signature_info for signer in signers)
    if export.signature_infos and export.signature_infos != infos:
        raise ValueError("export.signature_infos differ from the signers' signature_info")
    export_bin = write_export_bin(replace(export, signature_infos=infos))
    signature_list = pb.TEKSignatureList()
    for signer in signers:
        signature_list.signatures.add(
            signature_info=_signature_info_message(signer.signature_info),
            batch_num=export.batch_num,
            batch_size=export.batch_size,
            signature=signer.sign(export_bin),
        )
    export_sig: bytes = signature_list.SerializeToString(deterministic=True)
    return write_zip([(EXPORT_BIN_NAME, export_bin), (EXPORT_SIG_NAME, export_sig)])
