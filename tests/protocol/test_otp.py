from __future__ import annotations

import hashlib
import pickle
import random
import string
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import (
    OTP_ALPHABET,
    OTP_LENGTH,
    InvalidOtp,
    OtpProblem,
    format_otp,
    generate_otp,
    is_valid_otp,
    normalize_otp,
    otp_bearer_token,
    otp_check_character,
    validate_otp,
)

EXAMPLE = "9K2RAY8UUQ"  # immuni-api.md §4.2, from Immuni's API.yaml
EXAMPLE_SHA256 = "b39e0733843b1b5d7c558f52f117a824dc41216e0c2bb671b3d79ba82105dd94"

# immuni-api.md §4.2, the spec's table as it is printed there.
SPEC_TABLE = """
| char | A | E | F | H | I | J | K | L | Q | R | S | U | W | X | Y | Z | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |
| ODD | 1 | 9 | 13 | 17 | 19 | 21 | 2 | 4 | 6 | 8 | 12 | 16 | 22 | 25 | 24 | 23 | 0 | 5 | 7 | 9 | 13 | 15 | 17 | 19 | 21 |
| EVEN | 0 | 4 | 5 | 7 | 8 | 9 | 10 | 11 | 16 | 17 | 18 | 20 | 22 | 23 | 24 | 25 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |
"""  # noqa: E501
SPEC_SYMBOLS, SPEC_ODD, SPEC_EVEN = (
    [cell.strip() for cell in row.strip("| ").split("|")][1:]
    for row in SPEC_TABLE.strip().splitlines()
)
CHI_SQUARE_24_DF_P001 = 51.179
"""Critical value of the chi-square distribution with 24 degrees of freedom at p = 0.001."""


def _seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


def _stream(data: bytes) -> Callable[[int], bytes]:
    chunks: Iterator[int] = iter(data)
    return lambda n: bytes(next(chunks) for _ in range(n))


def _chi_square(counts: Counter[str], total: int) -> float:
    expected = total / len(OTP_ALPHABET)
    return sum((counts[s] - expected) ** 2 / expected for s in OTP_ALPHABET)


def test_alphabet_and_length_follow_the_spec() -> None:
    assert "".join(SPEC_SYMBOLS) == OTP_ALPHABET
    assert OTP_LENGTH == 10
    assert not set("BCDGMNOPTV0") & set(OTP_ALPHABET)


def test_example_is_valid_and_hashes_as_in_the_spec() -> None:
    assert validate_otp(EXAMPLE) == EXAMPLE
    assert otp_check_character(EXAMPLE[:9]) == "Q"
    assert otp_bearer_token(EXAMPLE) == EXAMPLE_SHA256
    assert format_otp(EXAMPLE) == "9K2-RAY8-UUQ"


@pytest.mark.parametrize(
    ("symbol", "odd", "even"), list(zip(SPEC_SYMBOLS, SPEC_ODD, SPEC_EVEN, strict=True))
)
def test_every_symbol_has_its_odd_and_even_value(symbol: str, odd: str, even: str) -> None:
    # With "A" elsewhere the other eight positions add up to a constant: A is 1 at odd
    # positions and 0 at even ones, so the check character isolates `symbol`'s value.
    at_position_1 = symbol + "A" * 8  # other odd positions 3, 5, 7, 9 add 4
    at_position_2 = "A" + symbol + "A" * 7  # odd positions 1, 3, 5, 7, 9 add 5
    assert otp_check_character(at_position_1) == OTP_ALPHABET[(int(odd) + 4) % 25]
    assert otp_check_character(at_position_2) == OTP_ALPHABET[(int(even) + 5) % 25]


def test_check_character_sums_all_nine_positions() -> None:
    # 9K2RAY8UU: odd 9,2,A,8,U = 21+5+1+19+16; even K,R,Y,U = 10+17+24+20 -> 133 % 25 = 8 -> Q
    assert otp_check_character("9K2RAY8UU") == OTP_ALPHABET[133 % 25] == "Q"


def test_check_character_misses_substitutions_with_equal_values() -> None:
    # A property of Immuni's scheme, not of this code: E and 4 have the same odd and even
    # values, so mistyping one for the other leaves the check character unchanged.
    assert otp_check_character("E" + EXAMPLE[1:9]) == otp_check_character("4" + EXAMPLE[1:9])


@pytest.mark.parametrize(
    ("first_nine", "message"),
    [("9K2RAY8U", "expected 9 symbols, got 8"), ("9K2RAY8UUQ", "got 10"), ("9K2RAY8U0", "'0'")],
)
def test_check_character_rejects_bad_arguments(first_nine: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        otp_check_character(first_nine)


@given(seed=st.integers(0, 2**32))
def test_generated_codes_are_always_valid(seed: int) -> None:
    code = generate_otp(_seeded(seed))
    assert len(code) == OTP_LENGTH
    assert set(code) <= set(OTP_ALPHABET)
    assert validate_otp(code) == code


def test_generate_uses_a_csprng_by_default() -> None:
    codes = {generate_otp() for _ in range(50)}
    assert len(codes) == 50
    assert all(is_valid_otp(code) for code in codes)


def test_generate_discards_bytes_that_would_bias_the_draw() -> None:
    stream = bytes(range(250, 256)) + bytes([0, 1, 2, 3, 4, 5, 6, 7, 24]) + bytes(100)
    code = generate_otp(_stream(stream))
    assert code[:9] == "AEFHIJKL9"
    assert code[9] == otp_check_character("AEFHIJKL9")


def test_generate_maps_bytes_modulo_25() -> None:
    code = generate_otp(_stream(bytes([25, 50, 249, 26, 65]) + bytes(100)))
    assert code[:5] == "AA9EZ"


def test_generate_rejects_a_source_that_returns_the_wrong_length() -> None:
    with pytest.raises(ValueError, match=r"random_bytes\(18\) returned 3 bytes"):
        generate_otp(lambda n: b"abc")


def test_generated_symbols_are_uniform_at_every_position() -> None:
    codes = _codes(_seeded(7), 10_000)
    overall: Counter[str] = Counter()
    for position in range(9):
        counts = Counter(code[position] for code in codes)
        overall.update(counts)
        assert _chi_square(counts, len(codes)) < CHI_SQUARE_24_DF_P001, position
    assert _chi_square(overall, 9 * len(codes)) < CHI_SQUARE_24_DF_P001
    checks = Counter(code[9] for code in codes)
    assert _chi_square(checks, len(codes)) < CHI_SQUARE_24_DF_P001


def test_chi_square_catches_a_modulo_biased_generator() -> None:
    # The same test fails for `byte % 25` without rejection (symbols A..J 10 % too likely).
    rng = random.Random(7)
    counts = Counter(OTP_ALPHABET[b % 25] for b in rng.randbytes(90_000))
    assert _chi_square(counts, 90_000) > CHI_SQUARE_24_DF_P001


def _codes(source: Callable[[int], bytes], n: int) -> list[str]:
    return [generate_otp(source) for _ in range(n)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9k2-ray8-uuq", "9K2RAY8UUQ"),
        (" 9K2 RAY8 UUQ ", "9K2RAY8UUQ"),
        ("9K2\tRAY8\nUUQ", "9K2RAY8UUQ"),
        ("9K2\u00a0RAY8\u2013UUQ", "9K2RAY8UUQ"),  # no-break space, en dash
        ("9K2\u2212RAY8\u2011UUQ", "9K2RAY8UUQ"),  # minus sign, non-breaking hyphen
        ("9K2.RAY8/UUQ", "9K2.RAY8/UUQ"),  # other separators are kept and reported
        ("9k2ßray8", "9K2ßRAY8"),  # only ASCII letters are upper-cased
        ("", ""),
    ],
)
def test_normalize_drops_whitespace_and_dashes_only(text: str, expected: str) -> None:
    assert normalize_otp(text) == expected


@pytest.mark.parametrize(
    ("text", "positions", "character"),
    [
        ("9K2RAY8UUN", (10,), "N"),
        ("OK2RAY8UUQ", (1,), "O"),
        ("9K2RAY0UUQ", (7,), "0"),
        ("9k2ray8uuo", (10,), "O"),
        ("9B2RAY8UUQ", (2,), "B"),
        ("9K2.RAY8.UUQ", (4, 9), "."),
        ("9K2RAY8UUé", (10,), "é"),
        ("9K2RAY8UU\uff11", (10,), "\uff11"),  # full-width digit one
        ("9K2RAY8UUQN", (11,), "N"),  # characters come before length
        ("NNNNNNNNNNNN", tuple(range(1, 13)), "N"),
    ],
)
def test_validate_names_every_forbidden_character(
    text: str, positions: tuple[int, ...], character: str
) -> None:
    with pytest.raises(InvalidOtp) as excinfo:
        validate_otp(text)
    error = excinfo.value
    assert error.problem is OtpProblem.CHARACTER
    assert error.positions == positions
    assert error.position == positions[0]
    assert error.character == character
    assert error.expected is None
    assert f"{character!r} at position {positions[0]}" in str(error)
    assert "not in the OTP alphabet" in str(error)


def test_validate_lists_at_most_five_forbidden_positions() -> None:
    with pytest.raises(InvalidOtp, match="'0' at position 5 and 5 more: not in the OTP alphabet"):
        validate_otp("0" * 10)


@pytest.mark.parametrize(
    ("text", "length", "message"),
    [
        ("", 0, "the OTP is empty: expected 10 characters"),
        (" - -", 0, "the OTP is empty"),
        ("9K2RAY8UU", 9, "the OTP has 9 characters: expected 10"),
        ("9K2RAY8UUQQ", 11, "the OTP has 11 characters: expected 10"),
        ("9K2-RAY8-UUQ-9K2", 13, "the OTP has 13 characters"),
        ("9" * 101, 101, "the OTP is 101 characters long: expected 10"),
        (" " * 10_000, 10_000, "the OTP is 10000 characters long"),
    ],
)
def test_validate_reports_the_length(text: str, length: int, message: str) -> None:
    with pytest.raises(InvalidOtp, match=message) as excinfo:
        validate_otp(text)
    assert excinfo.value.problem is OtpProblem.LENGTH
    assert excinfo.value.length == length
    assert excinfo.value.positions == ()
    assert excinfo.value.position is None


@pytest.mark.parametrize("wrong", sorted(set(OTP_ALPHABET) - {"Q"}))
def test_validate_says_what_the_check_character_should_be(wrong: str) -> None:
    with pytest.raises(InvalidOtp) as excinfo:
        validate_otp(EXAMPLE[:9] + wrong)
    error = excinfo.value
    assert error.problem is OtpProblem.CHECK_CHARACTER
    assert (error.position, error.character, error.expected) == (10, wrong, "Q")
    assert str(error) == (
        f"check character {wrong!r} at position 10 does not match: the first nine characters "
        "call for 'Q', so one character is mistyped"
    )


def test_validate_detects_a_mistyped_symbol_in_the_first_nine() -> None:
    with pytest.raises(InvalidOtp) as excinfo:
        validate_otp("9K2RAY8UAQ")  # U -> A at position 9
    assert excinfo.value.expected == otp_check_character("9K2RAY8UA")


def test_invalid_otp_messages_never_repeat_the_code() -> None:
    with pytest.raises(InvalidOtp) as excinfo:
        validate_otp("9K2RAY8UUA")
    assert "9K2RAY8UU" not in str(excinfo.value)


def test_invalid_otp_can_still_be_raised_with_a_message_only() -> None:
    error = InvalidOtp("unknown OTP")
    assert (str(error), error.problem, error.position) == ("unknown OTP", None, None)


def test_invalid_otp_survives_pickling() -> None:
    with pytest.raises(InvalidOtp) as excinfo:
        validate_otp("9K2RAY8UUA")
    copy = pickle.loads(pickle.dumps(excinfo.value))
    assert (str(copy), copy.problem, copy.positions, copy.expected) == (
        str(excinfo.value),
        OtpProblem.CHECK_CHARACTER,
        (10,),
        "Q",
    )


def test_validate_refuses_non_strings() -> None:
    with pytest.raises(TypeError, match="OTP must be a string, got bytes"):
        validate_otp(b"9K2RAY8UUQ")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        normalize_otp(None)  # type: ignore[arg-type]


def test_is_valid_otp() -> None:
    assert is_valid_otp(EXAMPLE)
    assert is_valid_otp("9k2 ray8 uuq")
    assert not is_valid_otp("9K2RAY8UUA")
    assert not is_valid_otp("")


def test_format_accepts_any_grouping_and_rejects_invalid_codes() -> None:
    assert format_otp("9k2r-ay8u uq") == "9K2-RAY8-UUQ"
    with pytest.raises(InvalidOtp):
        format_otp("9K2RAY8UUA")


def test_bearer_token_hashes_the_normalised_code() -> None:
    assert otp_bearer_token("9k2-ray8-uuq") == EXAMPLE_SHA256
    assert otp_bearer_token(EXAMPLE) == hashlib.sha256(EXAMPLE.encode()).hexdigest()
    with pytest.raises(InvalidOtp):
        otp_bearer_token("9K2RAY8UUA")


@given(
    seed=st.integers(0, 2**32),
    separators=st.lists(st.sampled_from([" ", "-", "\t", "\u2013"]), min_size=11, max_size=11),
)
def test_separators_and_case_never_change_the_code(seed: int, separators: list[str]) -> None:
    code = generate_otp(_seeded(seed))
    typed = "".join(sep + char for sep, char in zip(separators, code.lower(), strict=False))
    typed += separators[-1]
    assert validate_otp(typed) == code
    assert format_otp(typed) == format_otp(code)
    assert otp_bearer_token(typed) == otp_bearer_token(code)


def _outcome(text: str) -> str | InvalidOtp:
    try:
        return validate_otp(text)
    except InvalidOtp as exc:
        return exc


def _check_outcome(text: str) -> bool:
    """Whether validating `text` ends as documented; returns True if it was valid."""
    outcome = _outcome(text)
    if isinstance(outcome, InvalidOtp):
        assert outcome.problem in set(OtpProblem)
        assert outcome.length is not None
        assert str(outcome)
        return False
    assert len(outcome) == OTP_LENGTH
    assert outcome == normalize_otp(text)
    assert otp_check_character(outcome[:9]) == outcome[9]
    return True


@given(st.text(max_size=40))
def test_validate_returns_a_valid_code_or_raises_invalid_otp(text: str) -> None:
    _check_outcome(text)


_FUZZ_CHARACTERS = OTP_ALPHABET + string.ascii_letters + string.digits + " -._/\t\u2013\u00e9\uff11"


@pytest.mark.slow
def test_fuzz_validate_raises_only_invalid_otp() -> None:
    rng = random.Random(20200615)
    valid = 0
    for case in range(50_000):
        if case % 2:
            text = "".join(rng.choices(_FUZZ_CHARACTERS, k=rng.randrange(0, 16)))
        else:
            chars = list(generate_otp(rng.randbytes))
            for _ in range(rng.randrange(0, 3)):
                chars[rng.randrange(len(chars))] = rng.choice(_FUZZ_CHARACTERS)
            text = "".join(chars)
        valid += _check_outcome(text)
    assert valid > 5_000
