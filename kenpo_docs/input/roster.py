"""Read and validate the member roster (名簿): the one input every mailing starts from.

A roster is a CSV (UTF-8, UTF-8 with BOM or CP932, as Excel writes it) or an ``.xlsx`` sheet
with one row per person. The header row (row 1) names the columns in Japanese or by their
English alias, in any order; unknown columns are ignored with a warning. See :data:`COLUMNS`.

Every data row becomes a :class:`Member` or a :class:`RowError` that names the spreadsheet row
(header = row 1), the column and a plain reason, so staff can fix the file. Problems with the
file as a whole (undecodable, not a CSV/xlsx, missing column, no data rows) raise
:class:`~kenpo_docs.errors.RosterError` instead: nothing useful can come out of it.

Normalisation: names and addresses are NFC (never transliterated: 髙 stays 髙), digits,
dates and postal codes NFKC (``１２３－４５６７`` -> ``1234567``); surrounding whitespace is
stripped. From ``.xlsx``, numeric cells that lost their leading zeros are repaired where the
width is known: 郵便番号 is padded to 7 digits, 枝番 to 2. 記号, 番号 and 就労先コード have no
fixed width, so a numeric cell is kept as its digits and a warning is given when the same
column has text values with leading zeros elsewhere (the file should store them as text).

Personal data stays out of the log: messages name the row, the column and the member key
(記号-番号-枝番) only.
"""

from __future__ import annotations

import csv
import difflib
import logging
import os
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal, cast

from kenpo_docs.domain.era import parse_date
from kenpo_docs.errors import DateError, RosterError, RuleError
from kenpo_docs.fonts import missing_glyphs
from kenpo_docs.input.mynumber import contains_my_number, is_my_number, is_my_number_header
from kenpo_docs.domain.facts import certificate_expiry, delivery_route
from kenpo_docs.input.tables import MAX_CELL_CHARS, Unreadable, cell_text, load_table

logger = logging.getLogger("kenpo_docs")

INSURED_BRANCH = "00"
MEMBERSHIPS = ("一般", "任意継続")
# The notice itself writes 「任継の方」; accepted and stored as 任意継続.
_MEMBERSHIP_ALIASES = {"一般": "一般", "任意継続": "任意継続", "任継": "任意継続"}
_YES = frozenset({"有", "あり", "登録済", "登録済み", "済", "yes", "y", "true", "1", "○", "〇"})
_NO = frozenset({"無", "なし", "未登録", "未", "no", "n", "false", "0", "×"})
_DASHES = "-‐‑‒–—―−ー－"
# Invisible characters that are removed (with a warning): they break matching and sorting.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# Characters that have no place in a printed field: C0/C1 controls (tab and line breaks
# aside) and bidirectional overrides/isolates, which can make text display reversed.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FOUR_DIGITS = re.compile("[0-9０-９]{4}")
# One look at a whole row (cells joined by tab) for anything _scan_cells must examine: bad or
# invisible characters, combining marks, a 12-digit group. Most rows have none.
_SUSPECT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    "\u200b\u200c\u200d\u2060\ufeff\u0300-\u036f\u3099\u309a]"
    "|[0-9０-９]{4}[^0-9０-９]?[0-9０-９]{4}[^0-9０-９]?[0-9０-９]{4}"
)
MY_NUMBER_REASON = ("個人番号(マイナンバー)と思われる12桁の数字があります。印刷してはならないため"
                    "削除してください (looks like a My Number: it must not be printed; remove it)")


@dataclass(frozen=True)
class Column:
    """One roster column: Japanese header, English alias, and whether the header must exist."""

    name: str
    alias: str
    header_required: bool


# The contract with the people who prepare rosters (and with the acceptance tests): names,
# aliases and which headers must be present. 就労先コード/就労先名 are needed only on 一般
# insured rows, so a roster of 任意継続 members alone may omit them.
COLUMNS: tuple[Column, ...] = (
    Column("記号", "symbol", True),
    Column("番号", "number", True),
    Column("枝番", "branch", True),
    Column("氏名", "name", True),
    Column("フリガナ", "kana", False),
    Column("生年月日", "birth_date", True),
    Column("資格取得日", "acquired_on", True),
    Column("資格喪失日", "lost_on", False),
    Column("加入区分", "membership", True),
    Column("資格確認書交付日", "certificate_issued_on", False),
    Column("郵便番号", "postal_code", True),
    Column("住所1", "address1", True),
    Column("住所2", "address2", False),
    Column("就労先コード", "workplace_code", False),
    Column("就労先名", "workplace_name", False),
    Column("マイナ保険証", "myna_registered", False),
    Column("マイナンバーカード", "has_mynumber_card", False),
    Column("スマートフォン", "has_smartphone", False),
)
_JA = {c.alias: c.name for c in COLUMNS}


@dataclass(frozen=True)
class Member:
    """One person on the roster, validated and normalised."""

    row: int
    symbol: str
    number: str
    branch: str
    name: str
    kana: str | None
    birth_date: date
    acquired_on: date
    lost_on: date | None
    membership: str | None  # dependents carry their insured person's value
    certificate_issued_on: date | None
    postal_code: str | None  # 7 digits, no hyphen
    address1: str | None
    address2: str | None
    workplace_code: str | None
    workplace_name: str | None
    myna_registered: bool | None
    has_mynumber_card: bool | None
    has_smartphone: bool | None

    @property
    def key(self) -> str:
        """記号-番号-枝番: identifies a person without naming them."""
        return f"{self.symbol}-{self.number}-{self.branch}"

    @property
    def household_key(self) -> str:
        """記号-番号: shared by the insured person and their dependents."""
        return f"{self.symbol}-{self.number}"

    @property
    def is_insured(self) -> bool:
        return self.branch == INSURED_BRANCH


@dataclass(frozen=True)
class Household:
    """An insured person (枝番 00) and their dependents: documents travel together."""

    insured: Member
    dependents: tuple[Member, ...] = ()

    @property
    def key(self) -> str:
        return self.insured.household_key

    @property
    def members(self) -> tuple[Member, ...]:
        """Insured person first, then dependents by 枝番."""
        return (self.insured, *self.dependents)


@dataclass(frozen=True)
class RowError:
    """A rejected row or a warning: where it is and why, without personal data.

    ``column`` is the Japanese header name; several columns are joined with ``", "`` and
    ``None`` means the row as a whole (duplicate key, insured person rejected).
    """

    row: int
    column: str | None
    reason: str
    member_key: str | None = None


@dataclass
class Roster:
    """The result of reading a roster: accepted members, households, rejects, warnings."""

    file: Path
    encoding: str  # "utf-8", "utf-8-sig", "cp932" or "xlsx"
    row_count: int  # data rows read (blank rows skipped)
    members: list[Member] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Header


def _header_key(value: object) -> str:
    text = unicodedata.normalize("NFKC", cell_text(value)).strip().casefold()
    return "".join(text.split()).replace("-", "_")


def _by_header() -> dict[str, str]:
    """Normalised header text (Japanese name or alias) -> alias."""
    found = {_header_key(c.name): c.alias for c in COLUMNS}
    found.update({_header_key(c.alias): c.alias for c in COLUMNS})
    return found


def _closest(shown: str) -> str | None:
    """The known column a mistyped header most likely meant (生年月目 -> 生年月日)."""
    key = _header_key(shown)
    names = {_header_key(c.name): c.name for c in COLUMNS}
    names.update({_header_key(c.alias): c.name for c in COLUMNS})
    match = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return names[match[0]] if match else None


def _map_header(
    cells: list[object], path: Path, allowed: frozenset[str] = frozenset()
) -> tuple[dict[str, int], list[RowError]]:
    """Column alias -> cell index; unknown headers become warnings on row 1.

    A header naming a My Number column stops the roster unless it was allowed explicitly.
    """
    known = _by_header()
    found: dict[str, int] = {}
    notes: list[RowError] = []
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        shown = cell_text(cell).strip()
        if not shown:
            continue
        alias = known.get(_header_key(cell))
        if alias is None:
            if is_my_number_header(_header_key(shown)) and _header_key(shown) not in allowed:
                raise RosterError(_my_number_column_message(shown), file=path, row=1,
                                  column=shown)
            unknown.append(shown)
            guess = _closest(shown)
            hint = f" {guess} のことですか (did you mean {guess}?)" if guess else ""
            notes.append(RowError(1, shown,
                                  f"不明な列のため無視しました (unknown column ignored){hint}"))
            continue
        if alias in found:
            raise RosterError(f"列 {_JA[alias]} が2回あります (column appears twice)", file=path,
                              row=1, column=_JA[alias])
        found[alias] = index
    missing = [c.name for c in COLUMNS if c.header_required and c.alias not in found]
    if missing:
        typos = [f"{u} -> {_closest(u)}" for u in unknown if _closest(u) in missing]
        hint = f" 見出しの誤字? (typo? {', '.join(typos)})" if typos else ""
        raise RosterError(
            f"必須の列がありません (missing required column): {', '.join(missing)}{hint}",
            file=path,
            row=1,
            column=missing[0],
        )
    return found, notes


def _my_number_column_message(column: str) -> str:
    return (f"列 {column} は個人番号(マイナンバー)です。印刷してはならないため、列を削除して"
            "ください (a My Number column must not be printed: delete the column, or name it "
            "with --allow-column if it is not one)")


# --------------------------------------------------------------------------------------------
# Cells


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Row:
    """Collects a row's values and its first problem per column."""

    __slots__ = ("number", "cells", "columns", "glyphs", "problems", "notes", "_folded")

    def __init__(self, number: int, cells: list[object], columns: dict[str, int],
                 glyphs: dict[str, bool]) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.glyphs = glyphs  # character -> the fonts lack it; shared by a roster's rows
        self.problems: dict[str | None, str] = {}
        self.notes: list[tuple[str, str]] = []
        self._folded: dict[tuple[str, str], str | None] = {}  # each field is read several times

    def raw(self, alias: str) -> object:
        index = self.columns.get(alias)
        if index is None or index >= len(self.cells):
            return None
        value = self.cells[index]
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def fail(self, alias: str | None, reason: str) -> None:
        column = _JA[alias] if alias is not None else None
        self.problems.setdefault(column, reason)

    def fail_column(self, column: str, reason: str) -> None:
        """A problem in a column by its header text (also columns the roster ignores)."""
        self.problems.setdefault(column, reason)

    def warn(self, alias: str, reason: str) -> None:
        self.notes.append((_JA[alias], reason))

    def nfc(self, alias: str) -> str | None:
        """Names and addresses: composed, never transliterated."""
        return self._normalized(alias, "NFC")

    def nfkc(self, alias: str) -> str | None:
        """Digits, codes, dates: full-width and half-width forms folded."""
        return self._normalized(alias, "NFKC")

    def _normalized(self, alias: str, form: Literal["NFC", "NFKC"]) -> str | None:
        key = (alias, form)
        if key in self._folded:
            return self._folded[key]
        value = self.raw(alias)
        text = None
        if value is not None:
            text = unicodedata.normalize(form, cell_text(value)).strip() or None
        self._folded[key] = text
        return text

    def digits(self, alias: str, *, width: int | None = None) -> str | None:
        value = self.raw(alias)
        text = self.nfkc(alias)
        if text is None:
            self.fail(alias, "空欄です (required)")
            return None
        if not text.isascii() or not text.isdigit():
            self.fail(alias, "数字だけで書いてください (digits only)")
            return None
        if width is not None and _is_number(value):
            text = text.zfill(width)  # Excel dropped the leading zeros of a numeric cell
        return text

    def date(self, alias: str, *, required: bool) -> date | None:
        value = self.raw(alias)
        if value is None:
            if required:
                self.fail(alias, "空欄です (required)")
            return None
        try:
            return parse_date(value, field=_JA[alias])
        except DateError as exc:
            self.fail(alias, _date_reason(exc.message))
            return None

    def yes_no(self, alias: str) -> bool | None:
        text = self.nfkc(alias)
        if text is None:
            return None
        folded = text.casefold()
        if folded in _YES:
            return True
        if folded in _NO:
            return False
        self.fail(alias, "有 か 無 で書いてください (yes/no)")
        return None


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


def _scan_cells(
    row: _Row, names: dict[int, str], used: frozenset[int], allowed: frozenset[int],
    my_numbers: dict[int, list[int]],
) -> None:
    """Check every cell of a row before any field is read.

    Cells of the columns the roster uses: unreadable (formula, merged), too long, control or
    bidi characters, a leading combining mark -> the row is rejected; zero-width characters
    are removed with a warning. Cells of every column (allowed ones aside): a My-Number-like
    value rejects the row and is counted in ``my_numbers`` (index -> [hits, filled]) so a
    whole column of them can stop the roster.
    """
    cells = row.cells
    if len(cells) <= len(names) and all(type(c) is str for c in cells):
        joined = "\t".join(cast("list[str]", cells))
        if len(joined) <= MAX_CELL_CHARS and _SUSPECT.search(joined) is None:
            return  # the common case: nothing to look at cell by cell
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
            if bad := _BAD_CHARS.findall(value):
                codes = " ".join(sorted({f"U+{ord(ch):04X}" for ch in bad}))
                row.fail_column(name, "制御文字など表示できない文字があります "
                                      f"(control or bidi-override characters: {codes})")
            if _ZERO_WIDTH.search(value):
                value = _ZERO_WIDTH.sub("", value)
                row.cells[index] = value
                row.notes.append(
                    (name, "ゼロ幅文字を取り除きました (zero-width characters removed)"))
            head = value.strip()[:1]
            if head and unicodedata.combining(head):
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


def _postal_code(row: _Row) -> str | None:
    value = row.raw("postal_code")
    text = row.nfkc("postal_code")
    if text is None:
        return None
    text = text.removeprefix("〒").strip()
    for dash in _DASHES:
        text = text.replace(dash, "")
    if _is_number(value) and text.isdigit():
        text = text.zfill(7)  # 0600001 stored as the number 600001
    if not (text.isascii() and text.isdigit() and len(text) == 7):
        hint = " 先頭の0が落ちていませんか (leading zero lost?)" if len(text) == 6 else ""
        row.fail("postal_code", f"郵便番号は7桁です (postal code must be 7 digits){hint}")
        return None
    return text


def _glyph_check(row: _Row, alias: str, value: str | None) -> None:
    """Warn when a printed field has characters the fonts cannot draw (or 外字)."""
    if not value:
        return
    known = row.glyphs
    bad = set()
    for ch in set(value):
        lacks = known.get(ch)
        if lacks is None:  # ask the fonts once per character per roster: 10,000 rows stay fast
            lacks = bool(missing_glyphs(ch)) or unicodedata.category(ch) in ("Co", "Cn", "Cs")
            known[ch] = lacks
        if lacks:
            bad.add(ch)
    if bad:
        codes = " ".join(f"U+{ord(ch):04X}" for ch in sorted(bad))
        row.warn(alias, f"フォントにない文字があります (characters the fonts lack): {codes}")


def _parse_row(row: _Row, as_of: date) -> Member | None:
    """Validate one row; problems go to ``row.problems``, warnings to ``row.notes``."""
    symbol = row.digits("symbol")
    number = row.digits("number")
    branch = row.digits("branch", width=2)
    if branch is not None and len(branch) < 2:
        branch = branch.zfill(2)  # a CSV saved by Excel writes 枝番 1 as "1"
    elif branch is not None and len(branch) > 2:
        row.fail("branch", "枝番は2桁です (00 insured person, 01… dependents)")
        branch = None
    insured = branch == INSURED_BRANCH

    name = row.nfc("name")
    if name is None:
        row.fail("name", "空欄です (required)")
    _glyph_check(row, "name", name)
    kana = row.nfkc("kana")  # NFKC turns half-width ｶﾅ into full-width カナ
    if kana is not None and not all(
        unicodedata.name(ch, "").startswith("KATAKANA") or ch in " ・ー　" for ch in kana
    ):
        row.warn("kana", "カタカナ以外の文字があります (not katakana)")

    birth_date = row.date("birth_date", required=True)
    if birth_date is not None and birth_date > as_of:
        row.fail("birth_date", f"基準日 {as_of.isoformat()} より後の日付です (in the future)")
    acquired_on = row.date("acquired_on", required=True)
    lost_on = row.date("lost_on", required=False)
    if lost_on is not None and acquired_on is not None and lost_on < acquired_on:
        row.fail("lost_on", "資格取得日より前です (before 資格取得日)")

    membership_text = row.nfkc("membership")
    membership = None
    if membership_text is not None:
        membership = _MEMBERSHIP_ALIASES.get(membership_text)
        if membership is None:
            row.fail("membership", "一般 か 任意継続 で書いてください (一般 or 任意継続)")
    elif insured:
        row.fail("membership", "被保険者(枝番00)の行には必須です (required on 枝番 00)")

    certificate_issued_on = row.date("certificate_issued_on", required=False)
    if certificate_issued_on is not None:
        try:
            certificate_expiry(certificate_issued_on)
        except RuleError as exc:
            row.fail("certificate_issued_on", exc.message)

    postal_code = _postal_code(row)
    address1 = row.nfc("address1")
    address2 = row.nfc("address2")
    workplace_code = row.nfkc("workplace_code")
    workplace_name = row.nfc("workplace_name")
    if insured:
        if postal_code is None and "郵便番号" not in row.problems:
            row.fail("postal_code", "被保険者(枝番00)の行には必須です (required on 枝番 00)")
        if address1 is None:
            row.fail("address1", "被保険者(枝番00)の行には必須です (required on 枝番 00)")
        if membership == "一般":
            if workplace_code is None:
                row.fail("workplace_code", "一般の被保険者には必須です (required for 一般)")
            if workplace_name is None:
                row.fail("workplace_name", "一般の被保険者には必須です (required for 一般)")
        if membership is not None and not row.problems:
            try:
                delivery_route(membership=membership, workplace_code=workplace_code)
            except RuleError as exc:
                row.fail("membership", exc.message)
    for alias, value in (("address1", address1), ("address2", address2),
                         ("workplace_name", workplace_name)):
        _glyph_check(row, alias, value)

    myna_registered = row.yes_no("myna_registered")
    has_mynumber_card = row.yes_no("has_mynumber_card")
    has_smartphone = row.yes_no("has_smartphone")

    if row.problems:
        return None
    assert symbol and number and branch and name and birth_date and acquired_on
    return Member(
        row=row.number, symbol=symbol, number=number, branch=branch, name=name, kana=kana,
        birth_date=birth_date, acquired_on=acquired_on, lost_on=lost_on, membership=membership,
        certificate_issued_on=certificate_issued_on, postal_code=postal_code,
        address1=address1, address2=address2, workplace_code=workplace_code,
        workplace_name=workplace_name, myna_registered=myna_registered,
        has_mynumber_card=has_mynumber_card, has_smartphone=has_smartphone,
    )


def _row_key(row: _Row) -> tuple[str | None, str | None]:
    """(member key, household key) from the raw cells, or None where they cannot be read."""
    parts = []
    for alias in ("symbol", "number", "branch"):
        text = row.nfkc(alias)
        if text is None or not text.isascii() or not text.isdigit():
            return None, None
        if alias == "branch":
            if len(text) > 2:
                return None, None
            text = text.zfill(2)
        parts.append(text)
    return "-".join(parts), "-".join(parts[:2])


def _rejection(row: _Row, key: str | None) -> RowError:
    if len(row.problems) == 1:
        ((column, reason),) = row.problems.items()
        return RowError(row.number, column, reason, key)
    columns = [c for c in row.problems if c is not None]
    reason = "; ".join(f"{c}: {r}" if c else r for c, r in row.problems.items())
    return RowError(row.number, ", ".join(columns) or None, reason, key)


# --------------------------------------------------------------------------------------------
# The roster


def read_roster(
    path: str | Path,
    *,
    as_of: date | None = None,
    sheet: str | None = None,
    allow_columns: Collection[str] = (),
) -> Roster:
    """Read, normalise and validate a roster file.

    Args:
        path: a ``.csv`` (UTF-8, UTF-8 with BOM or CP932) or ``.xlsx`` file.
        as_of: the reference date (birth dates after it are refused); default today.
        sheet: the ``.xlsx`` sheet to read; default the first.
        allow_columns: header names exempt from the My Number checks (by name and by value),
            for a column the operator knows holds something else.

    Raises:
        RosterError: the file as a whole cannot be used, including a My Number column.
    """
    path = Path(path)
    as_of = as_of or date.today()
    encoding, table = load_table(path, sheet=sheet)
    if not table or not any(cell_text(c).strip() for c in table[0][1]):
        raise RosterError(
            "ファイルが空です、または1行目に見出しがありません (no header row)", file=path
        )
    header = table[0][1]
    names = {i: cell_text(c).strip() for i, c in enumerate(header) if cell_text(c).strip()}
    allowed_keys = frozenset(_header_key(a) for a in allow_columns)
    for name in allow_columns:
        if _header_key(name) not in {_header_key(n) for n in names.values()}:
            raise RosterError(f"--allow-column {name}: その列はありません (no such column)",
                              file=path, row=1)
    columns, header_notes = _map_header(header, path, allowed_keys)
    glyphs: dict[str, bool] = {}
    rows = [
        _Row(number, cells, columns, glyphs)
        for number, cells in table[1:]
        if any(cell_text(c).strip() for c in cells)
    ]
    del table  # the rows hold the cells now; a 200,000-row roster need not be held twice
    if not rows:
        raise RosterError("データ行がありません (no data rows)", file=path)
    used = frozenset(columns.values())
    allowed = frozenset(i for i, n in names.items() if _header_key(n) in allowed_keys)
    my_numbers: dict[int, list[int]] = {}
    for row in rows:
        _scan_cells(row, names, used, allowed, my_numbers)
    for index, (hits, _) in sorted(my_numbers.items()):
        if not hits:
            continue
        # The fast path of _scan_cells does not count filled cells: count them when it matters.
        filled = sum(1 for row in rows
                     if index < len(row.cells) and cell_text(row.cells[index]).strip())
        if hits and hits * 2 >= filled:
            column = names.get(index, f"{index + 1}列目")
            raise RosterError(_my_number_column_message(column), file=path, column=column)

    roster = Roster(file=path, encoding=encoding, row_count=len(rows))
    roster.warnings.extend(header_notes)
    parsed: list[tuple[_Row, str | None, str | None, Member | None]] = []
    first_row: dict[str, int] = {}
    for row in rows:
        member = _parse_row(row, as_of)
        key, household = _row_key(row)
        # The folded values were for parsing: held for every row until the end they were
        # most of a big roster's peak memory (a 21,703-row roster: 72 -> 45 MB traced).
        row._folded = {}
        if key is not None:
            if key in first_row:
                row.fail(None, f"{key} は {first_row[key]} 行目と重複しています (duplicate key)")
                member = None
            else:
                first_row[key] = row.number
        parsed.append((row, key, household, member))
    _warn_lost_zeros(parsed)

    insured_by_household: dict[str, Member] = {}
    insured_row: dict[str, int] = {}
    for row, key, household, member in parsed:
        if key is not None and household is not None and key.endswith("-00"):
            if first_row[key] == row.number:  # a duplicate 00 row does not replace the first
                insured_row[household] = row.number
                if member is not None:
                    insured_by_household[household] = member

    dependents: dict[str, list[Member]] = {}
    for row, key, household, member in parsed:
        if key is not None and household is not None and not key.endswith("-00"):
            if household not in insured_row:
                row.fail("branch", "被保険者(枝番00)の行がありません (no insured person, 枝番 00)")
                member = None
            elif household not in insured_by_household:
                row.fail(None, f"被保険者(枝番00)の {insured_row[household]} 行目が不合格のため"
                               " (the insured person's row was rejected)")
                member = None
            elif member is not None:
                insured = insured_by_household[household]
                if member.membership not in (None, insured.membership):
                    row.warn("membership",
                             "被保険者の加入区分を使います (insured person's value used)")
                member = replace(member, membership=insured.membership)
                dependents.setdefault(household, []).append(member)
        for column, reason in row.notes:
            roster.warnings.append(RowError(row.number, column, reason, key))
        if member is None:
            roster.errors.append(_rejection(row, key))
        else:
            roster.members.append(member)

    for household, insured in insured_by_household.items():
        deps = sorted(dependents.get(household, []), key=lambda m: (m.branch, m.row))
        roster.households.append(Household(insured, tuple(deps)))
    roster.errors.sort(key=lambda e: e.row)
    roster.warnings.sort(key=lambda e: e.row)
    logger.info(
        "%s: %d rows, %d members accepted, %d rejected, %d warnings",
        path.name, roster.row_count, len(roster.members), len(roster.errors),
        len(roster.warnings),
    )
    for error in roster.errors:
        logger.debug("row %d rejected (%s, %s): %s", error.row, error.member_key, error.column,
                     error.reason)
    return roster


def _warn_lost_zeros(parsed: list[tuple[_Row, str | None, str | None, Member | None]]) -> None:
    """Warn on numeric 記号/番号/就労先コード cells when the column elsewhere keeps leading
    zeros as text.

    Their width is not fixed, so the lost zeros cannot be restored; the row is kept (its key
    may not match the kenpo's records) and staff should store the column as text.
    """
    for alias in ("symbol", "number", "workplace_code"):
        zero_text = any(
            isinstance(row.raw(alias), str) and (row.nfkc(alias) or "").startswith("0")
            for row, *_ in parsed
        )
        if not zero_text:
            continue
        for row, *_ in parsed:
            if _is_number(row.raw(alias)):
                row.warn(alias, "数値のセルです。先頭の0が失われた可能性があります。文字列で"
                                "保存してください (numeric cell: leading zeros may be lost)")


def no_documents_reason(
    member: Member, *, as_of: date, insured: Member | None = None
) -> str | None:
    """Why ``member`` gets no documents as of ``as_of``, or None when they do.

    Coverage that ended on or before ``as_of`` (資格喪失日 <= as_of) means no documents. A
    dependent whose insured person lost coverage loses it too, so pass ``insured`` for them.
    """
    if member.lost_on is not None and member.lost_on <= as_of:
        return (f"資格喪失日 {member.lost_on.isoformat()} が基準日 {as_of.isoformat()} 以前"
                " (coverage ended)")
    if insured is not None and insured is not member:
        if insured.lost_on is not None and insured.lost_on <= as_of:
            return (f"被保険者の資格喪失日 {insured.lost_on.isoformat()} が基準日"
                    f" {as_of.isoformat()} 以前 (insured person's coverage ended)")
    return None


# --------------------------------------------------------------------------------------------
# The check: what `kenpo-docs check` prints


@dataclass(frozen=True)
class RouteCount:
    """How many households and members (with documents) go by one delivery route."""

    route: str  # "workplace:<code>" or "home"
    households: int
    members: int


@dataclass(frozen=True)
class CheckResult:
    """A roster's readiness: counts, routes, who gets nothing and why, rejects, warnings."""

    file: Path
    encoding: str
    as_of: date
    row_count: int
    member_count: int
    household_count: int
    routes: tuple[RouteCount, ...]
    no_documents: tuple[tuple[str, str], ...]  # (member key, reason)
    errors: tuple[RowError, ...]
    warnings: tuple[RowError, ...]

    @property
    def exit_code(self) -> int:
        """0 when every row is usable, 1 when some rows were rejected."""
        return 1 if self.errors else 0

    def lines(self) -> list[str]:
        """The summary as text lines: keys, rows and reasons only, never names."""
        out = [
            f"{self.file} ({self.encoding}), as of {self.as_of.isoformat()}",
            f"rows: {self.row_count}  members: {self.member_count}  "
            f"households: {self.household_count}  rejected rows: {len(self.errors)}  "
            f"warnings: {len(self.warnings)}",
            "routes:",
        ]
        width = max((len(r.route) for r in self.routes), default=0)
        out += [f"  {r.route:<{width}}  households: {r.households}  members: {r.members}"
                for r in self.routes] or ["  (none)"]
        if self.no_documents:
            out.append(f"no documents ({len(self.no_documents)}):")
            out += [f"  {key}  {reason}" for key, reason in self.no_documents]
        for title, items in (("rejected rows", self.errors), ("warnings", self.warnings)):
            if items:
                out.append(f"{title} ({len(items)}):")
                out += [f"  row {e.row}  {e.column or '-'}  {e.member_key or '-'}  {e.reason}"
                        for e in items]
        return out


def summarize(roster: Roster, *, as_of: date) -> CheckResult:
    """Count routes and list members who would get no documents, as the merge will see them."""
    per_route: dict[str, list[int]] = {}
    no_docs: list[tuple[str, str]] = []
    for household in roster.households:
        insured = household.insured
        route = str(delivery_route(membership=insured.membership or "",
                                   workplace_code=insured.workplace_code))
        receiving = 0
        for member in household.members:
            reason = no_documents_reason(member, as_of=as_of, insured=insured)
            if reason is None:
                receiving += 1
            else:
                no_docs.append((member.key, reason))
        if receiving:
            counts = per_route.setdefault(route, [0, 0])
            counts[0] += 1
            counts[1] += receiving
    order = sorted(per_route, key=lambda r: (r == "home", r))
    return CheckResult(
        file=roster.file, encoding=roster.encoding, as_of=as_of, row_count=roster.row_count,
        member_count=len(roster.members), household_count=len(roster.households),
        routes=tuple(RouteCount(r, *per_route[r]) for r in order),
        no_documents=tuple(no_docs), errors=tuple(roster.errors),
        warnings=tuple(roster.warnings),
    )


def check(
    path: str | Path,
    *,
    as_of: date | None = None,
    sheet: str | None = None,
    allow_columns: Collection[str] = (),
) -> CheckResult:
    """Read ``path`` and summarise it: the library side of ``kenpo-docs check``."""
    as_of = as_of or date.today()
    roster = read_roster(path, as_of=as_of, sheet=sheet, allow_columns=allow_columns)
    return summarize(roster, as_of=as_of)


REPORT_COLUMNS = ("row", "member_key", "column", "reason")


def write_report(errors: list[RowError] | tuple[RowError, ...], path: str | Path) -> None:
    """Write rejected rows as CSV (UTF-8 with BOM so Excel opens it), file mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
    with open(fd, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        for e in errors:
            writer.writerow([e.row, e.member_key or "", e.column or "", e.reason])
