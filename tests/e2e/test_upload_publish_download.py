"""SYSTEM.md flows 4–6 over HTTP, as issue 3 states them.

The health operator authorises an OTP → the phone checks it → uploads 14 keys → the server
publishes → the phone reads the index, downloads the batch, verifies the signature with the
public key → exactly the keys that pass the onset filter are there, with transmission risk 8,
sorted by key bytes.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.protocol import public_key_pem, read_export, verify_export
from notifica.server import Backend
from tests.server._support import ingestion_headers, make_otp, padded, summary, teks_for

pytestmark = pytest.mark.anyio


async def test_operator_to_verified_download(
    client: httpx.AsyncClient,
    backend: Backend,
    clock: SimClock,
    his_token: str,
    signing_pem: bytes,
) -> None:
    otp = make_otp(random.Random(2020))
    onset = clock.now().date() - timedelta(days=4)
    authorised = await client.post(
        "/v1/otp",
        json={"otp": otp, "symptoms_started_on": onset.isoformat()},
        headers={"Authorization": f"Bearer {his_token}"},
    )
    assert authorised.status_code == 204

    checked = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert checked.status_code == 204

    teks = teks_for(clock.now(), count=14, rng=random.Random(7))
    teks.append(  # today's key, still valid: held back until it expires
        {
            "key_data": base64.b64encode(random.Random(8).randbytes(16)).decode(),
            "rolling_start_number": teks[-1]["rolling_start_number"] + 144,
            "rolling_period": 144,
        }
    )
    body = padded(
        {
            "teks": teks,
            "province": "RM",
            "exposure_detection_summaries": [summary(clock.now().date() - timedelta(days=1))],
        }
    )
    uploaded = await client.post(
        "/v1/ingestion/upload", content=body, headers=ingestion_headers(otp)
    )
    assert uploaded.status_code == 204

    clock.advance(timedelta(hours=1))
    first = backend.publish()
    assert first.batches == (1,)

    index = await client.get("/v1/keys/index")
    assert index.json() == {"oldest": 1, "newest": 1}
    download = await client.get("/v1/keys/1")
    assert download.status_code == 200
    export_file = read_export(download.content)
    verify_export(
        export_file,
        {
            (backend.settings.signing_key_id, backend.settings.signing_key_version): public_key_pem(
                signing_pem
            )
        },
    )

    first_day = datetime.combine(onset - timedelta(days=2), time(), UTC)
    first_interval = int(first_day.timestamp()) // 600
    expected = sorted(
        (base64.b64decode(t["key_data"]), t["rolling_start_number"])
        for t in teks[:-1]
        if t["rolling_start_number"] >= first_interval
    )
    got = [(k.key_data, k.rolling_start_interval_number) for k in export_file.export.keys]
    assert got == expected
    assert len(got) == 6  # onset − 2 days .. yesterday
    assert {k.transmission_risk_level for k in export_file.export.keys} == {8}
    assert {k.rolling_period for k in export_file.export.keys} == {144}
    assert export_file.export.region == "222"

    clock.advance(timedelta(days=1))  # today's key has expired: the next batch has it
    assert backend.publish().batches == (2,)
    second = read_export((await client.get("/v1/keys/2")).content)
    assert [k.key_data for k in second.export.keys] == [base64.b64decode(teks[-1]["key_data"])]
    assert (await client.get("/v1/keys/index")).json() == {"oldest": 1, "newest": 2}

    replay = await client.post("/v1/ingestion/upload", content=body, headers=ingestion_headers(otp))
    assert replay.status_code == 401
