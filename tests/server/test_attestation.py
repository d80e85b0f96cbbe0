"""The SafetyNet-style JWS verifier against a test CA (immuni-api.md §7.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifica.server import InvalidAttestation, JwsAttestationVerifier
from tests.server._attest import APK_DIGEST, PACKAGE, AttestationCa

NOW = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> AttestationCa:
    return AttestationCa.make()


def verifier(ca: AttestationCa, **overrides: object) -> JwsAttestationVerifier:
    options: dict[str, object] = {
        "roots": [ca.root],
        "hostname": "attest.android.com",
        "package_name": PACKAGE,
        "apk_digests": [APK_DIGEST],
        "max_skew_s": 600,
    }
    options.update(overrides)
    return JwsAttestationVerifier(**options)  # type: ignore[arg-type]


def test_valid_attestation_passes(ca: AttestationCa) -> None:
    verifier(ca).verify(ca.attestation(nonce="n", now=NOW), expected_nonce="n", now=NOW)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "other"}, "nonce"),
        ({"timestampMs": int((NOW - timedelta(minutes=11)).timestamp() * 1000)}, "skew"),
        ({"timestampMs": "soon"}, "timestampMs"),
        ({"apkPackageName": "com.example"}, "apkPackageName"),
        ({"apkCertificateDigestSha256": ["AAAA"]}, "apkCertificateDigestSha256"),
        ({"basicIntegrity": False}, "integrity"),
        ({"ctsProfileMatch": False}, "integrity"),
        ({"evaluationType": "BASIC"}, "HARDWARE_BACKED"),
    ],
)
def test_each_claim_is_checked(ca: AttestationCa, claims: dict[str, object], reason: str) -> None:
    jws = ca.attestation(nonce="n", now=NOW, claims=claims)
    with pytest.raises(InvalidAttestation, match=reason):
        verifier(ca).verify(jws, expected_nonce="n", now=NOW)


def test_chain_to_another_root_is_rejected(ca: AttestationCa) -> None:
    other = AttestationCa.make()
    with pytest.raises(InvalidAttestation, match="chain"):
        verifier(ca).verify(other.attestation(nonce="n", now=NOW), expected_nonce="n", now=NOW)


def test_leaf_for_another_host_is_rejected() -> None:
    wrong_host = AttestationCa.make(host="evil.example.com")
    with pytest.raises(InvalidAttestation, match="chain"):
        verifier(wrong_host).verify(
            wrong_host.attestation(nonce="n", now=NOW), expected_nonce="n", now=NOW
        )


def test_tampered_payload_fails_the_signature(ca: AttestationCa) -> None:
    header, _payload, signature = ca.attestation(nonce="n", now=NOW).split(".")
    other_payload = ca.attestation(nonce="m", now=NOW).split(".")[1]
    with pytest.raises(InvalidAttestation, match="signature"):
        verifier(ca).verify(f"{header}.{other_payload}.{signature}", expected_nonce="m", now=NOW)


@pytest.mark.parametrize("jws", ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30", "W10.e30.e30"])
def test_malformed_tokens_are_rejected(ca: AttestationCa, jws: str) -> None:
    with pytest.raises(InvalidAttestation):
        verifier(ca).verify(jws, expected_nonce="n", now=NOW)


def test_expired_chain_is_rejected(ca: AttestationCa) -> None:
    later = datetime(2040, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidAttestation, match="chain"):
        verifier(ca).verify(ca.attestation(nonce="n", now=later), expected_nonce="n", now=later)


def test_verifier_needs_a_root() -> None:
    with pytest.raises(ValueError, match="root"):
        JwsAttestationVerifier(
            roots=[], hostname="h", package_name="p", apk_digests=[], max_skew_s=1
        )
