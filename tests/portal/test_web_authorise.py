"""The code form: authorising through the backend, every bad input, hostile input."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from markupsafe import escape

from notifica.portal import AuditAction, code_fingerprint
from tests.portal._support import ONSET, VALID_CODE, page_token, post, signed_in
from tests.portal.conftest import Site
from tests.server._support import ingestion_headers, padded, upload_body

pytestmark = pytest.mark.anyio

HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def authorised_count(site: Site) -> int:
    return sum(c.otps_authorised for c in site.backend.daily_counts(days=1))


async def test_authorise_then_the_phone_checks_and_uploads(
    client: httpx.AsyncClient, site: Site
) -> None:
    token = await signed_in(client)
    response = await post(client, "/portal/authorise", token, code="9k2 ray8-uuq", onset=ONSET)
    assert response.status_code == 303
    done = await client.get(response.headers["location"])
    assert done.status_code == 200
    assert "The code is authorised." in done.text
    assert 'data-remaining-s="150"' in done.text
    assert "2:30" in done.text
    assert "Valid until 12:02:30." in done.text  # 10:02:30 UTC in Rome (CEST)
    phone = httpx.AsyncClient(transport=httpx.ASGITransport(app=site.app), base_url="http://api")
    async with phone:
        check = await phone.post(
            "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(VALID_CODE)
        )
        assert check.status_code == 204
        upload = await phone.post(
            "/v1/ingestion/upload",
            content=upload_body(site.clock.now()),
            headers=ingestion_headers(VALID_CODE),
        )
        assert upload.status_code == 204
    counts = site.backend.daily_counts(days=1)[0]
    assert (counts.otps_authorised, counts.uploads_received) == (1, 1)
    entry = site.portal.store.audit.latest(limit=1)[0]
    assert entry.action is AuditAction.CODE_AUTHORISED
    assert entry.code_fingerprint == code_fingerprint(VALID_CODE)
    assert VALID_CODE not in str(entry)
    assert ONSET not in str(entry)


async def test_countdown_shows_the_time_left(client: httpx.AsyncClient, site: Site) -> None:
    token = await signed_in(client)
    location = (
        await post(client, "/portal/authorise", token, code=VALID_CODE, onset=ONSET)
    ).headers["location"]
    site.clock.advance(timedelta(seconds=100))
    assert 'data-remaining-s="50"' in (await client.get(location)).text
    site.clock.advance(timedelta(seconds=60))
    later = await client.get(location)
    assert 'data-remaining-s="0"' in later.text
    assert "timer-expired" in later.text


async def test_already_authorised_code(client: httpx.AsyncClient, site: Site) -> None:
    token = await signed_in(client)
    assert (
        await post(client, "/portal/authorise", token, code=VALID_CODE, onset=ONSET)
    ).status_code == 303
    again = await post(client, "/portal/authorise", token, code="9K2-RAY8-UUQ", onset=ONSET)
    assert again.status_code == 409
    assert "This code is already authorised and still valid." in again.text
    assert authorised_count(site) == 1
    assert site.portal.store.audit.latest(limit=1)[0].action is AuditAction.CODE_ALREADY_AUTHORISED
    site.clock.advance(timedelta(seconds=151))  # expired: it may be authorised again
    assert (
        await post(client, "/portal/authorise", token, code=VALID_CODE, onset=ONSET)
    ).status_code == 303


@pytest.mark.parametrize(
    ("code", "onset", "message"),
    [
        ("9K2RAY8UUA", ONSET, "This is not a valid code: one of the characters is wrong."),
        ("9K2RYA8UUQ", ONSET, "Positions 5 and 6: are “Y” and “A” swapped?"),
        ("9K2RAY8UU", ONSET, "The code has 9 characters: it must have 10."),
        ("9K2RAY8UUQQ", ONSET, "The code has 11 characters: it must have 10."),
        ("9K2RAY0UUQ", ONSET, "“0” (position 7) is never used in codes."),
        ("NK2RAYOUUQ", ONSET, "The characters at positions 1, 7 are never used in codes."),
        ("", ONSET, "Enter the code the citizen reads from the app."),
        (VALID_CODE, "2020-06-16", "The date symptoms started cannot be in the future."),
        (VALID_CODE, "2019-12-01", "cannot be more than 180 days ago."),
        (VALID_CODE, "2020-13-01", "Enter a real date"),
        (VALID_CODE, "", "Enter the date symptoms started."),
        (VALID_CODE, "2020-05-20", "Confirm the date: symptoms started more than 14 days ago."),
    ],
)
async def test_bad_input_is_explained_and_changes_nothing(
    client: httpx.AsyncClient, site: Site, code: str, onset: str, message: str
) -> None:
    token = await signed_in(client)
    audit_before = len(site.portal.store.audit.latest())
    response = await post(client, "/portal/authorise", token, code=code, onset=onset)
    assert response.status_code == 400
    assert html.escape(message, quote=False) in response.text or message in response.text
    assert 'class="error-summary"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert authorised_count(site) == 0
    assert len(site.portal.store.audit.latest()) == audit_before
    assert f'value="{escape(code)}"' in response.text  # what was typed stays


async def test_wrong_check_character_marks_the_cell(client: httpx.AsyncClient) -> None:
    token = await signed_in(client)
    response = await post(client, "/portal/authorise", token, code="9K2RYA8UUQ", onset=ONSET)
    cells = re.findall(r'<span class="cell( cell-flagged)?">(.)</span>', response.text)
    assert [i + 1 for i, (flag, _) in enumerate(cells) if flag] == [5, 6]
    assert "".join(c for _, c in cells) == "9K2RYA8UUQ"


async def test_old_onset_is_accepted_once_confirmed(client: httpx.AsyncClient, site: Site) -> None:
    token = await signed_in(client)
    response = await post(
        client, "/portal/authorise", token, code=VALID_CODE, onset="20/05/2020", confirm_old="1"
    )
    assert response.status_code == 303
    assert authorised_count(site) == 1


async def test_hostile_input_is_escaped_everywhere(client: httpx.AsyncClient, site: Site) -> None:
    token = await signed_in(client)
    response = await post(client, "/portal/authorise", token, code=HOSTILE, onset=HOSTILE)
    assert response.status_code == 400
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    assert str(escape(HOSTILE)) in response.text
    sign_in_page = await client.post(
        "/portal/sign-in", data={"csrf_token": token, "email": HOSTILE, "password": HOSTILE}
    )
    assert "<script>alert" not in sign_in_page.text
    token = await page_token(client, "/portal/admin/audit")  # still signed in
    for path, fields in [
        ("/portal/admin/audit", {"code": HOSTILE}),
        ("/portal/admin/operators", {"email": HOSTILE, "role": HOSTILE}),
        ("/portal/account/password", {"current": HOSTILE, "new": HOSTILE, "confirmation": "x"}),
    ]:
        page = await post(client, path, token, **fields)
        assert page.status_code == 400, path
        assert "<script>alert" not in page.text, path
        assert "<img src=x" not in page.text, path
    assert authorised_count(site) == 0
