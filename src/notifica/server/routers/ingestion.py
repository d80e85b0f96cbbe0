"""``POST /v1/ingestion/check-otp`` and ``/upload`` (immuni-api.md §3.3, §6).

Every response of this router, whatever its status and whether the request was real or a
dummy, leaves at the release time drawn on arrival (`notifica.server.timing`). Headers are
checked first for every request; a dummy is then answered without its body being parsed
beyond ``padding`` and without touching storage.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from notifica.protocol import (
    CLIENT_CLOCK_HEADER,
    DUMMY_DATA_HEADER,
    OTP_TOKEN_PATTERN,
    CheckOtpRequest,
    UploadRequest,
    parse_bearer_token,
    parse_client_clock,
    parse_dummy_header,
)
from notifica.server._backend import Backend
from notifica.server.errors import RequestTooLarge, SchemaError, TooManyRequests, UnauthorizedOtp
from notifica.server.ratelimit import forwarded_address
from notifica.server.routers._http import (
    BackendDep,
    empty,
    error_responses,
    json_body,
    read_body,
    run,
    wire_errors,
)

__all__ = ["client_address", "router"]

router = APIRouter(tags=["ingestion"])

_RESPONSES = {
    204: {"description": "Accepted"},
    **error_responses(SchemaError, UnauthorizedOtp, TooManyRequests, RequestTooLarge),
}

DummyHeader = Annotated[str | None, Header(alias=DUMMY_DATA_HEADER, description="0 or 1")]
BearerHeader = Annotated[str | None, Header(description="Bearer <SHA-256 hex of the OTP>")]


def client_address(request: Request, backend: Backend) -> str:
    """The client's address as seen by this process (or as told by the trusted proxy)."""
    settings = backend.settings
    if settings.client_address_header and (
        value := request.headers.get(settings.client_address_header)
    ):
        return forwarded_address(value, hops=settings.client_address_hops)
    return request.client.host if request.client else ""


async def _admit(
    request: Request, backend: Backend, authorization: str | None, dummy_header: str | None
) -> tuple[bool, str]:
    """The checks every ingestion request passes first: the rate limit (dummies count too),
    then well-formed ``Immuni-Dummy-Data`` and bearer headers. Returns (dummy, token).

    Raises:
        TooManyRequests: over the per-address limit.
        SchemaError: a missing or malformed header.
    """
    limit = backend.settings.ingestion_rate_limit_per_minute
    if limit > 0:
        key = await backend.rate_limiter.address_key(client_address(request, backend))
        if not await backend.rate_limiter.hit(f"ingestion:{key}", limit=limit, window_s=60):
            raise TooManyRequests()
    with wire_errors():
        return (
            parse_dummy_header(dummy_header),
            parse_bearer_token(authorization, pattern=OTP_TOKEN_PATTERN),
        )


@router.post(
    "/v1/ingestion/check-otp",
    status_code=204,
    response_class=Response,
    openapi_extra=json_body(CheckOtpRequest),
    responses=_RESPONSES,
)
async def check_otp(
    request: Request,
    backend: BackendDep,
    authorization: BearerHeader = None,
    dummy_header: DummyHeader = None,
) -> Response:
    """Whether the OTP is authorised (does not consume it)."""
    async with backend.release.hold():
        dummy, token = await _admit(request, backend, authorization, dummy_header)
        await read_body(request, CheckOtpRequest)
        if dummy:
            backend.ingestion.dummy_check_otp()
        else:
            await run(backend.ingestion.check_otp, token)
        return empty()


@router.post(
    "/v1/ingestion/upload",
    status_code=204,
    response_class=Response,
    openapi_extra=json_body(UploadRequest),
    responses=_RESPONSES,
)
async def upload(
    request: Request,
    backend: BackendDep,
    authorization: BearerHeader = None,
    dummy_header: DummyHeader = None,
    client_clock: Annotated[
        str | None, Header(alias=CLIENT_CLOCK_HEADER, description="Unix seconds")
    ] = None,
) -> Response:
    """Upload the TEKs of a positive user with the OTP's hash; the OTP is consumed."""
    async with backend.release.hold():
        dummy, token = await _admit(request, backend, authorization, dummy_header)
        with wire_errors():
            parse_client_clock(client_clock)
        if dummy:
            await read_body(request, CheckOtpRequest)  # padding only: iOS dummies send no keys
            return empty()
        body = await read_body(request, UploadRequest, today=backend.clock.now().date())
        await run(backend.ingestion.upload, token, body)
        return empty()
