"""The two ways check-otp and upload are served: the plain ASGI front that `create_app` puts
before FastAPI, and the FastAPI routes (OpenAPI, other methods, the router mounted alone);
and the async PostgreSQL statements behind them."""

from __future__ import annotations

import email.utils
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import make_url

from notifica.clock import SimClock
from notifica.server import Backend
from notifica.server.errors import ApiError
from notifica.server.repository import DatabaseError, StoredUpload
from notifica.server.repository.ingestion_pg import AsyncIngestionStatements
from notifica.server.routers import ingestion
from tests.server._support import ingestion_headers, make_otp, padded, upload_body
from tests.server.api.test_ingestion import SCHEMA, UNAUTHORIZED

pytestmark = pytest.mark.anyio


@pytest.fixture
def otp(backend: Backend, clock: SimClock) -> str:
    code = make_otp(random.Random(31))
    backend.authorise_otp(code, clock.now().date() - timedelta(days=3))
    return code


async def test_each_response_carries_one_date_from_the_clock(
    client: httpx.AsyncClient, otp: str, clock: SimClock
) -> None:
    for path, body in [
        ("/v1/ingestion/check-otp", padded({})),
        ("/v1/ingestion/check-otp", b"{"),
        ("/v1/ingestion/upload", upload_body(clock.now())),
        ("/v1/ingestion/check-otp", padded({})),
    ]:
        response = await client.post(path, content=body, headers=ingestion_headers(otp))
        dates = response.headers.get_list("date")
        assert len(dates) == 1, (path, response.status_code, dates)
        assert email.utils.parsedate_to_datetime(dates[0]) == clock.now().replace(microsecond=0)


async def test_other_methods_reach_fastapi(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/ingestion/upload")
    assert response.status_code == 405


@asynccontextmanager
async def _router_alone(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.backend = backend
    app.include_router(ingestion.router)

    async def render(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status_code)

    app.add_exception_handler(ApiError, render)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_fastapi_routes_apply_the_same_rules(
    backend: Backend, otp: str, clock: SimClock
) -> None:
    async with _router_alone(backend) as client:
        check = await client.post(
            "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(otp)
        )
        assert check.status_code == 204
        bad = await client.post(
            "/v1/ingestion/check-otp", content=b'{"padding": "G"}', headers=ingestion_headers(otp)
        )
        assert (bad.status_code, bad.json()) == (400, SCHEMA)
        first = await client.post(
            "/v1/ingestion/upload", content=upload_body(clock.now()), headers=ingestion_headers(otp)
        )
        replay = await client.post(
            "/v1/ingestion/upload", content=upload_body(clock.now()), headers=ingestion_headers(otp)
        )
    assert first.status_code == 204
    assert (replay.status_code, replay.json()) == (401, UNAUTHORIZED)
    assert backend.repository.uploads.pending_count() == 14


async def test_async_statements_are_used_on_postgresql_only(backend: Backend) -> None:
    statements = backend.repository.async_ingestion
    assert (statements is None) == backend.repository.database.is_sqlite


async def test_unreachable_database_is_a_database_error() -> None:
    statements = AsyncIngestionStatements(
        make_url("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"), size=2
    )
    now = datetime(2020, 6, 15, tzinfo=UTC)
    with pytest.raises(DatabaseError):
        await statements.find_live(token_hash="0" * 64, now=now)
    upload = StoredUpload(keys=(), province="RM", exposure_detection_summaries=[])
    with pytest.raises(DatabaseError):
        await statements.consume_otp_and_store(token_hash="0" * 64, upload=upload, now=now)
    statements.close()
