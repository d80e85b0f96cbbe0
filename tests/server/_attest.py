"""A test CA and SafetyNet-style JWS attestations signed by its leaf (for analytics tests)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

APK_DIGEST = base64.b64encode(bytes(range(32))).decode()
PACKAGE = "it.ministerodellasalute.immuni"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: str,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    host: str | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2035, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if host is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class AttestationCa:
    """Root → intermediate → leaf for a host, with the leaf's key to sign attestations."""

    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey

    @classmethod
    def make(cls, host: str = "attest.android.com") -> AttestationCa:
        root_key, inter_key, leaf_key = _key(), _key(), _key()
        root = _certificate("Test Root", root_key, "Test Root", root_key, ca=True)
        inter = _certificate("Test Intermediate", inter_key, "Test Root", root_key, ca=True)
        leaf = _certificate(host, leaf_key, "Test Intermediate", inter_key, ca=False, host=host)
        return cls(root=root, intermediate=inter, leaf=leaf, leaf_key=leaf_key)

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def attestation(
        self, *, nonce: str, now: datetime, claims: dict[str, Any] | None = None
    ) -> str:
        """A JWS like SafetyNet's, with every check passing unless `claims` override."""
        header = {
            "alg": "RS256",
            "x5c": [
                base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                for c in (self.leaf, self.intermediate)
            ],
        }
        payload: dict[str, Any] = {
            "nonce": nonce,
            "timestampMs": int(now.timestamp() * 1000),
            "apkPackageName": PACKAGE,
            "apkCertificateDigestSha256": [APK_DIGEST],
            "basicIntegrity": True,
            "ctsProfileMatch": True,
            "evaluationType": "BASIC,HARDWARE_BACKED",
        }
        payload.update(claims or {})
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
        )
        signature = self.leaf_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
