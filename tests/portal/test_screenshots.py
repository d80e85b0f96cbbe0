"""Screenshots of the administrators' pages and the territories page, for the README.

Its own server (the same seeded history, clock at START) so that nothing another test did
today shows in the counts or the operators' last sign-ins: the images are the same on every
run and whatever tests run before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.portal._browser import Served, serve_portal, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_portal(tmp_path_factory.mktemp("screenshot-site")) as served:
        yield served


def test_admin_and_territories_pages(served: Served, page: Any) -> None:
    sign_in(page, served.base)
    page.goto(f"{served.base}/portal/admin/operators")
    page.fill("#new-email", "l.bianchi@asl.example")
    page.click("form.form-row button[type=submit]")
    assert "Temporary password:" in page.inner_text(".notice-success")
    page.locator(".secret").evaluate("el => el.textContent = 'k7mq-x3vd-hf9a-2nrt'")  # stable image
    shot(page, "operators")
    page.goto(f"{served.base}/portal/admin/counts")
    assert page.locator("svg.chart rect.series-codes").count() == 14
    shot(page, "counts")
    page.goto(f"{served.base}/portal/territories")
    assert page.locator("tr.rising").count() == 4
    shot(page, "territories")
    page.goto(f"{served.base}/portal/language/it?next=/portal/territories")
    assert page.locator("h1").inner_text() == "Territori"
    page.goto(f"{served.base}/portal/admin/audit")
    assert page.locator("table.data tbody tr").count() >= 3
