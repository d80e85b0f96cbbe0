"""What the operator types: the upload code and the symptom-onset date.

The code is checked by `notifica.protocol.validate_otp` (immuni-api.md §4); this module
turns its verdict into something an operator can act on. A wrong check character only says
that *some* character is wrong, so the portal looks for the usual slips that would explain
it: two neighbours swapped, or one character read as its look-alike (``1``/``I``, ``2``/``Z``,
``5``/``S``…). When one to three such fixes give a valid code, it points at them; otherwise
it asks to read the code back. ``portal.js`` mirrors this exactly for live feedback (a
browser test compares the two on the same inputs); the server decides.

The onset date follows Immuni's ``IsoDate`` (immuni-api.md §2): not in the future, at most
180 days old, both against the backend clock's UTC date, as ``POST /v1/otp`` checks it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Literal

from notifica.portal.errors import InvalidField
from notifica.protocol import (
    MAX_ISO_DATE_BACKWARD_DAYS,
    OTP_ALPHABET,
    OTP_LENGTH,
    InvalidOtp,
    OtpProblem,
    is_valid_otp,
    normalize_otp,
    otp_check_character,
    validate_otp,
)

__all__ = [
    "FEEDBACK_KEYS",
    "LOOKALIKES",
    "MAX_CODE_INPUT",
    "ONSET_WARNING_DAYS",
    "CodeDiagnosis",
    "Suggestion",
    "code_error",
    "code_fingerprint",
    "code_rules",
    "diagnose_code",
    "feedback",
    "flagged_positions",
    "is_old_onset",
    "parse_onset",
]

MAX_CODE_INPUT = 100
"""`validate_otp` refuses longer input on its length alone (protocol ``_otp`` rule 2)."""

ONSET_WARNING_DAYS = 14
"""Past this, warn: the app holds only 14 days of keys (immuni-api.md §5.5), so the days
around an older onset, the infectious ones, can no longer be uploaded."""

MAX_SUGGESTIONS = 3
"""More candidate fixes than this point nowhere in particular: ask to read the code back."""

_LOOKALIKE_PAIRS = (
    ("1", "I"),
    ("1", "7"),
    ("2", "Z"),
    ("5", "S"),
    ("E", "F"),
    ("U", "V"),
    ("8", "B"),
    ("6", "G"),
    ("7", "T"),
)
"""Characters read or heard for one another; only replacements inside the alphabet count."""

LOOKALIKES: dict[str, str] = {}
for _a, _b in _LOOKALIKE_PAIRS:
    for _x, _y in ((_a, _b), (_b, _a)):
        if _y in OTP_ALPHABET:
            LOOKALIKES[_x] = LOOKALIKES.get(_x, "") + _y

_AUDIT_DOMAIN = b"notifica-portal-audit:"
_FINGERPRINT_HEX = 8
"""32 bits: about 900 valid codes share each fingerprint (25⁹ / 2³²), so the audit log cannot
be turned back into codes, while a code in hand still finds its lines."""

Status = Literal["empty", "incomplete", "too_long", "forbidden", "check", "ok"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """A likely slip: `replacement` at `position`, or `position` swapped with the next."""

    kind: Literal["lookalike", "swap"]
    position: int
    replacement: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeDiagnosis:
    """What is wrong with a typed code, if anything (positions are 1-based)."""

    code: str
    status: Status
    length: int
    positions: tuple[int, ...] = ()
    character: str | None = None
    expected: str | None = None
    suggestions: tuple[Suggestion, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the browser test compares it with ``portal.js``)."""
        data = asdict(self)
        data["positions"] = list(self.positions)
        data["suggestions"] = [asdict(s) for s in self.suggestions]
        return data


def _fixes(code: str) -> tuple[Suggestion, ...]:
    found: list[Suggestion] = []
    for i, char in enumerate(code):
        if i + 1 < len(code) and code[i + 1] != char:
            swapped = code[:i] + code[i + 1] + char + code[i + 2 :]
            if is_valid_otp(swapped):
                found.append(Suggestion(kind="swap", position=i + 1))
        for other in LOOKALIKES.get(char, ""):
            if is_valid_otp(code[:i] + other + code[i + 1 :]):
                found.append(Suggestion(kind="lookalike", position=i + 1, replacement=other))
    return tuple(found) if len(found) <= MAX_SUGGESTIONS else ()


def diagnose_code(text: str) -> CodeDiagnosis:
    """The verdict of `validate_otp` on `text`, with the likely slips."""
    try:
        code = validate_otp(text)
    except InvalidOtp as exc:
        length = exc.length or 0
        shown = "" if len(text) > MAX_CODE_INPUT else normalize_otp(text)
        if exc.problem is OtpProblem.CHARACTER:
            hints = tuple(
                Suggestion(kind="lookalike", position=p, replacement=LOOKALIKES[shown[p - 1]][0])
                for p in exc.positions
                if shown[p - 1] in LOOKALIKES
            )
            return CodeDiagnosis(
                code=shown,
                status="forbidden",
                length=length,
                positions=exc.positions,
                character=exc.character,
                suggestions=hints[:MAX_SUGGESTIONS],
            )
        if exc.problem is OtpProblem.CHECK_CHARACTER:
            return CodeDiagnosis(
                code=shown,
                status="check",
                length=length,
                positions=exc.positions,
                character=exc.character,
                expected=exc.expected,
                suggestions=_fixes(shown),
            )
        status: Status = (
            "empty" if length == 0 else "incomplete" if length < OTP_LENGTH else "too_long"
        )
        return CodeDiagnosis(code=shown, status=status, length=length)
    return CodeDiagnosis(code=code, status="ok", length=len(code))


def code_error(diagnosis: CodeDiagnosis) -> InvalidField | None:
    """The form error for a submitted code (None when it is valid)."""
    d = diagnosis
    if d.status == "ok":
        return None
    if d.status == "empty":
        return InvalidField("code", "code.empty")
    if d.status in ("incomplete", "too_long"):
        return InvalidField("code", "code.wrong_length", count=d.length)
    if d.status == "forbidden":
        if len(d.positions) == 1:
            return InvalidField(
                "code", "code.forbidden", character=d.character or "?", position=d.positions[0]
            )
        return InvalidField(
            "code", "code.forbidden_many", positions=", ".join(map(str, d.positions))
        )
    return InvalidField("code", "code.check")


def code_fingerprint(code: str) -> str:
    """The audit log's name for a code: 8 hex digits of a domain-separated SHA-256.

    Not the bearer token (the SHA-256 of the code, immuni-api.md §4.3): a reader of the log
    cannot use it to upload, and cannot recover the code from it.

    Raises:
        InvalidOtp: if `code` is not a valid OTP.
    """
    normalised = validate_otp(code)
    return hashlib.sha256(_AUDIT_DOMAIN + normalised.encode()).hexdigest()[:_FINGERPRINT_HEX]


@functools.cache
def code_rules() -> dict[str, Any]:
    """The alphabet and check-character arithmetic for ``portal.js``, derived from the
    protocol's public `otp_check_character` rather than copied: with all other positions
    ``A``, moving one position to symbol ``s`` moves the check character's index by the
    difference of ``s``'s value and ``A``'s there (immuni-api.md §4.2), modulo 25."""
    n = len(OTP_ALPHABET)
    base_code = OTP_ALPHABET[0] * (OTP_LENGTH - 1)
    base = OTP_ALPHABET.index(otp_check_character(base_code))

    def relative(position: int) -> list[int]:
        out = []
        for symbol in OTP_ALPHABET:
            probe = base_code[:position] + symbol + base_code[position + 1 :]
            out.append((OTP_ALPHABET.index(otp_check_character(probe)) - base) % n)
        return out

    return {
        "alphabet": OTP_ALPHABET,
        "ignore": _ignorable(),
        "length": OTP_LENGTH,
        "maxInput": MAX_CODE_INPUT,
        "base": base,
        "odd": relative(0),
        "even": relative(1),
        "lookalikes": LOOKALIKES,
        "maxSuggestions": MAX_SUGGESTIONS,
    }


_SEARCHED_PLANES = 0x20000


@functools.cache
def _ignorable() -> str:
    """The characters `normalize_otp` drops (whitespace and dashes), found by asking it.

    Unicode has no whitespace or dash past the first two planes (a test checks the rest).
    """
    chars = (chr(c) for c in range(_SEARCHED_PLANES))
    candidates = (c for c in chars if c.isspace() or unicodedata.category(c) in ("Pd", "Sm"))
    return "".join(c for c in candidates if normalize_otp(c) == "")


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ITALIAN = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")


def parse_onset(text: str, *, today: date) -> date:
    """The symptom-onset date typed as ``YYYY-MM-DD`` (the date picker) or ``DD/MM/YYYY``.

    Raises:
        InvalidField: missing, not a date, in the future, or more than 180 days before
            `today` (immuni-api.md §2, ``MAX_ISO_DATE_BACKWARD_DIFF``).
    """
    text = text.strip()
    if not text:
        raise InvalidField("onset", "onset.missing")
    iso, italian = _ISO.fullmatch(text), _ITALIAN.fullmatch(text)
    try:
        if iso:
            onset = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif italian:
            onset = date(int(italian[3]), int(italian[2]), int(italian[1]))
        else:
            raise ValueError(text)
    except ValueError:
        raise InvalidField("onset", "onset.invalid") from None
    if onset > today:
        raise InvalidField("onset", "onset.future")
    if onset < today - timedelta(days=MAX_ISO_DATE_BACKWARD_DAYS):
        raise InvalidField("onset", "onset.too_old", days=MAX_ISO_DATE_BACKWARD_DAYS)
    return onset


def is_old_onset(onset: date, *, today: date) -> bool:
    """Whether the onset is more than `ONSET_WARNING_DAYS` days ago (the warning)."""
    return (today - onset).days > ONSET_WARNING_DAYS


FEEDBACK_KEYS = (
    "code.empty",
    "code.typing",
    "code.wrong_length",
    "code.ok",
    "code.forbidden",
    "code.forbidden_many",
    "code.alphabet",
    "code.check",
    "code.check_unknown",
    "code.suggest_lookalike",
    "code.suggest_swap",
)
"""The catalog messages `feedback` uses; the page hands them to ``portal.js``."""


def feedback(diagnosis: CodeDiagnosis, t: Callable[..., str], *, live: bool) -> list[str]:
    """The sentences that explain `diagnosis` (``portal.js`` composes the same ones).

    `live` is the typing view: an empty or short code is not an error yet.
    """
    d = diagnosis
    if d.status == "empty":
        return [] if live else [t("code.empty")]
    if d.status == "incomplete" and live:
        return [t("code.typing", count=d.length)]
    if d.status in ("incomplete", "too_long"):
        return [t("code.wrong_length", count=d.length)]
    if d.status == "ok":
        return [t("code.ok")]
    lines: list[str] = []
    if d.status == "forbidden":
        if len(d.positions) == 1:
            lines.append(t("code.forbidden", character=d.character, position=d.positions[0]))
        else:
            lines.append(t("code.forbidden_many", positions=", ".join(map(str, d.positions))))
    else:
        lines.append(t("code.check"))
    for s in d.suggestions:
        if s.kind == "swap":
            lines.append(
                t(
                    "code.suggest_swap",
                    position=s.position,
                    next=s.position + 1,
                    first=d.code[s.position - 1],
                    second=d.code[s.position],
                )
            )
        else:
            lines.append(
                t(
                    "code.suggest_lookalike",
                    position=s.position,
                    character=d.code[s.position - 1],
                    replacement=s.replacement,
                )
            )
    if d.status == "forbidden":
        lines.append(t("code.alphabet"))
    elif not d.suggestions:
        lines.append(t("code.check_unknown"))
    return lines


def flagged_positions(diagnosis: CodeDiagnosis) -> frozenset[int]:
    """The positions to mark in the code's cells: forbidden characters, suggested slips,
    or the check character when nothing better can be pointed at."""
    d = diagnosis
    if d.status == "forbidden":
        return frozenset(d.positions)
    if d.status != "check":
        return frozenset()
    marked = set()
    for s in d.suggestions:
        marked.add(s.position)
        if s.kind == "swap":
            marked.add(s.position + 1)
    return frozenset(marked or d.positions)
