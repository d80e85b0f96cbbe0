"""What every router shares: the backend dependency, body parsing, caching headers, errors.

Routers parse the request with these helpers, call one service function (in the thread pool
when it touches the database), and return a response; they never build error bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from notifica.protocol import ErrorBody, MalformedWireMessage, parse_wire
from notifica.server._backend import Backend
from notifica.server.errors import ApiError, SchemaError

__all__ = [
    "JSON_TYPES",
    "BackendDep",
    "cache_public",
    "empty",
    "error_responses",
    "json_body",
    "read_body",
    "require_unique_query",
    "run",
    "wire_errors",
]

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

NO_STORE = {"Cache-Control": "no-store"}
"""Every POST response and every 204 (immuni-api.md §2, ``helpers/cache.py``)."""

JSON_TYPES = frozenset({"application/json", "application/json;charset=utf-8"})
"""The only accepted request content types, case-insensitive (``_validate_json_content_type``)."""


async def get_backend(request: Request) -> Backend:
    """The backend the app was built on (a coroutine: FastAPI runs plain functions in the
    thread pool, a hop that cost more than the rest of a request)."""
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]


INLINE_BLOCKING_CALLS: ContextVar[bool] = ContextVar(
    "notifica_inline_blocking_calls", default=False
)
"""True where the caller serves one request at a time in process (the simulator): blocking
service calls then run on the event loop, saving a thread hand-off per request."""


async def run(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking service call in the thread pool (inline under `INLINE_BLOCKING_CALLS`)."""
    if INLINE_BLOCKING_CALLS.get():
        return func(*args, **kwargs)
    return await run_in_threadpool(func, *args, **kwargs)


def cache_public(seconds: int) -> dict[str, str]:
    """``Cache-Control: public, max-age=<seconds>``."""
    return {"Cache-Control": f"public, max-age={seconds}"}


def empty(status_code: int = 204) -> Response:
    """An empty response that no cache may keep."""
    return Response(status_code=status_code, headers=NO_STORE)


def require_unique_query(request: Request) -> None:
    """Each query argument at most once (immuni-api.md §2).

    Raises:
        SchemaError: naming the repeated argument.
    """
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen:
            raise SchemaError(f"query argument {name!r} repeated")
        seen.add(name)


class wire_errors:
    """Turn `MalformedWireMessage` from the protocol layer into `SchemaError` (400)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, MalformedWireMessage):
            raise SchemaError(str(exc)) from exc


async def read_body(request: Request, model: type[M], *, today: date | None = None) -> M:
    """The JSON body as `model`, after checking the content type.

    Raises:
        SchemaError: wrong content type, not JSON, or not the schema.
        RequestTooLarge: the body passed the hard cap while being read.
    """
    content_type = request.headers.get("content-type", "").lower().replace(" ", "")
    if content_type not in JSON_TYPES:
        raise SchemaError("Content-Type must be application/json")
    body = await request.body()
    with wire_errors():
        return parse_wire(model, body, today=today)


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting `model` as the required JSON request body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


def error_responses(*errors: type[ApiError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors an endpoint may raise."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = responses.setdefault(
            error.status_code, {"model": ErrorBody, "description": error.message}
        )
        if error.message not in entry["description"]:
            entry["description"] += f" / {error.message}"
    return responses
