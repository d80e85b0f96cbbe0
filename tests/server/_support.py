"""Helpers that build valid Immuni requests for the backend tests."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import date, datetime, timedelta
from typing import Any

from notifica.protocol import interval_number_at, otp_bearer_token, otp_check_character

OTP_ALPHABET = "AEFHIJKLQRSUWXYZ123456789"
PADDING_TARGET = 110_000
"""``teks_packet_size``: what clients pad each ingestion request to (immuni-api.md §6.1)."""


def make_otp(rng: random.Random) -> str:
    """A valid Immuni OTP from a seeded generator."""
    first = "".join(rng.choice(OTP_ALPHABET) for _ in range(9))
    return first + otp_check_character(first)


def bearer(otp: str) -> str:
    return f"Bearer {otp_bearer_token(otp)}"


def ingestion_headers(otp: str, *, dummy: bool = False, clock: int | None = 0) -> dict[str, str]:
    headers = {
        "Authorization": bearer(otp),
        "Immuni-Dummy-Data": "1" if dummy else "0",
        "Content-Type": "application/json; charset=utf-8",
    }
    if clock is not None:
        headers["Immuni-Client-Clock"] = str(clock)
    return headers


def teks_for(
    now: datetime, *, count: int = 14, rng: random.Random | None = None
) -> list[dict[str, Any]]:
    """`count` daily keys ending yesterday (expired now), newest last."""
    rng = rng or random.Random(1)
    today = interval_number_at(now) // 144 * 144
    return [
        {
            "key_data": base64.b64encode(rng.randbytes(16)).decode(),
            "rolling_start_number": today - 144 * (count - i),
            "rolling_period": 144,
        }
        for i in range(count)
    ]


def summary(day: date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "matched_key_count": 1,
        "days_since_last_exposure": 1,
        "attenuation_durations": [300, 0, 0],
        "maximum_risk_score": 4,
        "exposure_info": [
            {
                "date": day.isoformat(),
                "duration": 900,
                "attenuation_value": 45,
                "attenuation_durations": [300, 600, 0],
                "transmission_risk_level": 1,
                "total_risk_score": 4,
            }
        ],
    }


def padded(body: dict[str, Any], target: int = PADDING_TARGET) -> bytes:
    """`body` with a hex padding field making the JSON `target` bytes long (as Android does)."""
    body = dict(body, padding="")
    size = len(json.dumps(body).encode())
    body["padding"] = "0" * max(0, target - size)
    return json.dumps(body).encode()


def upload_body(
    now: datetime, *, province: str = "RM", count: int = 14, rng: random.Random | None = None
) -> bytes:
    return padded(
        {
            "teks": teks_for(now, count=count, rng=rng),
            "province": province,
            "exposure_detection_summaries": [summary(now.date() - timedelta(days=2))],
        }
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
