"""Checking the signatures of a key export against the public keys a caller trusts.

Rules, after Google's ``SignatureVerifier`` (protocol.md §12.8–§12.9) with notifica's choices:

1. export.sig must hold as many signatures as export.bin lists signature_infos.
2. Each signature names its key by (verification_key_id, verification_key_version) in its own
   SignatureInfo (export.bin's entry at the same position when it has none). A caller's
   `public_keys` maps such names to PEM keys; `fallback_keys` apply to any name (what
   `notifica keys inspect --public-key FILE` uses). Signatures naming no trusted key are
   ignored, as in key rotation; if none names one, the file fails with `UnknownSigningKey`.
3. Every signature that names a trusted key must verify over the whole export.bin.
4. Algorithms: the OIDs 1.2.840.10045.4.3.2 (SHA-256) and .4.3.4 (SHA-512). The May 2020
   Google sample says "ECDSA p-256 SHA-256" instead (fixture #4): accepted as an alias of the
   SHA-256 OID, but only with a P-256 key, the curve that text names. Anything else raises
   `UnsupportedAlgorithm`.
5. Curves: P-256 only (GAEN's requirement) unless the caller lists others in `allowed_curves`.
   The Finnish test files are signed on secp256k1 under the generic SHA-256 OID (fixtures #6,
   #7): refused by default, verified with ``allowed_curves=("secp256r1", "secp256k1")``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifica.protocol._export_read import ExportFile
from notifica.protocol._export_types import (
    ECDSA_SHA256_OID,
    ECDSA_SHA512_OID,
    LEGACY_ECDSA_P256_SHA256,
    SignatureInfo,
)
from notifica.protocol._export_write import P256
from notifica.protocol.errors import (
    InvalidSignature,
    UnknownSigningKey,
    UnsignedExport,
    UnsupportedAlgorithm,
)

__all__ = [
    "SignatureStatus",
    "check_export_signature",
    "load_public_key",
    "verify_export",
]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    ECDSA_SHA256_OID: hashes.SHA256,
    ECDSA_SHA512_OID: hashes.SHA512,
    LEGACY_ECDSA_P256_SHA256: hashes.SHA256,
}


class SignatureStatus(enum.StrEnum):
    """The outcome of checking an export's signatures (``notifica keys inspect``)."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN_KEY = "unknown-key"
    UNSIGNED = "unsigned"


def load_public_key(key: bytes) -> ec.EllipticCurvePublicKey:
    """An EC public key from SubjectPublicKeyInfo PEM or DER bytes.

    Raises:
        ValueError: `key` is not an SPKI elliptic-curve public key.
    """
    if not isinstance(key, bytes):
        raise TypeError(f"public key must be bytes, got {type(key).__name__}")
    try:
        if key.lstrip().startswith(b"-----BEGIN"):
            loaded = serialization.load_pem_public_key(key)
        else:
            loaded = serialization.load_der_public_key(key)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"not a PEM or DER SubjectPublicKeyInfo public key: {exc}") from exc
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise ValueError(f"expected an elliptic-curve public key, got {type(loaded).__name__}")
    return loaded


def _describe(info: SignatureInfo) -> str:
    return f"key id {info.verification_key_id!r} version {info.verification_key_version!r}"


def _verify_one(
    index: int,
    info: SignatureInfo,
    signature: bytes,
    candidates: Sequence[ec.EllipticCurvePublicKey],
    export_bin: bytes,
    allowed_curves: Collection[str],
) -> None:
    algorithm = _HASHES.get(info.signature_algorithm)
    if algorithm is None:
        raise UnsupportedAlgorithm(
            f"export.sig signature {index}: algorithm {info.signature_algorithm!r} is not "
            f"{ECDSA_SHA256_OID} or {ECDSA_SHA512_OID} (ECDSA with SHA-256 / SHA-512)"
        )
    refused = []
    for key in candidates:
        curve = key.curve.name
        if curve not in allowed_curves or (
            info.signature_algorithm == LEGACY_ECDSA_P256_SHA256 and curve != P256
        ):
            refused.append(curve)
            continue
        try:
            key.verify(signature, export_bin, ec.ECDSA(algorithm()))
        except CryptoInvalidSignature:
            continue
        return
    if refused and len(refused) == len(candidates):
        raise UnsupportedAlgorithm(
            f"export.sig signature {index} ({_describe(info)}): the public key is on "
            f"{refused[0]}, but only {', '.join(sorted(allowed_curves))} is allowed "
            "(GAEN requires P-256; allow the curve explicitly to accept it)"
        )
    raise InvalidSignature(
        f"export.sig signature {index} ({_describe(info)}) does not verify over export.bin "
        "with the given public key"
    )


def verify_export(
    file: ExportFile,
    public_keys: Mapping[tuple[str, str], bytes],
    *,
    fallback_keys: Sequence[bytes] = (),
    allowed_curves: Collection[str] = (P256,),
) -> None:
    """Check that a trusted key signed `file` (rules in the module docstring).

    Args:
        file: from `read_export`.
        public_keys: PEM (or DER) SubjectPublicKeyInfo keys by (key id, key version).
        fallback_keys: keys tried for signatures whose (id, version) is not in `public_keys`.
        allowed_curves: curve names (``cryptography``'s: ``"secp256r1"``, ``"secp256k1"``…).

    Raises:
        UnsignedExport: the file has no signature (bare export.bin, zip without export.sig).
        UnknownSigningKey: no signature names a key in `public_keys` (and no fallback key).
        InvalidSignature: a signature that names a trusted key does not verify, or export.sig
            and export.bin disagree on the number of signatures.
        UnsupportedAlgorithm: an algorithm other than ECDSA with SHA-256/512, or a key on a
            curve not in `allowed_curves`.
        ValueError: a given public key is not an EC public key.
    """
    named = {name: load_public_key(pem) for name, pem in public_keys.items()}
    fallback = [load_public_key(pem) for pem in fallback_keys]
    infos = file.metadata.signature_infos
    if not file.signatures:
        where = "export.sig lists no signatures" if file.has_signature_file else "no export.sig"
        raise UnsignedExport(f"the export is unsigned ({where})")
    if len(file.signatures) != len(infos):
        raise InvalidSignature(
            f"export.sig holds {len(file.signatures)} signatures but export.bin lists "
            f"{len(infos)} signature_infos; they must match (protocol.md §12.9)"
        )
    checked = 0
    for index, entry in enumerate(file.signatures):
        info = entry.signature_info or infos[index]
        candidates = [named[info.key_name]] if info.key_name in named else fallback
        if candidates:
            _verify_one(index, info, entry.signature, candidates, file.export_bin, allowed_curves)
            checked += 1
    if not checked:
        names = ", ".join(
            _describe(entry.signature_info or infos[i]) for i, entry in enumerate(file.signatures)
        )
        raise UnknownSigningKey(f"no public key given for the signing key(s): {names}")


def check_export_signature(
    file: ExportFile,
    public_keys: Mapping[tuple[str, str], bytes],
    *,
    fallback_keys: Sequence[bytes] = (),
    allowed_curves: Collection[str] = (P256,),
) -> SignatureStatus:
    """`verify_export` as a status instead of an exception.

    Raises:
        UnsupportedAlgorithm: as `verify_export`: a policy refusal, not a verdict.
        ValueError: a given public key is not an EC public key.
    """
    try:
        verify_export(file, public_keys, fallback_keys=fallback_keys, allowed_curves=allowed_curves)
    except UnsignedExport:
        return SignatureStatus.UNSIGNED
    except UnknownSigningKey:
        return SignatureStatus.UNKNOWN_KEY
    except InvalidSignature:
        return SignatureStatus.INVALID
    return SignatureStatus.VALID
