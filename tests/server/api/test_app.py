"""The app factory: services mounted alone, health, metrics, errors, Date from the clock."""

from __future__ import annotations

import httpx
import pytest

from notifica.clock import SimClock
from notifica.server import Backend, create_app

pytestmark = pytest.mark.anyio


async def test_each_service_can_be_mounted_alone(backend: Backend) -> None:
    app = create_app(backend.settings, backend=backend, services={"ingestion"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        paths = set((await client.get("/openapi.json")).json()["paths"])
        missing = await client.get("/v1/settings?platform=ios&build=1")
        health = await client.get("/")
    assert paths == {"/", "/metrics", "/v1/ingestion/check-otp", "/v1/ingestion/upload"}
    assert missing.status_code == 404
    assert health.status_code == 200


def test_unknown_service_is_refused(backend: Backend) -> None:
    with pytest.raises(ValueError, match="printing"):
        create_app(backend.settings, backend=backend, services={"printing"})


async def test_health_metrics_and_date_header(client: httpx.AsyncClient, clock: SimClock) -> None:
    health = await client.get("/")
    assert (health.status_code, health.content, health.headers["cache-control"]) == (
        200,
        b"",
        "no-store",
    )
    assert health.headers["date"] == "Mon, 15 Jun 2020 10:00:00 GMT"  # the injected clock's
    await client.get("/v1/keys/index")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert 'notifica_http_requests_total{service="keys",status="404"} 1.0' in metrics.text


async def test_metrics_registries_are_per_app(backend: Backend) -> None:
    first = create_app(backend.settings, backend=backend)
    second = create_app(backend.settings, backend=backend)
    assert first.state.metrics_registry is not second.state.metrics_registry


async def test_wrong_method_and_path_get_json_errors(client: httpx.AsyncClient) -> None:
    wrong_method = await client.get("/v1/ingestion/upload")
    unknown = await client.get("/v2/nothing")
    assert wrong_method.status_code == 405
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"error_code", "message"}


async def test_unexpected_errors_are_500_1000_without_details(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    backend.repository.close()
    backend.repository.database.engine.dispose()

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("secret detail")

    backend.app_config.settings_json = broken  # type: ignore[method-assign]
    response = await client.get("/v1/settings?platform=ios&build=1")
    assert (response.status_code, response.json()) == (
        500,
        {"error_code": 1000, "message": "An unknown error occurred."},
    )


async def test_invalid_content_length_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/ingestion/check-otp", content=b"{}", headers={"Content-Length": "abc"}
    )
    assert response.status_code == 400
