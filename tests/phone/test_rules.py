"""The phone's rule tables and small policies: state machines, settings, back-off, trimming,
monthly analytics, attestation."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import UTC, date, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from notifica.phone import (
    JOBS,
    NOTIFIES,
    STATUS_TRANSITIONS,
    UPLOAD_TRANSITIONS,
    AppSettings,
    BadServerResponse,
    CovidStatus,
    Event,
    Job,
    PhoneState,
    PhoneStateError,
    TestCaAttestation,
    UploadStep,
    make_test_attestation_ca,
)
from notifica.phone._analytics import genuine_analytics_due, new_salt
from notifica.phone._reporting import otp_retry_after_s, trim_summaries
from notifica.phone._state import next_status, next_upload_step
from notifica.protocol import OperationalInfoFields, operational_info_nonce

# -- state machines -----------------------------------------------------------------------


def test_every_status_and_step_has_a_row() -> None:
    assert set(STATUS_TRANSITIONS) == set(CovidStatus)
    assert set(UPLOAD_TRANSITIONS) == set(UploadStep)
    assert set(JOBS) == set(CovidStatus)
    assert NOTIFIES == {
        CovidStatus.NEUTRAL: True,
        CovidStatus.RISK: True,
        CovidStatus.POSITIVE: False,
    }


def test_positive_is_final_and_never_at_risk() -> None:
    with pytest.raises(PhoneStateError, match="risky exposure"):
        next_status(CovidStatus.POSITIVE, Event.RISKY_EXPOSURE)
    assert next_status(CovidStatus.RISK, Event.UPLOAD_COMPLETED) is CovidStatus.POSITIVE
    assert Job.DETECT in JOBS[CovidStatus.POSITIVE]  # keeps downloading, like everyone
    assert Job.REMIND not in JOBS[CovidStatus.POSITIVE]


@pytest.mark.parametrize(
    ("step", "event"),
    [
        (UploadStep.IDLE, Event.OTP_ACCEPTED),
        (UploadStep.IDLE, Event.UPLOAD_COMPLETED),
        (UploadStep.OTP_SHOWN, Event.UPLOAD_COMPLETED),
    ],
)
def test_upload_flow_refuses_skipped_steps(step: UploadStep, event: Event) -> None:
    with pytest.raises(PhoneStateError):
        next_upload_step(step, event)


# -- settings -----------------------------------------------------------------------------


def test_settings_default_to_immunis_fallbacks() -> None:
    settings = AppSettings.from_immuni({"faq_url": {"en": "x"}})
    assert settings.exposure_detection_period == 14_400
    assert settings.teks_packet_size == 110_000
    assert settings.dummy_teks_request_probabilities == (0.95, 0.1)
    assert settings.extra == {"faq_url": {"en": "x"}}


@pytest.mark.parametrize(
    "raw",
    [
        [],
        "settings",
        {"exposure_detection_period": -1},
        {"exposure_detection_period": True},
        {"exposure_detection_period": None},
        {"teks_packet_size": 10},
        {"teks_packet_size": 10**9},
        {"teks_packet_size": 1.5},
        {"dummy_teks_request_probabilities": [0.5, 2]},
        {"dummy_teks_request_probabilities": []},
        {"dummy_teks_request_probabilities": "0.95"},
        {"operational_info_without_exposure_sampling_rate": 1.5},
        {"exposure_configuration": [1, 2]},
        {"dummy_analytics_waiting_time": float("inf")},
    ],
)
def test_settings_reject_out_of_range_values(raw: object) -> None:
    with pytest.raises(BadServerResponse, match="settings"):
        AppSettings.from_immuni(raw)


# -- back-off and trimming ----------------------------------------------------------------


def test_backoff_doubles_from_5_s_and_forgets_after_a_day() -> None:
    assert otp_retry_after_s([], 100) == 0
    assert otp_retry_after_s([100], 100) == 5
    assert otp_retry_after_s([100, 105], 105) == 10
    assert otp_retry_after_s([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 11) == 1800
    assert otp_retry_after_s([100], 100 + 86_400) == 0


def _summary(day: int, scores: list[int]) -> dict[str, object]:
    when = date(2024, 3, day).isoformat()
    return {
        "date": when,
        "matched_key_count": 1,
        "days_since_last_exposure": 0,
        "attenuation_durations": [0, 0, 0],
        "maximum_risk_score": max(scores, default=0),
        "exposure_info": [{"date": when, "total_risk_score": s} for s in scores],
    }


def test_trimming_keeps_the_least_recent_summaries_and_the_riskiest_infos() -> None:
    records = [_summary(d, [d, 100 - d]) for d in range(1, 15)]
    kept = trim_summaries(records, today=date(2024, 3, 14), max_summaries=5, max_infos=3)
    assert [r["date"] for r in kept] == [date(2024, 3, d).isoformat() for d in range(1, 6)]
    scores = [i["total_risk_score"] for r in kept for i in r["exposure_info"]]  # type: ignore[attr-defined]
    assert sorted(scores) == [97, 98, 99]


def test_trimming_drops_summaries_older_than_14_days() -> None:
    records = [_summary(1, [5]), _summary(20, [5])]
    kept = trim_summaries(records, today=date(2024, 3, 20), max_summaries=84, max_infos=600)
    assert [r["date"] for r in kept] == ["2024-03-20"]


def test_ties_in_risk_prefer_the_least_recent_info() -> None:
    records = [_summary(10, [7]), _summary(3, [7])]
    kept = trim_summaries(records, today=date(2024, 3, 14), max_summaries=84, max_infos=1)
    assert [len(r["exposure_info"]) for r in kept] == [1, 0]  # type: ignore[arg-type]
    assert kept[0]["date"] == "2024-03-03"


# -- monthly analytics --------------------------------------------------------------------


def test_with_exposure_is_sent_once_per_month() -> None:
    rng = random.Random(1)
    state = PhoneState()
    settings = AppSettings()
    now = datetime(2024, 3, 10, tzinfo=UTC)
    assert genuine_analytics_due(state, now, settings, rng, risky_exposure=True) == "with-exposure"
    assert genuine_analytics_due(state, now, settings, rng, risky_exposure=True) is None
    april = datetime(2024, 4, 2, tzinfo=UTC)
    assert (
        genuine_analytics_due(state, april, settings, rng, risky_exposure=True) == "with-exposure"
    )


def test_without_exposure_window_is_uniform_over_the_month() -> None:
    rng = random.Random(2)
    settings = AppSettings(operational_info_without_exposure_sampling_rate=1.0)
    days: list[float] = []
    for _ in range(3_000):
        state = PhoneState()
        genuine_analytics_due(
            state, datetime(2024, 4, 1, tzinfo=UTC), settings, rng, risky_exposure=False
        )
        assert state.analytics_without_exposure_at_unix_s is not None
        offset = (
            state.analytics_without_exposure_at_unix_s
            - datetime(2024, 4, 1, tzinfo=UTC).timestamp()
        )
        days.append(offset / 86_400)
    assert min(days) >= 0  # U[0, (30 − 1) days)
    assert max(days) < 29
    mean = sum(days) / len(days)
    assert abs(mean - 14.5) < 3.3 * (29 / 12**0.5) / len(days) ** 0.5


def test_without_exposure_is_sent_in_its_window_with_the_sampling_rate() -> None:
    settings = AppSettings()
    sent = 0
    for seed in range(2_000):
        rng = random.Random(seed)
        state = PhoneState()
        genuine_analytics_due(
            state, datetime(2024, 4, 1, tzinfo=UTC), settings, rng, risky_exposure=False
        )
        at = state.analytics_without_exposure_at_unix_s
        assert at is not None
        inside = datetime.fromtimestamp(at + 3_600, UTC)
        sent += (
            genuine_analytics_due(state, inside, settings, rng, risky_exposure=False) is not None
        )
        assert genuine_analytics_due(state, inside, settings, rng, risky_exposure=False) is None
    assert abs(sent / 2_000 - 0.6) < 3.3 * (0.24 / 2_000) ** 0.5


# -- attestation --------------------------------------------------------------------------


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_test_ca_attestation_is_a_verifiable_safetynet_shaped_jws() -> None:
    now = datetime(2024, 3, 10, 12, tzinfo=UTC)
    ca = make_test_attestation_ca(now=now)
    info = OperationalInfoFields(
        province="RM",
        exposure_permission=1,
        bluetooth_active=1,
        notification_permission=0,
        exposure_notification=0,
        last_risky_exposure_on=date(2024, 3, 10),
    )
    salt = new_salt(bytes(16))
    nonce = operational_info_nonce(info, salt)
    jws = TestCaAttestation(ca).attest(base64.b64decode(nonce), now=now)
    header_b64, payload_b64, signature_b64 = jws.split(".")
    header = json.loads(_b64url_decode(header_b64))
    payload = json.loads(_b64url_decode(payload_b64))
    assert header["alg"] == "RS256"
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    root = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][1]))
    assert root.subject == leaf.issuer
    assert leaf.subject.rfc4514_string() == "CN=attest.android.com"
    root_key = root.public_key()
    assert isinstance(root_key, rsa.RSAPublicKey)
    assert leaf.signature_hash_algorithm is not None
    root_key.verify(
        leaf.signature,
        leaf.tbs_certificate_bytes,
        padding.PKCS1v15(),
        leaf.signature_hash_algorithm,
    )
    leaf_key = leaf.public_key()
    assert isinstance(leaf_key, rsa.RSAPublicKey)
    leaf_key.verify(
        _b64url_decode(signature_b64),
        f"{header_b64}.{payload_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    expected = hashlib.sha256(f"RM1100{'2024-03-10'}{salt}".encode()).digest()
    assert payload["nonce"] == base64.b64encode(expected).decode() == nonce
    assert payload["timestampMs"] == int(now.timestamp() * 1000)
    assert payload["apkPackageName"] == "it.ministerodellasalute.immuni"
    assert "HARDWARE_BACKED" in payload["evaluationType"]
