"""`create_app`: the FastAPI app over one `Backend`, with the routers of the chosen services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException

from notifica import __version__
from notifica.clock import Clock
from notifica.protocol import (
    AppleOperationalInfoRequest,
    AppleTokenRequest,
    CheckOtpRequest,
    GoogleOperationalInfoRequest,
    OtpRequest,
    UploadRequest,
)
from notifica.server._backend import Backend
from notifica.server.errors import ApiError, SchemaError, ServiceUnavailable, UnknownError
from notifica.server.middleware import BodyLimitMiddleware, MetricsMiddleware
from notifica.server.repository import DatabaseError
from notifica.server.routers import analytics, app_config, health, ingestion, keys, otp
from notifica.server.routers._http import NO_STORE
from notifica.server.settings import Settings

__all__ = ["create_app"]

_log = logging.getLogger("notifica.server")

ROUTERS = {
    "app-configuration": app_config.router,
    "otp": otp.router,
    "ingestion": ingestion.router,
    "keys": keys.router,
    "analytics": analytics.router,
}
"""One router per Immuni service (immuni-api.md §1.1)."""

_REQUEST_MODELS = (
    OtpRequest,
    CheckOtpRequest,
    UploadRequest,
    AppleTokenRequest,
    AppleOperationalInfoRequest,
    GoogleOperationalInfoRequest,
)
"""Bodies parsed by hand (for speed and Immuni's rules) and documented through components."""


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=NO_STORE)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    return _error_response(SchemaError())


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    body = {"error_code": 1000 if exc.status_code >= 500 else 1001, "message": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=NO_STORE)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # A database that is down, restarting, read-only or full: 503 tells clients to retry, and
    # the pool reconnects on its own. The message names the failure, never the statement's
    # parameters (`Database._reason`).
    _log.error("storage failed while serving a request: %s", exc)
    return _error_response(ServiceUnavailable())


async def _unknown_error(request: Request, exc: Exception) -> JSONResponse:
    # The type only: messages may quote request data, and logs carry no identifiers.
    _log.error("unexpected %s while serving a request", type(exc).__name__)
    return _error_response(UnknownError())


def _link_index_to_batches(schema: dict[str, Any]) -> None:
    """OpenAPI links from the index to its oldest and newest batch: what every phone does
    next, and what lets schemathesis's stateful phase reach real batches."""
    paths = schema.get("paths", {})
    index = paths.get("/v1/keys/index", {}).get("get")
    batch = paths.get("/v1/keys/{batch_index}", {}).get("get")
    if index is None or batch is None:
        return
    ok = index["responses"].get("200")
    if ok is not None:
        ok["links"] = {
            f"{end.capitalize()}Batch": {
                "operationId": batch["operationId"],
                "parameters": {"batch_index": f"$response.body#/{end}"},
            }
            for end in ("oldest", "newest")
        }


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _REQUEST_MODELS:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(model_schema.pop("$defs", {}))
            components[model.__name__] = model_schema
        unavailable = {
            "description": ServiceUnavailable.message,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for path, operations in schema.get("paths", {}).items():
            if path.startswith("/v1/"):  # every service here can lose its database
                for operation in operations.values():
                    operation.setdefault("responses", {}).setdefault("503", unavailable)
        _link_index_to_batches(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    backend: Backend | None = None,
    services: set[str] | frozenset[str] | None = None,
    **backend_options: Any,
) -> FastAPI:
    """The Immuni-compatible API.

    Args:
        settings: the deployment's settings.
        clock: the clock (ignored when `backend` is given; defaults to the system clock).
        backend: an existing `Backend` to serve (the portal or the simulator shares it);
            built from `settings`, `clock` and `backend_options` when omitted.
        services: which Immuni services to mount (default ``settings.services``): any of
            "app-configuration", "otp", "ingestion", "keys", "analytics".
        backend_options: passed to `Backend` (signer, sleeper, rng, rate_limiter,
            device_check, attestation, repository).

    Raises:
        ValueError: for an unknown service name.
    """
    chosen = frozenset(settings.services if services is None else services)
    unknown = chosen - ROUTERS.keys()
    if unknown:
        raise ValueError(f"unknown services {sorted(unknown)}; choose from {sorted(ROUTERS)}")
    owned = backend is None
    backend = backend or Backend(settings, clock=clock, **backend_options)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            await backend.aclose()

    app = FastAPI(
        title="notifica",
        version=__version__,
        description="An Immuni-compatible exposure-notification backend.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.backend = backend
    app.state.metrics_registry = CollectorRegistry(auto_describe=True)
    app.include_router(health.router)
    for name in sorted(chosen):
        app.include_router(ROUTERS[name])
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DatabaseError, _database_error)
    app.add_exception_handler(Exception, _unknown_error)
    if "ingestion" in chosen:  # inside the metrics and the body cap, before FastAPI's routing
        app.add_middleware(
            ingestion.IngestionEndpoints, backend=backend, handlers=app.exception_handlers
        )
    app.add_middleware(MetricsMiddleware, registry=app.state.metrics_registry, clock=backend.clock)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
