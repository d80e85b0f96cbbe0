"""Hypothesis on the four parsers that read untrusted bytes, at a budget set from outside.

* the export reader (batches a phone downloads): `tests.protocol.test_export_fuzz.exercise`;
* the BLE advertisement parser (anything in radio range);
* the OTP validator (what a citizen types, what the HIS sends);
* the Android attestation verifier (a JWS from the phone).

Each may only raise its documented error, and may accept only what is valid. CI runs
``NOTIFICA_FUZZ_EXAMPLES`` (default 100) examples per test; ``scripts/fuzz_long.py`` runs
the same tests with a large budget. The dedicated CI fuzzers stay where they are
(``tests/protocol/test_export_fuzz.py``, ``tests/protocol/test_ble.py``,
``tests/protocol/test_otp.py``); the attestation verifier had none.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from notifica.protocol import (
    OTP_ALPHABET,
    MalformedAdvertisement,
    build_advertisement,
    otp_check_character,
    parse_advertisement,
)
from notifica.server import InvalidAttestation, JwsAttestationVerifier
from tests.protocol.test_export_fuzz import BINS, SEEDS, exercise, mutated
from tests.protocol.test_otp import _check_outcome
from tests.server._attest import APK_DIGEST, PACKAGE, AttestationCa

EXAMPLES = int(os.environ.get("NOTIFICA_FUZZ_EXAMPLES", "100"))
BUDGET = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)
NONCE = "bm9uY2U"
CA = AttestationCa.make()
VALID_JWS = CA.attestation(nonce=NONCE, now=NOW)
VERIFIER = JwsAttestationVerifier(
    roots=[CA.root],
    hostname="attest.android.com",
    package_name=PACKAGE,
    apk_digests=[APK_DIGEST],
    max_skew_s=600,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@st.composite
def mutated_text(draw: st.DrawFn, base: str, alphabet: str) -> str:
    text = list(base)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(text) - 1, 0)))
        operation = draw(st.sampled_from(["set", "insert", "delete", "truncate", "swap"]))
        if operation == "set" and text:
            text[position] = draw(st.sampled_from(alphabet))
        elif operation == "insert":
            text.insert(position, draw(st.sampled_from(alphabet)))
        elif operation == "delete" and text:
            del text[position]
        elif operation == "truncate":
            del text[position:]
        elif operation == "swap" and position + 1 < len(text):
            text[position], text[position + 1] = text[position + 1], text[position]
    return "".join(text)


@st.composite
def mutated_bytes(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        operation = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if operation == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "set" and data:
            data[position] = draw(st.sampled_from([0x00, 0x01, 0x03, 0x16, 0x17, 0x6F, 0xFD, 0xFF]))
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif operation == "delete" and data:
            del data[position]
        elif operation == "truncate":
            del data[position:]
    return bytes(data)


# --- export reader -------------------------------------------------------------------------


@given(mutated(SEEDS + BINS))
@BUDGET
def test_export_reader_raises_only_documented_errors(data: bytes) -> None:
    exercise(data)


# --- advertisement parser ------------------------------------------------------------------

VALID_ADVERTISEMENT = build_advertisement(bytes(range(16)), bytes(range(4)))


@given(st.binary(max_size=64) | mutated_bytes(VALID_ADVERTISEMENT))
@BUDGET
def test_advertisement_parser_raises_only_malformed_advertisement(data: bytes) -> None:
    try:
        advertisement = parse_advertisement(data)
    except MalformedAdvertisement as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        return
    assert len(advertisement.rpi) == 16  # the AEM is whatever follows, as receivers keep it
    assert advertisement.rpi + advertisement.aem in data


# --- OTP validator -------------------------------------------------------------------------

_VALID_OTP = "AEFHIJKLQ" + otp_check_character("AEFHIJKLQ")


@given(st.text(max_size=40) | mutated_text(_VALID_OTP, OTP_ALPHABET + "NO0aeb -\u2013\t\uff11"))
@BUDGET
def test_otp_validator_accepts_only_valid_codes(text: str) -> None:
    _check_outcome(text)


# --- attestation verifier ------------------------------------------------------------------


def _verify(jws: str) -> bool:
    try:
        VERIFIER.verify(jws, expected_nonce=NONCE, now=NOW)
    except InvalidAttestation as exc:
        return not str(exc)  # a rejection always says why
    return True


@given(mutated_text(VALID_JWS, "ABCXYZabcxyz0189-_.=+/ \u00e9"))
@BUDGET
def test_mutated_attestation_is_rejected_unless_its_bytes_are_unchanged(jws: str) -> None:
    if _verify(jws):  # base64url may ignore a change in the trailing padding bits only
        original = [_b64url_decode(part) for part in VALID_JWS.split(".")]
        assert [_b64url_decode(part) for part in jws.split(".")] == original


@given(
    claims=st.dictionaries(
        st.sampled_from(
            [
                "nonce",
                "timestampMs",
                "apkPackageName",
                "apkCertificateDigestSha256",
                "basicIntegrity",
                "ctsProfileMatch",
                "evaluationType",
            ]
        ),
        json_values,
        max_size=3,
    ),
    skew_s=st.integers(-2_000, 2_000),
)
@example(claims={"apkCertificateDigestSha256": [[]]}, skew_s=0)  # was a TypeError (a 500)
@BUDGET
def test_signed_attestation_passes_only_with_every_claim_right(
    claims: dict[str, Any], skew_s: int
) -> None:
    jws = CA.attestation(nonce=NONCE, now=NOW + timedelta(seconds=skew_s), claims=claims)
    payload = json.loads(_b64url_decode(jws.split(".")[1]))
    timestamp = payload["timestampMs"]
    expected = (
        isinstance(timestamp, int)
        and not isinstance(timestamp, bool)
        and abs(timestamp - NOW.timestamp() * 1000) <= 600_000
        and payload["nonce"] == NONCE
        and payload["apkPackageName"] == PACKAGE
        and isinstance(payload["apkCertificateDigestSha256"], list)
        and payload["apkCertificateDigestSha256"][:1] == [APK_DIGEST]
        and payload["basicIntegrity"] is True
        and payload["ctsProfileMatch"] is True
        and isinstance(payload["evaluationType"], str)
        and "HARDWARE_BACKED" in payload["evaluationType"].split(",")
    )
    assert _verify(jws) == expected


@given(header=json_values, payload=json_values, signature=st.binary(max_size=80))
@BUDGET
def test_arbitrary_jws_parts_are_rejected(header: Any, payload: Any, signature: bytes) -> None:
    parts = [json.dumps(header).encode(), json.dumps(payload).encode(), signature]
    jws = ".".join(base64.urlsafe_b64encode(p).decode().rstrip("=") for p in parts)
    assert not _verify(jws)
