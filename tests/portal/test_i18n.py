"""Catalogs in step, every used key present, language negotiation and formats."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest

from notifica.portal import AuditAction
from notifica.portal._codes import FEEDBACK_KEYS
from notifica.portal._i18n import LANGUAGES, catalog, negotiate

PORTAL = Path(__file__).resolve().parents[2] / "src" / "notifica" / "portal"
_LITERAL_KEY = re.compile(
    r"""(?:\bt|say|render|notice=|error=|key=)\(?\s*["']([a-z_]+\.[a-z_.]+)["']"""
)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    it, en = catalog("it"), catalog("en")
    assert set(it.messages) == set(en.messages)
    for key, text in en.messages.items():
        assert _placeholders(text) == _placeholders(it.messages[key]), key
        for message in (text, it.messages[key]):
            assert not re.search(r"<[a-zA-Z/!]", message), f"{key}: no HTML in messages"


def test_every_key_written_in_code_and_templates_exists() -> None:
    keys = set(catalog("en").messages)
    sources = [*PORTAL.rglob("*.py"), *PORTAL.rglob("*.html")]
    used = {m for path in sources for m in _LITERAL_KEY.findall(path.read_text())}
    used |= {f"audit.action.{a.value}" for a in AuditAction}
    used |= set(FEEDBACK_KEYS)
    used = {k for k in used if not k.endswith((".", ".html"))}
    missing = sorted(k for k in used if k not in keys)
    assert missing == []
    assert len(used) > 100  # the scan found the keys


def test_error_classes_have_messages_in_both_languages() -> None:
    from notifica.portal import errors

    for name in errors.__all__:
        key = getattr(errors, name).key
        for language in LANGUAGES:
            assert key in catalog(language).messages


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "it"),
        ("", "it"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE, en;q=0.5, it;q=0.8", "it"),
        ("fr, *;q=0.1", "it"),
        ("en;q=0", "it"),
        ("en;q=abc, it;q=0.2", "it"),
        ("EN-us", "en"),
        ("en;q=2", "it"),
        ("x" * 600, "it"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header, "it") == expected


def test_numbers_and_dates() -> None:
    it, en = catalog("it"), catalog("en")
    assert en.number(1234567.891, 1) == "1,234,567.9"
    assert it.number(1234567.891, 1) == "1.234.567,9"
    assert it.number(5) == "5"
    assert en.date(date(2020, 6, 15)) == "15 Jun 2020"
    assert it.date(date(2020, 6, 15)) == "15 giu 2020"


def test_unknown_language_and_key() -> None:
    with pytest.raises(ValueError, match="language"):
        catalog("de")
    with pytest.raises(KeyError):
        catalog("en")("no.such.key")
