"""The operator's input: code diagnosis, its hints, the audit fingerprint, the onset date."""

from __future__ import annotations

import hashlib
import random
import sys
from datetime import date, timedelta

import pytest

from notifica.portal._codes import (
    LOOKALIKES,
    code_error,
    code_fingerprint,
    code_rules,
    diagnose_code,
    feedback,
    flagged_positions,
    is_old_onset,
    parse_onset,
)
from notifica.portal._i18n import catalog
from notifica.portal.errors import InvalidField
from notifica.protocol import (
    OTP_ALPHABET,
    InvalidOtp,
    is_valid_otp,
    normalize_otp,
    otp_bearer_token,
    otp_check_character,
)
from tests.portal._support import VALID_CODE

TODAY = date(2020, 6, 15)
en = catalog("en")


@pytest.mark.parametrize("typed", ["9K2RAY8UUQ", "9k2-ray8-uuq", " 9K2 RAY8 UUQ ", "9K2–RAY8—UUQ"])
def test_valid_code_in_any_typing_is_ok(typed: str) -> None:
    d = diagnose_code(typed)
    assert (d.status, d.code, d.length) == ("ok", VALID_CODE, 10)
    assert code_error(d) is None
    assert feedback(d, en, live=True) == ["The code looks right."]


def test_wrong_check_character_names_expected_and_position_ten() -> None:
    d = diagnose_code("9K2RAY8UUA")
    assert (d.status, d.positions, d.character, d.expected) == ("check", (10,), "A", "Q")
    error = code_error(d)
    assert error is not None
    assert error.field == "code"
    assert error.key == "code.check"
    lines = feedback(d, en, live=False)
    assert lines[0] == "This is not a valid code: one of the characters is wrong."
    assert "check character" in lines[-1]  # no single slip explains it: read it back
    assert flagged_positions(d) == {10}


def test_swapped_neighbours_are_pointed_at() -> None:
    d = diagnose_code("9K2RYA8UUQ")  # positions 5 and 6 swapped
    assert d.status == "check"
    assert [(s.kind, s.position) for s in d.suggestions] == [("swap", 5)]
    assert flagged_positions(d) == {5, 6}
    assert "Positions 5 and 6: are “Y” and “A” swapped?" in feedback(d, en, live=True)


def test_lookalike_is_pointed_at() -> None:
    first = "S" + VALID_CODE[1:9]  # "5" read as "S" would need this to be valid:
    code = first + otp_check_character(first)
    typed = "5" + code[1:]
    d = diagnose_code(typed)
    assert d.status == "check"
    assert ("lookalike", 1, "S") in [(s.kind, s.position, s.replacement) for s in d.suggestions]
    assert 1 in flagged_positions(d)


def test_every_suggestion_turns_the_code_valid() -> None:
    rng = random.Random(3)
    checked = 0
    for _ in range(400):
        first = "".join(rng.choice(OTP_ALPHABET) for _ in range(9))
        code = list(first + otp_check_character(first))
        i = rng.randrange(10)
        code[i] = rng.choice(OTP_ALPHABET.replace(code[i], ""))
        d = diagnose_code("".join(code))
        if d.status == "ok":  # X and 1 weigh the same at odd positions (both 0 mod 25)
            continue
        assert d.status == "check"
        for s in d.suggestions:
            chars = list(d.code)
            if s.kind == "swap":
                chars[s.position - 1], chars[s.position] = chars[s.position], chars[s.position - 1]
            else:
                assert s.replacement is not None
                chars[s.position - 1] = s.replacement
            assert is_valid_otp("".join(chars))
            checked += 1
        assert len(d.suggestions) <= 3
    assert checked > 50


@pytest.mark.parametrize(
    ("typed", "status", "length"),
    [
        ("", "empty", 0),
        ("  - ", "empty", 0),
        ("9K2RAY", "incomplete", 6),
        ("9K2RAY8UUQA", "too_long", 11),
    ],
)
def test_length_problems(typed: str, status: str, length: int) -> None:
    d = diagnose_code(typed)
    assert (d.status, d.length) == (status, length)
    error = code_error(d)
    assert error is not None
    assert error.field == "code"


def test_typing_a_short_code_is_not_an_error_yet() -> None:
    d = diagnose_code("9K2")
    assert feedback(d, en, live=True) == ["3 of 10 characters"]
    assert feedback(d, en, live=False) == ["The code has 3 characters: it must have 10."]
    assert feedback(diagnose_code(""), en, live=True) == []


def test_oversized_input_is_refused_on_length_alone() -> None:
    d = diagnose_code("A" * 101)
    assert (d.status, d.length, d.code) == ("too_long", 101, "")


def test_forbidden_letters_give_positions_and_lookalikes() -> None:
    d = diagnose_code("9K2RAYBUUO")
    assert (d.status, d.positions, d.character) == ("forbidden", (7, 10), "B")
    assert [(s.position, s.replacement) for s in d.suggestions] == [(7, "8")]
    lines = feedback(d, en, live=True)
    assert lines[0] == "The characters at positions 7, 10 are never used in codes."
    assert lines[-1].startswith("Codes use only")
    error = code_error(d)
    assert error is not None
    assert error.key == "code.forbidden_many"
    single = code_error(diagnose_code("9K2RAY0UUQ"))
    assert single is not None
    assert single.params == {"character": "0", "position": 7}


def test_lookalikes_stay_inside_the_alphabet() -> None:
    for source, targets in LOOKALIKES.items():
        assert targets
        assert all(t in OTP_ALPHABET and t != source for t in targets)


def test_fingerprint_is_short_stable_and_not_the_bearer_token() -> None:
    fp = code_fingerprint("9k2-ray8-uuq")
    assert fp == code_fingerprint(VALID_CODE)
    assert len(fp) == 8
    assert int(fp, 16) >= 0
    assert fp != otp_bearer_token(VALID_CODE)[:8]
    assert fp == hashlib.sha256(b"notifica-portal-audit:" + VALID_CODE.encode()).hexdigest()[:8]
    with pytest.raises(InvalidOtp):
        code_fingerprint("9K2RAY8UUA")


def test_rules_for_the_browser_reproduce_the_check_character() -> None:
    rules = code_rules()
    rng = random.Random(5)
    n = len(rules["alphabet"])
    for _ in range(500):
        first = "".join(rng.choice(OTP_ALPHABET) for _ in range(9))
        total = rules["base"] + sum(
            (rules["odd"] if i % 2 == 0 else rules["even"])[rules["alphabet"].index(c)]
            for i, c in enumerate(first)
        )
        assert rules["alphabet"][total % n] == otp_check_character(first)


@pytest.mark.slow
def test_rules_list_exactly_the_characters_normalize_drops() -> None:
    ignored = set(code_rules()["ignore"])
    dropped = {chr(c) for c in range(sys.maxunicode + 1) if normalize_otp(chr(c)) == ""}
    assert ignored == dropped
    assert {" ", "-", "\u2013", "\u2212", "\u00a0"} <= ignored


def test_onset_accepts_the_picker_and_italian_formats() -> None:
    assert parse_onset("2020-06-10", today=TODAY) == date(2020, 6, 10)
    assert parse_onset(" 10/06/2020 ", today=TODAY) == date(2020, 6, 10)
    assert parse_onset("1.6.2020", today=TODAY) == date(2020, 6, 1)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "onset.missing"),
        ("tomorrow", "onset.invalid"),
        ("2020-02-30", "onset.invalid"),
        ("31/04/2020", "onset.invalid"),
        ("2020-06-16", "onset.future"),
        ((TODAY - timedelta(days=181)).isoformat(), "onset.too_old"),
        ("<script>alert(1)</script>", "onset.invalid"),
    ],
)
def test_onset_refusals(text: str, key: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_onset(text, today=TODAY)
    assert (caught.value.field, caught.value.key) == ("onset", key)


def test_onset_window_edges() -> None:
    assert parse_onset(TODAY.isoformat(), today=TODAY) == TODAY
    oldest = TODAY - timedelta(days=180)
    assert parse_onset(oldest.isoformat(), today=TODAY) == oldest
    assert not is_old_onset(TODAY - timedelta(days=14), today=TODAY)
    assert is_old_onset(TODAY - timedelta(days=15), today=TODAY)
