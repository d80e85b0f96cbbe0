"""``POST /v1/otp`` for the health operators' system (immuni-api.md §3.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from notifica.protocol import OtpRequest
from notifica.server.errors import (
    OtpAlreadyAuthorized,
    RequestTooLarge,
    SchemaError,
    TooManyRequests,
    Unauthenticated,
)
from notifica.server.routers._http import (
    BackendDep,
    empty,
    error_responses,
    json_body,
    read_body,
    run,
)

__all__ = ["router"]

router = APIRouter(tags=["otp"])


@router.post(
    "/v1/otp",
    status_code=204,
    response_class=Response,
    openapi_extra=json_body(OtpRequest),
    responses={
        204: {"description": "OTP authorised"},
        **error_responses(
            SchemaError, Unauthenticated, OtpAlreadyAuthorized, TooManyRequests, RequestTooLarge
        ),
    },
)
async def authorise_otp(
    request: Request,
    backend: BackendDep,
    authorization: Annotated[str | None, Header(description="Bearer <HIS API key>")] = None,
) -> Response:
    """Authorise an OTP for 150 s with the symptom-onset date; 409 if already authorised."""
    header = backend.settings.his_cert_header
    fingerprint = request.headers.get(header) if header else None
    client = await run(
        backend.his.authenticate, authorization=authorization, cert_fingerprint=fingerprint
    )
    if not await backend.rate_limiter.hit(
        f"his:{client.id}", limit=backend.settings.otp_rate_limit_per_minute, window_s=60
    ):
        raise TooManyRequests()
    otp_request = await read_body(request, OtpRequest, today=backend.clock.now().date())
    await run(backend.otp.authorise, otp_request)
    return empty()
