"""Italian and English: message catalogs, number and date formats, language negotiation.

Catalogs are flat JSON files in ``locales/`` (message key → text with ``{name}``
placeholders), the same keys in every language (a test keeps them in step). Texts carry no
HTML: templates escape whatever they print. The language of a request is the ``lang`` cookie
set by the switch, else the best ``Accept-Language`` match, else the deployment's default.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

__all__ = ["LANGUAGES", "Catalog", "catalog", "english", "negotiate"]

LANGUAGES = ("it", "en")
"""Supported languages, the deployment default first when nothing else decides."""

_LOCALES = Path(__file__).resolve().parent / "locales"
_MAX_ACCEPT_LANGUAGE = 512
"""Longer ``Accept-Language`` headers are not parsed (browsers send a few dozen bytes)."""


@dataclass(frozen=True, slots=True)
class Catalog:
    """The messages and formats of one language."""

    language: str
    messages: Mapping[str, str]

    def __call__(self, key: str, **params: object) -> str:
        """The message `key` with `params` filled in.

        Raises:
            KeyError: for a key the catalog does not have (a test checks every key used).
        """
        return self.messages[key].format(**params)

    def number(self, value: float, decimals: int = 0) -> str:
        """``1,234.5`` in English, ``1.234,5`` in Italian."""
        text = f"{value:,.{decimals}f}"
        if self.language == "it":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    def date(self, day: dt.date) -> str:
        """``15 Jun 2020`` / ``15 giu 2020``."""
        return f"{day.day} {self.messages[f'month.{day.month}']} {day.year}"

    def day(self, day: dt.date) -> str:
        """A short day label for charts: ``15 Jun`` / ``15 giu``."""
        return f"{day.day} {self.messages[f'month.{day.month}']}"


@functools.cache
def catalog(language: str) -> Catalog:
    """The catalog of `language` (read once).

    Raises:
        ValueError: for a language the portal does not speak.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    path = _LOCALES / f"{language}.json"
    messages: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return Catalog(language, MappingProxyType(messages))


def english(key: str, **params: object) -> str:
    """The English text of `key`, for logs, exceptions and the command line."""
    return catalog("en")(key, **params)


def negotiate(accept_language: str | None, default: str) -> str:
    """The best supported language for an ``Accept-Language`` header (RFC 9110 §12.5.4).

    Quality values rank the ranges; ties keep the header's order; ``*`` means `default`;
    only the primary subtag counts (``it-CH`` is Italian). Malformed parts are skipped.
    """
    if not accept_language or len(accept_language) > _MAX_ACCEPT_LANGUAGE:
        return default
    best, best_q = default, 0.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        q = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                q = float(value)
            except ValueError:
                continue
            if not 0.0 <= q <= 1.0:
                continue
        language = default if primary == "*" else primary
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best
