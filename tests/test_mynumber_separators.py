"""My Numbers written with other separators are still caught: 「ー」, dots, slashes, runs of
spaces, full-width forms, and 6+6 groupings (hardening round 2, item 14)."""

from __future__ import annotations

import pytest

from kenpo_docs.input.mynumber import check_digit, contains_my_number, is_my_number

ELEVEN = "12345678901"
VALID = ELEVEN + str(check_digit(ELEVEN))
WRONG = ELEVEN + str((check_digit(ELEVEN) + 1) % 10)


def _groups(number: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start:start + size])
        start += size
    return sep.join(parts)


@pytest.mark.parametrize("sizes", [(4, 4, 4), (6, 6)])
@pytest.mark.parametrize("sep", ["", " ", "   ", "-", "ー", "－", ".", "．", "/", "／", "・",
                                 "\u3000", "\u3000\u3000"])
def test_a_grouped_my_number_is_caught(sizes: tuple[int, ...], sep: str) -> None:
    text = _groups(VALID, sizes, sep)
    assert is_my_number(text), text
    assert contains_my_number(f"備考 {text} 本人申告"), text
    assert not is_my_number(_groups(WRONG, sizes, sep))  # the check digit still decides


@pytest.mark.parametrize("text", [
    "03-5216-3223",           # a phone number: 10 digits
    "090-1234-5678",          # a mobile number: 11 digits
    "2024/12/01",             # a date
    "3-30-8-403",             # an address number
    "12 34 56 78 90 12",      # pairs are not a grouping a My Number is written in
])
def test_other_numbers_are_not_my_numbers(text: str) -> None:
    assert not contains_my_number(text)
