"""``POST /v1/otp``: HIS authentication, set-if-absent, 409, schema (immuni-api.md §3.2)."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.server import Backend
from tests.server._support import ingestion_headers, make_otp, padded
from tests.server.conftest import BackendFactory, client_for

pytestmark = pytest.mark.anyio


def otp_body(otp: str, clock: SimClock, days_ago: int = 2) -> dict[str, str]:
    return {
        "otp": otp,
        "symptoms_started_on": (clock.now().date() - timedelta(days=days_ago)).isoformat(),
    }


async def test_authorised_otp_works_once_per_life(
    client: httpx.AsyncClient, his_token: str, clock: SimClock
) -> None:
    otp = make_otp(random.Random(1))
    auth = {"Authorization": f"Bearer {his_token}"}
    first = await client.post("/v1/otp", json=otp_body(otp, clock), headers=auth)
    assert (first.status_code, first.headers["cache-control"]) == (204, "no-store")
    again = await client.post("/v1/otp", json=otp_body(otp, clock), headers=auth)
    assert (again.status_code, again.json()) == (
        409,
        {"error_code": 1400, "message": "OTP already authorized."},
    )
    check = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert check.status_code == 204
    clock.advance(150)
    expired = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert expired.status_code == 401
    renewed = await client.post("/v1/otp", json=otp_body(otp, clock), headers=auth)
    assert renewed.status_code == 204


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nhis_wrong", "Basic abc", "Bearer " + "x" * 50],
)
async def test_unauthenticated_calls_get_401(
    client: httpx.AsyncClient,
    backend: Backend,
    his_token: str,
    clock: SimClock,
    authorization: str | None,
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.post(
        "/v1/otp", json=otp_body(make_otp(random.Random(2)), clock), headers=headers
    )
    assert (response.status_code, response.json()["error_code"]) == (401, 1402)
    assert backend.daily_counts(days=1) == []


@pytest.mark.parametrize(
    "change",
    [
        {"otp": "9K2RAY8UUA"},  # wrong check character
        {"otp": "9K2RAY8UU"},  # 9 characters
        {"otp": "9K2RAY8UUQQ"},  # 11 characters, no CUN
        {"otp": "9k2ray8uuq"},  # lower case
        {"otp": "0K2RAY8UUQ"},  # outside the alphabet
        {"otp": 1234567890},
        {"symptoms_started_on": "2030-01-01"},
        {"symptoms_started_on": "2019-01-01"},
        {"symptoms_started_on": "15/06/2020"},
        {"id_test_verification": "not-a-uuid"},
    ],
)
async def test_bad_bodies_get_400(
    client: httpx.AsyncClient,
    backend: Backend,
    his_token: str,
    clock: SimClock,
    change: dict[str, object],
) -> None:
    body: dict[str, object] = {**otp_body("9K2RAY8UUQ", clock), **change}
    response = await client.post(
        "/v1/otp", json=body, headers={"Authorization": f"Bearer {his_token}"}
    )
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)
    assert backend.daily_counts(days=1) == []


async def test_wrong_content_type_gets_400(
    client: httpx.AsyncClient, his_token: str, clock: SimClock
) -> None:
    response = await client.post(
        "/v1/otp",
        content=b'{"otp": "9K2RAY8UUQ", "symptoms_started_on": "2020-06-13"}',
        headers={"Authorization": f"Bearer {his_token}", "Content-Type": "text/plain"},
    )
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)


async def test_cun_flow_accepts_the_hash_with_a_test_id(
    client: httpx.AsyncClient, his_token: str, clock: SimClock
) -> None:
    otp = make_otp(random.Random(3))
    body = {
        **otp_body(hashlib.sha256(otp.encode()).hexdigest(), clock),
        "id_test_verification": "2d8af3b9-2c7d-4a7e-8f5c-9a3f4c1d2e6b",
    }
    response = await client.post(
        "/v1/otp", json=body, headers={"Authorization": f"Bearer {his_token}"}
    )
    assert response.status_code == 204
    check = await client.post(
        "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
    )
    assert check.status_code == 204


async def test_client_certificate_header_authenticates_when_enabled(
    backend_factory: BackendFactory, his_token: str, clock: SimClock
) -> None:
    backend = backend_factory(
        his_cert_header="X-Client-Cert-Sha256", his_cert_clients={"ab" * 32: "test-his"}
    )
    async with client_for(backend) as client:
        ok = await client.post(
            "/v1/otp",
            json=otp_body(make_otp(random.Random(4)), clock),
            headers={"X-Client-Cert-Sha256": "AB" * 32},
        )
        unknown = await client.post(
            "/v1/otp",
            json=otp_body(make_otp(random.Random(5)), clock),
            headers={"X-Client-Cert-Sha256": "cd" * 32},
        )
    assert (ok.status_code, unknown.status_code) == (204, 401)


async def test_certificate_header_is_ignored_by_default(
    client: httpx.AsyncClient, his_token: str, clock: SimClock
) -> None:
    response = await client.post(
        "/v1/otp",
        json=otp_body(make_otp(random.Random(6)), clock),
        headers={"X-Client-Cert-Sha256": "ab" * 32},
    )
    assert response.status_code == 401


async def test_rate_limit_per_his_client(
    backend: Backend, client: httpx.AsyncClient, his_token: str, clock: SimClock
) -> None:
    object.__setattr__(backend.settings, "otp_rate_limit_per_minute", 2)
    auth = {"Authorization": f"Bearer {his_token}"}
    statuses = [
        (
            await client.post(
                "/v1/otp", json=otp_body(make_otp(random.Random(i)), clock), headers=auth
            )
        ).status_code
        for i in range(3)
    ]
    assert statuses == [204, 204, 429]
    clock.advance(60)
    later = await client.post(
        "/v1/otp", json=otp_body(make_otp(random.Random(9)), clock), headers=auth
    )
    assert later.status_code == 204


def test_portal_path_forgives_separators_and_case(backend: Backend, clock: SimClock) -> None:
    otp = make_otp(random.Random(7))
    backend.authorise_otp(f"{otp[:3].lower()}-{otp[3:7]} {otp[7:]}", clock.now().date())
    assert backend.repository.otps.find_live(
        token_hash=hashlib.sha256(otp.encode()).hexdigest(), now=clock.now()
    )
    assert backend.daily_counts(days=1)[0].otps_authorised == 1
