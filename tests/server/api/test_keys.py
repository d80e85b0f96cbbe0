"""``GET /v1/keys/index`` and ``/v1/keys/{n}`` (immuni-api.md §3.5)."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.server import Backend
from tests.server._support import ingestion_headers, make_otp, upload_body

pytestmark = pytest.mark.anyio


async def upload_and_publish(
    client: httpx.AsyncClient, backend: Backend, clock: SimClock, seed: int
) -> None:
    otp = make_otp(random.Random(seed))
    backend.authorise_otp(otp, clock.now().date() - timedelta(days=10))
    response = await client.post(
        "/v1/ingestion/upload",
        content=upload_body(clock.now(), rng=random.Random(seed)),
        headers=ingestion_headers(otp),
    )
    assert response.status_code == 204
    assert backend.publish().batches


async def test_no_batches_gives_404_1301(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/keys/index")
    assert (response.status_code, response.json()) == (
        404,
        {"error_code": 1301, "message": "No batches found."},
    )


async def test_index_and_batches_with_cache_headers(
    client: httpx.AsyncClient, backend: Backend, clock: SimClock
) -> None:
    await upload_and_publish(client, backend, clock, 1)
    clock.advance(timedelta(days=1))
    await upload_and_publish(client, backend, clock, 2)
    index = await client.get("/v1/keys/index")
    assert index.json() == {"oldest": 1, "newest": 2}
    assert index.headers["cache-control"] == "public, max-age=1800"
    batch = await client.get("/v1/keys/2")
    assert batch.status_code == 200
    assert batch.headers["content-type"] == "application/zip"
    assert batch.headers["cache-control"] == "public, max-age=1296000"
    assert batch.content[:2] == b"PK"


async def test_index_covers_the_last_14_days(
    client: httpx.AsyncClient, backend: Backend, clock: SimClock
) -> None:
    await upload_and_publish(client, backend, clock, 1)
    clock.advance(timedelta(days=16))
    await upload_and_publish(client, backend, clock, 2)
    index = await client.get("/v1/keys/index")
    assert index.json() == {"oldest": 2, "newest": 2}
    still_there = await client.get("/v1/keys/1")  # until retention removes it
    assert still_there.status_code == 200


@pytest.mark.parametrize("index", ["0", "-1", "abc", "1.5", "99999999999999999999", "%20"])
async def test_bad_batch_index_gets_400(client: httpx.AsyncClient, index: str) -> None:
    response = await client.get(f"/v1/keys/{index}")
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)


async def test_unknown_batch_gets_404_1300(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/keys/7")
    assert (response.status_code, response.json()) == (
        404,
        {"error_code": 1300, "message": "Batch not found."},
    )


async def test_duplicate_query_arguments_get_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/keys/index?a=1&a=2")
    assert response.status_code == 400
