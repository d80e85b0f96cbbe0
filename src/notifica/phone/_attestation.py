"""A software attestation provider: SafetyNet-shaped JWS signed under a test CA.

Real devices get their attestation from Google's SafetyNet (immuni-api.md §7.4); a simulated
or test phone has none, so `TestCaAttestation` plays that part with a certificate chain that
the operator's server is configured to trust (a test CA, never a public one). The JWS has the
shape the server's verifier checks: header ``{"alg": "RS256", "x5c": [leaf, CA]}`` (DER,
base64), payload with ``nonce`` (base64 of the nonce), ``timestampMs``, ``apkPackageName``,
``apkCertificateDigestSha256``, ``basicIntegrity``, ``ctsProfileMatch`` and
``evaluationType`` including ``HARDWARE_BACKED``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "ATTESTATION_HOST",
    "IMMUNI_PACKAGE",
    "AttestationCa",
    "TestCaAttestation",
    "make_test_attestation_ca",
]

ATTESTATION_HOST = "attest.android.com"
"""The leaf certificate's host name that SafetyNet verifiers require (immuni-api.md §7.4)."""

IMMUNI_PACKAGE = "it.ministerodellasalute.immuni"
"""``apkPackageName`` the server expects (immuni-api.md §7.4)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationCa:
    """A test CA and a leaf for ``attest.android.com`` issued by it (PEM)."""

    ca_certificate_pem: bytes
    leaf_certificate_pem: bytes
    leaf_private_key_pem: bytes


def make_test_attestation_ca(*, now: datetime, days: int = 3650) -> AttestationCa:
    """A fresh RSA test CA and attestation leaf, valid from `now` for `days` days."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "notifica test attestation CA")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ATTESTATION_HOST)])
    start, end = now - timedelta(days=1), now + timedelta(days=days)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(leaf_name)
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(ATTESTATION_HOST)]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return AttestationCa(
        ca_certificate_pem=ca.public_bytes(serialization.Encoding.PEM),
        leaf_certificate_pem=leaf.public_bytes(serialization.Encoding.PEM),
        leaf_private_key_pem=leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


class TestCaAttestation:
    """Signs SafetyNet-shaped attestations with a leaf certificate from a test CA."""

    __test__ = False  # not a pytest test class despite its name

    def __init__(
        self,
        ca: AttestationCa,
        *,
        package_name: str = IMMUNI_PACKAGE,
        apk_certificate_digest: str = "",
        hardware_backed: bool = True,
    ) -> None:
        key = serialization.load_pem_private_key(ca.leaf_private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the attestation leaf key must be RSA")
        self._key = key
        chain = (ca.leaf_certificate_pem, ca.ca_certificate_pem)
        self._x5c = [
            base64.b64encode(
                x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
            ).decode()
            for pem in chain
        ]
        self._package_name = package_name
        self._apk_digest = apk_certificate_digest
        self._hardware_backed = hardware_backed

    def attest(self, nonce: bytes, *, now: datetime) -> str:
        header = {"alg": "RS256", "x5c": self._x5c}
        payload = {
            "nonce": base64.b64encode(nonce).decode(),
            "timestampMs": int(now.timestamp() * 1000),
            "apkPackageName": self._package_name,
            "apkCertificateDigestSha256": [self._apk_digest],
            "basicIntegrity": True,
            "ctsProfileMatch": True,
            "evaluationType": "BASIC,HARDWARE_BACKED" if self._hardware_backed else "BASIC",
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(payload, separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)
