"""The phone engine against a scripted backend: onboarding, radio, detection, reporting."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from notifica.clock import SimClock
from notifica.phone import (
    RISK_NOTIFICATION_TEXT,
    DetectionCache,
    MemoryStore,
    OnboardingError,
    OtpBackoff,
    Permissions,
    Phone,
    PhoneStateError,
    UnauthorizedOtp,
)
from notifica.protocol import (
    IMMUNI_SIGNATURE_INFO,
    EcdsaSigner,
    TemporaryExposureKey,
    generate_signing_key_pem,
    parse_advertisement,
)

from .support import (
    ALL_PERMISSIONS,
    START,
    ScriptedBackend,
    exchange,
    make_phone,
    signed_batch,
)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def published_keys(phone: Phone) -> list[TemporaryExposureKey]:
    return [
        TemporaryExposureKey(
            key_data=bytes.fromhex(k),
            rolling_start_interval_number=s,
            rolling_period=p,
            transmission_risk_level=8,
        )
        for k, s, p in phone.state.teks
    ]


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


# -- onboarding ---------------------------------------------------------------------------


def test_onboarding_needs_the_age_confirmation(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock, onboard=False)
    with pytest.raises(OnboardingError, match="14"):
        phone.onboard(age_confirmed=False, province="RM", permissions=ALL_PERMISSIONS)
    assert not phone.status().onboarded


@pytest.mark.parametrize("province", ["XX", "R", "ROMA", "", "r m", "12"])
def test_onboarding_refuses_unknown_provinces(
    backend: ScriptedBackend, clock: SimClock, province: str
) -> None:
    phone = make_phone(backend, clock, onboard=False)
    with pytest.raises(OnboardingError, match="province"):
        phone.onboard(age_confirmed=True, province=province, permissions=ALL_PERMISSIONS)


def test_service_active_says_why_not(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock, onboard=False)
    assert phone.status().inactive_reasons == (
        "onboarding not completed",
        "exposure notifications are not allowed",
        "Bluetooth is off",
    )
    phone.onboard(age_confirmed=True, province="mi", permissions=ALL_PERMISSIONS)
    status = phone.status()
    assert status.service_active
    assert status.province == "MI"
    phone.set_permissions(Permissions(exposure_notifications=True, bluetooth=False))
    assert phone.status().inactive_reasons == ("Bluetooth is off",)
    with pytest.raises(PhoneStateError, match="Bluetooth is off"):
        phone.current_advertisement()
    assert phone.on_advertisement(bytes(31), -60) is False


# -- keys and radio -----------------------------------------------------------------------


def test_advertisement_rotates_every_interval_and_key_every_day(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    phone = make_phone(backend, clock)
    first = phone.current_advertisement()
    assert len(first) == 31
    assert phone.current_advertisement() == first
    clock.advance(600)
    second = phone.current_advertisement()
    assert parse_advertisement(second).rpi != parse_advertisement(first).rpi
    assert len(phone.state.teks) == 1
    clock.advance(timedelta(days=1))
    phone.current_advertisement()
    assert len(phone.state.teks) == 2
    day = phone.day_identifiers()
    assert len(day) == 144


def test_tx_power_and_confidence_are_in_the_metadata(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    from notifica.protocol import BluetoothMetadata, decrypt_aem, derive_aemk

    phone = make_phone(backend, clock)
    rpi, aem = phone.current_identifiers()
    tek = bytes.fromhex(phone.state.teks[0][0])
    metadata = BluetoothMetadata.from_bytes(decrypt_aem(derive_aemk(tek), rpi, aem))
    assert metadata.tx_power_dbm == -30
    assert metadata.calibration_confidence == 3
    assert (metadata.major_version, metadata.minor_version) == (1, 1)


def test_malformed_advertisements_are_ignored_and_counted(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    a, b = make_phone(backend, clock, seed=1), make_phone(backend, clock, seed=2)
    good = a.current_advertisement()
    recorded = b.record_scan([(good, -70), (b"\x00" * 31, -70), (good[:20], -60), (b"", -1)])
    assert recorded == 1
    status = b.status()
    assert status.malformed_advertisements == 3
    assert status.sightings_stored == 1


def test_sightings_carry_the_rssi_correction_and_previous_scan(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    from dataclasses import replace

    from .support import DEVICE

    store = MemoryStore()
    a = make_phone(backend, clock, seed=1)
    b = make_phone(backend, clock, seed=2, store=store)
    object.__setattr__(b, "_device", replace(DEVICE, rssi_correction_db=5))
    b.on_advertisement(a.current_advertisement(), -70)
    clock.advance(240)
    b.on_advertisement(a.current_advertisement(), -72)
    seen = store.observations_since(0)
    assert seen.rssi_dbm.tolist() == [-65, -67]
    assert seen.previous_scan_unix_s.tolist() == [0, int(START.timestamp())]


# -- detection ----------------------------------------------------------------------------


def _contact_scenario(
    backend: ScriptedBackend, clock: SimClock
) -> tuple[Phone, Phone, Phone, date]:
    a = make_phone(backend, clock, seed=1)
    b = make_phone(backend, clock, seed=2)
    c = make_phone(backend, clock, seed=3)
    contact_day = clock.now().date()
    exchange(a, b, clock, minutes=20, attenuation_db=55)
    exchange(a, c, clock, minutes=5, attenuation_db=80)
    clock.advance(timedelta(days=1))
    a.current_advertisement()  # yesterday's key has expired: publishable
    backend.batches[1] = signed_batch(published_keys(a))
    return a, b, c, contact_day


def test_close_contact_notifies_with_the_contact_date(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    _, b, c, contact_day = _contact_scenario(backend, clock)
    report = run(b.detect())
    assert report.ok, report.problems
    assert report.notified
    assert report.last_contact_date == contact_day
    status = b.status()
    assert status.covid_status == "risk"
    assert status.last_contact_date == contact_day
    assert status.notification == RISK_NOTIFICATION_TEXT
    assert status.last_processed_index == 1
    far = run(c.detect())
    assert far.matched_keys == 1
    assert not far.notified
    assert c.status().covid_status == "neutral"


def test_detection_never_downloads_a_batch_twice(backend: ScriptedBackend, clock: SimClock) -> None:
    _, b, _, _ = _contact_scenario(backend, clock)
    run(b.detect())
    run(b.detect())
    backend.batches[2] = signed_batch([])
    run(b.detect())
    assert backend.batch_downloads == [1, 2]
    assert b.status().last_processed_index == 2


def test_detection_keeps_only_the_last_15_batches(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    phone = make_phone(backend, clock)
    empty = signed_batch([])
    for index in range(1, 31):
        backend.batches[index] = empty
    report = run(phone.detect())
    assert report.batches_processed == tuple(range(16, 31))
    assert backend.batch_downloads == list(range(16, 31))


def test_tick_detects_every_detection_period(backend: ScriptedBackend, clock: SimClock) -> None:
    backend.settings = {"exposure_detection_period": 3_600}
    phone = make_phone(backend, clock)
    runs = 0
    for _ in range(6 * 12):  # six hours in 5-minute steps
        report = run(phone.tick())
        runs += report.detection is not None
        clock.advance(300)
    assert runs == 6


def test_tick_is_idle_when_nothing_is_due(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock)
    run(phone.tick())
    count = len(backend.requests)
    clock.advance(1)
    assert run(phone.tick()).detection is None
    assert len(backend.requests) == count


def _fault(kind: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if kind == "timeout" and path == "/v1/keys/index":
            raise httpx.ReadTimeout("slow")
        if kind == "5xx" and path == "/v1/settings":
            return httpx.Response(503)
        if kind == "garbage" and path == "/v1/keys/index":
            return httpx.Response(200, text="<html>")
        if kind == "bad-settings" and path == "/v1/settings":
            return httpx.Response(200, json={"exposure_detection_period": -5})
        return None

    return handler


@pytest.mark.parametrize("kind", ["timeout", "5xx", "garbage", "bad-settings"])
def test_server_failures_are_reported_and_retried(
    backend: ScriptedBackend, clock: SimClock, kind: str
) -> None:
    _, b, _, contact_day = _contact_scenario(backend, clock)
    backend.fault = _fault(kind)
    report = run(b.detect())
    assert report.problems
    assert not report.notified
    status = b.status()
    assert status.detection_problems == report.problems
    assert status.last_processed_index is None
    assert status.covid_status == "neutral"
    backend.fault = None
    clock.advance(timedelta(hours=4))
    later = run(b.tick()).detection
    assert later is not None
    assert later.notified
    assert b.status().detection_problems == ()
    assert b.status().last_contact_date == contact_day


@pytest.mark.parametrize("damage", ["truncated", "wrong-key", "unsigned"])
def test_untrusted_batches_are_skipped_and_retried(
    backend: ScriptedBackend, clock: SimClock, damage: str
) -> None:
    a, b, _, _ = _contact_scenario(backend, clock)
    good = backend.batches[1]
    if damage == "truncated":
        backend.batches[1] = good[: len(good) // 2]
    elif damage == "wrong-key":
        other = EcdsaSigner.from_pem(
            generate_signing_key_pem(), signature_info=IMMUNI_SIGNATURE_INFO
        )
        backend.batches[1] = signed_batch(published_keys(a), signer=other)
    else:
        from notifica.protocol import TemporaryExposureKeyExport, write_export_bin

        export = TemporaryExposureKeyExport(
            start_timestamp=1, end_timestamp=2, region="222", keys=tuple(published_keys(a))
        )
        backend.batches[1] = write_export_bin(export)  # a bare export.bin: no signature
    report = run(b.detect())
    assert report.batches_failed == (1,)
    assert not report.notified
    assert "batch 1" in b.status().detection_problems[0]
    assert b.status().covid_status == "neutral"
    backend.batches[1] = good
    clock.advance(timedelta(hours=4))
    assert run(b.detect()).notified


def test_an_index_going_backwards_is_reported(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock)
    backend.batches = {i: signed_batch([]) for i in (1, 2, 3)}
    run(phone.detect())
    backend.index_override = {"oldest": 1, "newest": 2}
    report = run(phone.detect())
    assert "went backwards" in report.problems[0]
    assert phone.status().last_processed_index == 3


def test_a_shared_cache_prepares_each_batch_once(backend: ScriptedBackend, clock: SimClock) -> None:
    cache = DetectionCache()
    phones = [make_phone(backend, clock, seed=s, cache=cache) for s in range(5)]
    backend.batches[1] = signed_batch(published_keys(phones[0]))
    clock.advance(timedelta(days=1))
    for phone in phones:
        run(phone.detect())
    assert cache.prepared_count == 1


# -- reminders and expiry -----------------------------------------------------------------


def test_reminders_until_acknowledged_and_expiry_after_14_days(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    _, b, _, contact_day = _contact_scenario(backend, clock)
    run(b.tick())
    assert b.status().notifications_shown == 1
    clock.advance(timedelta(days=1, minutes=1))
    assert run(b.tick()).reminded
    assert b.status().notifications_shown == 2
    b.acknowledge_alert()
    assert b.status().notification is None
    clock.advance(timedelta(days=2))
    assert not run(b.tick()).reminded
    while clock.now().date() < contact_day + timedelta(days=14):
        clock.advance(timedelta(hours=6))
        run(b.tick())
    assert b.status().covid_status == "neutral"


# -- reporting positive -------------------------------------------------------------------


def test_report_positive_flow_and_never_notified(backend: ScriptedBackend, clock: SimClock) -> None:
    a, _, _, _ = _contact_scenario(backend, clock)
    otp = a.report_positive()
    assert len(otp) == 12
    assert otp[3] == otp[8] == "-"
    with pytest.raises(UnauthorizedOtp):
        run(a.verify_otp())
    with pytest.raises(OtpBackoff) as backoff:
        run(a.verify_otp())
    assert 0 < backoff.value.retry_after_s <= 5
    clock.advance(5)
    with pytest.raises(UnauthorizedOtp):
        run(a.verify_otp())
    assert a.otp_retry_after_s() == pytest.approx(10)
    clock.advance(10)
    backend.authorise(otp)
    run(a.verify_otp())
    run(a.upload_keys())
    assert a.status().covid_status == "positive"
    (upload,) = backend.uploads
    assert upload["province"] == "RM"
    assert len(upload["teks"]) == len(a.state.teks) <= 14
    # Even the phone's own keys published back never notify a positive user.
    backend.batches[2] = signed_batch(published_keys(a))
    assert not run(a.detect()).notified
    assert a.status().covid_status == "positive"


def test_upload_before_the_otp_is_verified_is_refused(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    phone = make_phone(backend, clock)
    with pytest.raises(PhoneStateError):
        run(phone.upload_keys())
    phone.report_positive()
    with pytest.raises(PhoneStateError):
        run(phone.upload_keys())


def test_backoff_is_capped_at_30_minutes(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock)
    phone.report_positive()
    for _ in range(12):
        with pytest.raises(UnauthorizedOtp):
            run(phone.verify_otp())
        clock.advance(phone.otp_retry_after_s())
    assert phone.otp_retry_after_s() == 0
    with pytest.raises(UnauthorizedOtp):
        run(phone.verify_otp())
    assert phone.otp_retry_after_s() == pytest.approx(30 * 60)


def test_real_and_dummy_ingestion_requests_have_the_same_size(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    backend.settings = {"dummy_teks_average_opportunity_waiting_time": 600}
    a, _, _, _ = _contact_scenario(backend, clock)
    run(a.detect())  # fetch the settings
    for _ in range(2_000):
        run(a.tick())
        clock.advance(5)
    dummies = [r for r in backend.ingestion() if r[3]["immuni-dummy-data"] == "1"]
    assert {r[1] for r in dummies} == {"/v1/ingestion/check-otp", "/v1/ingestion/upload"}
    otp = a.report_positive()
    backend.authorise(otp)
    run(a.verify_otp())
    run(a.upload_keys())
    sizes = {r[2] for r in backend.ingestion()}
    assert sizes == {110_000}


def _v2_rule() -> Any:
    from notifica.protocol import (
        DailySummariesConfig,
        DailySummaryRiskRule,
        DiagnosisKeysDataMapping,
        Infectiousness,
        ReportType,
    )

    return DailySummaryRiskRule(
        config=DailySummariesConfig(
            attenuation_bucket_thresholds_db=(50, 63, 73),
            attenuation_bucket_weights=(1.0, 1.0, 0.5, 0.0),
            report_type_weights={ReportType.CONFIRMED_TEST: 1.0},
            infectiousness_weights={Infectiousness.STANDARD: 1.0, Infectiousness.HIGH: 1.0},
        ),
        mapping=DiagnosisKeysDataMapping.from_onsets(
            {},
            report_type_when_missing=ReportType.CONFIRMED_TEST,
            infectiousness_when_days_since_onset_missing=Infectiousness.STANDARD,
        ),
        minimum_daily_score_s=900,
    )


def test_the_v2_daily_summary_rule_is_selectable(backend: ScriptedBackend, clock: SimClock) -> None:
    a = make_phone(backend, clock, seed=1)
    near = make_phone(backend, clock, seed=2, risk_rule=_v2_rule())
    brief = make_phone(backend, clock, seed=3, risk_rule=_v2_rule())
    contact_day = clock.now().date()
    exchange(a, near, clock, minutes=20, attenuation_db=55)
    exchange(a, brief, clock, minutes=8, attenuation_db=55)
    clock.advance(timedelta(days=1))
    a.current_advertisement()
    backend.batches[1] = signed_batch(published_keys(a))
    report = run(near.detect())
    assert report.notified
    assert report.last_contact_date == contact_day
    assert not run(brief.detect()).notified
    assert near.state.summaries == []  # v2 keeps no v1 summaries to upload


@pytest.mark.parametrize(
    "index",
    [
        {"oldest": 0, "newest": 3},
        {"oldest": 5, "newest": 3},
        {"oldest": -1, "newest": -1},
        {"oldest": "one", "newest": 2},
        {"newest": 2},
        {"oldest": 1, "newest": 2**70},
    ],
)
def test_out_of_range_indexes_are_reported(
    backend: ScriptedBackend, clock: SimClock, index: dict[str, Any]
) -> None:
    phone = make_phone(backend, clock)
    backend.index_override = index
    report = run(phone.detect())
    assert report.problems
    assert "keys index" in report.problems[0]
    assert phone.status().last_processed_index is None
    assert backend.batch_downloads == []


def test_an_oversized_batch_is_not_trusted(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock)
    backend.batches[1] = b"PK" + bytes(33 << 20)
    report = run(phone.detect())
    assert report.batches_failed == (1,)
    assert "exceeds" in report.problems[0]


def test_the_same_otp_cannot_upload_twice(backend: ScriptedBackend, clock: SimClock) -> None:
    phone = make_phone(backend, clock)
    otp = phone.report_positive()
    backend.authorise(otp)
    run(phone.verify_otp())
    backend.authorised.clear()  # expired or used meanwhile
    with pytest.raises(UnauthorizedOtp):
        run(phone.upload_keys())
    assert phone.status().upload_step == "otp-shown"
    assert phone.status().covid_status == "neutral"


def test_a_replayed_identifier_counts_only_20_minutes(
    backend: ScriptedBackend, clock: SimClock
) -> None:
    a = make_phone(backend, clock, seed=1)
    b = make_phone(backend, clock, seed=2)
    captured = a.current_advertisement()
    for _ in range(30):  # the same advertisement heard for two hours: a replay
        b.on_advertisement(captured, -30 - 55)
        clock.advance(240)
    clock.advance(timedelta(days=1))
    a.current_advertisement()
    backend.batches[1] = signed_batch(published_keys(a))
    report = run(b.detect())
    assert report.matched_sightings == 30
    assert report.dropped_sightings == 24  # kept: 0, 4, ..., 20 minutes after the first


def test_detection_names_the_matched_keys(backend: ScriptedBackend, clock: SimClock) -> None:
    a, b, _, _ = _contact_scenario(backend, clock)
    report = run(b.detect())
    keys = {k.key_data for k in a.temporary_exposure_keys()}
    assert len(report.matched_key_data) == 1
    assert set(report.matched_key_data) <= keys
