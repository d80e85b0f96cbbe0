"""``GET /v1/keys/index`` and ``GET /v1/keys/{index}`` (immuni-api.md §3.5)."""

from __future__ import annotations

import re
import sys

from fastapi import APIRouter, Request, Response

from notifica.protocol import KeysIndex
from notifica.server.errors import BatchNotFound, NoBatchesFound, SchemaError
from notifica.server.routers._http import (
    BackendDep,
    cache_public,
    error_responses,
    require_unique_query,
    run,
)

__all__ = ["router"]

INDEX_CACHE_S = 1800
"""``MANIFEST_CACHE_TIME_IN_MINUTES`` = 30 (immuni-api.md §3.5)."""
BATCH_CACHE_S = 1_296_000
"""``SINGLE_BATCH_CACHE_TIME_IN_DAYS`` = 15: batches never change."""

router = APIRouter(tags=["keys"])


@router.get(
    "/v1/keys/index",
    response_model=KeysIndex,
    responses=error_responses(NoBatchesFound, SchemaError),
)
async def keys_index(request: Request, backend: BackendDep) -> Response:
    """The oldest and newest batch index of the last 14 days."""
    require_unique_query(request)
    index = await run(backend.keys.index)
    return Response(
        index.model_dump_json(), media_type="application/json", headers=cache_public(INDEX_CACHE_S)
    )


@router.get(
    "/v1/keys/{batch_index}",
    response_class=Response,
    responses={
        200: {
            "description": "The signed batch (export.bin + export.sig)",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses(SchemaError, BatchNotFound),
    },
)
async def keys_batch(batch_index: str, request: Request, backend: BackendDep) -> Response:
    """One signed batch, immutable."""
    require_unique_query(request)
    if not re.fullmatch(r"[0-9]{1,19}", batch_index) or not 1 <= int(batch_index) <= sys.maxsize:
        raise SchemaError("batch index must be an integer in 1..2^63-1")
    content = await run(backend.keys.batch, int(batch_index))
    return Response(content, media_type="application/zip", headers=cache_public(BATCH_CACHE_S))
