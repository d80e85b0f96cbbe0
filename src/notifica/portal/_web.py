"""What every page shares: the request's session and language, forms with CSRF, rendering.

A route takes a `Page` (``PageDep``), asks it for the operator it needs
(`Page.operator` / `Page.admin`, which redirect to sign-in or refuse), reads a POST with
`Page.form` (which refuses a missing or foreign CSRF token before anything else happens),
calls one service, and returns `Page.render` or `Page.redirect`. Services that touch the
database or hash passwords run in the thread pool (`Page.run`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from notifica.portal._i18n import LANGUAGES, Catalog, catalog, negotiate
from notifica.portal._portal import Portal
from notifica.portal._records import Operator
from notifica.portal._sessions import Visit
from notifica.portal.errors import PortalError
from notifica.server import client_address

__all__ = [
    "LANGUAGE_COOKIE",
    "SESSION_COOKIE",
    "CsrfRefused",
    "Forbidden",
    "Page",
    "PageDep",
    "PasswordChangeRequired",
    "SignInRequired",
    "language_of",
    "safe_next",
    "templates",
]

P = ParamSpec("P")
T = TypeVar("T")

SESSION_COOKIE = "notifica_portal_session"
LANGUAGE_COOKIE = "notifica_portal_lang"
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 86_400
"""The language choice is a preference, not a secret: kept for a year."""

MAX_FIELDS = 16
"""No portal form has more fields; more is not a browser's doing."""
MAX_FIELD_LENGTH = 1024
"""No field needs more (passwords are capped at 256, codes at 100 characters)."""

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def templates() -> Environment:
    """The Jinja environment: autoescaping everywhere, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_attr"] = lambda value: json.dumps(value, separators=(",", ":"))
    return env


class SignInRequired(Exception):
    """No operator behind this request: send the browser to the sign-in page."""

    def __init__(self, next_path: str | None, *, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


class PasswordChangeRequired(Exception):
    """The operator signed in with a temporary password and must choose one first."""


class Forbidden(Exception):
    """The operator may not see this page (an administrator's)."""


class CsrfRefused(Exception):
    """A POST without this session's CSRF token, or a form no page of ours sends: refused
    before anything changes (`malformed` tells the two apart)."""

    def __init__(self, *, malformed: bool = False) -> None:
        super().__init__("malformed form" if malformed else "CSRF token missing or wrong")
        self.malformed = malformed


class Page:
    """One request to the portal: who asks, in which language, and how to answer."""

    def __init__(self, request: Request, portal: Portal, visit: Visit, language: str) -> None:
        self.request = request
        self.portal = portal
        self.visit = visit
        self.language = language
        self.t: Catalog = catalog(language)
        self._new_visit: Visit | None = None
        self._clear_cookie = False

    # --- who ---------------------------------------------------------------------------------

    def operator(self, *, allow_password_change: bool = False) -> Operator:
        """The signed-in operator.

        Raises:
            SignInRequired: without a live session (the expired flag says why).
            PasswordChangeRequired: while a temporary password must be replaced.
        """
        operator = self.visit.operator
        if operator is None:
            path = self.request.url.path if self.request.method == "GET" else None
            raise SignInRequired(path, expired=self.visit.expired)
        if operator.must_change_password and not allow_password_change:
            raise PasswordChangeRequired()
        return operator

    def admin(self) -> Operator:
        """The signed-in operator, who must be an administrator.

        Raises:
            SignInRequired, PasswordChangeRequired: as `operator`.
            Forbidden: for an operator who is not an administrator.
        """
        operator = self.operator()
        if not operator.is_admin:
            raise Forbidden()
        return operator

    # --- input -------------------------------------------------------------------------------

    async def form(self) -> dict[str, str]:
        """The POSTed fields, after the CSRF check (rule 4 of `notifica.portal._sessions`).

        Raises:
            CsrfRefused: missing or wrong token, too many or too long fields, or files.
        """
        try:
            data = await self.request.form(max_files=0, max_fields=MAX_FIELDS)
        except (HTTPException, MultiPartException) as exc:
            raise CsrfRefused(malformed=True) from exc
        fields: dict[str, str] = {}
        for name, value in data.multi_items():
            if not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH or name in fields:
                raise CsrfRefused(malformed=True)
            fields[name] = value
        if not self.visit.csrf_matches(fields.pop("csrf_token", None)):
            raise CsrfRefused()
        return fields

    def client_address(self) -> str:
        """The client's address (or the trusted proxy's header), for the back-off only."""
        settings = self.portal.backend.settings
        return client_address(
            self.request.headers,
            self.request.client.host if self.request.client else "",
            header=settings.client_address_header,
            hops=settings.client_address_hops,
        )

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking service call in the thread pool."""
        return await run_in_threadpool(func, *args, **kwargs)

    # --- sessions ----------------------------------------------------------------------------

    def replace_session(self, visit: Visit) -> None:
        """Send the cookie of a new session with this response (sign-in, first visit)."""
        self.visit = visit
        self._new_visit = visit

    def end_session(self) -> None:
        """Clear the session cookie with this response (sign-out)."""
        self._clear_cookie = True

    # --- output ------------------------------------------------------------------------------

    def url(self, name: str, /, query: Mapping[str, str] | None = None, **params: Any) -> str:
        """The path of a named route (or ``static``) under the portal's mount point."""
        root = self.request.scope.get("root_path", "")
        path = root + str(self.request.app.url_path_for(name, **params))
        return f"{path}?{urlencode(query)}" if query else path

    def local_time(self, moment: datetime) -> datetime:
        """`moment` in the deployment's time zone."""
        return moment.astimezone(self.portal.settings.zone)

    def say(self, error: PortalError | str) -> str:
        """An error (or a message key) in the page's language."""
        if isinstance(error, PortalError):
            return self.t(error.key, **error.params)
        return self.t(error)

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a page (every page is ``no-store``: it carries a CSRF token)."""
        env: Environment = self.request.app.state.templates
        operator = self.visit.operator
        html = env.get_template(template).render(
            t=self.t,
            lang=self.language,
            languages=LANGUAGES,
            operator=operator,
            csrf_token=self.visit.session.csrf_token if self.visit.session else "",
            url=self.url,
            path=self.request.url.path,
            local=self.local_time,
            say=self.say,
            now=self.portal.clock.now(),
            zone=self.portal.settings.timezone,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self._finish(response)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        """``303 See Other`` to `url` (after a POST, or to sign in)."""
        response = RedirectResponse(url, status_code=303)
        self._finish(response)
        return response

    @property
    def cookie_path(self) -> str:
        """The portal's mount point: its cookies go nowhere else."""
        return str(self.request.scope.get("root_path", "")) or "/"

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get ``Secure`` (over HTTPS, or when the settings say so)."""
        return {
            "always": True,
            "never": False,
            "auto": self.request.url.scheme == "https",
        }[self.portal.settings.secure_cookies]

    def _finish(self, response: Response) -> None:
        secure, root = self.secure_cookies, self.cookie_path
        if self._new_visit is not None and self._new_visit.new_token is not None:
            response.set_cookie(
                SESSION_COOKIE,
                self._new_visit.new_token,
                path=root,
                httponly=True,
                secure=secure,
                samesite="strict",
            )
        elif self._clear_cookie:
            response.delete_cookie(
                SESSION_COOKIE, path=root, httponly=True, secure=secure, samesite="strict"
            )


def safe_next(value: str | None, root: str) -> str | None:
    """`value` if it is a path inside the portal (no open redirect), else None."""
    if not value or len(value) > 200 or "\\" in value or "//" in value or ":" in value:
        return None
    prefix = root.rstrip("/") + "/"
    return value if value.startswith(prefix) or value == root else None


def language_of(request: Request, default: str) -> str:
    """The cookie's language, else ``Accept-Language``'s best, else the default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return negotiate(request.headers.get("accept-language"), default)


async def get_page(request: Request) -> Page:
    """The `Page` of a request (its session looked up once)."""
    portal: Portal = request.app.state.portal
    token = request.cookies.get(SESSION_COOKIE)
    visit = await run_in_threadpool(portal.sessions.resume, token)
    page = Page(request, portal, visit, language_of(request, portal.settings.default_language))
    request.state.page = page
    return page


PageDep = Annotated[Page, Depends(get_page)]
