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
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import chain, compress, count, islice
from pathlib import Path
from typing import cast

from kenpo_docs.domain.facts import certificate_period_extrapolated
from kenpo_docs.domain.insurer import key_widths
from kenpo_docs.errors import RosterError
from kenpo_docs.input.cells import Row, is_number, plain_cells, scan_cells
from kenpo_docs.input.columns import (
    HEADER_ROWS,
    find_header,
    header_key,
    map_header,
    my_number_column_message,
)
from kenpo_docs.input.fastrows import FastRows
from kenpo_docs.input.members import Household, Member, RowError
from kenpo_docs.input.rows import issued_after_insured_lost, parse_row, rejection, row_key
from kenpo_docs.input.store import PAGE, Store, Stored, dumps, loads
from kenpo_docs.input.tables import cell_text, iter_table

__all__ = ["Household", "Member", "Roster", "RowError", "insured_members", "read_roster",
           "stage_roster"]

logger = logging.getLogger(__name__)


@dataclass
class Roster:
    """The result of reading a roster: accepted members, households, rejects, warnings.

    From :func:`read_roster` ``members`` and ``households`` are lists; from
    :func:`stage_roster` they are read from the roster's :class:`~.store.Store` as they are
    walked (``store``), in the same order.
    """

    file: Path
    encoding: str  # "utf-8", "utf-8-sig", "cp932" or "xlsx"
    row_count: int  # data rows read (blank rows skipped)
    members: Sequence[Member] = field(default_factory=list)
    households: Sequence[Household] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    #: The aliases of the columns the header names (an old roster has no 性別 column).
    columns: frozenset[str] = frozenset()
    #: How many accepted members have each 資格確認書交付日 after the periods the notice
    #: lists (see check.extrapolation_note), and a 交付日 at all: known from the reading,
    #: so a staged roster is not walked again for them.
    extrapolated_dates: dict[date, int] = field(default_factory=dict)
    certificates: int = 0
    #: Where a staged roster's rows are (None: in memory).
    store: Store | None = None

    @property
    def has_sex_column(self) -> bool:
        """False for a roster written before the cards: it gets no 資格確認書 cards."""
        return "sex" in self.columns


def read_roster(
    path: str | Path,
    *,
    as_of: date | None = None,
    sheet: str | None = None,
    allow_columns: Collection[str] = (),
) -> Roster:
    """Read, normalise and validate a roster file, into memory (see :func:`stage_roster`).

    Args:
        path: a ``.csv`` (UTF-8, UTF-8 with BOM or CP932) or ``.xlsx`` file.
        as_of: the reference date (birth dates after it are refused); default today.
        sheet: the ``.xlsx`` sheet to read; default the first.
        allow_columns: header names exempt from the My Number checks (by name and by value),
            for a column the operator knows holds something else.

    Raises:
        RosterError: the file as a whole cannot be used, including a My Number column.
    """
    with Store(on_disk=False) as store:
        roster = stage_roster(path, store=store, as_of=as_of, sheet=sheet,
                              allow_columns=allow_columns)
        return replace(roster, members=list(roster.members),
                       households=list(roster.households), store=None)


_ZERO_LOST = ("数値のセルです。先頭の0が失われた可能性があります。文字列で"
              "保存してください (numeric cell: leading zeros may be lost)")
_ROWS_SQL = ("INSERT INTO rows (row, key, household, member, problems, notes, numeric_wp, "
             "branch, issued) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def stage_roster(
    path: str | Path,
    *,
    store: Store,
    as_of: date | None = None,
    sheet: str | None = None,
    allow_columns: Collection[str] = (),
    on_columns: Callable[[frozenset[str]], None] | None = None,
    observe: Callable[[list[tuple[object, ...]]], None] | None = None,
) -> Roster:
    """Read, normalise and validate a roster file row by row into ``store``: what
    :func:`read_roster` returns, with ``members`` and ``households`` read from the store.

    Memory stays flat with the roster's size: each row is parsed and staged as it is read,
    and the checks between rows (duplicate keys, dependents and their insured person) are
    made over the store (:func:`_link_households`).

    ``on_columns`` gets the aliases of the columns the header names as soon as the header is
    read; ``observe`` gets each batch of staged rows (row, key, household, member pickle,
    problems, notes, numeric 就労先コード, 枝番, 交付日), in row order, as it is staged (the
    list is the observer's to keep): the merge's early start (:mod:`kenpo_docs.mailing.early`)
    plans the first pieces from them while the rest is read.

    Raises:
        RosterError: the file as a whole cannot be used, including a My Number column.
    """
    path = Path(path)
    as_of = as_of or date.today()
    encoding, records = iter_table(path, sheet=sheet)
    head = list(islice(records, HEADER_ROWS))
    found = find_header(head)
    if found is None:
        raise RosterError(
            f"ファイルが空です、または最初の{HEADER_ROWS}行に見出しがありません "
            f"(no header row in the first {HEADER_ROWS} rows)", file=path
        )
    header_row, header = head[found]
    names = {i: cell_text(c).strip() for i, c in enumerate(header) if cell_text(c).strip()}
    allowed_keys = frozenset(header_key(a) for a in allow_columns)
    for name in allow_columns:
        if header_key(name) not in {header_key(n) for n in names.values()}:
            raise RosterError(f"--allow-column {name}: その列はありません (no such column)",
                              file=path, row=header_row)
    columns, header_notes = map_header(header, path, allowed_keys, row=header_row)
    used = frozenset(columns.values())
    if on_columns is not None:
        on_columns(frozenset(columns))
    allowed = frozenset(i for i, n in names.items() if header_key(n) in allowed_keys)
    store.execute("CREATE TABLE rows (row INTEGER PRIMARY KEY, key TEXT, household TEXT, "
                  "member BLOB, problems BLOB, notes BLOB, numeric_wp INTEGER, branch TEXT, "
                  "issued TEXT)")
    staged = _stage_rows(store, chain(head[found + 1:], records), columns, names, used,
                         allowed, as_of, observe)
    if not staged.count:
        raise RosterError("データ行がありません (no data rows)", file=path)
    for index, (hits, _) in sorted(staged.my_numbers.items()):
        if hits and hits * 2 >= staged.filled.get(index, 0):
            column = names.get(index, f"{index + 1}列目")
            raise RosterError(my_number_column_message(column), file=path, column=column)

    roster = Roster(file=path, encoding=encoding, row_count=staged.count,
                    columns=frozenset(columns), store=store)
    if header_row != 1:
        roster.warnings.append(RowError(header_row, None, (
            f"{header_row} 行目を見出しとして使いました。それより上の行は読みません "
            f"(header found on row {header_row}; the rows above it are not read)")))
    roster.warnings.extend(RowError(header_row, column, reason)
                           for column, reason in header_notes)
    if staged.padded:
        sw, nw = key_widths()
        roster.warnings.append(RowError(
            header_row, "記号, 番号",
            f"数値のセル {staged.padded} 件の先頭に0を補いました (記号 {sw} 桁、番号 {nw} 桁)。"
            f"文字列で保存してください ({staged.padded} numeric cells padded with leading "
            "zeros to the widths of the insurer settings; store the columns as text)"))
    _link_households(store, roster, zero_text=staged.zero_text)
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


@dataclass
class _Staged:
    count: int = 0
    padded: int = 0
    zero_text: bool = False  # a 就労先コード stored as text with a leading zero
    my_numbers: dict[int, list[int]] = field(default_factory=dict)
    filled: Counter[int] = field(default_factory=Counter)  # non-blank cells per column


def _nonblank(cells: list[object]) -> list[int]:
    """The indexes of a row's cells that are not blank."""
    try:
        return list(compress(count(), map(str.strip, cast("list[str]", cells))))
    except TypeError:  # a cell that is not text (.xlsx)
        return [i for i, c in enumerate(cells)
                if (c.strip() if type(c) is str else cell_text(c).strip())]


def _stage_rows(store: Store, records: Iterator[tuple[int, list[object]]],
                columns: dict[str, int], names: dict[int, str], used: frozenset[int],
                allowed: frozenset[int], as_of: date,
                observe: Callable[[list[tuple[object, ...]]], None] | None = None) -> _Staged:
    """Screen, parse and stage every data row (blank rows skipped); count what the checks on
    the whole roster need."""
    staged = _Staged()
    glyphs: dict[str, bool] = {}
    printable: set[str] = set()
    dates: dict[str, date] = {}
    widths = key_widths()
    batch: list[tuple[object, ...]] = []
    filled = staged.filled
    fast = FastRows(columns, names, as_of, widths, dates, printable)
    for number, cells in records:
        nonblank = _nonblank(cells)
        if not nonblank:
            continue
        member = fast.member(number, cells) if plain_cells(cells, names) else None
        if member is not None:  # the common row: what parse_row gives, read in one pass
            filled.update(nonblank)
            workplace_code = member.workplace_code
            staged.zero_text = staged.zero_text or (
                workplace_code is not None and workplace_code.startswith("0"))
            issued_on = member.certificate_issued_on
            batch.append((number, member.key, member.household_key, dumps(member), None,
                          None, 0, member.branch,
                          None if issued_on is None else issued_on.isoformat()))
            staged.count += 1
            if len(batch) >= PAGE:
                _insert(store, batch, observe)
                batch = []
            continue
        row = Row(number, cells, columns, glyphs, printable, dates)
        scan_cells(row, names, used, allowed, staged.my_numbers)
        if row.problems or row.notes:  # a cell may have been emptied (see scan_cells)
            nonblank = _nonblank(row.cells)
        filled.update(nonblank)
        staged.padded += sum(_padded(row, alias, width)
                             for alias, width in zip(("symbol", "number"), widths, strict=True))
        member = parse_row(row, as_of, widths)
        key, household = row_key(row, widths)
        raw = row.raw("workplace_code")
        staged.zero_text = staged.zero_text or (
            isinstance(raw, str) and (row.nfkc("workplace_code") or "").startswith("0"))
        batch.append((row.number, key, household,
                      None if member is None else dumps(member),
                      dumps(row.problems) if row.problems else None,
                      dumps(row.notes) if row.notes else None, int(is_number(raw)),
                      None if member is None else member.branch,
                      None if member is None or member.certificate_issued_on is None
                      else member.certificate_issued_on.isoformat()))
        staged.count += 1
        if len(batch) >= PAGE:
            _insert(store, batch, observe)
            batch = []
    _insert(store, batch, observe)
    return staged


def _insert(store: Store, batch: list[tuple[object, ...]],
            observe: Callable[[list[tuple[object, ...]]], None] | None) -> None:
    """The one place staged rows go into the store: a batch, in row order, then ``observe``."""
    if not batch:
        return
    store.many(_ROWS_SQL, batch)
    if observe is not None:
        observe(batch)


def _link_households(store: Store, roster: Roster, *, zero_text: bool) -> None:
    """The checks between rows, over the staged rows in row order: a key seen before is a
    duplicate, a dependent needs its insured person's (first) row and takes their 加入区分;
    then each household (insured person, dependents by 枝番) is staged for the plan."""
    store.execute("CREATE INDEX rows_key ON rows (key)")
    store.execute("CREATE TABLE firsts AS SELECT key, MIN(row) AS row FROM rows "
                  "WHERE key IS NOT NULL GROUP BY key")
    store.execute("CREATE UNIQUE INDEX firsts_key ON firsts (key)")
    store.execute("CREATE TABLE insured AS SELECT r.household AS household, r.row AS row, "
                  "r.member AS member FROM firsts f JOIN rows r ON r.row = f.row "
                  "WHERE substr(f.key, -3) = '-00'")
    store.execute("CREATE UNIQUE INDEX insured_household ON insured (household)")
    store.execute("CREATE TABLE members (row INTEGER PRIMARY KEY, insured INTEGER, "
                  "kind INTEGER, branch TEXT, blob BLOB)")
    sql = ("SELECT r.row, r.key, r.household, r.member, r.problems, r.notes, r.numeric_wp, "
           "r.branch, r.issued, f.row, i.row, i.member FROM rows r "
           "LEFT JOIN firsts f ON f.key = r.key LEFT JOIN insured i ON i.household = r.household "
           f"WHERE r.row > ? ORDER BY r.row LIMIT {PAGE}")
    accepted: list[tuple[object, ...]] = []
    dates = roster.extrapolated_dates
    issue_dates: dict[str, date] = {}
    last_insured: tuple[int, Member] | None = None
    for (number, key, household, blob, problems, notes, numeric_wp, branch, issued, first,
         insured_row, insured_blob) in store.walk(sql):
        # A member's pickle is read only where it changes (a dependent takes the insured
        # person's 加入区分); the others go on as they were staged.
        row = Row(number, [], {}, {})
        row.problems = loads(problems) if problems else {}
        row.notes = loads(notes) if notes else []
        accept = blob is not None
        if key is not None and first != number:
            row.fail(None, f"{key} は {first} 行目と重複しています (duplicate key)")
            accept = False
        if zero_text and numeric_wp:
            row.warn("workplace_code", _ZERO_LOST)
        dependent = key is not None and household is not None and not key.endswith("-00")
        if dependent:
            if insured_row is None:
                row.fail("branch", "被保険者(枝番00)の行がありません (no insured person, 枝番 00)")
                accept = False
            elif insured_blob is None:
                row.fail(None, f"被保険者(枝番00)の {insured_row} 行目が不合格のため"
                               " (the insured person's row was rejected)")
                accept = False
            elif accept:
                member: Member = loads(blob)
                if last_insured is None or last_insured[0] != insured_row:
                    last_insured = (insured_row, loads(insured_blob))
                insured = last_insured[1]
                if member.membership not in (None, insured.membership):
                    row.warn("membership",
                             "被保険者の加入区分を使います (insured person's value used)")
                member = member.with_membership(insured.membership)
                if issued_after_insured_lost(row, member, insured):
                    accept = False
                else:
                    blob = dumps(member)
        for column, reason in row.notes:
            roster.warnings.append(RowError(row.number, column, reason, key))
        if not accept:
            roster.errors.append(rejection(row, key))
            continue
        if issued is not None:
            roster.certificates += 1
            on = issue_dates.get(issued)
            if on is None:
                on = issue_dates[issued] = date.fromisoformat(issued)
            if certificate_period_extrapolated(on):
                dates[on] = dates.get(on, 0) + 1
        accepted.append((number, insured_row if dependent else
                         (number if key is not None else None), int(dependent), branch, blob))
        if len(accepted) >= PAGE:
            store.many("INSERT INTO members VALUES (?, ?, ?, ?, ?)", accepted)
            accepted.clear()
    store.many("INSERT INTO members VALUES (?, ?, ?, ?, ?)", accepted)
    _stage_households(store)
    for done in ("rows", "firsts", "insured"):  # their pages go to the plan's tables
        store.execute(f"DROP TABLE {done}")
    roster.members = Stored(store, "members", key="row")
    roster.households = Stored(store, "households", dense=True, decode=_household)


def _household(blob: bytes) -> Household:
    insured, *dependents = (loads(member) for member in loads(blob))
    return Household(insured, tuple(dependents))


def _insured_only(blob: bytes) -> Member:
    member: Member = loads(loads(blob)[0])
    return member


def insured_members(households: Sequence[Household]) -> Sequence[Member]:
    """The insured person of each of ``households``, in order: from a staged roster read
    without their dependents (only the first of a household's member pickles is read)."""
    if isinstance(households, Stored) and households.decode is _household:
        return Stored(households.store, households.table, key=households.key,
                      column=households.column, dense=households.dense, decode=_insured_only)
    return [household.insured for household in households]


def _stage_households(store: Store) -> None:
    """Each household, in the order of its insured person's row: the insured person, then
    the dependents by 枝番 (and row)."""
    store.execute("CREATE INDEX members_household ON members (insured, kind, branch, row)")
    store.execute("CREATE TABLE households (ord INTEGER PRIMARY KEY, blob BLOB)")
    sql = ("SELECT m.insured, m.kind, m.branch, m.row, m.blob FROM members m "
           "JOIN members i ON i.row = m.insured AND i.kind = 0 "
           "WHERE m.insured IS NOT NULL AND (m.insured, m.kind, m.branch, m.row) > (?, ?, ?, ?) "
           f"ORDER BY m.insured, m.kind, m.branch, m.row LIMIT {PAGE}")
    out: list[tuple[int, bytes]] = []
    count = 0
    current: list[bytes] = []  # the members' own pickles: not read and pickled again
    owner = None
    last: tuple[object, ...] = (-1, -1, "", -1)

    def close_household() -> None:
        nonlocal count
        count += 1
        out.append((count, dumps(current)))
        if len(out) >= PAGE:
            store.many("INSERT INTO households VALUES (?, ?)", out)
            out.clear()

    while True:
        page = store.execute(sql, last).fetchall()
        for insured_row, _kind, _branch, _row, blob in page:
            if insured_row != owner and current:
                close_household()
                current = []
            owner = insured_row
            current.append(blob)
        if len(page) < PAGE:
            break
        last = tuple(page[-1][:4])
    if current:
        close_household()
    store.many("INSERT INTO households VALUES (?, ?)", out)


def _padded(row: Row, alias: str, width: int) -> bool:
    """A numeric 記号/番号 cell (from .xlsx) shorter than its width: padded when read."""
    text = row.nfkc(alias)
    return (is_number(row.raw(alias)) and text is not None and text.isascii()
            and text.isdigit() and len(text) < width)
