"""The Immuni OTP ("codice univoco"): generating, checking and hashing it (immuni-api.md §4).

Ten symbols from a 25-symbol alphabet without confusable letters and ``0``; the first nine are
random, the tenth is a check character computed with the odd/even value tables of the Italian
*codice fiscale*, restricted to the alphabet, modulo 25 (§4.2). The app shows the code in
3-4-3 groups; the health-authority operator types what the user dictates; the app proves it
holds the code with ``Authorization: Bearer <hex SHA-256 of the code>`` (§4.3).

Rules:

1. `normalize_otp` forgives only what typing and copying add: every kind of whitespace
   (spaces, tabs, no-break spaces, newlines) and every dash (``-``, en and em dashes, the
   minus sign, non-breaking hyphens), and it upper-cases ASCII letters. Any other character
   (``.``, ``/``, ``_``, a non-ASCII letter) stays and is reported with its position: a
   dictated code has no such separators, so guessing would hide a typo.
2. `validate_otp` reports the first problem in this order: forbidden characters (all their
   positions), then the length, then the check character. A code with a forbidden symbol is
   invalid whatever its check character (§4.1). Input over 100 characters is refused on its
   length alone, before it is read.
3. Generation is unbiased: each random byte below 250 (the largest multiple of 25 that fits)
   picks ``byte % 25``; bytes 250..255 are discarded.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable

from notifica.protocol.errors import InvalidOtp, OtpProblem

__all__ = [
    "OTP_ALPHABET",
    "OTP_LENGTH",
    "format_otp",
    "generate_otp",
    "is_valid_otp",
    "normalize_otp",
    "otp_bearer_token",
    "otp_check_character",
    "validate_otp",
]

OTP_ALPHABET = "AEFHIJKLQRSUWXYZ123456789"
"""The 25 symbols, in the order that maps a checksum to its character (immuni-api.md §4.1)."""

OTP_LENGTH = 10
"""Nine random symbols and a check character (immuni-api.md §4.1)."""

_GROUPS = (3, 4, 3)
"""The display grouping of iOS ``OTP.codeParts`` and Android ``OtpGenerator`` (§4.1)."""

_MAX_INPUT_LENGTH = 100
"""Longer input is refused before normalising it: ten symbols with generous spacing fit."""

_POSITION_VALUES = {
    # symbol: (value at an odd position, value at an even position)
    "A": (1, 0),
    "E": (9, 4),
    "F": (13, 5),
    "H": (17, 7),
    "I": (19, 8),
    "J": (21, 9),
    "K": (2, 10),
    "L": (4, 11),
    "Q": (6, 16),
    "R": (8, 17),
    "S": (12, 18),
    "U": (16, 20),
    "W": (22, 22),
    "X": (25, 23),
    "Y": (24, 24),
    "Z": (23, 25),
    "1": (0, 1),
    "2": (5, 2),
    "3": (7, 3),
    "4": (9, 4),
    "5": (13, 5),
    "6": (15, 6),
    "7": (17, 7),
    "8": (19, 8),
    "9": (21, 9),
}
"""The codice-fiscale values of each symbol (immuni-api.md §4.2 table; COMMON
``OtpCodeValidator``). 1-based positions 1, 3, 5, 7, 9 are odd, 2, 4, 6, 8 even."""

_ODD = {symbol: odd for symbol, (odd, _) in _POSITION_VALUES.items()}
_EVEN = {symbol: even for symbol, (_, even) in _POSITION_VALUES.items()}
assert "".join(_POSITION_VALUES) == OTP_ALPHABET

_REJECTION_LIMIT = 256 - 256 % len(OTP_ALPHABET)
"""250: random bytes at or above it are discarded so that ``byte % 25`` stays uniform."""

_EXTRA_DASHES = frozenset("\u2212")
"""The minus sign (category Sm) is typed for a dash by some keyboards; Pd covers the rest."""


def otp_check_character(first_nine: str) -> str:
    """The check character that completes `first_nine` (immuni-api.md §4.2).

    Raises:
        ValueError: if `first_nine` is not nine symbols of `OTP_ALPHABET`.
    """
    if len(first_nine) != OTP_LENGTH - 1:
        raise ValueError(f"expected {OTP_LENGTH - 1} symbols, got {len(first_nine)}")
    try:
        total = sum(
            _ODD[symbol] if position % 2 else _EVEN[symbol]
            for position, symbol in enumerate(first_nine, start=1)
        )
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not an OTP symbol") from None
    return OTP_ALPHABET[total % len(OTP_ALPHABET)]


def generate_otp(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A new OTP: nine uniformly random symbols and their check character.

    Args:
        random_bytes: returns that many random bytes; a CSPRNG by default. Tests inject a
            seeded source.

    Raises:
        ValueError: if `random_bytes` returns a different number of bytes than asked.
    """
    symbols: list[str] = []
    while len(symbols) < OTP_LENGTH - 1:
        wanted = 2 * (OTP_LENGTH - 1 - len(symbols))
        chunk = random_bytes(wanted)
        if len(chunk) != wanted:
            raise ValueError(f"random_bytes({wanted}) returned {len(chunk)} bytes")
        symbols.extend(OTP_ALPHABET[b % len(OTP_ALPHABET)] for b in chunk if b < _REJECTION_LIMIT)
    first_nine = "".join(symbols[: OTP_LENGTH - 1])
    return first_nine + otp_check_character(first_nine)


def normalize_otp(text: str) -> str:
    """Drop whitespace and dashes and upper-case ASCII letters (rule 1 of the module).

    Raises:
        TypeError: if `text` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"OTP must be a string, got {type(text).__name__}")
    return "".join(
        char.upper() if "a" <= char <= "z" else char
        for char in text
        if not (char.isspace() or unicodedata.category(char) == "Pd" or char in _EXTRA_DASHES)
    )


def validate_otp(text: str) -> str:
    """Check a typed or received OTP and return it normalised (no separators, upper case).

    Raises:
        InvalidOtp: with `problem`, `positions`, `character` and `expected` saying what is
            wrong: a forbidden character, the length, or the check character.
        TypeError: if `text` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"OTP must be a string, got {type(text).__name__}")
    if len(text) > _MAX_INPUT_LENGTH:
        raise InvalidOtp(
            f"the OTP is {len(text)} characters long: expected {OTP_LENGTH}",
            problem=OtpProblem.LENGTH,
            length=len(text),
        )
    code = normalize_otp(text)
    forbidden = tuple(i for i, char in enumerate(code, start=1) if char not in _ODD)
    if forbidden:
        first = code[forbidden[0] - 1]
        where = ", ".join(f"{code[i - 1]!r} at position {i}" for i in forbidden[:5])
        if len(forbidden) > 5:
            where += f" and {len(forbidden) - 5} more"
        raise InvalidOtp(
            f"{where}: not in the OTP alphabet {OTP_ALPHABET} (no N, O, 0 and other look-alikes)",
            problem=OtpProblem.CHARACTER,
            length=len(code),
            positions=forbidden,
            character=first,
        )
    if len(code) != OTP_LENGTH:
        raise InvalidOtp(
            "the OTP is empty: expected 10 characters"
            if not code
            else f"the OTP has {len(code)} characters: expected {OTP_LENGTH}",
            problem=OtpProblem.LENGTH,
            length=len(code),
        )
    expected = otp_check_character(code[:-1])
    if code[-1] != expected:
        raise InvalidOtp(
            f"check character {code[-1]!r} at position {OTP_LENGTH} does not match: the first "
            f"nine characters call for {expected!r}, so one character is mistyped",
            problem=OtpProblem.CHECK_CHARACTER,
            length=len(code),
            positions=(OTP_LENGTH,),
            character=code[-1],
            expected=expected,
        )
    return code


def is_valid_otp(text: str) -> bool:
    """Whether `text` is a valid OTP once normalised (see `validate_otp`)."""
    try:
        validate_otp(text)
    except InvalidOtp:
        return False
    return True


def format_otp(code: str) -> str:
    """The display form in 3-4-3 groups, e.g. ``9K2-RAY8-UUQ`` (immuni-api.md §4.1).

    Raises:
        InvalidOtp: if `code` is not a valid OTP (it may be typed in any grouping).
    """
    code = validate_otp(code)
    parts, start = [], 0
    for size in _GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(parts)


def otp_bearer_token(code: str) -> str:
    """The bearer token that proves possession of `code`: lower-case hex SHA-256 of its UTF-8.

    The code is validated and normalised first, so ``9k2-ray8-uuq`` and ``9K2RAY8UUQ`` give
    the same token as the app computes (immuni-api.md §4.2, §4.3).

    Raises:
        InvalidOtp: if `code` is not a valid OTP.
    """
    return hashlib.sha256(validate_otp(code).encode("utf-8")).hexdigest()
