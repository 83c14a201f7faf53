"""Is a roster ready for a mailing: the library side of ``kenpo-docs check``.

:func:`summarize` counts households and members per delivery route, as the merge will send
them, lists who gets no documents and why (:func:`no_documents_reason`, which the merge uses
too) and carries the rejected rows and warnings; :func:`write_report` writes the rejected
rows for staff (CSV, or a typed Excel workbook). Only keys, rows and reasons are printed,
never names.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kenpo_docs.domain.facts import (
    certificate_period,
    certificate_period_extrapolated,
    delivery_route,
)
from kenpo_docs.files import csv_bytes, refuse_same_file
from kenpo_docs.input.roster import Household, Member, Roster, RowError, stage_roster
from kenpo_docs.input.store import Store
from kenpo_docs.spreadsheets import INT, Column, refuse_foreign_table, write_table, xlsx_bytes


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
    #: Batch-level notes, each said once (e.g. an extrapolated 資格確認書 issue period).
    notes: tuple[str, ...] = ()

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
        ]
        out += [f"note: {note}" for note in self.notes]
        out.append("routes:")
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


class Tally:
    """Households and members with documents per delivery route, and who gets none and why,
    counted one household at a time (as :func:`summarize` walks them, or as another walk of
    the households passes them on: :func:`~kenpo_docs.mailing.window.fit_households`)."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.per_route: dict[str, list[int]] = {}
        self.no_docs: list[tuple[str, str]] = []

    def add(self, household: Household) -> None:
        insured = household.insured
        route = str(delivery_route(membership=insured.membership or "",
                                   workplace_code=insured.workplace_code))
        receiving = 0
        for member in household.members:
            reason = no_documents_reason(member, as_of=self.as_of, insured=insured)
            if reason is None:
                receiving += 1
            else:
                self.no_docs.append((member.key, reason))
        if receiving:
            counts = self.per_route.setdefault(route, [0, 0])
            counts[0] += 1
            counts[1] += receiving


def summarize(roster: Roster, *, as_of: date, tally: Tally | None = None) -> CheckResult:
    """Count routes and list members who would get no documents, as the merge will see them.
    ``tally``: the roster's households counted already (by the walk that made ``roster``)."""
    if tally is None:
        tally = Tally(as_of)
        for household in roster.households:
            tally.add(household)
    per_route = tally.per_route
    order = sorted(per_route, key=lambda r: (r == "home", r))
    return CheckResult(
        file=roster.file, encoding=roster.encoding, as_of=as_of, row_count=roster.row_count,
        member_count=len(roster.members), household_count=len(roster.households),
        routes=tuple(RouteCount(r, *per_route[r]) for r in order),
        no_documents=tuple(tally.no_docs), errors=tuple(roster.errors),
        warnings=tuple(roster.warnings),
        notes=tuple(n for n in (roster_extrapolation_note(roster), no_sex_note(roster))
                    if n),
    )


def no_sex_note(roster: Roster) -> str | None:
    """One line, once per batch, when a roster with 資格確認書交付日 has no 性別 column.

    性別 is a required item of the 資格確認書 (docs/cards.md). A roster written before the
    cards has no such column: its rows are not rejected for it, the merge makes no
    資格確認書 cards for the batch (the letters are mailed as before) and says so.
    """
    if roster.has_sex_column or not roster.certificates:
        return None
    return ("性別の列がないため、このバッチでは資格確認書（カード）を作りません。列「性別」を"
            "加えてください (no 性別 column: no 資格確認書 cards are printed for this batch; "
            "add the column to print them)")


def extrapolation_note(members: Iterable[Member]) -> str | None:
    """One line, once per batch, when a 資格確認書交付日 is after the periods the notice lists.

    The expiry of such a certificate comes from the yearly pattern of ``rules.toml``
    (「交付時期により、2年～3年となります」), not from the notice: staff add the period to
    ``[[certificate.periods]]`` when the kenpo publishes it.
    """
    return _extrapolation_note({m.certificate_issued_on for m in members
                                if m.certificate_issued_on is not None
                                and certificate_period_extrapolated(m.certificate_issued_on)})


def roster_extrapolation_note(roster: Roster) -> str | None:
    """:func:`extrapolation_note` for a roster's accepted members, from the dates counted as
    it was read (a staged roster is not walked again)."""
    return _extrapolation_note({d for d, n in roster.extrapolated_dates.items() if n > 0})


def _extrapolation_note(found: set[date]) -> str | None:
    dates = sorted(found)
    if not dates:
        return None
    period = certificate_period(dates[0])
    more = f" ほか {len(dates) - 1} 日" if len(dates) > 1 else ""
    return (
        f"資格確認書交付日 {dates[0].isoformat()}{more} の交付期間"
        f"（{period.start.isoformat()}～{period.end.isoformat()}、有効期限 "
        f"{period.expiry.isoformat()}）は通知に記載がなく、推定です "
        "(an issue period after those notice 539 lists is extrapolated: add the period the "
        "kenpo publishes to [[certificate.periods]] in rules.toml)"
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
    with Store() as store:
        roster = stage_roster(path, store=store, as_of=as_of, sheet=sheet,
                              allow_columns=allow_columns)
        return summarize(roster, as_of=as_of)


REPORT_COLUMNS = ("row", "member_key", "column", "reason")
#: The same columns typed for Excel: the row a number, the member key text (記号 0012).
REPORT_TABLE = (Column("row", INT), Column("member_key"), Column("column"),
                Column("reason", width=60))


def check_report_path(path: str | Path, *, roster: str | Path | None = None,
                      force: bool = False, option: str = "--report") -> None:
    """Refuse a report path that is the roster, or an existing file that is not a report we
    wrote (a CSV or, by its .xlsx suffix, a workbook; unless ``force``)."""
    refuse_same_file(path, option, roster=roster)
    refuse_foreign_table(path, REPORT_TABLE, option=option, force=force)


def write_report(errors: list[RowError] | tuple[RowError, ...], path: str | Path, *,
                 roster: str | Path | None = None, force: bool = False,
                 option: str = "--report") -> None:
    """Write rejected rows, atomically, 0600: an Excel workbook with typed columns when
    ``path`` ends in .xlsx, else CSV (UTF-8 with BOM so Excel opens it); never over the
    ``roster`` they come from, nor over a file that is not such a report."""
    check_report_path(path, roster=roster, force=force, option=option)
    write_table(path, REPORT_TABLE, _report_rows(errors))


def _report_rows(errors: list[RowError] | tuple[RowError, ...]) -> list[tuple[object, ...]]:
    return [(e.row, e.member_key or "", e.column or "", e.reason) for e in errors]


def report_bytes(errors: list[RowError] | tuple[RowError, ...], *, xlsx: bool = False) -> bytes:
    """The rejected rows as ``--report`` writes them, for a download: CSV (UTF-8 with BOM,
    CRLF) or, with ``xlsx``, the typed workbook."""
    if xlsx:
        return xlsx_bytes(REPORT_TABLE, _report_rows(errors), sheet="rejects")
    return csv_bytes(REPORT_COLUMNS, _report_rows(errors))
