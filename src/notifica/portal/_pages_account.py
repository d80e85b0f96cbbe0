"""Signing in and out, the language switch, and the operator's own password."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from notifica.portal._i18n import LANGUAGES
from notifica.portal._web import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE_S, PageDep, safe_next
from notifica.portal.errors import (
    AccountDisabled,
    InvalidField,
    SignInPaused,
    SignInRefused,
)

__all__ = ["router"]

router = APIRouter()


@router.get("/", name="home")
async def home(page: PageDep) -> Response:
    """The portal's front door: the code form, or sign-in."""
    page.operator()
    return page.redirect(page.url("authorise"))


@router.get("/sign-in", name="sign_in")
async def sign_in_form(
    page: PageDep, next: str | None = None, expired: int = 0, signed_out: int = 0
) -> Response:
    """The sign-in form, in a fresh anonymous session that carries its CSRF token."""
    if page.visit.operator is not None:
        return page.redirect(page.url("home"))
    if page.visit.session is None:
        page.replace_session(await page.run(page.portal.sessions.start))
    notice = "signin.expired" if expired else "signin.signed_out" if signed_out else None
    return page.render(
        "sign_in.html",
        email="",
        next=safe_next(next, page.url("home")) or "",
        notice=notice,
        error=None,
    )


@router.post("/sign-in")
async def sign_in(page: PageDep) -> Response:
    """Check the credentials; on success a new session replaces the form's (no fixation)."""
    if page.visit.session is None:
        # The form's session ended while it was open: nothing was checked or changed.
        page.replace_session(await page.run(page.portal.sessions.start))
        return page.render(
            "sign_in.html", status=400, email="", next="", notice=None, error="signin.form_expired"
        )
    fields = await page.form()
    email, password = fields.get("email", ""), fields.get("password", "")
    next_path = safe_next(fields.get("next"), page.url("home"))
    try:
        operator = await page.run(
            page.portal.accounts.sign_in,
            email=email,
            password=password,
            client=page.client_address(),
        )
    except (SignInPaused, SignInRefused, AccountDisabled) as exc:
        status = 429 if isinstance(exc, SignInPaused) else 400
        return page.render(
            "sign_in.html",
            status=status,
            email=email[:254],
            next=next_path or "",
            notice=None,
            error=exc,
        )
    visit = await page.run(page.portal.sessions.start, operator=operator, replacing=page.visit)
    page.replace_session(visit)
    if operator.must_change_password:
        return page.redirect(page.url("password"))
    return page.redirect(next_path or page.url("home"))


@router.post("/sign-out", name="sign_out")
async def sign_out(page: PageDep) -> Response:
    """End the session (the form carries the CSRF token like every other)."""
    if page.visit.session is None:
        return page.redirect(page.url("sign_in"))
    await page.form()
    await page.run(page.portal.sessions.end, page.visit)
    if page.visit.operator is not None:
        await page.run(page.portal.accounts.signed_out, page.visit.operator)
    page.end_session()
    return page.redirect(page.url("sign_in", query={"signed_out": "1"}))


@router.get("/language/{language}", name="language")
async def choose_language(page: PageDep, language: str, next: str | None = None) -> Response:
    """Remember the language (a preference cookie) and go back where the switch was."""
    if language not in LANGUAGES:
        raise HTTPException(status_code=404)
    response = page.redirect(safe_next(next, page.url("home")) or page.url("home"))
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE_S,
        path=page.cookie_path,
        httponly=True,
        samesite="lax",
        secure=page.secure_cookies,
    )
    return response


@router.get("/account/password", name="password")
async def password_form(page: PageDep) -> Response:
    """Choose a new password (forced after a temporary one)."""
    operator = page.operator(allow_password_change=True)
    return page.render(
        "password.html",
        errors={},
        forced=operator.must_change_password,
        min_password_length=page.portal.settings.min_password_length,
    )


@router.post("/account/password")
async def change_password(page: PageDep) -> Response:
    """Check the current password and the rules, then replace it."""
    operator = page.operator(allow_password_change=True)
    fields = await page.form()
    try:
        await page.run(
            page.portal.accounts.change_password,
            operator,
            current=fields.get("current", ""),
            new=fields.get("new", ""),
            confirmation=fields.get("confirmation", ""),
        )
    except InvalidField as exc:
        return page.render(
            "password.html",
            status=400,
            errors={exc.field: exc},
            forced=operator.must_change_password,
            min_password_length=page.portal.settings.min_password_length,
        )
    return page.render("password_done.html")
