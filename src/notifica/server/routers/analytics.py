"""Analytics: iOS token and operational info, Android operational info (immuni-api.md §3.6).

Operational-info responses are held to the same release schedule as ingestion, so that dummy
and real reports cannot be told apart by timing either.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from notifica.protocol import (
    ANALYTICS_TOKEN_PATTERN,
    DUMMY_DATA_HEADER,
    AppleOperationalInfoRequest,
    AppleTokenRequest,
    GoogleOperationalInfoRequest,
    parse_bearer_token,
    parse_dummy_header,
)
from notifica.server.errors import RequestTooLarge, SchemaError
from notifica.server.routers._http import (
    BackendDep,
    empty,
    error_responses,
    json_body,
    read_body,
    run,
    wire_errors,
)

__all__ = ["router"]

router = APIRouter(tags=["analytics"])

DummyHeader = Annotated[str | None, Header(alias=DUMMY_DATA_HEADER, description="0 or 1")]


@router.post(
    "/v1/analytics/apple/token",
    status_code=201,
    response_class=Response,
    openapi_extra=json_body(AppleTokenRequest),
    responses={
        201: {"description": "Token authorised for this month"},
        202: {"description": "Authorisation started; ask again later"},
        **error_responses(SchemaError, RequestTooLarge),
    },
)
async def apple_token(request: Request, backend: BackendDep) -> Response:
    """Authorise an analytics token with the device-check service (§7.3)."""
    body = await read_body(request, AppleTokenRequest)
    if await run(backend.analytics.token_is_authorised, body.analytics_token):
        return empty(201)
    backend.analytics.start_token_authorisation(body.analytics_token, body.device_token)
    return empty(202)


@router.post(
    "/v1/analytics/apple/operational-info",
    status_code=204,
    response_class=Response,
    openapi_extra=json_body(AppleOperationalInfoRequest),
    responses={204: {"description": "Received"}, **error_responses(SchemaError, RequestTooLarge)},
)
async def apple_operational_info(
    request: Request,
    backend: BackendDep,
    authorization: Annotated[str | None, Header(description="Bearer <analytics token>")] = None,
    dummy_header: DummyHeader = None,
) -> Response:
    """Operational info from iOS, counted against the token's monthly slots."""
    async with backend.release.hold():
        with wire_errors():
            dummy = parse_dummy_header(dummy_header)
            token = parse_bearer_token(authorization, pattern=ANALYTICS_TOKEN_PATTERN)
        body = await read_body(
            request, AppleOperationalInfoRequest, today=backend.clock.now().date()
        )
        if not dummy:
            await run(backend.analytics.apple_operational_info, token, body)
        return empty()


@router.post(
    "/v1/analytics/google/operational-info",
    status_code=204,
    response_class=Response,
    openapi_extra=json_body(GoogleOperationalInfoRequest),
    responses={204: {"description": "Received"}, **error_responses(SchemaError, RequestTooLarge)},
)
async def google_operational_info(
    request: Request, backend: BackendDep, dummy_header: DummyHeader = None
) -> Response:
    """Operational info from Android, with a device-integrity attestation."""
    async with backend.release.hold():
        with wire_errors():
            dummy = parse_dummy_header(dummy_header)
        body = await read_body(
            request, GoogleOperationalInfoRequest, today=backend.clock.now().date()
        )
        if not dummy:
            await run(backend.analytics.google_operational_info, body)
        return empty()
