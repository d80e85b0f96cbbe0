"""check-otp and upload: every rule of immuni-api.md §3.3 and §5.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import random
from datetime import timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.server import Backend
from tests.server._support import (
    bearer,
    ingestion_headers,
    make_otp,
    padded,
    summary,
    teks_for,
    upload_body,
)
from tests.server.conftest import BackendFactory, client_for

pytestmark = pytest.mark.anyio

SCHEMA = {"error_code": 1001, "message": "Request not compliant with the defined schema."}
UNAUTHORIZED = {"error_code": 1101, "message": "Unauthorized OTP."}


@pytest.fixture
def otp(backend: Backend, clock: SimClock) -> str:
    code = make_otp(random.Random(11))
    backend.authorise_otp(code, clock.now().date() - timedelta(days=3))
    return code


def stored(backend: Backend) -> tuple[int, int]:
    """(pending keys, uploads logged): what a rejected request must not change."""
    counts = backend.daily_counts(days=1)
    return backend.repository.uploads.pending_count(), sum(c.uploads_received for c in counts)


async def test_check_otp_accepts_live_otp_without_consuming_it(
    client: httpx.AsyncClient, otp: str
) -> None:
    for _ in range(2):
        response = await client.post(
            "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
        )
        assert response.status_code == 204
        assert response.headers["cache-control"] == "no-store"


async def test_check_otp_rejects_unknown_otp(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/ingestion/check-otp",
        content=padded({}),
        headers=ingestion_headers(make_otp(random.Random(99))),
    )
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_check_otp_rejects_expired_otp(
    client: httpx.AsyncClient, otp: str, clock: SimClock
) -> None:
    clock.advance(150)
    response = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_upload_stores_keys_and_consumes_otp(
    client: httpx.AsyncClient, backend: Backend, otp: str, clock: SimClock
) -> None:
    response = await client.post(
        "/v1/ingestion/upload", content=upload_body(clock.now()), headers=ingestion_headers(otp)
    )
    assert response.status_code == 204
    assert response.headers["cache-control"] == "no-store"
    assert stored(backend) == (14, 1)
    replay = await client.post(
        "/v1/ingestion/upload", content=upload_body(clock.now()), headers=ingestion_headers(otp)
    )
    assert (replay.status_code, replay.json()) == (401, UNAUTHORIZED)
    check = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert check.status_code == 401
    assert stored(backend) == (14, 1)


async def test_upload_rejects_expired_otp_and_stores_nothing(
    client: httpx.AsyncClient, backend: Backend, otp: str, clock: SimClock
) -> None:
    clock.advance(151)
    response = await client.post(
        "/v1/ingestion/upload", content=upload_body(clock.now()), headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    assert stored(backend) == (0, 0)


async def test_upload_accepts_empty_key_list(
    client: httpx.AsyncClient, backend: Backend, otp: str
) -> None:
    body = padded({"teks": [], "province": "RM", "exposure_detection_summaries": []})
    response = await client.post(
        "/v1/ingestion/upload", content=body, headers=ingestion_headers(otp)
    )
    assert response.status_code == 204
    assert stored(backend) == (0, 1)


def _mutate_teks(kind: str, teks: list[dict[str, object]]) -> None:
    if kind == "bad base64":
        teks[0]["key_data"] = "not base64!!"
    elif kind == "short key":
        teks[0]["key_data"] = base64.b64encode(bytes(15)).decode()
    elif kind == "long key":
        teks[0]["key_data"] = base64.b64encode(bytes(17)).decode()
    elif kind == "duplicate key":
        teks[1]["key_data"] = teks[0]["key_data"]
    elif kind == "duplicate interval":
        teks[1]["rolling_start_number"] = teks[0]["rolling_start_number"]
    elif kind == "misaligned interval":
        teks[3]["rolling_start_number"] = int(str(teks[3]["rolling_start_number"])) + 7
    elif kind == "future interval":
        teks[-1]["rolling_start_number"] = int(str(teks[-1]["rolling_start_number"])) + 288
    elif kind == "rolling period 0":
        teks[0]["rolling_period"] = 0
    elif kind == "rolling period 145":
        teks[0]["rolling_period"] = 145
    elif kind == "negative start":
        teks[0]["rolling_start_number"] = -1
    elif kind == "string start":
        teks[0]["rolling_start_number"] = "2650000"


@pytest.mark.parametrize(
    "kind",
    [
        "bad base64",
        "short key",
        "long key",
        "duplicate key",
        "duplicate interval",
        "misaligned interval",
        "future interval",
        "rolling period 0",
        "rolling period 145",
        "negative start",
        "string start",
    ],
)
async def test_upload_rejects_invalid_keys_without_consuming_otp(
    client: httpx.AsyncClient, backend: Backend, otp: str, clock: SimClock, kind: str
) -> None:
    teks = teks_for(clock.now())
    _mutate_teks(kind, teks)
    body = padded(
        {
            "teks": teks,
            "province": "RM",
            "exposure_detection_summaries": [summary(clock.now().date())],
        }
    )
    response = await client.post(
        "/v1/ingestion/upload", content=body, headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)
    assert stored(backend) == (0, 0)
    # Immuni consumed the OTP here (immuni-api.md §12.3); notifica keeps it usable.
    retry = await client.post(
        "/v1/ingestion/upload", content=upload_body(clock.now()), headers=ingestion_headers(otp)
    )
    assert retry.status_code == 204


async def test_upload_rejects_too_many_keys(
    client: httpx.AsyncClient, backend: Backend, otp: str, clock: SimClock
) -> None:
    body = upload_body(clock.now(), count=31)
    response = await client.post(
        "/v1/ingestion/upload", content=body, headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)
    assert stored(backend) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("province", "rm"),
        ("province", "ZZ"),
        ("province", "ROM"),
        ("padding", "XYZ"),
        ("padding", "0" * 150_001),
        ("exposure_detection_summaries", "none"),
        ("countries_of_interest", ["IT"] * 28),
    ],
)
async def test_upload_rejects_bad_fields(
    client: httpx.AsyncClient,
    backend: Backend,
    otp: str,
    clock: SimClock,
    field: str,
    value: object,
) -> None:
    body = {
        "teks": teks_for(clock.now()),
        "province": "RM",
        "exposure_detection_summaries": [],
        field: value,
    }
    response = await client.post(
        "/v1/ingestion/upload", content=json.dumps(body), headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)
    assert stored(backend) == (0, 0)


@pytest.mark.parametrize("missing", ["teks", "province", "exposure_detection_summaries"])
async def test_upload_requires_fields(
    client: httpx.AsyncClient, otp: str, clock: SimClock, missing: str
) -> None:
    body = {"teks": teks_for(clock.now()), "province": "RM", "exposure_detection_summaries": []}
    del body[missing]
    response = await client.post(
        "/v1/ingestion/upload", content=padded(body), headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)


@pytest.mark.parametrize(
    "summary_change",
    [
        {"date": "2030-01-01"},
        {"date": "2019-01-01"},
        {"attenuation_durations": [1, 2]},
        {"attenuation_durations": [1, 2, 3, 4, 5]},
        {"matched_key_count": -1},
        {"maximum_risk_score": 1.5},
    ],
)
async def test_upload_rejects_bad_summaries(
    client: httpx.AsyncClient,
    backend: Backend,
    otp: str,
    clock: SimClock,
    summary_change: dict[str, object],
) -> None:
    bad = dict(summary(clock.now().date()), **summary_change)
    body = {"teks": teks_for(clock.now()), "province": "RM", "exposure_detection_summaries": [bad]}
    response = await client.post(
        "/v1/ingestion/upload", content=padded(body), headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)
    assert stored(backend) == (0, 0)


@pytest.mark.parametrize("path", ["/v1/ingestion/check-otp", "/v1/ingestion/upload"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": None},
        {"Authorization": "Bearer short"},
        {"Authorization": "Basic " + "a" * 64},
        {"Authorization": "Bearer " + "a" * 63 + "!"},
        {"Immuni-Dummy-Data": None},
        {"Immuni-Dummy-Data": "true"},
        {"Immuni-Dummy-Data": ""},
        {"Immuni-Dummy-Data": "2"},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/json; charset=latin-1"},
        {"Content-Type": None},
    ],
)
async def test_ingestion_rejects_bad_headers(
    client: httpx.AsyncClient,
    backend: Backend,
    otp: str,
    clock: SimClock,
    path: str,
    headers: dict[str, str | None],
) -> None:
    sent = ingestion_headers(otp)
    for name, value in headers.items():
        sent.pop(name, None)
        if value is not None:
            sent[name] = value
    response = await client.post(path, content=upload_body(clock.now()), headers=sent)
    assert (response.status_code, response.json()) == (400, SCHEMA)
    assert stored(backend) == (0, 0)


@pytest.mark.parametrize("value", [None, "soon", "1.5", ""])
async def test_upload_requires_integer_client_clock(
    client: httpx.AsyncClient, backend: Backend, otp: str, clock: SimClock, value: str | None
) -> None:
    headers = ingestion_headers(otp, clock=None)
    if value is not None:
        headers["Immuni-Client-Clock"] = value
    response = await client.post(
        "/v1/ingestion/upload", content=upload_body(clock.now()), headers=headers
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)
    assert stored(backend) == (0, 0)


async def test_ingestion_accepts_plain_json_content_type_in_any_case(
    client: httpx.AsyncClient, otp: str
) -> None:
    headers = dict(ingestion_headers(otp), **{"Content-Type": "Application/JSON"})
    response = await client.post("/v1/ingestion/check-otp", content=padded({}), headers=headers)
    assert response.status_code == 204


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"padding"', b'{"padding": 5}'])
async def test_check_otp_rejects_malformed_json(
    client: httpx.AsyncClient, otp: str, body: bytes
) -> None:
    response = await client.post(
        "/v1/ingestion/check-otp", content=body, headers=ingestion_headers(otp)
    )
    assert (response.status_code, response.json()) == (400, SCHEMA)


async def test_body_over_the_cap_is_refused_from_content_length(
    client: httpx.AsyncClient, backend: Backend, otp: str
) -> None:
    body = b'{"padding": "' + b"0" * 300_000 + b'"}'
    response = await client.post(
        "/v1/ingestion/upload", content=body, headers=ingestion_headers(otp)
    )
    assert response.status_code == 413
    assert response.json()["error_code"] == 1001
    assert stored(backend) == (0, 0)


async def test_body_over_the_cap_is_refused_while_streaming(
    client: httpx.AsyncClient, backend: Backend, otp: str
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"padding": "'
        for _ in range(40):
            yield b"0" * 10_000
        yield b'"}'

    response = await client.post(
        "/v1/ingestion/upload", content=chunks(), headers=ingestion_headers(otp)
    )
    assert response.status_code == 413
    assert stored(backend) == (0, 0)


async def test_dummy_upload_stores_nothing_and_keeps_the_otp(
    client: httpx.AsyncClient, backend: Backend, otp: str, clock: SimClock
) -> None:
    response = await client.post(
        "/v1/ingestion/upload",
        content=upload_body(clock.now()),
        headers=ingestion_headers(otp, dummy=True),
    )
    assert response.status_code == 204
    assert stored(backend) == (0, 0)
    ios_dummy = await client.post(
        "/v1/ingestion/upload",
        content=padded({}),
        headers=ingestion_headers(make_otp(random.Random(5)), dummy=True),
    )
    assert ios_dummy.status_code == 204
    check = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert check.status_code == 204


async def test_dummy_check_otp_answers_like_immuni(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    statuses = [
        (
            await client.post(
                "/v1/ingestion/check-otp",
                content=b'{"padding": ""}',
                headers=ingestion_headers(make_otp(random.Random(i)), dummy=True),
            )
        ).status_code
        for i in range(300)
    ]
    assert set(statuses) <= {204, 401}
    assert 0 < statuses.count(401) < 15  # 1 % of 300, from the seeded generator
    assert stored(backend) == (0, 0)


async def test_every_ingestion_response_is_held_to_the_release_schedule(
    client: httpx.AsyncClient, otp: str, clock: SimClock, sleeper
) -> None:
    await client.post("/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp))
    await client.post("/v1/ingestion/check-otp", content=b"{", headers=ingestion_headers(otp))
    await client.post(
        "/v1/ingestion/upload", content=padded({}), headers=ingestion_headers(otp, dummy=True)
    )
    assert len(sleeper.waits) == 3
    assert all(0.05 < wait < 0.25 for wait in sleeper.waits)


async def test_rate_limit_on_ingestion_answers_429(
    backend_factory: BackendFactory, otp: str
) -> None:
    async with client_for(backend_factory(ingestion_rate_limit_per_minute=3)) as client:
        statuses = [
            (
                await client.post(
                    "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
                )
            ).status_code
            for _ in range(5)
        ]
    assert statuses == [204, 204, 204, 429, 429]


async def test_bearer_of_a_different_otp_is_rejected(client: httpx.AsyncClient, otp: str) -> None:
    headers = ingestion_headers(otp)
    headers["Authorization"] = bearer(make_otp(random.Random(12345)))
    response = await client.post("/v1/ingestion/check-otp", content=padded({}), headers=headers)
    assert response.status_code == 401
