"""Read and validate the member roster (名簿): the one input every mailing starts from.

A roster is a CSV (UTF-8, UTF-8 with BOM or CP932, as Excel writes it; UTF-16 tab-separated,
Excel's 「Unicode テキスト」) or an ``.xlsx`` sheet with one row per person. The header row
(the first of the first 10 rows that names three of our columns, so a title row or blank rows
above it are passed over, with a warning naming the row used) names the columns in Japanese or
by their English alias, in any order; unknown columns are ignored with a warning. See
:data:`~kenpo_docs.input.columns.COLUMNS`.

Every data row becomes a :class:`Member` or a :class:`RowError` that names the spreadsheet row
(as Excel numbers it), the column and a reason (Japanese, then English in parentheses, naming
the wrong value unless it is a name, an address, a birth date or may be a My Number), so staff
can fix the file. Problems with the file as a whole (undecodable, not a CSV/xlsx, missing
column, no data rows) raise :class:`~kenpo_docs.errors.RosterError` instead.

Normalisation: names and addresses are NFC (never transliterated: 髙 stays 髙), digits,
dates and postal codes NFKC (``１２３－４５６７`` -> ``1234567``); surrounding whitespace is
stripped. From ``.xlsx``, numeric cells that lost their leading zeros are repaired where the
width is known: 郵便番号 is padded to 7 digits, 枝番 to 2, 記号 and 番号 to the widths of the
insurer settings (data/insurer.toml [keys]; one warning counts them), and a longer 記号 or 番号
is rejected. 就労先コード has no fixed width, so a numeric cell is kept as its digits and a
warning is given when the column has text values with leading zeros elsewhere.

Personal data stays out of the log: messages name the row, the column and the member key
(記号-番号-枝番) only.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from kenpo_docs.domain.facts import certificate_expiry, delivery_route
from kenpo_docs.domain.insurer import key_widths
from kenpo_docs.domain.rules import default_rules
from kenpo_docs.errors import RosterError, RuleError
from kenpo_docs.fonts import missing_glyphs, units
from kenpo_docs.input.cardcolumns import card_items
from kenpo_docs.input.cells import Row, is_number, scan_cells
from kenpo_docs.input.cells import shown as value_shown
from kenpo_docs.input.columns import (
    HEADER_ROWS,
    ISSUE_REASONS,
    MEMBERSHIP_ALIASES,
    find_header,
    header_key,
    map_header,
    my_number_column_message,
)
from kenpo_docs.input.tables import cell_text, load_table

logger = logging.getLogger(__name__)

INSURED_BRANCH = "00"
_DASHES = "-‐‑‒–—―−ー－"


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
    issue_reason: str | None = None  # 交付理由: one of columns.ISSUE_REASONS
    sex: str | None = None  # 性別: 男 or 女 (columns.SEXES)
    copay_ratio: str | None = None  # 一部負担金の割合 (70歳以上): 2割 or 3割
    effective_on: date | None = None  # its 発効期日

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

    @property
    def text(self) -> str:
        """The reason with its column in front (``列: 理由``), as the manifest gives it: the
        same words as ``check --report``'s column and reason."""
        if self.column is None or self.reason.startswith(f"{self.column.split(', ')[0]}: "):
            return self.reason  # a row with several problems names each column already
        return f"{self.column}: {self.reason}"


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
    #: The aliases of the columns the header names (an old roster has no 性別 column).
    columns: frozenset[str] = frozenset()

    @property
    def has_sex_column(self) -> bool:
        """False for a roster written before the cards: it gets no 資格確認書 cards."""
        return "sex" in self.columns


# --------------------------------------------------------------------------------------------
# Rows


def _postal_code(row: Row) -> str | None:
    value = row.raw("postal_code")
    text = row.nfkc("postal_code")
    if text is None:
        return None
    text = text.removeprefix("〒").strip()
    for dash in _DASHES:
        text = text.replace(dash, "")
    if is_number(value) and text.isdigit():
        text = text.zfill(7)  # 0600001 stored as the number 600001
    if not (text.isascii() and text.isdigit() and len(text) == 7):
        hint = " 先頭の0が落ちていませんか (leading zero lost?)" if len(text) == 6 else ""
        row.fail("postal_code", f"郵便番号は7桁です (postal code must be 7 digits){hint}")
        return None
    return text


def _glyph_check(row: Row, alias: str, value: str | None) -> None:
    """Reject a printed field with a character no font of the chain prints (外字, a code point
    with no character, a kanji outside every vendored font, a variation sequence the font
    lacks): on paper it would be a box or another glyph. The reason names the code points,
    and the character itself only when it is a real one (never the rest of the cell)."""
    if not value:
        return
    known = row.glyphs
    bad: set[str] = set()
    for unit in units(value):
        lacks = known.get(unit)
        if lacks is None:  # ask the fonts once per character per roster: 10,000 rows stay fast
            lacks = bool(missing_glyphs(unit))  # the whole chain; 外字 and non-characters too
            known[unit] = lacks
        if lacks:
            bad.add(unit)
    if bad:
        shown = []
        for unit in sorted(bad):
            codes = " ".join(f"U+{ord(ch):04X}" for ch in unit)
            real = unicodedata.category(unit[0]) not in ("Co", "Cn", "Cs", "Mn")
            shown.append(f"{unit} ({codes})" if real else codes)
        row.fail(alias, f"印刷できない文字です: {', '.join(shown)} "
                        "(no font prints this character; the row is not printed)")


def _parse_row(row: Row, as_of: date, widths: tuple[int, int]) -> Member | None:
    """Validate one row; problems go to ``row.problems``, warnings to ``row.notes``."""
    symbol, number = (_key_part(row, alias, width, label) for alias, width, label in
                      zip(("symbol", "number"), widths, ("記号", "番号"), strict=True))
    branch = row.digits("branch", width=2)
    if branch is not None and len(branch) < 2:
        branch = branch.zfill(2)  # a CSV saved by Excel writes 枝番 1 as "1"
    elif branch is not None and len(branch) > 2:
        row.fail("branch", f"{branch}: 枝番は2桁です "
                           "(two digits: 00 insured person, 01… dependents)")
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
        membership = MEMBERSHIP_ALIASES.get(membership_text)
        if membership is None:
            row.fail("membership", f"{value_shown(membership_text)}一般 か 任意継続 で"
                                   "書いてください (write 一般 or 任意継続)")
    elif insured:
        row.fail("membership", "被保険者(枝番00)の行には必須です (required on 枝番 00)")

    certificate_issued_on = row.date("certificate_issued_on", required=False)
    if certificate_issued_on is not None:
        _check_issue_date(row, certificate_issued_on, acquired_on, lost_on, as_of)
    if acquired_on is not None and acquired_on > as_of:
        # No letter announces future coverage today: one that does would pass a flag here.
        row.fail("acquired_on", f"{acquired_on.isoformat()}: 基準日(お知らせの日付) "
                                f"{as_of.isoformat()} より後です。まだ加入者ではありません "
                                "(not yet a member on the letter date)")

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
                row.fail(exc.column or "membership", exc.message)
    for alias, value in (("address1", address1), ("address2", address2),
                         ("workplace_name", workplace_name)):
        _glyph_check(row, alias, value)

    myna_registered = row.yes_no("myna_registered")
    has_mynumber_card = row.yes_no("has_mynumber_card")
    has_smartphone = row.yes_no("has_smartphone")
    issue_reason = _issue_reason(row, myna_registered, has_mynumber_card)
    if myna_registered is True and certificate_issued_on is not None:
        # Not an error: a registered member may receive one on application (card lost or
        # being renewed, support needed); staff confirm, the letter never says "cannot use".
        why = f" ({issue_reason})" if issue_reason else ""
        row.warn("certificate_issued_on",
                 f"マイナ保険証 有 の方に資格確認書を交付しています{why}。交付理由を確認して"
                 "ください (registered for マイナ保険証 and given a 資格確認書: check the reason)")

    sex, copay_ratio, effective_on = card_items(row, birth_date, certificate_issued_on)

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
        issue_reason=issue_reason, sex=sex, copay_ratio=copay_ratio,
        effective_on=effective_on,
    )


def _check_issue_date(row: Row, issued_on: date, acquired_on: date | None,
                      lost_on: date | None, as_of: date) -> None:
    """A 資格確認書交付日 must be a day a certificate can be issued, within the member's
    coverage, and not after the letter date (the letter says the certificate is enclosed)."""
    value = issued_on.isoformat()
    first = default_rules().certificate_first_issue_date
    if issued_on < first:
        row.fail("certificate_issued_on",
                 f"{value}: 資格確認書を交付できる最初の日 {first.isoformat()} より前です "
                 f"(before {first.isoformat()}, the first day a 資格確認書 can be issued)")
        return
    try:
        certificate_expiry(issued_on)
    except RuleError as exc:
        row.fail("certificate_issued_on", f"{value}: 交付期間が設定されていません ({exc.message})")
        return
    if acquired_on is not None and issued_on < acquired_on:
        row.fail("certificate_issued_on",
                 f"{value}: 資格取得日 {acquired_on.isoformat()} より前です。交付日が資格の"
                 "期間外です (交付日 outside coverage: before 資格取得日)")
    elif lost_on is not None and issued_on >= lost_on:
        row.fail("certificate_issued_on",
                 f"{value}: 資格喪失日 {lost_on.isoformat()} 以後です。交付日が資格の期間外です"
                 " (交付日 outside coverage: on or after 資格喪失日)")
    elif issued_on > as_of:
        row.fail("certificate_issued_on",
                 f"{value}: 基準日(お知らせの日付) {as_of.isoformat()} より後です。手紙は資格確認書"
                 "を「お送りします」と書くため、交付済みの日付が必要です (after the letter date: "
                 "the letter says the certificate is enclosed, so it must already be issued)")


def _issued_after_insured_lost(row: Row, member: Member, insured: Member) -> bool:
    """A dependent's coverage ends with the insured person's (notice 539: 資格を喪失した場合は、
    その時までとなります): a 交付日 on or after the insured person's 資格喪失日 is outside it."""
    issued_on, lost_on = member.certificate_issued_on, insured.lost_on
    if issued_on is None or lost_on is None or issued_on < lost_on:
        return False
    row.fail("certificate_issued_on",
             f"{issued_on.isoformat()}: 被保険者の資格喪失日 {lost_on.isoformat()} 以後です。"
             "交付日が資格の期間外です (交付日 outside coverage: on or after the insured "
             "person's 資格喪失日)")
    return True


def _issue_reason(row: Row, myna_registered: bool | None,
                  has_mynumber_card: bool | None) -> str | None:
    """The 交付理由 column, checked against the マイナ保険証 and マイナンバーカード answers;
    also rejects マイナ保険証 有 with マイナンバーカード 無 (registration needs a card)."""
    if myna_registered is True and has_mynumber_card is False:
        row.fail("myna_registered",
                 "有: マイナンバーカード 無 と矛盾します。利用登録にはカードが必要です "
                 "(inconsistent: registering as マイナ保険証 needs a My Number card)")
    text = row.nfkc("issue_reason")
    if text is None:
        return None
    if text not in ISSUE_REASONS:
        row.fail("issue_reason", f"{value_shown(text)}{'・'.join(ISSUE_REASONS)} のどれかで"
                                 f"書いてください (one of {', '.join(ISSUE_REASONS)})")
        return None
    if text == "未取得" and (has_mynumber_card is True or myna_registered is True):
        row.fail("issue_reason", "未取得: マイナンバーカード 有 または マイナ保険証 有 と矛盾します"
                                 " (inconsistent: 未取得 means no My Number card)")
    elif text == "未登録" and myna_registered is True:
        row.fail("issue_reason", "未登録: マイナ保険証 有 と矛盾します"
                                 " (inconsistent: 未登録 means not registered as マイナ保険証)")
    return text


def _key_part(row: Row, alias: str, width: int, label: str) -> str | None:
    """記号 or 番号: digits, a numeric cell padded to ``width``, longer values rejected."""
    text = row.digits(alias, width=width)
    if text is not None and len(text) > width:
        row.fail(alias, f"{text}: {label}は{width}桁以内です (at most {width} digits, as the "
                        "insurer settings say)")
        return None
    return text


def _row_key(row: Row, widths: tuple[int, int]) -> tuple[str | None, str | None]:
    """(member key, household key) from the raw cells, or None where they cannot be read."""
    parts = []
    for alias, width in zip(("symbol", "number", "branch"), (*widths, 2), strict=True):
        text = row.nfkc(alias)
        if text is None or not text.isascii() or not text.isdigit():
            return None, None
        if alias == "branch":
            if len(text) > 2:
                return None, None
            text = text.zfill(2)
        elif is_number(row.raw(alias)):
            text = text.zfill(width)
        parts.append(text)
    return "-".join(parts), "-".join(parts[:2])


def _rejection(row: Row, key: str | None) -> RowError:
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
    found = find_header(table)
    if found is None:
        raise RosterError(
            f"ファイルが空です、または最初の{HEADER_ROWS}行に見出しがありません "
            f"(no header row in the first {HEADER_ROWS} rows)", file=path
        )
    header_row, header = table[found]
    names = {i: cell_text(c).strip() for i, c in enumerate(header) if cell_text(c).strip()}
    allowed_keys = frozenset(header_key(a) for a in allow_columns)
    for name in allow_columns:
        if header_key(name) not in {header_key(n) for n in names.values()}:
            raise RosterError(f"--allow-column {name}: その列はありません (no such column)",
                              file=path, row=header_row)
    columns, header_notes = map_header(header, path, allowed_keys, row=header_row)
    glyphs: dict[str, bool] = {}
    rows = [
        Row(number, cells, columns, glyphs)
        for number, cells in table[found + 1:]
        if any(cell_text(c).strip() for c in cells)
    ]
    del table  # the rows hold the cells now; a 200,000-row roster need not be held twice
    if not rows:
        raise RosterError("データ行がありません (no data rows)", file=path)
    used = frozenset(columns.values())
    allowed = frozenset(i for i, n in names.items() if header_key(n) in allowed_keys)
    my_numbers: dict[int, list[int]] = {}
    for row in rows:
        scan_cells(row, names, used, allowed, my_numbers)
    for index, (hits, _) in sorted(my_numbers.items()):
        if not hits:
            continue
        # The fast path of scan_cells does not count filled cells: count them when it matters.
        filled = sum(1 for row in rows
                     if index < len(row.cells) and cell_text(row.cells[index]).strip())
        if hits and hits * 2 >= filled:
            column = names.get(index, f"{index + 1}列目")
            raise RosterError(my_number_column_message(column), file=path, column=column)

    roster = Roster(file=path, encoding=encoding, row_count=len(rows),
                    columns=frozenset(columns))
    if header_row != 1:
        roster.warnings.append(RowError(header_row, None, (
            f"{header_row} 行目を見出しとして使いました。それより上の行は読みません "
            f"(header found on row {header_row}; the rows above it are not read)")))
    roster.warnings.extend(RowError(header_row, column, reason)
                           for column, reason in header_notes)
    parsed: list[tuple[Row, str | None, str | None, Member | None]] = []
    first_row: dict[str, int] = {}
    widths = key_widths()
    padded = 0
    for row in rows:
        padded += sum(_padded(row, alias, width)
                      for alias, width in zip(("symbol", "number"), widths, strict=True))
        member = _parse_row(row, as_of, widths)
        key, household = _row_key(row, widths)
        # The folded values were for parsing: held for every row until the end they were
        # most of a big roster's peak memory (a 21,703-row roster: 72 -> 45 MB traced).
        row.forget_folded()
        if key is not None:
            if key in first_row:
                row.fail(None, f"{key} は {first_row[key]} 行目と重複しています (duplicate key)")
                member = None
            else:
                first_row[key] = row.number
        parsed.append((row, key, household, member))
    _warn_lost_zeros(parsed)
    if padded:
        sw, nw = widths
        roster.warnings.append(RowError(
            header_row, "記号, 番号",
            f"数値のセル {padded} 件の先頭に0を補いました (記号 {sw} 桁、番号 {nw} 桁)。文字列で"
            f"保存してください ({padded} numeric cells padded with leading zeros to the widths "
            "of the insurer settings; store the columns as text)"))

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
                if _issued_after_insured_lost(row, member, insured):
                    member = None
                else:
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


def _padded(row: Row, alias: str, width: int) -> bool:
    """A numeric 記号/番号 cell (from .xlsx) shorter than its width: padded when read."""
    text = row.nfkc(alias)
    return (is_number(row.raw(alias)) and text is not None and text.isascii()
            and text.isdigit() and len(text) < width)


def _warn_lost_zeros(parsed: list[tuple[Row, str | None, str | None, Member | None]]) -> None:
    """Warn on numeric 就労先コード cells when the column elsewhere keeps leading zeros as text.

    Its width is not fixed, so the lost zeros cannot be restored; the row is kept and staff
    should store the column as text. (記号 and 番号 have widths in the insurer settings:
    their numeric cells are padded, see :func:`read_roster`.)
    """
    for alias in ("workplace_code",):
        zero_text = any(
            isinstance(row.raw(alias), str) and (row.nfkc(alias) or "").startswith("0")
            for row, *_ in parsed
        )
        if not zero_text:
            continue
        for row, *_ in parsed:
            if is_number(row.raw(alias)):
                row.warn(alias, "数値のセルです。先頭の0が失われた可能性があります。文字列で"
                                "保存してください (numeric cell: leading zeros may be lost)")

