"""Every form is refused without its session's CSRF token, and nothing changes."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.portal._support import (
    ADMIN,
    ONSET,
    OPERATOR,
    OPERATOR_PASSWORD,
    VALID_CODE,
    add_operator,
    signed_in,
)
from tests.portal.conftest import Site

pytestmark = pytest.mark.anyio


def _state(site: Site) -> tuple[object, ...]:
    """Everything a refused POST must leave as it was."""
    store = site.portal.store
    return (
        tuple(store.operators.all()),
        tuple(store.audit.latest()),
        tuple(site.backend.daily_counts(days=1)),
    )


def _forms(operator_id: int) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/portal/authorise", {"code": VALID_CODE, "onset": ONSET}),
        ("/portal/sign-out", {}),
        ("/portal/account/password", {"current": "x", "new": "y" * 20, "confirmation": "y" * 20}),
        ("/portal/admin/operators", {"email": "new@asl.example", "role": "admin"}),
        (f"/portal/admin/operators/{operator_id}/active", {"active": "0"}),
        (f"/portal/admin/operators/{operator_id}/role", {"role": "admin"}),
        (f"/portal/admin/operators/{operator_id}/password", {}),
        ("/portal/admin/audit", {"code": VALID_CODE}),
    ]


@pytest.mark.parametrize("token", ["missing", "forged", "other session"])
async def test_posts_without_the_right_token_are_refused(
    client: httpx.AsyncClient, site: Site, token: str
) -> None:
    operator = add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://p")
    async with other:
        foreign = await signed_in(other, OPERATOR, OPERATOR_PASSWORD)
    await signed_in(client)
    value = {"missing": None, "forged": "A" * 43, "other session": foreign}[token]
    before = _state(site)
    for path, fields in _forms(operator.id):
        data = dict(fields) if value is None else {"csrf_token": value, **fields}
        response = await client.post(path, data=data)
        assert response.status_code == 403, path
        assert "This form was not sent by a page of the portal" in response.text
        assert response.headers["cache-control"] == "no-store"
    assert _state(site) == before
    assert (await client.get("/portal/authorise")).status_code == 200  # still signed in


async def test_sign_in_form_needs_its_token(client: httpx.AsyncClient, site: Site) -> None:
    await client.get("/portal/sign-in")
    response = await client.post("/portal/sign-in", data={"email": ADMIN, "password": "x"})
    assert response.status_code == 403
    assert site.portal.accounts.by_email(ADMIN).failed_sign_ins == 0  # not even counted


async def test_forms_no_page_sends_are_refused(client: httpx.AsyncClient, site: Site) -> None:
    token = await signed_in(client)
    before = _state(site)
    many = [(f"f{i}", "x") for i in range(40)] + [("csrf_token", token)]
    long_field = [("csrf_token", token), ("code", "A" * 5000), ("onset", ONSET)]
    repeated = [("csrf_token", token), ("code", VALID_CODE), ("code", VALID_CODE), ("onset", ONSET)]
    form = {"content-type": "application/x-www-form-urlencoded"}
    for fields in (many, long_field, repeated):
        response = await client.post("/portal/authorise", content=urlencode(fields), headers=form)
        assert response.status_code == 400
        assert "The form could not be read. Nothing was changed." in response.text
    upload = await client.post(
        "/portal/authorise", data={"csrf_token": token}, files={"f": ("a.txt", b"x")}
    )
    assert upload.status_code == 400
    assert _state(site) == before
