"""ASGI middleware: the hard body-size cap, the ``Date`` header, and request metrics.

Pure ASGI (no BaseHTTPMiddleware) to keep the per-request cost low: the simulator sends
millions of requests through one app.
"""

from __future__ import annotations

import email.utils
import json

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notifica.clock import Clock
from notifica.server.errors import RequestTooLarge, SchemaError

__all__ = ["BodyLimitMiddleware", "MetricsMiddleware"]

_SERVICES = (
    ("/v1/settings", "app-configuration"),
    ("/v1/otp", "otp"),
    ("/v1/ingestion/", "ingestion"),
    ("/v1/keys/", "keys"),
    ("/v1/analytics/", "analytics"),
)


def _error_message(error: SchemaError) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(error.body()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    return error.status_code, headers, body


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes`: at once from Content-Length, else while reading."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None:
            error: SchemaError | None = None
            if not declared.isdigit():
                error = SchemaError("Content-Length is not an integer")
            elif int(declared) > self.max_bytes:
                error = RequestTooLarge(f"body of {int(declared)} bytes over {self.max_bytes}")
            if error is not None:
                status, headers, body = _error_message(error)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(f"body over {self.max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)


class MetricsMiddleware:
    """Counts requests per service and status, times them, and sets ``Date`` from the clock.

    Android trusts the ``Date`` header as server time (immuni-api.md §3.1); taking it from the
    injected clock makes a simulated server tell simulated time.
    """

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.requests = Counter(
            "notifica_http_requests",
            "HTTP requests by Immuni service and status",
            ["service", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "notifica_http_request_duration_seconds",
            "Time from arrival to the response start, by Immuni service",
            ["service"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        service = next((name for prefix, name in _SERVICES if path.startswith(prefix)), "other")
        started = self.clock.monotonic()

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = email.utils.format_datetime(self.clock.now(), usegmt=True).encode()
                message["headers"] = [*message.get("headers", []), (b"date", date)]
                self.requests.labels(service, str(message["status"])).inc()
                self.duration.labels(service).observe(self.clock.monotonic() - started)
            await send(message)

        await self.app(scope, receive, send_with_date)
