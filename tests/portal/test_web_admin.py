"""Administrators' pages: operators, daily counts, the audit log; and the territories page."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import httpx
import pytest

from notifica.clock import SimClock
from notifica.portal import AuditAction, Role, code_fingerprint
from tests.portal._data import seed_history, seed_territories
from tests.portal._support import (
    ADMIN,
    ONSET,
    OPERATOR,
    OPERATOR_PASSWORD,
    START,
    VALID_CODE,
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


HISTORY_DAYS = 4


@pytest.fixture
def clock() -> SimClock:
    """These tests begin a few days back, to make a history up to START."""
    return SimClock(START - timedelta(days=HISTORY_DAYS + 1))


async def _to_start(site: Site) -> None:
    site.clock.set(START)


async def test_operator_cannot_open_admin_pages(client: httpx.AsyncClient, site: Site) -> None:
    await _to_start(site)
    add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    token = await signed_in(client, OPERATOR, OPERATOR_PASSWORD)
    for path in ("/portal/admin/counts", "/portal/admin/operators", "/portal/admin/audit"):
        response = await client.get(path)
        assert response.status_code == 403
        assert "This page is for administrators." in response.text
    before = site.portal.accounts.all()
    response = await post(client, "/portal/admin/operators", token, email="x@y.it", role="admin")
    assert response.status_code == 403
    assert site.portal.accounts.all() == before
    nav = (await client.get("/portal/authorise")).text
    assert "/portal/admin/" not in nav
    assert "/portal/territories" in nav


async def test_create_disable_reset_and_promote(client: httpx.AsyncClient, site: Site) -> None:
    await _to_start(site)
    token = await signed_in(client)
    created = await post(
        client, "/portal/admin/operators", token, email="New@ASL.example", role="operator"
    )
    assert created.status_code == 200
    temporary = re.search(r'<code class="secret">([^<]+)</code>', created.text)
    assert temporary
    assert "Account new@asl.example created." in created.text
    new = site.portal.accounts.by_email("new@asl.example")
    assert new.must_change_password
    assert new.role is Role.OPERATOR
    # The new operator signs in with it, in another browser, and must change it first.
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://p")
    async with other:
        assert (await sign_in(other, "new@asl.example", temporary.group(1))).headers[
            "location"
        ] == "/portal/account/password"
        # Disabling ends that session at once.
        response = await post(client, f"/portal/admin/operators/{new.id}/active", token, active="0")
        assert response.status_code == 303
        assert (await other.get("/portal/account/password")).status_code == 303
    again = await post(client, f"/portal/admin/operators/{new.id}/active", token, active="1")
    assert again.status_code == 303
    assert site.portal.accounts.get(new.id).active
    reset = await post(client, f"/portal/admin/operators/{new.id}/password", token)
    assert "New temporary password for new@asl.example" in reset.text
    promoted = await post(client, f"/portal/admin/operators/{new.id}/role", token, role="admin")
    assert promoted.status_code == 303
    assert site.portal.accounts.get(new.id).is_admin
    listing = await client.get("/portal/admin/operators")
    assert listing.text.count('class="secret"') == 0  # temporary passwords are shown once
    actions = [e.action for e in site.portal.store.audit.latest()]
    for action in (
        AuditAction.OPERATOR_CREATED,
        AuditAction.OPERATOR_DISABLED,
        AuditAction.OPERATOR_ENABLED,
        AuditAction.PASSWORD_RESET,
        AuditAction.ROLE_CHANGED,
    ):
        assert action in actions


async def test_operator_form_errors(client: httpx.AsyncClient, site: Site) -> None:
    await _to_start(site)
    token = await signed_in(client)
    admin = site.portal.accounts.by_email(ADMIN)
    cases = [
        ({"email": "not-an-email", "role": "operator"}, 400, "Enter an e-mail address like"),
        ({"email": ADMIN, "role": "operator"}, 409, "already exists"),
        ({"email": "x@y.it", "role": "superuser"}, 400, "Choose a role."),
        ({"email": "<script>x</script>@y.it", "role": "operator"}, 400, "Enter an e-mail address"),
    ]
    for fields, status, message in cases:
        response = await post(client, "/portal/admin/operators", token, **fields)
        assert response.status_code == status
        assert message in response.text
        assert "<script>x</script>" not in response.text
    last = await post(client, f"/portal/admin/operators/{admin.id}/active", token, active="0")
    assert last.status_code == 409
    assert "last active administrator" in last.text
    unknown = await post(client, "/portal/admin/operators/999/role", token, role="admin")
    assert unknown.status_code == 409
    assert [o.email for o in site.portal.accounts.all()] == [ADMIN]


async def test_daily_counts_table_and_chart(client: httpx.AsyncClient, site: Site) -> None:
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://api")
    async with api:
        await seed_history(site.backend, api, site.clock, days=HISTORY_DAYS, rng=random.Random(2))
    await _to_start(site)
    await signed_in(client)
    page = await client.get("/portal/admin/counts")
    assert page.status_code == 200
    rows = re.findall(
        r'<th scope="row"><time datetime="([\d-]+)">.*?</time></th>\s*'
        r'<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>',
        page.text,
    )
    assert len(rows) == 14
    by_day = {day: tuple(map(int, rest)) for day, *rest in rows}
    for counts in site.backend.daily_counts(days=14):
        assert by_day[counts.day.isoformat()] == (
            counts.otps_authorised,
            counts.uploads_received,
            counts.batches_published,
        )
    assert sum(v[0] for v in by_day.values()) == sum(3 + (d * 5) % 7 for d in range(HISTORY_DAYS))
    assert page.text.count('class="bar series-codes"') == 14
    assert 'role="img"' in page.text


async def test_territories_highlight_rising_provinces(
    client: httpx.AsyncClient, site: Site
) -> None:
    await _to_start(site)
    seed_territories(site.backend, today=START.date())
    await signed_in(client)
    page = await client.get("/portal/territories")
    assert page.status_code == 200
    rising = set(
        re.findall(r'<tr class="rising">\s*<th scope="row">[^<]+\((\w\w)\)</th>', page.text)
    )
    assert rising == {"NA", "BO", "TO", "BA"}
    assert page.text.count("▲ Rising") == 4
    assert "p &lt; 0.05" in page.text
    assert "one-sided binomial test" in page.text
    assert page.text.count('class="bar bar-rising"') == 4


async def test_audit_log_and_lookup_by_code(client: httpx.AsyncClient, site: Site) -> None:
    await _to_start(site)
    token = await signed_in(client)
    await post(client, "/portal/authorise", token, code=VALID_CODE, onset=ONSET)
    page = await client.get("/portal/admin/audit")
    fingerprint = code_fingerprint(VALID_CODE)
    assert f"<code>{fingerprint}</code>" in page.text
    assert "Code authorised" in page.text
    assert VALID_CODE not in page.text
    assert ONSET not in page.text
    token = await page_token(client, "/portal/admin/audit")
    found = await post(client, "/portal/admin/audit", token, code="9k2-ray8-uuq")
    assert f"Lines of the code with fingerprint {fingerprint}." in found.text
    assert found.text.count(f"<code>{fingerprint}</code>") == 1
    assert "Signed in" not in found.text.split("<tbody>")[1]
    wrong = await post(client, "/portal/admin/audit", token, code="9K2RAY8UUA")
    assert wrong.status_code == 400
    assert "one of the characters is wrong" in wrong.text
