"""Plan a batch: which envelope (piece) each roster row ends up in, or why it does not.

Planning is pure and cheap: it reads nothing but the parsed roster, so the same input gives
the same pieces, the same order and the same piece ids every time (resuming relies on it).
Every roster data row gets exactly one :class:`RowOutcome`.

The plan lives in the roster's :class:`~kenpo_docs.input.store.Store` (an in-memory one for
a roster read into memory): the pieces are sorted there (SQL ``ORDER BY`` on the same keys,
compared as Python compares them: integers, then text by code point), each with its print
file, and read back a chunk at a time (``plan.pieces[a:b]``), or as light rows without the
members' data (:meth:`BatchPlan.index`, :meth:`BatchPlan.group`) for the manifest, the
print files and the tracking database.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, NamedTuple

from kenpo_docs.documents.letters import LetterSettings, LetterSpec
from kenpo_docs.domain.facts import Route, certificate_expiry, delivery_route
from kenpo_docs.errors import KenpoDocsError, ManifestError, RuleError
from kenpo_docs.input.check import no_documents_reason
from kenpo_docs.input.roster import Household, Member, Roster
from kenpo_docs.input.store import PAGE, Store, Stored, dumps, loads

BATCH_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")

Status = Literal["ok", "skipped", "rejected"]


@dataclass(frozen=True)
class MemberPart:
    """One member's part of a piece and the facts the letter prints for them."""

    member: Member
    facts: dict[str, Any]


@dataclass(frozen=True)
class PiecePlan:
    """One envelope: a household's documents for this letter."""

    piece_id: str
    seq: int
    household: Household
    route: Route
    parts: tuple[MemberPart, ...]

    @property
    def addressee(self) -> Member:
        return self.household.insured

    @property
    def postal_code(self) -> str | None:
        return self.household.insured.postal_code if self.route.kind == "home" else None


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one roster data row (one manifest line)."""

    row: int
    member_key: str
    status: Status
    reason: str = ""
    piece_id: str = ""
    route: str = ""
    certificate_expiry: date | None = None


class PieceRow(NamedTuple):
    """A piece without its members' data: what the print files, the manifest and the
    tracking database need of it."""

    seq: int
    piece_id: str
    kind: str  # the route's kind: "workplace" or "home"
    workplace_code: str | None
    postal_code: str | None  # home route only (see PiecePlan.postal_code)
    route: str
    household_key: str
    members: int  # parts: the members in the envelope
    print_file: str  # the stem of its print file: workplace-001 ... or home


_PIECE_COLUMNS = ("seq, piece_id, kind, workplace_code, postal_code, route, household_key, "
                  "members, print_file")


@dataclass(frozen=True)
class BatchPlan:
    batch_id: str
    letter: LetterSpec
    as_of: date
    pieces: Sequence[PiecePlan]
    outcomes: Sequence[RowOutcome]
    store: Store | None = field(default=None, compare=False, repr=False)
    table: str = ""  # the plan's tables in the store: <table>_pieces, <table>_outcomes

    def index(self) -> Iterator[PieceRow]:
        """Every piece in print order (seq), as a :class:`PieceRow`."""
        assert self.store is not None
        sql = (f"SELECT {_PIECE_COLUMNS} FROM {self.table}_pieces WHERE seq > ? "
               f"ORDER BY seq LIMIT {PAGE}")
        return (PieceRow(*r) for r in self.store.walk(sql))

    def member_keys(self) -> Iterator[tuple[PieceRow, list[tuple[str, int]]]]:
        """Every piece (print order) with its members' (key, row) in row order, as the
        manifest lists them."""
        assert self.store is not None
        sql = (f"SELECT {_PIECE_COLUMNS}, keys FROM {self.table}_pieces WHERE seq > ? "
               f"ORDER BY seq LIMIT {PAGE}")
        return ((PieceRow(*r[:-1]), loads(r[-1])) for r in self.store.walk(sql))

    def set_pages(self, pages: Iterable[tuple[str, int]]) -> None:
        """Record pieces' page counts (``(piece_id, pages)``) as their chunks finish."""
        assert self.store is not None
        self.store.many(f"UPDATE {self.table}_pieces SET pages = ? WHERE piece_id = ?",
                        [(n, piece_id) for piece_id, n in pages])

    def page_counts(self) -> PageCounts:
        """The page counts recorded so far, as a mapping read from the store."""
        assert self.store is not None
        return PageCounts(self.store, f"{self.table}_pieces")

    def manifest_rows(self) -> Iterator[tuple[RowOutcome, str | None]]:
        """Every row's outcome in row order, with its piece's print file stem (or None)."""
        assert self.store is not None
        columns = ", ".join(f"o.{c.strip()}" for c in _OUTCOME_COLUMNS.split(","))
        sql = (f"SELECT o.row, {columns}, p.print_file FROM {self.table}_outcomes o "
               f"LEFT JOIN {self.table}_pieces p ON p.ord = o.piece_ord "
               f"WHERE o.row > ? ORDER BY o.row LIMIT {PAGE}")
        return ((_outcome(r[1:-1]), r[-1]) for r in self.store.walk(sql))

    def print_groups(self) -> list[tuple[str, str | None, int]]:
        """(file stem, workplace code or None, pieces) per print file, in file order."""
        assert self.store is not None
        rows = self.store.execute(
            f"SELECT print_file, MIN(coalesce(workplace_code, '')), COUNT(*) "
            f"FROM {self.table}_pieces GROUP BY print_file "
            "ORDER BY print_file = 'home', length(print_file), print_file").fetchall()
        return [(stem, None if stem == "home" else code, n) for stem, code, n in rows]

    def group_pieces(self, stem: str) -> Iterator[PiecePlan]:
        """The pieces of one print file, whole, in print order (a workplace's)."""
        assert self.store is not None
        rows = self.store.execute(
            f"SELECT p.seq, p.piece_id, s.blob FROM {self.table}_pieces p "
            f"JOIN {self.table}_staged s ON s.ord = p.ord WHERE p.print_file = ? "
            "ORDER BY p.seq", (stem,))
        while page := rows.fetchmany(PAGE):
            yield from (_piece(r) for r in page)

    def group(self, stem: str) -> Iterator[PieceRow]:
        """The pieces of one print file in its order: a workplace's in print order, the
        home file's by postal code (then print order)."""
        assert self.store is not None
        rows = self.store.execute(
            f"SELECT {_PIECE_COLUMNS} FROM {self.table}_pieces WHERE print_file = ? "
            "ORDER BY coalesce(postal_code, ''), seq" if stem == "home" else
            f"SELECT {_PIECE_COLUMNS} FROM {self.table}_pieces WHERE print_file = ? "
            "ORDER BY seq", (stem,))
        while page := rows.fetchmany(PAGE):
            yield from (PieceRow(*r) for r in page)


class PageCounts(Mapping[str, int]):
    """Pages per piece id, read from the plan's store (a million pieces are not a dict)."""

    def __init__(self, store: Store, table: str) -> None:
        self.store, self.table = store, table

    def __getitem__(self, piece_id: str) -> int:
        pages = self.store.value(f"SELECT pages FROM {self.table} WHERE piece_id = ?",
                                 (piece_id,))
        if pages is None:
            raise KeyError(piece_id)
        return int(pages)

    def __iter__(self) -> Iterator[str]:
        sql = (f"SELECT seq, piece_id FROM {self.table} WHERE pages IS NOT NULL AND seq > ? "
               f"ORDER BY seq LIMIT {PAGE}")
        return (r[1] for r in self.store.walk(sql))

    def __len__(self) -> int:
        return int(self.store.value(f"SELECT COUNT(pages) FROM {self.table}"))

    def total(self) -> int:
        """Pages of every piece counted."""
        return int(self.store.value(f"SELECT coalesce(SUM(pages), 0) FROM {self.table}"))


def default_batch_id(letter: LetterSpec, as_of: date, fingerprint: str) -> str:
    """A batch id that is the same for the same input, so a rerun resumes instead of duplicating."""
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:6].upper()
    return f"{letter.code}{as_of:%Y%m%d}-{digest}"


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID_RE.match(batch_id):
        raise KenpoDocsError(
            f"batch id {batch_id!r} may use only letters, digits, '.', '_' and '-' "
            "(at most 30 characters, starting with a letter or digit)"
        )
    return batch_id


def _certificate_expiry(member: Member, settings: LetterSettings) -> date | None:
    if member.certificate_issued_on is None:
        return None
    try:
        return certificate_expiry(member.certificate_issued_on, rules=settings.rules)
    except RuleError:
        return None


def _covered(member: Member, insured: Member) -> Member:
    """``member`` as a letter decides on it: a dependent's coverage ends when the insured
    person's does (a 資格喪失日 of the insured person's that comes first is the dependent's)."""
    if member is insured or insured.lost_on is None:
        return member
    if member.lost_on is not None and member.lost_on <= insured.lost_on:
        return member
    return replace(member, lost_on=insured.lost_on)


#: The print orders ``--sort`` offers: by workplace then home by postal code (the default),
#: by postal code, or the roster's own order (households in the order of their insured
#: person's row: a roster already sorted as it is to be printed, whose first pieces can be
#: rendered while the rest is still being read, see :mod:`kenpo_docs.mailing.early`).
SORTS = ("workplace", "postal", "roster")


def sort_key(sort: str, household: Household, route: Route) -> tuple[Any, ...]:
    """The piece's print-order key (``sort`` one of :data:`SORTS`); ties keep the order the
    households come in (their insured person's row)."""
    insured = household.insured
    postal = insured.postal_code or ""
    if sort == "roster":
        return ()
    if sort == "postal":
        return (postal, route.kind, route.workplace_code or "", household.key)
    # Default: one run per workplace (the payroll group hands them out), then home by postcode.
    if route.kind == "workplace":
        return (0, route.workplace_code or "", household.key)
    return (1, postal, household.key)


def plan_batch(
    roster: Roster,
    letter: LetterSpec,
    *,
    as_of: date,
    batch_id: str,
    sort: str = "workplace",
    settings: LetterSettings | None = None,
) -> BatchPlan:
    """Decide every row's fate and the pieces, in print order, with stable ids."""
    if sort not in SORTS:
        raise KenpoDocsError(f"unknown sort {sort!r} (use {', '.join(SORTS)})")
    settings = settings or LetterSettings()
    check_batch_id(batch_id)
    store = roster.store if roster.store is not None else Store(on_disk=False)
    table = f"plan{next(_PLANS)}"
    # Outcomes as columns; an "ok" row points at its piece by the staged household's number
    # until the pieces are numbered (piece_ord -> piece_id).
    store.execute(f"CREATE TABLE {table}_outcomes (row INTEGER PRIMARY KEY, member_key TEXT, "
                  "status TEXT, reason TEXT, piece_ord INTEGER, piece_id TEXT, route TEXT, "
                  "expiry TEXT)")
    store.execute(f"CREATE TABLE {table}_staged (ord INTEGER PRIMARY KEY, k0, k1, k2, k3, "
                  "kind TEXT, workplace_code TEXT, postal_code TEXT, route TEXT, "
                  "household_key TEXT, members INTEGER, blob BLOB, keys BLOB)")
    outcome_sql = f"INSERT OR REPLACE INTO {table}_outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    outcomes: list[tuple[object, ...]] = []

    def outcome(o: RowOutcome, piece_ord: int | None = None) -> None:
        outcomes.append((o.row, o.member_key, o.status, o.reason, piece_ord, o.piece_id,
                         o.route, o.certificate_expiry.isoformat()
                         if o.certificate_expiry else None))
        if len(outcomes) >= PAGE:
            store.many(outcome_sql, outcomes)
            outcomes.clear()

    for err in roster.errors:
        outcome(RowOutcome(err.row, err.member_key or "", "rejected", err.text))

    staged: list[tuple[object, ...]] = []
    staged_sql = f"INSERT INTO {table}_staged VALUES ({', '.join('?' * 13)})"
    count = 0
    for household in roster.households:
        insured = household.insured
        route, parts, others = plan_household(household, letter, as_of=as_of,
                                              settings=settings)
        for o in others:
            outcome(o)
        if route is None or not parts:
            continue
        count += 1
        for part in parts:
            m = part.member
            outcome(RowOutcome(m.row, m.key, "ok", "", "", str(route),
                               _certificate_expiry(m, settings)), count)
        key = (*sort_key(sort, household, route), None, None, None, None)[:4]
        staged.append((count, *key, route.kind, route.workplace_code,
                       insured.postal_code if route.kind == "home" else None, str(route),
                       household.key, len(parts), dumps((household, route, tuple(parts))),
                       dumps(sorted(((p.member.key, p.member.row) for p in parts),
                                    key=lambda kr: kr[1]))))
        if len(staged) >= PAGE:
            store.many(staged_sql, staged)
            staged.clear()
    store.many(staged_sql, staged)
    store.many(outcome_sql, outcomes)
    _number_pieces(store, table, batch_id)
    rows = store.value(f"SELECT COUNT(*) FROM {table}_outcomes")
    if rows != roster.row_count:
        raise ManifestError(
            f"internal error: {roster.row_count} roster rows read but "
            f"{rows} accounted for"
        )
    return BatchPlan(batch_id, letter, as_of,
                     Stored(store, f"{table}_piece_blobs", key="seq", column="seq, piece_id, blob",
                            dense=True, decode=_piece),
                     Stored(store, f"{table}_outcomes", key="row", column=_OUTCOME_COLUMNS,
                            decode=_outcome),
                     store, table)


def plan_household(
    household: Household, letter: LetterSpec, *, as_of: date, settings: LetterSettings,
) -> tuple[Route | None, list[MemberPart], list[RowOutcome]]:
    """One household's route and its members' parts of the piece (none: no piece), and the
    outcomes of its members who get nothing (rejected: no route; skipped, with the reason)."""
    insured = household.insured
    try:
        route = delivery_route(
            membership=insured.membership or "", workplace_code=insured.workplace_code
        )
    except RuleError as exc:
        return None, [], [RowOutcome(m.row, m.key, "rejected", exc.message)
                          for m in household.members]
    parts: list[MemberPart] = []
    others: list[RowOutcome] = []
    for member in household.members:
        expiry = _certificate_expiry(member, settings)
        reason = no_documents_reason(member, as_of=as_of, insured=insured)
        facts = None
        if reason is None:
            facts, reason = letter.decide(_covered(member, insured), as_of, settings)
        if facts is None:
            others.append(RowOutcome(
                member.row, member.key, "skipped", reason or "", route=str(route),
                certificate_expiry=expiry,
            ))
        else:
            parts.append(MemberPart(member, facts))
    return route, parts, others


def piece_id(batch_id: str, seq: int) -> str:
    """The id of the batch's ``seq``-th piece in print order (as _number_pieces writes it)."""
    return f"{batch_id}-{seq:05d}"


_PLANS = itertools.count(1)
_OUTCOME_COLUMNS = "row, member_key, status, reason, piece_id, route, expiry"


def _piece(row: tuple[int, str, bytes]) -> PiecePlan:
    seq, piece_id, blob = row
    return PiecePlan(piece_id, seq, *loads(blob))


def _outcome(row: tuple[Any, ...]) -> RowOutcome:
    number, key, status, reason, piece_id, route, expiry = row
    return RowOutcome(number, key, status, reason, piece_id or "", route or "",
                      date.fromisoformat(expiry) if expiry else None)


def _number_pieces(store: Store, table: str, batch_id: str) -> None:
    """The staged households in print order (their sort keys, then the order they came in)
    become the pieces, numbered (one SQL sort, spilled to a temp file when big); each gets
    its print file (see :meth:`BatchPlan.group`) and its members' outcomes its id.

    The households' data (``blob``: members, route, parts) stays in the staged table, read
    through the ``_piece_blobs`` view: the sort and every walk of the pieces table (manifest,
    print files, page counts) move a few short columns, not every member's data."""
    store.execute(
        f"CREATE TABLE {table}_pieces AS SELECT "
        "row_number() OVER (ORDER BY k0, k1, k2, k3, ord) AS seq, '' AS piece_id, ord, "
        "kind, workplace_code, postal_code, route, household_key, members, "
        "'home' AS print_file, keys, NULL AS pages "
        f"FROM {table}_staged")
    store.execute(f"CREATE UNIQUE INDEX {table}_seq ON {table}_pieces (seq)")
    store.execute(f"UPDATE {table}_pieces SET piece_id = ? || '-' || printf('%05d', seq)",
                  (batch_id,))
    store.execute(f"CREATE VIEW {table}_piece_blobs AS SELECT p.seq AS seq, "
                  f"p.piece_id AS piece_id, s.blob AS blob FROM {table}_pieces p "
                  f"JOIN {table}_staged s ON s.ord = p.ord")
    store.execute(f"CREATE UNIQUE INDEX {table}_id ON {table}_pieces (piece_id)")
    store.execute(f"CREATE UNIQUE INDEX {table}_ord ON {table}_pieces (ord)")
    store.execute(f"UPDATE {table}_outcomes SET piece_id = (SELECT piece_id FROM "
                  f"{table}_pieces p WHERE p.ord = piece_ord) WHERE piece_ord IS NOT NULL")
    store.execute(f"CREATE INDEX {table}_code ON {table}_pieces (kind, workplace_code)")
    codes = [r[0] for r in store.execute(
        f"SELECT DISTINCT coalesce(workplace_code, '') FROM {table}_pieces "
        "WHERE kind = 'workplace' ORDER BY 1").fetchall()]
    for number, code in enumerate(codes, start=1):
        store.execute(f"UPDATE {table}_pieces SET print_file = ? WHERE kind = 'workplace' "
                      "AND coalesce(workplace_code, '') = ?", (f"workplace-{number:03d}", code))
    store.execute(f"CREATE INDEX {table}_file ON {table}_pieces (print_file)")
