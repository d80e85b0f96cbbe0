"""``GET /v1/settings`` (immuni-api.md §3.1, §8)."""

from __future__ import annotations

import httpx
import pytest

from notifica.server import Backend

pytestmark = pytest.mark.anyio


async def test_settings_per_platform_with_immuni_defaults(client: httpx.AsyncClient) -> None:
    android = await client.get("/v1/settings", params={"platform": "android", "build": "2641892"})
    ios = await client.get("/v1/settings", params={"platform": "ios", "build": "41530"})
    assert android.status_code == ios.status_code == 200
    assert android.headers["cache-control"] == "public, max-age=3600"
    assert android.json()["exposure_info_minimum_risk_score"] == 20
    assert ios.json()["exposure_info_minimum_risk_score"] == 12
    assert android.json()["teks_packet_size"] == 110_000
    assert ios.json()["exposure_configuration"]["attenuation_bucket_scores"] == [
        0,
        0,
        3,
        3,
        3,
        3,
        3,
        3,
    ]


async def test_newest_value_up_to_the_build_wins(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    backend.repository.app_settings.put(
        platform="ios", starting_build=100, name="exposure_info_minimum_risk_score", value=15
    )
    old = await client.get("/v1/settings", params={"platform": "ios", "build": "99"})
    new = await client.get("/v1/settings", params={"platform": "ios", "build": "100"})
    assert old.json()["exposure_info_minimum_risk_score"] == 12
    assert new.json()["exposure_info_minimum_risk_score"] == 15


@pytest.mark.parametrize(
    "query",
    [
        "",
        "platform=ios",
        "build=1",
        "platform=windows&build=1",
        "platform=ios&build=0",
        "platform=ios&build=-1",
        "platform=ios&build=abc",
        "platform=ios&build=2100000001",
        "platform=ios&platform=android&build=1",
        "platform=ios&build=1&build=2",
    ],
)
async def test_bad_query_gets_400(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/v1/settings?{query}")
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)
