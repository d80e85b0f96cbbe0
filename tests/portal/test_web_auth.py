"""Signing in and out through the pages: cookies, fixation, expiry, lockout, language."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from notifica.portal import AuditAction
from notifica.portal._web import LANGUAGE_COOKIE, SESSION_COOKIE
from tests.portal._support import (
    ADMIN,
    ADMIN_PASSWORD,
    OPERATOR,
    OPERATOR_PASSWORD,
    add_operator,
    page_token,
    post,
    sign_in,
    signed_in,
)
from tests.portal.conftest import Site

pytestmark = pytest.mark.anyio


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: these pages do not depend on the engine (see conftest)."""
    return sqlite_url


def _cookie(response: httpx.Response) -> str:
    header: str = response.headers.get("set-cookie", "")
    assert header.startswith(f"{SESSION_COOKIE}="), header
    return header


async def test_pages_without_a_session_redirect_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/portal/", "/portal/authorise", "/portal/territories", "/portal/admin/counts"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/portal/sign-in")
    response = await client.get("/portal/territories")
    assert response.headers["location"] == "/portal/sign-in?next=%2Fportal%2Fterritories"


async def test_session_cookie_flags(client: httpx.AsyncClient, site: Site) -> None:
    response = await client.get("/portal/sign-in")
    header = _cookie(response).lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    assert "path=/portal" in header
    assert "secure" not in header  # plain HTTP here
    tls = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site.app), base_url="https://portal.test"
    )
    async with tls:
        secure = _cookie(await tls.get("/portal/sign-in")).lower()
    assert "; secure" in secure


async def test_sign_in_makes_a_new_session_id(client: httpx.AsyncClient, site: Site) -> None:
    """Session fixation: an id known before sign-in is worthless after it."""
    await client.get("/portal/sign-in")
    planted = client.cookies[SESSION_COOKIE]
    response = await sign_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/"
    fresh = client.cookies[SESSION_COOKIE]
    assert fresh != planted
    attacker = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site.app),
        base_url="http://portal.test",
        cookies={SESSION_COOKIE: planted},
    )
    async with attacker:
        assert (await attacker.get("/portal/authorise")).status_code == 303
    assert (await client.get("/portal/authorise")).status_code == 200


async def test_next_path_is_kept_but_only_inside_the_portal(client: httpx.AsyncClient) -> None:
    for given, expected in [
        ("/portal/territories", "/portal/territories"),
        ("https://evil.example/", "/portal/"),
        ("//evil.example/portal/", "/portal/"),
        ("/elsewhere", "/portal/"),
    ]:
        token = await page_token(client)
        response = await post(
            client, "/portal/sign-in", token, email=ADMIN, password=ADMIN_PASSWORD, next=given
        )
        assert response.headers["location"] == expected
        await post(client, "/portal/sign-out", await page_token(client, "/portal/authorise"))


async def test_wrong_password_message_and_lockout(client: httpx.AsyncClient, site: Site) -> None:
    for _ in range(4):
        response = await sign_in(client, ADMIN, "not the password")
        assert response.status_code == 400
        assert "The e-mail address or the password is wrong." in response.text
    response = await sign_in(client, ADMIN, "not the password")  # fifth: paused now
    assert response.status_code == 400
    response = await sign_in(client, ADMIN, ADMIN_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts: sign-in is paused. Try again in 1 min." in response.text
    assert SESSION_COOKIE in client.cookies  # still only the anonymous session
    assert (await client.get("/portal/authorise")).status_code == 303
    site.clock.advance(timedelta(minutes=1))
    assert (await sign_in(client, ADMIN, ADMIN_PASSWORD)).status_code == 303


async def test_repeated_failures_change_nothing_else(client: httpx.AsyncClient, site: Site) -> None:
    before = site.portal.accounts.by_email(ADMIN)
    for _ in range(3):
        await sign_in(client, ADMIN, "not the password")
    after = site.portal.accounts.by_email(ADMIN)
    assert (after.active, after.role, after.must_change_password) == (
        before.active,
        before.role,
        before.must_change_password,
    )
    assert site.portal.store.operators.password_hash(after.id) == (
        site.portal.store.operators.password_hash(before.id)
    )
    assert (await sign_in(client)).status_code == 303


async def test_expired_session_redirects_with_a_message(
    client: httpx.AsyncClient, site: Site
) -> None:
    token = await signed_in(client)
    site.clock.advance(timedelta(minutes=31))
    response = await post(client, "/portal/authorise", token, code="9K2RAY8UUQ", onset="2020-06-12")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/sign-in?expired=1"
    assert site.backend.daily_counts(days=1) == []  # nothing was authorised
    page = await client.get(response.headers["location"])
    assert "Your session has expired. Sign in again." in page.text


async def test_sign_in_form_that_expired_asks_again(client: httpx.AsyncClient, site: Site) -> None:
    token = await page_token(client)
    site.clock.advance(timedelta(hours=1))
    response = await post(client, "/portal/sign-in", token, email=ADMIN, password=ADMIN_PASSWORD)
    assert response.status_code == 400
    assert "csrf_token" in response.text  # a fresh form, in a fresh session
    assert (await client.get("/portal/authorise")).status_code == 303


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, site: Site) -> None:
    token = await signed_in(client)
    session = client.cookies[SESSION_COOKIE]
    response = await post(client, "/portal/sign-out", token)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/sign-in?signed_out=1"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert site.portal.sessions.resume(session).expired
    latest = site.portal.store.audit.latest(limit=1)[0]
    assert (latest.action, latest.actor) == (AuditAction.SIGNED_OUT, ADMIN)


async def test_temporary_password_must_be_changed_first(
    client: httpx.AsyncClient, site: Site
) -> None:
    operator = add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    temporary = site.portal.accounts.reset_password(operator.id, actor=None)
    assert temporary is not None
    response = await sign_in(client, OPERATOR, temporary)
    assert response.headers["location"] == "/portal/account/password"
    assert (await client.get("/portal/authorise")).headers["location"] == "/portal/account/password"
    token = await page_token(client, "/portal/account/password")
    response = await post(
        client, "/portal/account/password", token, current=temporary, new="x", confirmation="x"
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    new = "my own long password"
    response = await post(
        client, "/portal/account/password", token, current=temporary, new=new, confirmation=new
    )
    assert response.status_code == 200
    assert (await client.get("/portal/authorise")).status_code == 200


async def test_language_from_header_then_switch(client: httpx.AsyncClient) -> None:
    english = await client.get("/portal/sign-in", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in english.text
    assert ">Sign in</h1>" in english.text
    italian = await client.get("/portal/sign-in", headers={"Accept-Language": ""})
    assert '<html lang="it">' in italian.text
    assert ">Accedi</h1>" in italian.text
    response = await client.get("/portal/language/en", params={"next": "/portal/sign-in"})
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/sign-in"
    assert LANGUAGE_COOKIE in client.cookies
    switched = await client.get("/portal/sign-in", headers={"Accept-Language": "it"})
    assert '<html lang="en">' in switched.text
    away = await client.get("/portal/language/it", params={"next": "https://evil.example/"})
    assert away.headers["location"] == "/portal/"
    assert (await client.get("/portal/language/de")).status_code == 404
