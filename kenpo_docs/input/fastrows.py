"""The common roster row read in one pass: text cells, every value already met and valid.

:func:`~.rows.parse_row` reads a row field by field through :class:`~.cells.Row` (a method
call, a fold and a memo per field read, and each field is read several times): ~60 µs a row,
most of a million-row ``check``. Most rows of a real roster are clean and repeat what earlier
rows held (the same dates, 加入区分, 有/無, workplace codes, characters). :class:`FastRows`
reads such a row straight from its cells with the same rules and builds the same
:class:`~.members.Member`; the moment anything would need a word to staff (a problem, a
warning) or a value not met before (a date not parsed yet, a character not yet asked of the
fonts), it answers None and the row goes through :func:`~.rows.parse_row`, which also fills
the memos the next row finds. So every message still comes from one place, and this module
only ever says "this row is exactly what parse_row would accept, unchanged".

tests/test_fast_rows.py holds the two to each other: on the bench's roster, the samples and
thousands of rows each changed in one cell, a row read here is the Member parse_row makes,
with no problem and no warning.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from operator import itemgetter
from typing import Any, Literal

from kenpo_docs.domain.era import parse_date
from kenpo_docs.domain.facts import certificate_expiry, delivery_route
from kenpo_docs.domain.rules import default_rules
from kenpo_docs.errors import DateError, RuleError
from kenpo_docs.input.cardcolumns import age
from kenpo_docs.input.cells import remember_date, yes_no_answer
from kenpo_docs.input.columns import (
    COPAY_RATIOS,
    ISSUE_REASONS,
    MEMBERSHIP_ALIASES,
    SEXES,
)
from kenpo_docs.input.members import INSURED_BRANCH, Member, member_from_values
from kenpo_docs.input.rows import KANA

_normalize = unicodedata.normalize

#: The fields a Member takes from the roster, in the order of its dataclass after ``row``.
_ALIASES = ("symbol", "number", "branch", "name", "kana", "birth_date", "acquired_on",
            "lost_on", "membership", "certificate_issued_on", "postal_code", "address1",
            "address2", "workplace_code", "workplace_name", "myna_registered",
            "has_mynumber_card", "has_smartphone", "issue_reason", "sex", "copay_ratio",
            "effective_on")


class FastRows:
    """Reads the common row of one roster (see the module's text). ``dates`` (a date cell's
    text -> its date) and ``printable`` (characters the fonts print) are the memos the
    roster's :class:`~.cells.Row` objects share: parse_row fills them, this only reads."""

    def __init__(self, columns: dict[str, int], names: dict[int, str], as_of: date,
                 widths: tuple[int, int], dates: dict[str, date], printable: set[str]) -> None:
        """``columns``: alias -> cell index; ``names``: cell index -> header text (a row
        :func:`~.cells.plain_cells` passes has no cell beyond them)."""
        # A column the roster lacks reads the cell after the last header: always blank.
        width = max((*names, *columns.values()), default=-1) + 1
        self.fields = itemgetter(*(columns.get(alias, width) for alias in _ALIASES))
        self.need = width + 1
        self.has_sex_column = "sex" in columns
        self.as_of = as_of
        self.widths = widths
        self.dates = dates
        self.printable = printable
        self.first_issue = default_rules().certificate_first_issue_date
        self._issue_ok: dict[date, bool] = {}
        self._route_ok: dict[tuple[str, str | None], bool] = {}

    def member(self, number: int, cells: list[Any]) -> Member | None:
        """The row's Member when parse_row would accept it with no problem and no warning and
        this can tell so at once; None otherwise (parse the row the full way). ``cells``:
        the row's cells, all text, in which :func:`~.cells.plain_cells` found nothing."""
        if len(cells) < self.need:  # a short row: its missing cells (and absent columns) blank
            cells = cells + [""] * (self.need - len(cells))
        v = [text if text.strip() else None for text in self.fields(cells)]
        (symbol, num, branch, name, kana, birth, acquired, lost, membership, issued, postal,
         address1, address2, wp_code, wp_name, myna, card, phone, reason, sex, ratio,
         effective) = v

        # 記号, 番号, 枝番: ASCII digits (full-width ones the full way), within their widths.
        if symbol is None or num is None or branch is None:
            return None
        symbol, num, branch = symbol.strip(), num.strip(), branch.strip()
        sw, nw = self.widths
        if not (symbol.isascii() and symbol.isdigit() and len(symbol) <= sw
                and num.isascii() and num.isdigit() and len(num) <= nw
                and branch.isascii() and branch.isdigit() and len(branch) <= 2):
            return None
        branch = branch.zfill(2)
        insured = branch == INSURED_BRANCH

        printable = self.printable
        name = _folded(name, "NFC")
        if name is None or not printable.issuperset(name):
            return None
        kana = _folded(kana, "NFKC")
        if kana is not None and not KANA.issuperset(kana):
            return None

        dates = self.dates
        as_of = self.as_of
        if birth is None or acquired is None:
            return None
        birth_date = dates.get(birth) or self._date(birth)
        acquired_on = dates.get(acquired) or self._date(acquired)
        if birth_date is None or acquired_on is None or birth_date > as_of \
                or acquired_on > as_of:
            return None
        lost_on = None
        if lost is not None:
            lost_on = dates.get(lost) or self._date(lost)
            if lost_on is None or lost_on < acquired_on:
                return None

        membership_text = _folded(membership, "NFKC")
        membership = None
        if membership_text is not None:
            membership = MEMBERSHIP_ALIASES.get(membership_text)
            if membership is None:
                return None
        elif insured:
            return None

        certificate_issued_on = None
        if issued is not None:
            certificate_issued_on = dates.get(issued) or self._date(issued)
            if certificate_issued_on is None or not self._issue_date_ok(
                    certificate_issued_on, acquired_on, lost_on):
                return None

        postal_code = None
        if postal is not None:
            postal_code = postal.strip()
            if not postal_code.isascii():
                return None
            postal_code = postal_code.replace("-", "")
            if not (postal_code.isdigit() and len(postal_code) == 7):
                return None
        address1, address2 = _folded(address1, "NFC"), _folded(address2, "NFC")
        workplace_code, workplace_name = _folded(wp_code, "NFKC"), _folded(wp_name, "NFC")
        if insured:
            if postal_code is None or address1 is None:
                return None
            if membership == "一般" and (workplace_code is None or workplace_name is None):
                return None
            if membership is not None and not self._route_ok_for(membership, workplace_code):
                return None
        for text in (address1, address2, workplace_name):
            if text is not None and not printable.issuperset(text):
                return None

        myna_registered, has_mynumber_card, has_smartphone = (
            _yes_no(myna), _yes_no(card), _yes_no(phone))
        if _UNREADABLE in (myna_registered, has_mynumber_card, has_smartphone):
            return None
        if myna_registered is True and (has_mynumber_card is False
                                        or certificate_issued_on is not None):
            return None  # a contradiction, or a warning to give
        issue_reason = _folded(reason, "NFKC")
        if issue_reason is not None and (
                issue_reason not in ISSUE_REASONS
                or (issue_reason == "未取得"
                    and (has_mynumber_card is True or myna_registered is True))
                or (issue_reason == "未登録" and myna_registered is True)):
            return None

        sex_text = _folded(sex, "NFKC")
        sex = None
        if sex_text is not None:
            sex = SEXES.get(sex_text.casefold())
            if sex is None:
                return None
        elif certificate_issued_on is not None and self.has_sex_column:
            return None
        ratio_text = _folded(ratio, "NFKC")
        copay_ratio = None
        if ratio_text is not None:
            copay_ratio = COPAY_RATIOS.get(ratio_text.replace(" ", ""))
            if copay_ratio is None:
                return None
        effective_on = None
        if effective is not None:
            effective_on = dates.get(effective) or self._date(effective)
            if effective_on is None:
                return None
        if (copay_ratio is None) != (effective_on is None):
            return None
        if effective_on is not None and age(birth_date, effective_on) < 70:
            return None

        return member_from_values((
            number, symbol, num, branch, name, kana, birth_date, acquired_on, lost_on,
            membership, certificate_issued_on, postal_code, address1, address2,
            workplace_code, workplace_name, myna_registered, has_mynumber_card,
            has_smartphone, issue_reason, sex, copay_ratio, effective_on))

    def _date(self, text: str) -> date | None:
        """A date cell not met before: parsed and remembered as :meth:`.cells.Row.date` does
        (None when it is not a date: the full way says why)."""
        try:
            parsed = parse_date(text)
        except DateError:
            return None
        remember_date(self.dates, text, parsed)
        return parsed

    def _issue_date_ok(self, issued_on: date, acquired_on: date, lost_on: date | None) -> bool:
        """rows._check_issue_date would find nothing to say."""
        ok = self._issue_ok.get(issued_on)
        if ok is None:
            ok = issued_on >= self.first_issue
            if ok:
                try:
                    certificate_expiry(issued_on)
                except RuleError:
                    ok = False
            self._issue_ok[issued_on] = ok
        return ok and acquired_on <= issued_on <= self.as_of and (
            lost_on is None or issued_on < lost_on)

    def _route_ok_for(self, membership: str, workplace_code: str | None) -> bool:
        key = (membership, workplace_code)
        ok = self._route_ok.get(key)
        if ok is None:
            try:
                delivery_route(membership=membership, workplace_code=workplace_code)
            except RuleError:
                ok = False
            else:
                ok = True
            self._route_ok[key] = ok
        return ok


_UNREADABLE = object()


def _folded(text: str | None, form: Literal["NFC", "NFKC"]) -> str | None:
    """A cell as :meth:`.cells.Row.nfc` / :meth:`.cells.Row.nfkc` reads it: ``form``
    (ASCII is both already), stripped, None when blank."""
    if text is None:
        return None
    if not text.isascii():
        text = _normalize(form, text)
    return text.strip() or None


def _yes_no(text: str | None) -> Any:
    """True, False, None (blank) or _UNREADABLE (parse_row would reject it)."""
    folded = _folded(text, "NFKC")
    if folded is None:
        return None
    answer = yes_no_answer(folded)
    return _UNREADABLE if answer is None else answer
