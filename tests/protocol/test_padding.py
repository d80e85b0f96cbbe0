"""`is_padding`: the table lookup must accept exactly what ``^[a-f0-9]{0,150000}$`` accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifica.protocol import MAX_PADDING_SIZE, is_padding

_RULE = re.compile(rf"[a-f0-9]{{0,{MAX_PADDING_SIZE}}}")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("0123456789abcdef", True),
        ("0" * MAX_PADDING_SIZE, True),
        ("0" * (MAX_PADDING_SIZE + 1), False),
        ("A", False),
        ("0F", False),
        ("g", False),
        (" 0", False),
        ("0\n", False),
        ("\u0660", False),  # an Arabic-Indic digit: str.isdigit() would say yes
        ("é", False),
        ("0\x00", False),
    ],
)
def test_padding_rule(value: str, accepted: bool) -> None:
    assert is_padding(value) is accepted


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40))
def test_padding_agrees_with_the_pattern(value: str) -> None:
    assert is_padding(value) == (_RULE.fullmatch(value) is not None)


@given(st.text(alphabet="0123456789abcdefABCDEF g", max_size=40))
def test_padding_agrees_with_the_pattern_near_hex(value: str) -> None:
    assert is_padding(value) == (_RULE.fullmatch(value) is not None)
