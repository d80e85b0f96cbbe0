"""The portal in Debian's headless Chromium, served for real by uvicorn on localhost.

The operator's journey (sign in, the live check, authorise, the countdown) ending with a
plain HTTP client acting as the phone; the same without JavaScript; redirects and CSRF; the
keyboard; and the live check compared with the server's on hundreds of inputs. One browser
for them all, in this module (one xdist worker: the ``browser`` group); screenshots of
the main pages go to ``docs/screenshots/`` for the README.
Without Chromium the tests skip with a message, unless ``NOTIFICA_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from notifica.portal._codes import code_rules, diagnose_code, feedback
from notifica.portal._i18n import catalog
from notifica.protocol import OTP_ALPHABET, otp_check_character
from tests.portal._browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    Served,
    require_browser,
    serve_portal,
    shot,
    sign_in,
    watch_errors,
)
from tests.portal._support import OPERATOR, OPERATOR_PASSWORD
from tests.server._support import ingestion_headers, padded, upload_body

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CODE = "9K2RAY8UUQ"
ONSET = "2020-06-12"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The server the journeys use (they authorise codes and sign in)."""
    with serve_portal(tmp_path_factory.mktemp("browser-site")) as served:
        yield served


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A second server with the same seeded history that only the screenshots of the
    administrators' pages use, so the images are the same whatever ran before."""
    with serve_portal(tmp_path_factory.mktemp("screenshot-site")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for all the browser tests (they are all in this module: the
    sync API keeps an event loop running on this thread while it is open)."""
    sync_api = require_browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh English browser context; fails the test on any script or resource error."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert errors == [], errors


def test_operator_authorises_a_code_and_the_phone_uploads(served: Served, page: Any) -> None:
    base = served.base
    page.goto(f"{base}/portal/authorise")
    assert page.url.startswith(f"{base}/portal/sign-in?next=")
    shot(page, "sign-in")
    page.fill("#email", OPERATOR)
    page.fill("#password", OPERATOR_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/portal/authorise")
    # The operator mishears two characters: the page points at them while typing.
    page.click("#code")
    page.keyboard.type("9k2 rya8 uuq")
    # expect() waits for the page's script, which a loaded machine may run late.
    expect = require_browser().expect
    expect(page.locator("#code-check")).to_contain_text(
        "Positions 5 and 6: are “Y” and “A” swapped?"
    )
    expect(page.locator(".cell-flagged")).to_have_text(["Y", "A"])
    page.fill("#onset", "2020-05-25")
    expect(page.locator("#confirm-old-block")).to_be_visible()  # past 14 days: the warning
    page.locator("#code").focus()
    shot(page, "authorise")
    page.fill("#code", "9K2-RAY8-UUQ")
    expect(page.locator("#code-check .code-lines")).to_have_text("The code looks right.")
    page.fill("#onset", ONSET)
    expect(page.locator("#confirm-old-block")).to_be_hidden()
    page.clock.install()  # the countdown runs on the page's clock, which the test moves
    page.click("form.desk button[type=submit]")
    page.wait_for_url(f"{base}/portal/authorise/done/*")
    expect(page.locator("main")).to_contain_text("The code is authorised.")
    expect(page.locator(".timer")).to_have_text("2:30")
    shot(page, "confirmation")
    page.clock.run_for(5_000)
    expect(page.locator(".timer")).to_have_text("2:25")
    # The citizen's phone, a plain HTTP client, goes on with the same code.
    with httpx.Client(base_url=base) as phone:
        check = phone.post(
            "/v1/ingestion/check-otp", content=padded({}), headers=ingestion_headers(CODE)
        )
        assert check.status_code == 204
        upload = phone.post(
            "/v1/ingestion/upload",
            content=upload_body(served.clock.now()),
            headers=ingestion_headers(CODE),
        )
        assert upload.status_code == 204
        again = phone.post(
            "/v1/ingestion/upload",
            content=upload_body(served.clock.now()),
            headers=ingestion_headers(CODE),
        )
        assert again.status_code == 401  # one upload per code


def test_without_javascript_the_server_checks_and_authorises(served: Served, browser: Any) -> None:
    """Without JavaScript the server says the same after submitting, and authorises."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    sign_in(page, served.base, OPERATOR, OPERATOR_PASSWORD)
    page.fill("#code", "9K2RAY8UUA")
    page.fill("#onset", ONSET)
    page.click("form.desk button[type=submit]")
    summary = page.inner_text(".error-summary")
    assert "This is not a valid code: one of the characters is wrong." in summary
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert page.input_value("#code") == "9K2RAY8UUA"
    page.fill("#code", "ffh-hhhh-hhl")  # another valid code, typed loosely
    page.click("form.desk button[type=submit]")
    assert "The code is authorised." in page.inner_text("main")
    assert page.inner_text(".timer") == "2:30"  # no script: the server's figure stays
    context.close()


def test_without_a_session_pages_redirect_to_sign_in(served: Served, page: Any) -> None:
    for path in ("authorise", "territories", "admin/operators"):
        page.goto(f"{served.base}/portal/{path}")
        assert page.url.startswith(f"{served.base}/portal/sign-in")
        assert page.locator("h1").inner_text() == "Sign in"


def test_post_without_csrf_token_is_refused(served: Served, browser: Any) -> None:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    sign_in(page, served.base, OPERATOR, OPERATOR_PASSWORD)
    before = served.backend.daily_counts(days=1)
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/portal/authorise";
            for (const [name, value] of [["code", "9K2RAY8UUQ"], ["onset", "2020-06-12"]]) {
                const input = document.createElement("input");
                input.name = name; input.value = value; form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }"""
    )
    page.wait_for_load_state()
    assert "This form was not sent by a page of the portal" in page.inner_text("main")
    assert served.backend.daily_counts(days=1) == before
    context.close()


def test_keyboard_order_and_labels(served: Served, page: Any) -> None:
    page.goto(f"{served.base}/portal/sign-in")
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    assert order == [
        "Skip to main content",
        "notifica · Health operators' portal",
        "Italiano",
        "email",
        "password",
        "Sign in",
    ]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # submitting the empty form from the keyboard
    assert "The e-mail address or the password is wrong." in page.inner_text(".error-summary")
    assert page.evaluate("document.activeElement.id") == "sign-in-error"  # focus on the summary
    sign_in(page, served.base)
    for path in ("authorise", "admin/operators", "admin/audit"):
        page.goto(f"{served.base}/portal/{path}")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll("input:not([type=hidden]), select")]
                 .filter(el => !el.labels || el.labels.length === 0).map(el => el.outerHTML)"""
        )
        assert unlabelled == [], path


def test_live_check_mirrors_the_server(served: Served, page: Any) -> None:
    rng = random.Random(11)
    inputs = [
        "",
        " ",
        "9k2-ray8-uuq",
        "9K2RAY8UUQQ",
        "O" * 12,
        "A" * 101,
        "9K2\u2013RAY8\u00a0UUQ",
        "é9K2RAY8UUQ",
        "9K2RAY8UU😀",
    ]
    for _ in range(300):
        first = "".join(rng.choice(OTP_ALPHABET) for _ in range(9))
        chars = list(first + otp_check_character(first))
        kind = rng.randrange(5)
        i = rng.randrange(9)
        if kind == 0:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif kind == 1:
            chars[i] = rng.choice(OTP_ALPHABET + "0ONBGT")
        elif kind == 2:
            del chars[i]
        elif kind == 3:
            chars.insert(i, rng.choice(" -abc"))
        inputs.append("".join(chars).lower() if rng.random() < 0.3 else "".join(chars))
    sign_in(page, served.base, OPERATOR, OPERATOR_PASSWORD)
    en = catalog("en")
    messages = {k: v for k, v in en.messages.items() if k.startswith("code.")}
    got = page.evaluate(
        """([rules, messages, inputs]) => inputs.map(text => {
            const d = window.notificaPortal.diagnose(rules, text);
            return [d, window.notificaPortal.feedback(d, messages, true)];
        })""",
        [code_rules(), messages, inputs],
    )
    for text, (diagnosis, lines) in zip(inputs, got, strict=True):
        expected = diagnose_code(text)
        assert diagnosis == json.loads(json.dumps(expected.as_dict())), text
        assert lines == feedback(expected, en, live=True), text


def test_admin_and_territories_pages(pristine: Served, page: Any) -> None:
    """Screenshots from the pristine server: nothing another test did today shows."""
    served = pristine
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
