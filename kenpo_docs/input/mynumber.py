"""Spot individual numbers (個人番号, "My Number") so a roster carrying them is refused.

A health insurance society may hold members' My Numbers, but they must never reach a letter,
a print file, a log or a report: this toolkit prints, so it refuses them at the door. A column
named like one, or whose values look like them, stops the whole roster; a single such value in
another field rejects its row without the number ever being repeated back.

The check digit follows 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令
(平成26年政令第155号) 第八条::

    check = 11 - (Σ_{n=1..11} Pn × Qn mod 11)   (0 when the remainder is 0 or 1)
    Pn: the n-th digit of the 11 digits counted from the least significant (right) end
    Qn: n + 1 for 1 <= n <= 6, n - 5 for 7 <= n <= 11

Any 12-digit number has about a one-in-ten chance to pass, so a value is taken for a My Number
only when it is exactly 12 digits (optionally grouped 4-4-4) and its check digit is right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# 4-4-4 or 6+6 groups, joined by nothing, a run of spaces, or one hyphen-like character,
# 「ー」, a dot or a slash (after NFKC folding, so full-width ones too).
_SEP = "(?: +|[\\-‐‑‒–—―−ー./・])?"
_CANDIDATES = (
    re.compile(rf"(?<![0-9])([0-9]{{4}}){_SEP}([0-9]{{4}}){_SEP}([0-9]{{4}})(?![0-9])"),
    re.compile(rf"(?<![0-9])([0-9]{{6}}){_SEP}([0-9]{{6}})(?![0-9])"),
)

# Header words that name a My Number column (after NFKC, casefold, spaces removed, - -> _).
_NAME = re.compile(r"個人番号|マイナンバー(?!カード)|my_?number(?!_?card)|individual_?number")


def check_digit(eleven: str) -> int:
    """The check digit of the first 11 digits (施行令 第八条)."""
    if len(eleven) != 11 or not eleven.isascii() or not eleven.isdigit():
        raise ValueError("need exactly 11 ASCII digits")
    total = 0
    for n, ch in enumerate(reversed(eleven), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_my_number(text: str) -> bool:
    """True when ``text`` is exactly a 12-digit number (grouped 4-4-4 or 6+6, see ``_SEP``)
    with a valid check digit."""
    folded = unicodedata.normalize("NFKC", text).strip()
    for candidate in _CANDIDATES:
        match = candidate.fullmatch(folded)
        if match is not None:
            digits = "".join(match.groups())
            return check_digit(digits[:11]) == int(digits[11])
    return False


def contains_my_number(text: str) -> bool:
    """True when a My-Number-like 12-digit group appears anywhere in ``text``."""
    folded = unicodedata.normalize("NFKC", text)
    for candidate in _CANDIDATES:
        for match in candidate.finditer(folded):
            digits = "".join(match.groups())
            if check_digit(digits[:11]) == int(digits[11]):
                return True
    return False


def is_my_number_header(normalised: str) -> bool:
    """True when a normalised header text names a My Number column (個人番号, マイナンバー,
    my_number, mynumber), but not マイナンバーカード (whether the member holds the card)."""
    return _NAME.search(normalised) is not None


def looks_like_my_number_column(values: Iterable[str]) -> bool:
    """True when at least half of a column's non-empty values (and at least one) are My
    Numbers: a whole column of them, not a stray match."""
    filled = hits = 0
    for value in values:
        if value.strip():
            filled += 1
            hits += is_my_number(value)
    return hits > 0 and hits * 2 >= filled
