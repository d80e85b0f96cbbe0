"""Analytics endpoints (immuni-api.md §3.6, §7): tokens, slots, attestations, salts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from notifica.clock import SimClock
from notifica.protocol import GoogleOperationalInfoRequest, operational_info_nonce
from notifica.server import Backend, InMemoryDeviceCheck, JwsAttestationVerifier
from tests.server._attest import APK_DIGEST, PACKAGE, AttestationCa
from tests.server.conftest import BackendFactory, client_for

pytestmark = pytest.mark.anyio

TOKEN = "ab" * 64
SALT = "AAECAwQFBgcICQoLDA0ODw=="  # base64 of bytes 0..15


@pytest.fixture(scope="module")
def ca() -> AttestationCa:
    return AttestationCa.make()


def report(clock: SimClock, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 1,
        "exposure_notification": 1,
        "last_risky_exposure_on": (clock.now().date() - timedelta(days=3)).isoformat(),
        "build": 41530,
    }
    body.update(change)
    return body


def google_report(
    ca: AttestationCa, clock: SimClock, salt: str = SALT, **change: Any
) -> dict[str, Any]:
    body = report(clock, **change)
    nonce = operational_info_nonce(
        GoogleOperationalInfoRequest.model_validate_json(
            json.dumps({**body, "salt": salt, "signed_attestation": "x"})
        ),
        salt,
    )
    return {
        **body,
        "salt": salt,
        "signed_attestation": ca.attestation(nonce=nonce, now=clock.now()),
    }


@pytest.fixture
def device_check(clock: SimClock) -> InMemoryDeviceCheck:
    return InMemoryDeviceCheck(clock)


@pytest.fixture
async def analytics_client(
    backend_factory: BackendFactory,
    ca: AttestationCa,
    device_check: InMemoryDeviceCheck,
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, Backend]]:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(ca.root_pem())
    backend = backend_factory(
        attestation_roots=roots, attestation_apk_digests=[APK_DIGEST], device_check=device_check
    )
    async with client_for(backend) as client:
        yield client, backend


async def test_google_report_with_valid_attestation_is_stored_once(
    analytics_client: tuple[httpx.AsyncClient, Backend], ca: AttestationCa, clock: SimClock
) -> None:
    client, backend = analytics_client
    body = google_report(ca, clock)
    headers = {"Immuni-Dummy-Data": "0"}
    first = await client.post("/v1/analytics/google/operational-info", json=body, headers=headers)
    replay = await client.post("/v1/analytics/google/operational-info", json=body, headers=headers)
    assert first.status_code == replay.status_code == 204
    assert backend.repository.analytics.count_operational_info() == 1  # salt reuse dropped
    rows = backend.notifications_by_province(days=1)
    assert [(r.province, r.reports, r.notifications) for r in rows] == [("RM", 1, 1)]


async def test_google_report_with_bad_attestation_is_answered_204_and_dropped(
    analytics_client: tuple[httpx.AsyncClient, Backend], ca: AttestationCa, clock: SimClock
) -> None:
    client, backend = analytics_client
    body = google_report(ca, clock)
    body["province"] = "MI"  # the nonce no longer matches the report
    response = await client.post(
        "/v1/analytics/google/operational-info", json=body, headers={"Immuni-Dummy-Data": "0"}
    )
    assert response.status_code == 204
    assert backend.repository.analytics.count_operational_info() == 0


async def test_dummy_reports_store_nothing(
    analytics_client: tuple[httpx.AsyncClient, Backend], ca: AttestationCa, clock: SimClock
) -> None:
    client, backend = analytics_client
    response = await client.post(
        "/v1/analytics/google/operational-info",
        json=google_report(ca, clock),
        headers={"Immuni-Dummy-Data": "1"},
    )
    apple = await client.post(
        "/v1/analytics/apple/operational-info",
        json=report(clock),
        headers={"Immuni-Dummy-Data": "1", "Authorization": f"Bearer {'cd' * 64}"},
    )
    assert response.status_code == apple.status_code == 204
    assert backend.repository.analytics.count_operational_info() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"province": "ZZ"},
        {"province": "rm"},
        {"exposure_permission": 2},
        {"bluetooth_active": True},
        {"notification_permission": "1"},
        {"last_risky_exposure_on": "2031-01-01"},
        {"last_risky_exposure_on": None},
        {"salt": "short"},
        {"salt": "A" * 24},
        {"signed_attestation": ""},
        {"signed_attestation": "x" * 10_001},
    ],
)
async def test_google_report_schema_errors_get_400(
    analytics_client: tuple[httpx.AsyncClient, Backend],
    ca: AttestationCa,
    clock: SimClock,
    change: dict[str, Any],
) -> None:
    client, backend = analytics_client
    body = {**google_report(ca, clock), **change}
    response = await client.post(
        "/v1/analytics/google/operational-info", json=body, headers={"Immuni-Dummy-Data": "0"}
    )
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)
    assert backend.repository.analytics.count_operational_info() == 0


async def test_apple_token_flow_and_monthly_slots(
    analytics_client: tuple[httpx.AsyncClient, Backend], clock: SimClock
) -> None:
    client, backend = analytics_client
    body = {"analytics_token": TOKEN, "device_token": "ZGV2aWNl"}
    started = await client.post("/v1/analytics/apple/token", json=body)
    assert started.status_code == 202
    await backend.analytics.drain()
    done = await client.post("/v1/analytics/apple/token", json=body)
    assert done.status_code == 201
    headers = {"Immuni-Dummy-Data": "0", "Authorization": f"Bearer {TOKEN}"}
    for _ in range(2):  # one with-exposure report per month: the second is dropped
        assert (
            await client.post(
                "/v1/analytics/apple/operational-info", json=report(clock), headers=headers
            )
        ).status_code == 204
    without = report(clock, exposure_notification=0)
    assert (
        await client.post("/v1/analytics/apple/operational-info", json=without, headers=headers)
    ).status_code == 204
    assert backend.repository.analytics.count_operational_info() == 2
    # Not stored when the user was not notified (immuni-api.md §3.6).
    clock.advance(timedelta(days=20))  # next month: its slots were given with the token
    assert (
        await client.post(
            "/v1/analytics/apple/operational-info", json=report(clock), headers=headers
        )
    ).status_code == 204
    assert backend.repository.analytics.count_operational_info() == 3


async def test_second_token_of_a_device_in_a_month_is_refused(
    analytics_client: tuple[httpx.AsyncClient, Backend],
) -> None:
    client, backend = analytics_client
    device = "ZGV2aWNl"
    await client.post(
        "/v1/analytics/apple/token", json={"analytics_token": TOKEN, "device_token": device}
    )
    await backend.analytics.drain()
    other = {"analytics_token": "ef" * 64, "device_token": device}
    assert (await client.post("/v1/analytics/apple/token", json=other)).status_code == 202
    await backend.analytics.drain()
    assert (await client.post("/v1/analytics/apple/token", json=other)).status_code == 202


async def test_unauthorised_apple_token_stores_nothing(
    analytics_client: tuple[httpx.AsyncClient, Backend], clock: SimClock
) -> None:
    client, backend = analytics_client
    response = await client.post(
        "/v1/analytics/apple/operational-info",
        json=report(clock),
        headers={"Immuni-Dummy-Data": "0", "Authorization": f"Bearer {'12' * 64}"},
    )
    assert response.status_code == 204
    assert backend.repository.analytics.count_operational_info() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"analytics_token": "AB" * 64, "device_token": "ZGV2aWNl"},
        {"analytics_token": "ab" * 63, "device_token": "ZGV2aWNl"},
        {"analytics_token": "ab" * 64, "device_token": "not base64!"},
        {"analytics_token": "ab" * 64, "device_token": "A" * 10_004},
        {"analytics_token": "ab" * 64},
    ],
)
async def test_apple_token_schema_errors_get_400(
    analytics_client: tuple[httpx.AsyncClient, Backend], body: dict[str, str]
) -> None:
    client, _ = analytics_client
    response = await client.post(
        "/v1/analytics/apple/token",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)


@pytest.mark.parametrize(
    "headers",
    [
        {"Immuni-Dummy-Data": "0"},
        {"Immuni-Dummy-Data": "0", "Authorization": "Bearer " + "AB" * 64},
        {"Authorization": f"Bearer {TOKEN}"},
        {"Immuni-Dummy-Data": "yes", "Authorization": f"Bearer {TOKEN}"},
    ],
)
async def test_apple_report_header_errors_get_400(
    analytics_client: tuple[httpx.AsyncClient, Backend], clock: SimClock, headers: dict[str, str]
) -> None:
    client, _ = analytics_client
    response = await client.post(
        "/v1/analytics/apple/operational-info", json=report(clock), headers=headers
    )
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)


async def test_without_roots_android_reports_are_dropped(
    client: httpx.AsyncClient, backend: Backend, ca: AttestationCa, clock: SimClock
) -> None:
    response = await client.post(
        "/v1/analytics/google/operational-info",
        json=google_report(ca, clock),
        headers={"Immuni-Dummy-Data": "0"},
    )
    assert response.status_code == 204
    assert backend.repository.analytics.count_operational_info() == 0


def test_verifier_is_built_from_settings(
    backend_factory: BackendFactory, ca: AttestationCa, tmp_path: Path
) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(ca.root_pem())
    backend = backend_factory(attestation_roots=roots)
    assert isinstance(backend.analytics._attestation, JwsAttestationVerifier)
    assert backend.settings.attestation_package == PACKAGE
