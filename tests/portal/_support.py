"""Helpers of the portal tests: accounts, sign-in, forms with their CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from notifica.portal import Operator, Portal, PortalSettings, Role

START = datetime(2020, 6, 15, 10, 0, tzinfo=UTC)
"""A Monday of Immuni's first weeks (the backend tests start there too)."""
ADMIN = "admin@asl.example"
ADMIN_PASSWORD = "correct horse battery"
OPERATOR = "operator@asl.example"
OPERATOR_PASSWORD = "staple paper clip ink"
VALID_CODE = "9K2RAY8UUQ"
"""The example of immuni-api.md §4.2."""
ONSET = "2020-06-12"


def light_settings() -> PortalSettings:
    """Default portal settings but a light argon2 (tests sign in hundreds of times)."""
    return PortalSettings(argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_operator(portal: Portal, email: str, password: str, *, admin: bool = False) -> Operator:
    role = Role.ADMIN if admin else Role.OPERATOR
    operator, _ = portal.accounts.create(email=email, role=role, password=password, actor=None)
    return operator


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def page_token(client: httpx.AsyncClient, path: str = "/portal/sign-in") -> str:
    """The session's CSRF token, read from a page (starting a session if there is none)."""
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return csrf_token(response.text)


async def sign_in(
    client: httpx.AsyncClient, email: str = ADMIN, password: str = ADMIN_PASSWORD
) -> httpx.Response:
    token = await page_token(client)
    return await client.post(
        "/portal/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )


async def signed_in(
    client: httpx.AsyncClient, email: str = ADMIN, password: str = ADMIN_PASSWORD
) -> str:
    """Sign in and return the new session's CSRF token."""
    response = await sign_in(client, email, password)
    assert response.status_code == 303, response.text
    return await page_token(client, "/portal/authorise")


async def post(client: httpx.AsyncClient, path: str, token: str, **fields: str) -> httpx.Response:
    return await client.post(path, data={"csrf_token": token, **fields})
