"""Android device-integrity attestations: a SafetyNet-style JWS verifier (immuni-api.md §7.4).

The verifier checks what Immuni's ``safety_net.py`` checked, against roots the operator
configures (Google's SafetyNet root in production, a test CA in tests):

1. the JWS has three parts and an ``x5c`` certificate chain in its header;
2. the chain reaches a configured root at the given time, and the leaf is valid for the
   configured host name (``attest.android.com``);
3. the signature (RS256 or ES256) verifies with the leaf's key;
4. ``timestampMs`` is within ±``max_skew_s`` of now;
5. ``nonce`` equals the value recomputed from the report and its salt;
6. ``apkPackageName`` and ``apkCertificateDigestSha256`` are the operator's;
7. ``basicIntegrity`` and ``ctsProfileMatch`` are true and ``evaluationType`` contains
   ``HARDWARE_BACKED``.

Any failure is one `InvalidAttestation`; the API answers 204 regardless (as Immuni did).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from notifica.errors import NotificaError

__all__ = ["AttestationVerifier", "InvalidAttestation", "JwsAttestationVerifier", "load_roots"]


class InvalidAttestation(NotificaError):
    """The attestation failed a check (the detail says which; never shown to clients)."""


class AttestationVerifier(Protocol):
    """Checks a device attestation bound to `expected_nonce`."""

    def verify(self, attestation: str, *, expected_nonce: str, now: datetime) -> None:
        """Return if valid.

        Raises:
            InvalidAttestation: naming the check that failed.
        """
        ...


def load_roots(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM bundle.

    Raises:
        ValueError: if the file holds no certificate.
    """
    roots = x509.load_pem_x509_certificates(path.read_bytes())
    if not roots:
        raise ValueError(f"{path}: no PEM certificate found")
    return roots


def _b64url(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidAttestation("JWS part is not base64url") from exc


class JwsAttestationVerifier:
    """SafetyNet-style JWS attestations checked against operator-configured roots."""

    def __init__(
        self,
        *,
        roots: Sequence[x509.Certificate],
        hostname: str,
        package_name: str,
        apk_digests: Sequence[str],
        max_skew_s: int,
    ) -> None:
        if not roots:
            raise ValueError("at least one root certificate is needed")
        self._store = Store(list(roots))
        self._hostname = hostname
        self._package = package_name
        self._digests = frozenset(apk_digests)
        self._max_skew_ms = max_skew_s * 1000

    def verify(self, attestation: str, *, expected_nonce: str, now: datetime) -> None:
        parts = attestation.split(".")
        if len(parts) != 3:
            raise InvalidAttestation("JWS must have three parts")
        header = self._json(_b64url(parts[0]), "header")
        payload = self._json(_b64url(parts[1]), "payload")
        signature = _b64url(parts[2])
        leaf = self._verify_chain(header, now)
        self._verify_signature(
            leaf, header.get("alg"), f"{parts[0]}.{parts[1]}".encode(), signature
        )
        self._verify_claims(payload, expected_nonce=expected_nonce, now=now)

    @staticmethod
    def _json(raw: bytes, what: str) -> dict[str, Any]:
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidAttestation(f"JWS {what} is not JSON") from exc
        if not isinstance(value, dict):
            raise InvalidAttestation(f"JWS {what} is not an object")
        return value

    def _verify_chain(self, header: dict[str, Any], now: datetime) -> x509.Certificate:
        chain = header.get("x5c")
        if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
            raise InvalidAttestation("JWS header has no x5c chain")
        try:
            certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain]
        except (ValueError, binascii.Error) as exc:
            raise InvalidAttestation("x5c holds a malformed certificate") from exc
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .build_server_verifier(x509.DNSName(self._hostname))
        )
        try:
            verifier.verify(certs[0], certs[1:])
        except VerificationError as exc:
            raise InvalidAttestation(f"certificate chain rejected: {exc}") from exc
        return certs[0]

    @staticmethod
    def _verify_signature(
        leaf: x509.Certificate, alg: object, signed: bytes, signature: bytes
    ) -> None:
        key = leaf.public_key()
        try:
            if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
                if len(signature) != 64:
                    raise InvalidAttestation("ES256 signature must be 64 bytes")
                der = encode_dss_signature(
                    int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                )
                key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
            else:
                raise InvalidAttestation(f"unsupported JWS algorithm {alg!r} for the leaf key")
        except InvalidSignature as exc:
            raise InvalidAttestation("JWS signature does not verify") from exc

    def _verify_claims(
        self, payload: dict[str, Any], *, expected_nonce: str, now: datetime
    ) -> None:
        timestamp = payload.get("timestampMs")
        if not isinstance(timestamp, int) or isinstance(timestamp, bool):
            raise InvalidAttestation("timestampMs missing")
        if abs(timestamp - now.timestamp() * 1000) > self._max_skew_ms:
            raise InvalidAttestation("timestampMs outside the allowed skew")
        if payload.get("nonce") != expected_nonce:
            raise InvalidAttestation("nonce does not match the report")
        if payload.get("apkPackageName") != self._package:
            raise InvalidAttestation("apkPackageName is not the app's")
        digests = payload.get("apkCertificateDigestSha256")
        if (
            not isinstance(digests, list)
            or not digests
            or not isinstance(digests[0], str)  # a list or object here raised TypeError
            or digests[0] not in self._digests
        ):
            raise InvalidAttestation("apkCertificateDigestSha256 is not the app's")
        if payload.get("basicIntegrity") is not True or payload.get("ctsProfileMatch") is not True:
            raise InvalidAttestation("device integrity verdicts are not both true")
        evaluation = payload.get("evaluationType")
        if not isinstance(evaluation, str) or "HARDWARE_BACKED" not in evaluation.split(","):
            raise InvalidAttestation("evaluationType is not HARDWARE_BACKED")
