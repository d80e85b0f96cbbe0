"""``POST /v1/ingestion/check-otp`` and ``/upload`` (immuni-api.md §3.3, §6).

Every response of this service, whatever its status and whether the request was real or a
dummy, leaves at the release time drawn on arrival (`notifica.server.timing`). Headers are
checked first for every request; a dummy is then answered without its body being parsed
beyond ``padding`` and without touching storage.

The rules live in `Ingestion`, which sees only header values, the client address and the
body. Two front ends call it: `IngestionEndpoints`, a plain ASGI layer that `create_app`
puts in front of FastAPI for these two POSTs (every phone sends them, padded to 110 kB, so
FastAPI's routing and dependency solving were most of their cost), and the FastAPI routes
of `router`, which document the endpoints in ``/openapi.json``, answer other methods with 405
and serve the POSTs wherever the router is mounted without the ASGI layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from notifica.protocol import (
    CLIENT_CLOCK_HEADER,
    DUMMY_DATA_HEADER,
    OTP_TOKEN_PATTERN,
    CheckOtpRequest,
    UploadRequest,
    parse_bearer_token,
    parse_client_clock,
    parse_dummy_header,
    parse_wire,
)
from notifica.server._backend import Backend
from notifica.server.errors import RequestTooLarge, SchemaError, TooManyRequests, UnauthorizedOtp
from notifica.server.ratelimit import client_address
from notifica.server.routers._http import (
    JSON_TYPES,
    BackendDep,
    empty,
    error_responses,
    json_body,
    wire_errors,
)

__all__ = ["CHECK_OTP_PATH", "UPLOAD_PATH", "Ingestion", "IngestionEndpoints", "router"]

CHECK_OTP_PATH = "/v1/ingestion/check-otp"
UPLOAD_PATH = "/v1/ingestion/upload"

router = APIRouter(tags=["ingestion"])

_RESPONSES = {
    204: {"description": "Accepted"},
    **error_responses(SchemaError, UnauthorizedOtp, TooManyRequests, RequestTooLarge),
}

DummyHeader = Annotated[str | None, Header(alias=DUMMY_DATA_HEADER, description="0 or 1")]
BearerHeader = Annotated[str | None, Header(description="Bearer <SHA-256 hex of the OTP>")]
ClockHeader = Annotated[str | None, Header(alias=CLIENT_CLOCK_HEADER, description="Unix seconds")]

Headers = Mapping[str, str]
"""Request headers by lower-case name (the first value of a repeated header)."""


class Ingestion:
    """check-otp and upload over one backend, whatever serves the HTTP."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def client_address(self, headers: Headers, peer: str) -> str:
        """The client's address as seen by this process (or as told by the trusted proxy)."""
        settings = self.backend.settings
        return client_address(
            headers, peer, header=settings.client_address_header, hops=settings.client_address_hops
        )

    async def _admit(self, headers: Headers, peer: str) -> tuple[bool, str]:
        """The checks every ingestion request passes first: the rate limit (dummies count
        too), then well-formed ``Immuni-Dummy-Data`` and bearer headers. Returns (dummy, token).

        Raises:
            TooManyRequests: over the per-address limit.
            SchemaError: a missing or malformed header.
        """
        backend = self.backend
        limit = backend.settings.ingestion_rate_limit_per_minute
        if limit > 0:
            key = await backend.rate_limiter.address_key(self.client_address(headers, peer))
            if not await backend.rate_limiter.hit(f"ingestion:{key}", limit=limit, window_s=60):
                raise TooManyRequests()
        with wire_errors():
            return (
                parse_dummy_header(headers.get("immuni-dummy-data")),
                parse_bearer_token(headers.get("authorization"), pattern=OTP_TOKEN_PATTERN),
            )

    @staticmethod
    def _json(headers: Headers) -> None:
        content_type = headers.get("content-type", "").lower().replace(" ", "")
        if content_type not in JSON_TYPES:
            raise SchemaError("Content-Type must be application/json")

    async def check_otp(
        self, headers: Headers, peer: str, body: Callable[[], Awaitable[bytes]]
    ) -> None:
        """Succeed (204) if the OTP is live; does not consume it. `body` reads the body.

        Raises:
            ApiError: the Immuni error to answer with.
        """
        dummy, token = await self._admit(headers, peer)
        self._json(headers)
        with wire_errors():
            parse_wire(CheckOtpRequest, await body())
        if dummy:
            self.backend.ingestion.dummy_check_otp()
        else:
            await self.backend.ingestion.check_otp_async(token)

    async def upload(
        self, headers: Headers, peer: str, body: Callable[[], Awaitable[bytes]]
    ) -> None:
        """Store the keys of a positive user (204); the OTP is consumed.

        Raises:
            ApiError: the Immuni error to answer with.
        """
        dummy, token = await self._admit(headers, peer)
        with wire_errors():
            parse_client_clock(headers.get("immuni-client-clock"))
        self._json(headers)
        if dummy:
            with wire_errors():  # padding only: iOS dummies send no keys
                parse_wire(CheckOtpRequest, await body())
            return
        today = self.backend.clock.now().date()
        with wire_errors():
            request = parse_wire(UploadRequest, await body(), today=today)
        await self.backend.ingestion.upload_async(token, request)


ExceptionHandlers = Mapping[Any, Callable[[Request, Any], Response | Awaitable[Response]]]


class _Disconnected(Exception):
    """The client went away before sending the whole body."""


class IngestionEndpoints:
    """``POST`` check-otp and upload as plain ASGI, in front of the rest of the app.

    Errors are rendered by the app's own exception handlers (so both front ends answer alike),
    after the release time, like every other response of the service.

    Args:
        app: the rest of the app, which gets every other request.
        backend: the backend to serve.
        handlers: the app's exception handlers by class (``FastAPI.exception_handlers``).
    """

    def __init__(self, app: ASGIApp, *, backend: Backend, handlers: ExceptionHandlers) -> None:
        self.app = app
        self.ingestion = Ingestion(backend)
        self.handlers = handlers
        self.routes = {CHECK_OTP_PATH: self.ingestion.check_otp, UPLOAD_PATH: self.ingestion.upload}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        handle = self.routes.get(path)
        if handle is None:
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        client = scope.get("client")

        async def body() -> bytes:
            chunks = []
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected()
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    return b"".join(chunks)

        try:
            async with self.ingestion.backend.release.hold():
                await handle(headers, client[0] if client else "", body)
        except _Disconnected:
            return
        except Exception as exc:
            await self._error(exc, scope, receive, send)
            return
        # Fresh messages each time: middleware may add headers to them.
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _error(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        for kind in type(exc).__mro__:
            handler = self.handlers.get(kind)
            if handler is not None:
                response = handler(Request(scope, receive), exc)
                if inspect.isawaitable(response):
                    response = await response
                await response(scope, receive, send)
                return
        raise exc


def _route_headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers.setdefault(name, value)
    return headers


@router.post(
    CHECK_OTP_PATH,
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
        peer = request.client.host if request.client else ""
        await Ingestion(backend).check_otp(_route_headers(request), peer, request.body)
        return empty()


@router.post(
    UPLOAD_PATH,
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
    client_clock: ClockHeader = None,
) -> Response:
    """Upload the TEKs of a positive user with the OTP's hash; the OTP is consumed."""
    async with backend.release.hold():
        peer = request.client.host if request.client else ""
        await Ingestion(backend).upload(_route_headers(request), peer, request.body)
        return empty()
