"""``GET /v1/settings`` (immuni-api.md §3.1)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from notifica.server.errors import SchemaError
from notifica.server.routers._http import (
    BackendDep,
    cache_public,
    error_responses,
    require_unique_query,
    run,
)
from notifica.server.services.app_config import PLATFORMS

__all__ = ["router"]

SETTINGS_CACHE_S = 3600
"""``Cache-Control: public, max-age=3600`` (immuni-api.md §3.1)."""

router = APIRouter(tags=["app-configuration"])


@router.get(
    "/v1/settings",
    responses={
        200: {
            "description": "Settings for that platform and build",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **error_responses(SchemaError),
    },
    response_class=Response,
)
async def get_settings(
    request: Request,
    backend: BackendDep,
    platform: Annotated[str | None, Query(description="ios or android")] = None,
    build: Annotated[str | None, Query(description="app build number")] = None,
) -> Response:
    """The app configuration of a platform and build: per setting, the newest value."""
    require_unique_query(request)
    if platform not in PLATFORMS:
        raise SchemaError("platform must be ios or android")
    if build is None or not re.fullmatch(r"[0-9]{1,10}", build):
        raise SchemaError("build must be an integer")
    number = int(build)
    if not 1 <= number <= backend.settings.max_allowed_build:
        raise SchemaError(f"build must be in 1..{backend.settings.max_allowed_build}")
    body = await run(backend.app_config.settings_json, platform=platform, build=number)
    return Response(body, media_type="application/json", headers=cache_public(SETTINGS_CACHE_S))
