"""``GET /`` and ``GET /metrics`` (immuni-api.md §2)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from notifica.server.routers._http import NO_STORE

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/", response_class=Response, responses={200: {"description": "Alive"}})
async def health() -> Response:
    """200 with an empty body while the process serves."""
    return Response(status_code=200, headers=NO_STORE)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text", "content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    """This app's Prometheus metrics."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
