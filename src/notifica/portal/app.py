"""`create_portal` and `mount_portal`: the portal as an app of its own, mounted at ``/portal``.

The portal is a separate FastAPI app so that its HTML error pages, security headers and
sessions never touch the JSON API; it reaches the backend only through `notifica.server`'s
public API (`Backend.authorise_otp`, `daily_counts`, `notifications_by_province`, its clock
and settings).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from notifica.portal import _pages_account, _pages_admin, _pages_codes, _pages_reports
from notifica.portal._headers import SecurityHeaders
from notifica.portal._i18n import catalog
from notifica.portal._portal import Portal
from notifica.portal._sessions import Visit
from notifica.portal._store import PortalStore
from notifica.portal._web import (
    CsrfRefused,
    Forbidden,
    Page,
    PasswordChangeRequired,
    SignInRequired,
    language_of,
    templates,
)
from notifica.portal.errors import PortalStorageError
from notifica.portal.settings import PortalSettings
from notifica.server import Backend, DatabaseError, RequestTooLarge

__all__ = ["MOUNT_PATH", "create_portal", "mount_portal"]

MOUNT_PATH = "/portal"
"""Where ``notifica serve`` mounts the portal."""

_STATIC = Path(__file__).resolve().parent / "static"
_log = logging.getLogger("notifica.portal")


def _page_of(request: Request) -> Page:
    page = getattr(request.state, "page", None)
    if isinstance(page, Page):
        return page
    portal: Portal = request.app.state.portal
    language = language_of(request, portal.settings.default_language)
    return Page(request, portal, Visit(), language)


def _error_page(request: Request, status: int, key: str) -> Response:
    return _page_of(request).render("error.html", status=status, message_key=key)


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    page = _page_of(request)
    query = {}
    if exc.next_path:
        query["next"] = exc.next_path
    if exc.expired:
        query["expired"] = "1"
        page.end_session()
    return page.redirect(page.url("sign_in", query=query))


async def _password_change(request: Request, exc: Exception) -> Response:
    page = _page_of(request)
    return page.redirect(page.url("password"))


async def _forbidden(request: Request, exc: Exception) -> Response:
    return _error_page(request, 403, "error.forbidden")


async def _csrf(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CsrfRefused)
    return _error_page(
        request, 400 if exc.malformed else 403, "error.malformed" if exc.malformed else "error.csrf"
    )


async def _too_large(request: Request, exc: Exception) -> Response:
    return _error_page(request, 413, "error.too_large")


async def _storage(request: Request, exc: Exception) -> Response:
    _log.error("database unavailable: %s", type(exc).__name__)
    return _error_page(request, 503, "error.storage")


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error_page(request, 404, "error.not_found")
    if exc.status_code == 405:
        return _error_page(request, 405, "error.method")
    return _error_page(request, exc.status_code, "error.malformed")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The type only: messages may quote form data.
    _log.error("unexpected %s while serving a portal page", type(exc).__name__)
    try:
        return _error_page(request, 500, "error.unknown")
    except Exception:  # the error page itself failed: plain text, still localised
        text = catalog("en")("error.unknown")
        return HTMLResponse(text, status_code=500)


def create_portal(
    backend: Backend,
    settings: PortalSettings | None = None,
    *,
    store: PortalStore | None = None,
) -> FastAPI:
    """The portal app (mount it with `mount_portal`, or serve it alone under a root path).

    Args:
        backend: the backend whose codes the operators authorise; its clock drives every
            time-out and date rule.
        settings: the portal's settings (``NOTIFICA_PORTAL_*`` when omitted).
        store: the portal's storage, already migrated (opened on the backend's database
            when omitted; run `notifica.portal.upgrade_portal` first).
    """
    portal = Portal(backend, settings, store=store)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    app.state.templates = templates()
    for module in (_pages_account, _pages_codes, _pages_reports, _pages_admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PasswordChangeRequired, _password_change)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(RequestTooLarge, _too_large)
    app.add_exception_handler(PortalStorageError, _storage)
    app.add_exception_handler(DatabaseError, _storage)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(SecurityHeaders)
    return app


def mount_portal(
    app: FastAPI,
    backend: Backend,
    settings: PortalSettings | None = None,
    *,
    store: PortalStore | None = None,
) -> FastAPI:
    """Mount the portal at ``/portal`` in the backend's app; return the portal app."""
    portal_app = create_portal(backend, settings, store=store)
    app.mount(MOUNT_PATH, portal_app)
    return portal_app
