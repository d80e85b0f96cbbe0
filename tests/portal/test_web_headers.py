"""Security headers on every portal response, caching, error pages."""

from __future__ import annotations

import httpx
import pytest

from notifica.portal import PortalSettings, PortalStore, mount_portal
from notifica.server import create_app
from tests.portal._support import light_settings, signed_in
from tests.portal.conftest import Site

pytestmark = pytest.mark.anyio


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: these pages do not depend on the engine (see conftest)."""
    return sqlite_url


EXPECTED = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
}


def _check(response: httpx.Response, *, cache: str = "no-store") -> None:
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    assert response.headers["cache-control"] == cache


SIGNED_IN_PAGES = (
    "/portal/authorise",
    "/portal/territories",
    "/portal/admin/counts",
    "/portal/admin/operators",
    "/portal/admin/audit",
    "/portal/account/password",
)


async def test_every_kind_of_response_has_the_headers(client: httpx.AsyncClient) -> None:
    _check(await client.get("/portal/sign-in"))
    _check(await client.get("/portal/authorise"))  # the redirect
    _check(await client.get("/portal/no-such-page"))
    _check(await client.post("/portal/authorise", data={}))
    await signed_in(client)
    for path in SIGNED_IN_PAGES:
        response = await client.get(path)
        assert response.status_code == 200, path
        _check(response)
    _check(await client.get("/portal/static/portal.css"), cache="public, max-age=3600")
    _check(await client.get("/portal/static/portal.js"), cache="public, max-age=3600")


async def test_pages_have_no_inline_script_or_style(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    for path in SIGNED_IN_PAGES:
        text = (await client.get(path)).text
        assert "<script>" not in text
        assert "<script " not in text.replace("<script src=", "")
        assert " style=" not in text
        assert "<style" not in text
        assert " on" + "click=" not in text


async def test_error_pages_are_pages(client: httpx.AsyncClient) -> None:
    missing = await client.get("/portal/no-such-page")
    assert missing.status_code == 404
    assert "There is no such page." in missing.text
    wrong_method = await client.put("/portal/authorise")
    assert wrong_method.status_code == 405
    assert (await client.get("/portal/authorise/done/abc")).status_code in (303, 404, 422)


async def test_api_is_untouched_by_the_portal(client: httpx.AsyncClient, site: Site) -> None:
    response = await client.get("/v1/settings", params={"platform": "ios", "build": 1})
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers  # the portal's, not the API's


async def test_oversized_form_is_refused_before_reading(
    client: httpx.AsyncClient, site: Site
) -> None:
    token = await signed_in(client)
    body = {"csrf_token": token, "code": "9K2RAY8UUQ", "onset": "2020-06-12", "pad": "x" * 300_000}
    response = await client.post("/portal/authorise", data=body)
    assert response.status_code == 413
    assert site.backend.daily_counts(days=1) == []


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="lock_max_s"):
        PortalSettings(lock_base_s=600, lock_max_s=60)
    with pytest.raises(ValueError, match="time zone"):
        PortalSettings(timezone="Mars/Olympus")


async def test_database_outage_is_a_page_not_a_trace(site: Site) -> None:
    app = create_app(site.backend.settings, backend=site.backend)
    unreachable = PortalStore.open("postgresql://nobody@127.0.0.1:1/none")  # refused at once
    mount_portal(app, site.backend, light_settings(), store=unreachable)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
        response = await client.get("/portal/sign-in", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "The portal&#39;s database cannot be reached." in response.text
    assert response.headers["cache-control"] == "no-store"
    unreachable.close()
