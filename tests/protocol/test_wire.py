"""The JSON wire schemas of the Immuni API (notifica.protocol._wire)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date

import pytest

from notifica.protocol import (
    GoogleOperationalInfoRequest,
    KeysIndex,
    MalformedWireMessage,
    OtpRequest,
    TekPayload,
    TemporaryExposureKey,
    UploadRequest,
    operational_info_nonce,
    parse_bearer_token,
    parse_client_clock,
    parse_dummy_header,
    parse_wire,
    validate_tek_list,
)

TODAY = date(2020, 6, 15)
KEY = base64.b64encode(bytes(range(16))).decode()


def tek(start: int, period: int = 144, key: bytes | None = None) -> TekPayload:
    return TekPayload(
        key_data=key or hashlib.sha256(str(start).encode()).digest()[:16],
        rolling_start_number=start,
        rolling_period=period,
    )


def test_upload_round_trips_and_keys_convert() -> None:
    body = {
        "teks": [{"key_data": KEY, "rolling_start_number": 2_650_032, "rolling_period": 144}],
        "province": "RM",
        "exposure_detection_summaries": [],
        "padding": "00ff",
    }
    parsed = parse_wire(UploadRequest, json.dumps(body))
    assert parsed.teks[0].key_data == bytes(range(16))
    assert json.loads(parsed.model_dump_json())["teks"][0]["key_data"] == KEY
    key = parsed.teks[0].to_key(transmission_risk_level=8)
    assert isinstance(key, TemporaryExposureKey)
    assert TekPayload.from_key(key) == parsed.teks[0]


def test_unknown_fields_are_ignored_like_immuni() -> None:
    body = {
        "teks": [{"key_data": KEY, "rolling_start_number": 1, "transmission_risk_level": 3}],
        "province": "EX",
        "exposure_detection_summaries": [],
        "extra": True,
    }
    assert parse_wire(UploadRequest, json.dumps(body)).province == "EX"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"", "body"),
        (b"[]", "body"),
        (b'{"teks": [], "province": "ZZ", "exposure_detection_summaries": []}', "province"),
        (b'{"teks": [], "province": "RM"}', "exposure_detection_summaries"),
        (b'{"teks": [{"key_data": "AAAA", "rolling_start_number": 1}], "province": "RM", '
         b'"exposure_detection_summaries": []}', "teks.0.key_data"),
        (b'{"teks": [], "province": "RM", "exposure_detection_summaries": [], "padding": "G"}',
         "padding"),
    ],
)  # fmt: skip
def test_malformed_bodies_name_the_field(body: bytes, where: str) -> None:
    with pytest.raises(MalformedWireMessage, match=where):
        parse_wire(UploadRequest, body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"oldest": "1", "newest": 2}',
        b'{"oldest": 0, "newest": 2}',
        b'{"oldest": 1.0, "newest": 2}',
        b'{"oldest": 1, "newest": true}',
        b'{"oldest": 1}',
        b'{"oldest": 1, "newest": 9223372036854775808}',
    ],
)
def test_the_keys_index_takes_only_batch_numbers(body: bytes) -> None:
    with pytest.raises(MalformedWireMessage):
        parse_wire(KeysIndex, body)
    assert parse_wire(KeysIndex, b'{"oldest": 1, "newest": 2}') == KeysIndex(oldest=1, newest=2)


def test_padding_is_capped_at_immuni_size() -> None:
    ok = {
        "teks": [],
        "province": "RM",
        "exposure_detection_summaries": [],
        "padding": "0" * 150_000,
    }
    parse_wire(UploadRequest, json.dumps(ok))
    with pytest.raises(MalformedWireMessage, match="padding"):
        parse_wire(UploadRequest, json.dumps({**ok, "padding": "0" * 150_001}))


@pytest.mark.parametrize(
    ("day", "ok"),
    [("2020-06-15", True), ("2020-06-16", False), ("2019-12-18", True), ("2019-12-17", False)],
)
def test_iso_dates_lie_in_the_window_when_today_is_given(day: str, ok: bool) -> None:
    body = json.dumps({"otp": "9K2RAY8UUQ", "symptoms_started_on": day})
    parse_wire(OtpRequest, body)  # no window without today
    if ok:
        parse_wire(OtpRequest, body, today=TODAY)
    else:
        with pytest.raises(MalformedWireMessage, match="symptoms_started_on"):
            parse_wire(OtpRequest, body, today=TODAY)


def test_tek_list_rules() -> None:
    now = 2_650_032 + 144 * 3
    good = [tek(2_650_032 + 144 * i) for i in range(3)]
    validate_tek_list(good, now_interval=now, max_keys=30)
    validate_tek_list(
        [tek(2_650_032), tek(2_650_032 + 144 * 5)], now_interval=now + 999, max_keys=30
    )
    bad_cases = {
        "at most": ([tek(1 + 144 * i) for i in range(4)], 3),
        "key_data": ([tek(2_650_032, key=bytes(16)), tek(2_650_176, key=bytes(16))], 30),
        "unique": ([tek(2_650_032), tek(2_650_032)], 30),
        "aligned": ([tek(2_650_032), tek(2_650_032 + 100)], 30),
        "1..144": ([tek(2_650_032, period=0)], 30),
        "future": ([tek(now)], 30),
    }
    for reason, (teks, cap) in bad_cases.items():
        with pytest.raises(MalformedWireMessage, match=reason):
            validate_tek_list(teks, now_interval=now, max_keys=cap)


def test_headers() -> None:
    token = "a" * 64
    assert parse_bearer_token(f"Bearer {token}", pattern=r"^[A-Za-z0-9]{64}$") == token
    for bad in (None, token, f"bearer {token}", f"Bearer {token}x"):
        with pytest.raises(MalformedWireMessage):
            parse_bearer_token(bad, pattern=r"^[A-Za-z0-9]{64}$")
    assert (parse_dummy_header("1"), parse_dummy_header("0")) == (True, False)
    for bad_flag in (None, "", "true", "01"):
        with pytest.raises(MalformedWireMessage):
            parse_dummy_header(bad_flag)
    assert parse_client_clock("1592215200") == 1_592_215_200
    for bad_clock in (None, "", "1.5", "now", "1" * 30):
        with pytest.raises(MalformedWireMessage):
            parse_client_clock(bad_clock)


def test_operational_info_nonce_follows_immuni() -> None:
    salt = base64.b64encode(bytes(16)).decode()
    info = parse_wire(
        GoogleOperationalInfoRequest,
        json.dumps({
            "province": "RM", "exposure_permission": 1, "bluetooth_active": 0,
            "notification_permission": 1, "exposure_notification": 0,
            "last_risky_exposure_on": "2020-06-01", "salt": salt, "signed_attestation": "x",
        }),
    )  # fmt: skip
    text = f"RM1010{'2020-06-01'}{salt}"
    expected = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert operational_info_nonce(info, salt) == expected
