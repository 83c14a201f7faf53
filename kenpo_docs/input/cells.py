"""One roster row's cells: screened before anything is read, then read as typed fields.

:func:`scan_cells` looks at every cell of a row first (unreadable, too long, control or bidi
characters, a leading combining mark, zero-width characters, a My-Number-like value); a
:class:`Row` then reads the fields (NFC or NFKC text, digits, dates, yes/no) and keeps the
first problem per column. Messages name the column and what is wrong, never the cell's
value where it is a name, an address, a date of birth or may be a My Number: those must not
reach a log or a report. Other values are named (:func:`shown`), so staff see what to fix.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Literal, cast

from kenpo_docs.domain.era import parse_date
from kenpo_docs.errors import DateError
from kenpo_docs.input.columns import NAME_BY_ALIAS, NO, YES
from kenpo_docs.input.mynumber import contains_my_number, is_my_number
from kenpo_docs.input.tables import MAX_CELL_CHARS, Unreadable, cell_text

# Line breaks: Unicode's mandatory breaks (UAX #14 classes BK, CR, LF, NL). In a name or an
# address they start a new line in the envelope window and push the name out of it; Excel
# writes Alt+Enter as LF, Word's manual line break is U+000B, web pages give U+2028/U+2029.
# Each run of them, with the spaces around it, becomes one space (with a warning).
_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[ \t\u3000]*[{_BREAKS}][{_BREAKS} \t\u3000]*")
# Zero-width characters that only join or break (ZWSP, ZWNJ, ZWJ, word joiner, BOM/ZWNBSP):
# removed with a warning, since they break matching and sorting and mean nothing in a
# Japanese name or address (ZWJ builds emoji sequences; none belong in a roster).
_ZERO_WIDTHS = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTHS}]")
# Characters that have no place in a printed field, so the row is rejected: every control
# (Cc) and format character (Cf) of Unicode and the other Default_Ignorable code points
# (invisible fillers, the combining grapheme joiner, Mongolian selectors, tags, unassigned
# ignorables): bidi marks, embeddings, overrides and isolates can make text display reversed,
# the others are invisible. Line breaks (folded), tab and the zero-width characters above
# (removed) aside; variation selectors are kept (U+FE00-U+FE0F, and U+E0100-U+E01EF, the
# ideographic variation sequences Japanese names need for 異体字).
# tests/test_invisible_controls.py checks the list against unicodedata, by category.
_INVISIBLE = (
    "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"  # C0 and C1 controls
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200e\u200f\u202a-\u202e\u2061-\u206f\u3164\uffa0\ufff0-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e00ff\U000e01f0-\U000e0fff"
)
_BAD_CHARS = re.compile(f"[{_INVISIBLE}]")
_VARIATION_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_FOUR_DIGITS = re.compile("[0-9０-９]{4}")
# One look at a whole row (cells joined by tab) for anything scan_cells must examine: line
# breaks, bad or invisible characters, combining marks and selectors, a 12-digit group. Most
# rows have none.
_SUSPECT = re.compile(
    f"[{_BREAKS}{_INVISIBLE}{_ZERO_WIDTHS}{_VARIATION_SELECTORS}\u0300-\u036f\u3099\u309a]"
    "|[0-9０-９]{4}[^0-9０-９]?[0-9０-９]{4}[^0-9０-９]?[0-9０-９]{4}"
)
MY_NUMBER_REASON = ("個人番号(マイナンバー)と思われる12桁の数字があります。印刷してはならないため"
                    "削除してください (looks like a My Number: it must not be printed; remove it)")


def shown(text: str) -> str:
    """A cell's value as a reason names it (``"2026/13/01: "``): at most 20 characters, and
    nothing when it could hold a My Number. Never called for names, addresses or kana."""
    if contains_my_number(text):
        return ""
    return f"{text[:20]}{'…' if len(text) > 20 else ''}: "


def is_number(value: object) -> bool:
    """A numeric cell (from ``.xlsx``), which may have lost its leading zeros."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class Row:
    """Collects a row's values and its first problem per column.

    ``glyphs`` (character -> the fonts lack it), ``printable`` (characters known printed) and
    ``dates`` (a date cell's text -> its date) are memos shared by a roster's rows: each is
    asked of the fonts or parsed once per roster, not once per cell."""

    __slots__ = ("_nfc", "_nfkc", "_raw", "cells", "columns", "dates", "glyphs", "notes", "number",
                 "printable", "problems")

    def __init__(self, number: int, cells: list[object], columns: dict[str, int],
                 glyphs: dict[str, bool], printable: set[str] | None = None,
                 dates: dict[str, date] | None = None) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.glyphs = glyphs  # character -> the fonts lack it; shared by a roster's rows
        self.printable = set() if printable is None else printable
        self.dates = {} if dates is None else dates
        self.problems: dict[str | None, str] = {}
        self.notes: list[tuple[str, str]] = []
        # each field is read several times: folded once
        self._nfc: dict[str, str | None] = {}
        self._nfkc: dict[str, str | None] = {}
        self._raw: dict[str, object] = {}

    def raw(self, alias: str) -> object:
        known = self._raw
        if alias in known:
            return known[alias]
        value = known[alias] = self._read(alias)
        return value

    def _read(self, alias: str) -> object:
        index = self.columns.get(alias)
        if index is None:
            return None
        cells = self.cells
        if index >= len(cells):
            return None
        value = cells[index]
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def fail(self, alias: str | None, reason: str) -> None:
        column = NAME_BY_ALIAS[alias] if alias is not None else None
        self.problems.setdefault(column, reason)

    def fail_column(self, column: str, reason: str) -> None:
        """A problem in a column by its header text (also columns the roster ignores)."""
        self.problems.setdefault(column, reason)

    def warn(self, alias: str, reason: str) -> None:
        self.notes.append((NAME_BY_ALIAS[alias], reason))

    def nfc(self, alias: str) -> str | None:
        """Names and addresses: composed, never transliterated."""
        folded = self._nfc
        if alias in folded:
            return folded[alias]
        text = folded[alias] = self._normalized(alias, "NFC")
        return text

    def nfkc(self, alias: str) -> str | None:
        """Digits, codes, dates: full-width and half-width forms folded."""
        folded = self._nfkc
        if alias in folded:
            return folded[alias]
        text = folded[alias] = self._normalized(alias, "NFKC")
        return text

    def forget_folded(self) -> None:
        """Drop the folded field values once the row is parsed (they are most of the memory)."""
        self._nfc = {}
        self._nfkc = {}
        self._raw = {}

    def _normalized(self, alias: str, form: Literal["NFC", "NFKC"]) -> str | None:
        value = self.raw(alias)
        if value is None:
            return None
        text = value if type(value) is str else cell_text(value)
        if not text.isascii():  # ASCII is NFC and NFKC already
            text = unicodedata.normalize(form, text)
        return text.strip() or None

    def digits(self, alias: str, *, width: int | None = None) -> str | None:
        value = self.raw(alias)
        text = self.nfkc(alias)
        if text is None:
            self.fail(alias, "空欄です (required)")
            return None
        if not text.isascii() or not text.isdigit():
            self.fail(alias, f"{shown(text)}数字だけで書いてください (digits only)")
            return None
        if width is not None and is_number(value):
            text = text.zfill(width)  # Excel dropped the leading zeros of a numeric cell
        return text

    def date(self, alias: str, *, required: bool) -> date | None:
        value = self.raw(alias)
        if value is None:
            if required:
                self.fail(alias, "空欄です (required)")
            return None
        memo = self.dates
        if type(value) is str:
            known = memo.get(value)
            if known is not None:
                return known
        try:
            parsed = parse_date(value, field=NAME_BY_ALIAS[alias])
        except DateError as exc:
            # The value is named, except a date of birth (personal data, with the name it
            # identifies a person).
            text = unicodedata.normalize("NFKC", cell_text(value)).strip()
            value_shown = "" if alias == "birth_date" else shown(text)
            self.fail(alias, f"{value_shown}{_date_reason(exc.message)}")
            return None
        if type(value) is str:
            remember_date(memo, value, parsed)
        return parsed

    def yes_no(self, alias: str) -> bool | None:
        text = self.nfkc(alias)
        if text is None:
            return None
        answer = yes_no_answer(text)
        if answer is None:
            self.fail(alias, f"{shown(text)}有 か 無 で書いてください (yes/no)")
        return answer


def yes_no_answer(text: str) -> bool | None:
    """An 有/無 cell's text (NFKC, stripped, not blank) as True or False; None when it is
    neither (the row is rejected for it)."""
    folded = text.casefold()
    if folded in YES:
        return True
    if folded in NO:
        return False
    return None


#: Distinct date texts remembered per roster (:meth:`Row.date`).
_DATE_MEMO = 50_000


def remember_date(memo: dict[str, date], text: str, parsed: date) -> None:
    """Keep a date cell's text and its date for the roster's next rows: at most
    :data:`_DATE_MEMO` of them (a roster of ever new dates: memory stays flat)."""
    if len(memo) >= _DATE_MEMO:
        memo.clear()
    memo[text] = parsed

# What is wrong with a date, without the cell's value: dates of birth are personal data and
# must not reach a log, the console or a report. Keyed by a phrase of era.parse_date's message.
_DATE_REASONS = (
    ("曜日", "曜日が日付と合いません (weekday does not match the date)"),
    ("ended on", "元号の終わった後の日付です (date after the era it names ended)"),
    ("began", "元号の始まる前の日付です (date before the era it names began)"),
    ("0年", "0年はありません、1年目は元年です (year 0 does not exist: the first year is 元年)"),
    ("year 0", "0年はありません (year 0 does not exist)"),
    ("明治", "明治より前の日付は扱えません (before 明治: out of scope)"),
    ("Excel serial", "Excel の日付として読めません (not an Excel date)"),
    ("does not exist", "存在しない日付です (no such day)"),
    ("out of range", "年が範囲外です (year out of range)"),
)


def _date_reason(message: str) -> str:
    """A date error's reason without the value (see :data:`_DATE_REASONS`)."""
    for phrase, reason in _DATE_REASONS:
        if phrase in message:
            return reason
    return ("日付として読めません。2025-12-01、令和7年12月1日、R7.12.1 のように書いてください "
            "(not a date: write e.g. 2025-12-01, 令和7年12月1日 or R7.12.1)")


def _codes(chars: str | re.Pattern[str], value: str) -> str:
    """The code points of ``value`` that are in ``chars`` (a string or a pattern), as U+XXXX:
    what a message may say about a cell instead of its text."""
    found = (set(chars.findall(value)) if isinstance(chars, re.Pattern)
             else {c for c in value if c in chars})
    return " ".join(f"U+{ord(c):04X}" for c in sorted(found))


def plain_cells(cells: list[object], names: dict[int, str]) -> bool:
    """Whether :func:`scan_cells` has nothing to look at in a row: every cell text, none
    beyond the header, and nothing suspect in any (one look at the row joined by tabs)."""
    if len(cells) > len(names):
        return False
    try:
        joined = "\t".join(cast("list[str]", cells))
    except TypeError:  # a cell that is not text (.xlsx)
        return False
    return len(joined) <= MAX_CELL_CHARS and _SUSPECT.search(joined) is None


def scan_cells(
    row: Row, names: dict[int, str], used: frozenset[int], allowed: frozenset[int],
    my_numbers: dict[int, list[int]],
) -> None:
    """Check every cell of a row before any field is read.

    Cells of the columns the roster uses: unreadable (formula, merged), too long, control,
    invisible or bidi characters, a leading combining mark or variation selector -> the row is
    rejected; line breaks become one space and zero-width characters are removed, with a
    warning naming the code points. Cells of every column (allowed ones aside): a My-Number-like
    value rejects the row and is counted in ``my_numbers`` (index -> [hits, filled]) so a
    whole column of them can stop the roster.
    """
    cells = row.cells
    if plain_cells(cells, names):
        return  # the common case: nothing to look at cell by cell
    row.forget_folded()  # cells may change below
    extra = False
    for index, value in enumerate(cells):
        if value is None or value == "":
            continue
        name = names.get(index)
        if name is None:
            extra = extra or bool(cell_text(value).strip())
            name = f"{index + 1}列目"
        if isinstance(value, Unreadable):
            if index in used:
                row.fail_column(name, value.reason)
            continue
        if isinstance(value, str) and index in used:
            if len(value) > MAX_CELL_CHARS:
                row.fail_column(name, f"セルが長すぎます ({len(value)} 文字、上限 "
                                      f"{MAX_CELL_CHARS}) (cell too long)")
                row.cells[index] = ""  # nothing downstream needs to see a megabyte
                continue
            if _LINE_BREAK.search(value):
                folded = _LINE_BREAK.sub(" ", value)
                if folded.strip() != value.strip():  # breaks only at the ends: just stripped
                    row.notes.append((name, "改行を空白にしました (line breaks replaced by a "
                                            f"space: {_codes(_BREAKS, value)})"))
                value = folded
                row.cells[index] = value
            if _BAD_CHARS.search(value):
                row.fail_column(name, "制御文字など表示できない文字があります (control, "
                                      "invisible or bidi-control characters: "
                                      f"{_codes(_BAD_CHARS, value)})")
            if _ZERO_WIDTH.search(value):
                row.notes.append((name, "ゼロ幅文字を取り除きました (zero-width characters "
                                        f"removed: {_codes(_ZERO_WIDTH, value)})"))
                value = _ZERO_WIDTH.sub("", value)
                row.cells[index] = value
            head = value.strip()[:1]
            if head and (unicodedata.combining(head) or unicodedata.category(head) == "Mn"):
                # a mark or a variation selector with no character to attach to
                row.fail_column(name, "結合文字で始まっています (starts with a combining mark)")
        if index in allowed or isinstance(value, date | float):
            continue
        text = cell_text(value)
        if not text.strip():
            continue
        counts = my_numbers.setdefault(index, [0, 0])
        counts[1] += 1  # rows that take the fast path are counted in read_roster
        if _FOUR_DIGITS.search(text) and contains_my_number(text):
            counts[0] += is_my_number(text)
            row.fail_column(name, MY_NUMBER_REASON)
    if extra:
        row.notes.append(("-", "見出しのない列に値があります、無視しました "
                               "(cells beyond the last header ignored)"))

