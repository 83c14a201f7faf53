"""The mail-piece tracking database: what was sent to whom, and what came back.

Months after a mailing, staff must answer "did 10-2002 get their 資格確認書?" and "which
envelopes came back 宛所不明?". The merge records each batch and its pieces here (one
transaction, after the manifest is written); ``kenpo-docs track mark`` moves pieces along

    generated -> printed -> mailed -> delivered
                                   -> returned -> reissued
    (returned with a reason: 宛所不明, 転居先不明, 受取拒否 or other)

and every change is an event. SQLite (stdlib), WAL mode, foreign keys on, the file 0600. The
schema is migrated by the program (``PRAGMA user_version`` counts the applied migrations); a
database from a newer program is refused rather than misread.

Only keys are stored (piece id, 記号-番号 household key, 記号-番号-枝番 member keys, postal
code, workplace code): names and addresses stay in the roster.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kenpo_docs.errors import BarcodeError, ManifestError
from kenpo_docs.files import FILE_MODE, csv_bytes, private_dir, write_atomic
from kenpo_docs.mailing.plan import BatchPlan

logger = logging.getLogger("kenpo_docs")

DEFAULT_DB = Path("output/tracking.sqlite")

STATUSES = ("generated", "printed", "mailed", "delivered", "returned", "reissued")
RETURN_REASONS = ("宛所不明", "転居先不明", "受取拒否", "other")
# Where a piece may go next. Anything else needs force=True (recorded in the event note).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "generated": ("printed",),
    "printed": ("mailed",),
    "mailed": ("delivered", "returned"),
    "delivered": (),
    "returned": ("reissued",),
    "reissued": (),
}

Clock = Callable[[], datetime]

_STATUS_CHECK = "CHECK (status IN ({}))".format(", ".join(f"'{s}'" for s in STATUSES))

# Ordered; migration N brings user_version from N-1 to N. Never edit one that has shipped:
# append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            letter TEXT NOT NULL,
            notice TEXT,
            as_of TEXT NOT NULL,
            roster_sha256 TEXT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            pieces INTEGER NOT NULL,
            pages INTEGER NOT NULL,
            ok_rows INTEGER NOT NULL,
            skipped_rows INTEGER NOT NULL,
            rejected_rows INTEGER NOT NULL
        )""",
        f"""CREATE TABLE pieces (
            id TEXT PRIMARY KEY,
            batch TEXT NOT NULL REFERENCES batches(id),
            seq INTEGER NOT NULL,
            household_key TEXT NOT NULL,
            route TEXT NOT NULL,
            workplace_code TEXT,
            postal_code TEXT,
            pages INTEGER NOT NULL,
            sheets INTEGER NOT NULL,
            status TEXT NOT NULL {_STATUS_CHECK},
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )""",
        "CREATE INDEX pieces_by_batch ON pieces (batch, seq)",
        "CREATE INDEX pieces_by_household ON pieces (household_key)",
        """CREATE TABLE piece_members (
            piece TEXT NOT NULL REFERENCES pieces(id),
            member_key TEXT NOT NULL,
            row INTEGER NOT NULL,
            PRIMARY KEY (piece, member_key)
        )""",
        "CREATE INDEX piece_members_by_member ON piece_members (member_key)",
        f"""CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            piece TEXT NOT NULL REFERENCES pieces(id),
            status TEXT NOT NULL {_STATUS_CHECK},
            reason TEXT,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX events_by_piece ON events (piece, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(clock: Clock) -> str:
    return clock().astimezone(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# Opening and migrating


def _create_private(path: Path) -> None:
    """Create an empty file 0600 before SQLite does (it would use the umask; the -wal and -shm
    files then copy this file's mode)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))


def migrate(conn: sqlite3.Connection, *, file: Path | None = None) -> int:
    """Apply the migrations this database lacks; returns the schema version.

    Raises:
        ManifestError: the database was written by a newer kenpo-docs.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ManifestError(
                f"tracking database has schema version {version}, newer than this "
                f"kenpo-docs knows ({SCHEMA_VERSION}); upgrade kenpo-docs",
                file=file,
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def open_db(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and when ``create``, make) the tracking database, migrated to this version.

    Raises:
        ManifestError: no database at ``path`` (``create=False``), not a SQLite file, or a
            newer schema.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise ManifestError(
                "no tracking database here (a merge creates it; or give --db PATH)", file=path
            )
        _create_private(path)
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise ManifestError(f"cannot open tracking database: {exc}", file=path) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        migrate(conn, file=path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ManifestError(f"not a usable tracking database: {exc}", file=path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def connect(path: str | Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """:func:`open_db` as a context manager that always closes."""
    conn = open_db(path, create=create)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --------------------------------------------------------------------------------------------
# Recording a batch (called by the merge)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_batch(
    db: str | Path,
    plan: BatchPlan,
    *,
    roster: str | Path,
    page_counts: dict[str, int],
    notice: str | None = None,
    duplex: bool | None = None,
    clock: Clock = _utcnow,
) -> int:
    """Record ``plan`` and its pieces in one transaction; returns how many pieces were new.

    A rerun of the same batch (a resume) upserts on the ids: no duplicate rows, counts and page
    numbers refreshed, and a piece's status left where staff put it.

    Raises:
        ManifestError: the batch id is already recorded for another roster, letter or date.
    """
    from kenpo_docs.tracking.postal import load_postage, sheets_for

    if duplex is None:
        duplex = load_postage().duplex
    db = Path(db)
    roster_sha = file_sha256(roster)
    now = _stamp(clock)
    counts = Counter(o.status for o in plan.outcomes)
    with connect(db) as conn, _transaction(conn):
        held = conn.execute(
            "SELECT letter, as_of, roster_sha256 FROM batches WHERE id = ?", (plan.batch_id,)
        ).fetchone()
        mine = (plan.letter.name, plan.as_of.isoformat(), roster_sha)
        if held is not None and tuple(held) != mine:
            raise ManifestError(
                f"batch {plan.batch_id} is already recorded from another roster, letter or "
                "date; the tracking database was not changed (use another --batch-id)",
                file=db,
            )
        conn.execute(
            """INSERT INTO batches (id, letter, notice, as_of, roster_sha256, created, updated,
                   pieces, pages, ok_rows, skipped_rows, rejected_rows)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET notice = excluded.notice,
                   updated = excluded.updated, pieces = excluded.pieces,
                   pages = excluded.pages, ok_rows = excluded.ok_rows,
                   skipped_rows = excluded.skipped_rows, rejected_rows = excluded.rejected_rows""",
            (plan.batch_id, plan.letter.name, notice, plan.as_of.isoformat(), roster_sha, now,
             now, len(plan.pieces), sum(page_counts.get(p.piece_id, 0) for p in plan.pieces),
             counts["ok"], counts["skipped"], counts["rejected"]),
        )
        known = {
            r[0] for r in conn.execute("SELECT id FROM pieces WHERE batch = ?", (plan.batch_id,))
        }
        rows_by_piece: dict[str, list[tuple[str, int]]] = {}
        for o in plan.outcomes:  # manifest order
            if o.piece_id:
                rows_by_piece.setdefault(o.piece_id, []).append((o.member_key, o.row))
        new = 0
        for piece in plan.pieces:  # print order, as the manifest's piece ids run
            pages = page_counts[piece.piece_id]
            conn.execute(
                """INSERT INTO pieces (id, batch, seq, household_key, route, workplace_code,
                       postal_code, pages, sheets, status, created, updated)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'generated', ?, ?)
                   ON CONFLICT (id) DO UPDATE SET pages = excluded.pages,
                       sheets = excluded.sheets""",
                (piece.piece_id, plan.batch_id, piece.seq, piece.household.key, str(piece.route),
                 piece.route.workplace_code, piece.postal_code, pages,
                 sheets_for(pages, duplex=duplex), now, now),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO piece_members (piece, member_key, row) VALUES (?, ?, ?)",
                [(piece.piece_id, key, row) for key, row in rows_by_piece[piece.piece_id]],
            )
            if piece.piece_id not in known:
                new += 1
                conn.execute(
                    "INSERT INTO events (piece, status, at, note) VALUES (?, 'generated', ?, ?)",
                    (piece.piece_id, now, "merge"),
                )
    logger.info("tracking: batch %s recorded in %s (%d new pieces)", plan.batch_id, db, new)
    return new


# --------------------------------------------------------------------------------------------
# Status changes


def piece_id_from_scan(text: str) -> str:
    """A piece id from what a scanner typed: the id itself or a page code ``id|page/pages``.

    Raises:
        BarcodeError: neither form.
    """
    from kenpo_docs.barcodes.piececode import PIECE_ID_RE, parse_piece_code

    text = text.strip()
    if "|" in text:
        return parse_piece_code(text).piece_id
    if not PIECE_ID_RE.fullmatch(text):
        raise BarcodeError("not a piece id or piece code")
    return text


@dataclass
class MarkResult:
    """What ``mark`` did with each id it was given, in input order (duplicates folded)."""

    status: str
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # already in that status
    unknown: list[str] = field(default_factory=list)  # not in the database / unreadable
    refused: list[tuple[str, str]] = field(default_factory=list)  # (piece id, why)

    @property
    def exit_code(self) -> int:
        return 1 if self.unknown or self.refused else 0

    def summary(self) -> str:
        return (
            f"{len(self.changed)} marked {self.status}, {len(self.unchanged)} already "
            f"{self.status}, {len(self.refused)} refused, {len(self.unknown)} unknown"
        )


def check_transition(piece_id: str, current: str, status: str) -> None:
    """Raises ManifestError naming the piece when ``current -> status`` is not allowed."""
    allowed = TRANSITIONS[current]
    if status not in allowed:
        nxt = " or ".join(allowed) if allowed else "nothing (final)"
        raise ManifestError(
            f"piece {piece_id} is {current}: it cannot become {status} "
            f"(next may be {nxt}); use --force to override"
        )


def mark(
    db: str | Path,
    status: str,
    refs: Iterable[str],
    *,
    reason: str | None = None,
    note: str = "",
    force: bool = False,
    clock: Clock = _utcnow,
) -> MarkResult:
    """Move pieces to ``status``; one event per change, all in one transaction.

    ``refs`` are piece ids or page-code texts (as a scanner types them); blank ones are
    ignored, repeats (several pages of one envelope) count once. Unknown and refused pieces
    are listed in the result; the others are still marked.

    Raises:
        ManifestError: unknown status, missing or misplaced reason, no database.
    """
    if status not in STATUSES or status == "generated":
        raise ManifestError(
            f"unknown status {status!r} (use {', '.join(STATUSES[1:])})"
        )
    if status == "returned":
        if reason not in RETURN_REASONS:
            raise ManifestError(
                f"returned needs --reason, one of {', '.join(RETURN_REASONS)}"
                + (f" (got {reason!r})" if reason else "")
            )
    elif reason:
        raise ManifestError("--reason is only for returned pieces")
    result = MarkResult(status)
    ids: list[str] = []
    seen: set[str] = set()
    for ref in refs:
        if not ref.strip():
            continue
        try:
            pid = piece_id_from_scan(ref)
        except BarcodeError:
            result.unknown.append(ref.strip()[:60])
            continue
        if pid not in seen:
            seen.add(pid)
            ids.append(pid)
    now = _stamp(clock)
    with connect(db, create=False) as conn, _transaction(conn):
        for pid in ids:
            row = conn.execute("SELECT status FROM pieces WHERE id = ?", (pid,)).fetchone()
            if row is None:
                result.unknown.append(pid)
                continue
            current = row["status"]
            if current == status:
                result.unchanged.append(pid)
                continue
            event_note = note
            try:
                check_transition(pid, current, status)
            except ManifestError as exc:
                if not force:
                    result.refused.append((pid, exc.message))
                    continue
                forced = f"forced {current} -> {status}"
                event_note = f"{forced}; {note}" if note else forced
            conn.execute(
                "UPDATE pieces SET status = ?, updated = ? WHERE id = ?", (status, now, pid)
            )
            conn.execute(
                "INSERT INTO events (piece, status, reason, at, note) VALUES (?, ?, ?, ?, ?)",
                (pid, status, reason, now, event_note),
            )
            result.changed.append(pid)
    return result


# --------------------------------------------------------------------------------------------
# Reading back


@dataclass(frozen=True)
class PieceRecord:
    """One piece as recorded: the row, its member keys (roster order) and its events."""

    piece: dict[str, Any]
    members: tuple[tuple[str, int], ...]  # (member key, roster row)
    events: tuple[dict[str, Any], ...]


def show(db: str | Path, piece_ref: str) -> PieceRecord | None:
    """The record of one piece (id or page-code text), or None when it is not recorded."""
    try:
        pid = piece_id_from_scan(piece_ref)
    except BarcodeError:
        return None
    with connect(db, create=False) as conn:
        row = conn.execute("SELECT * FROM pieces WHERE id = ?", (pid,)).fetchone()
        if row is None:
            return None
        members = conn.execute(
            "SELECT member_key, row FROM piece_members WHERE piece = ? ORDER BY row", (pid,)
        ).fetchall()
        events = conn.execute(
            "SELECT status, reason, at, note FROM events WHERE piece = ? ORDER BY id", (pid,)
        ).fetchall()
    return PieceRecord(dict(row), tuple((m[0], m[1]) for m in members),
                       tuple(dict(e) for e in events))


REPORT_COLUMNS = (
    "piece_id", "batch_id", "seq", "household_key", "route", "workplace_code", "postal_code",
    "pages", "sheets", "status", "reason", "updated", "member_keys",
)


@dataclass(frozen=True)
class ReturnedPiece:
    piece_id: str
    batch_id: str
    reason: str
    at: str
    note: str
    member_keys: tuple[str, ...]


@dataclass
class TrackReport:
    """Counts over the pieces of one batch (or all), and what came back, for follow-up."""

    batch: str | None
    by_status: dict[str, int]
    by_route: dict[str, dict[str, int]]  # route -> status -> count
    by_workplace: dict[str, dict[str, int]]  # workplace code -> status -> count
    returned: list[ReturnedPiece]
    rows: list[tuple[Any, ...]]  # REPORT_COLUMNS, one per piece, batch then print order

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def lines(self) -> list[str]:
        head = f"batch {self.batch}" if self.batch else "all batches"
        out = [f"{head}: {self.total} pieces"]
        out.append("status: " + ", ".join(f"{s} {n}" for s, n in self.by_status.items() if n))
        for title, table in (("route", self.by_route), ("workplace", self.by_workplace)):
            for key, counts in table.items():
                parts = ", ".join(f"{s} {n}" for s, n in counts.items() if n)
                out.append(f"{title} {key}: {sum(counts.values())} ({parts})")
        if self.returned:
            out.append("returned (follow up):")
            for r in self.returned:
                out.append(f"  {r.piece_id}  {r.reason}  {r.at}  {' '.join(r.member_keys)}"
                           + (f"  {r.note}" if r.note else ""))
        return out


def _batch_filter(conn: sqlite3.Connection, batch: str | None, db: Path) -> None:
    if batch is not None and conn.execute(
        "SELECT 1 FROM batches WHERE id = ?", (batch,)
    ).fetchone() is None:
        raise ManifestError(f"batch {batch} is not in the tracking database", file=db)


def report(
    db: str | Path, *, batch: str | None = None, csv: str | Path | None = None
) -> TrackReport:
    """Counts by status, route and workplace; returned pieces with their member keys.

    ``csv`` also writes one line per piece (REPORT_COLUMNS), 0600.
    """
    db = Path(db)
    with connect(db, create=False) as conn:
        _batch_filter(conn, batch, db)
        where, args = ("WHERE p.batch = ?", (batch,)) if batch else ("", ())
        pieces = conn.execute(
            f"""SELECT p.*, (SELECT group_concat(member_key, ' ') FROM
                    (SELECT member_key FROM piece_members WHERE piece = p.id ORDER BY row))
                    AS member_keys,
                    (SELECT reason FROM events WHERE piece = p.id AND status = 'returned'
                     ORDER BY id DESC LIMIT 1) AS reason,
                    (SELECT at FROM events WHERE piece = p.id AND status = 'returned'
                     ORDER BY id DESC LIMIT 1) AS returned_at,
                    (SELECT note FROM events WHERE piece = p.id AND status = 'returned'
                     ORDER BY id DESC LIMIT 1) AS returned_note
                FROM pieces p JOIN batches b ON b.id = p.batch {where}
                ORDER BY b.created, p.batch, p.seq""",
            args,
        ).fetchall()
    by_status = dict.fromkeys(STATUSES, 0)
    by_route: dict[str, dict[str, int]] = {}
    by_work: dict[str, dict[str, int]] = {}
    returned: list[ReturnedPiece] = []
    rows: list[tuple[Any, ...]] = []
    for p in pieces:
        st = p["status"]
        by_status[st] += 1
        by_route.setdefault(p["route"], dict.fromkeys(STATUSES, 0))[st] += 1
        if p["workplace_code"]:
            by_work.setdefault(p["workplace_code"], dict.fromkeys(STATUSES, 0))[st] += 1
        keys = tuple((p["member_keys"] or "").split())
        if st == "returned":
            returned.append(ReturnedPiece(p["id"], p["batch"], p["reason"] or "",
                                          p["returned_at"] or "", p["returned_note"] or "", keys))
        rows.append((p["id"], p["batch"], p["seq"], p["household_key"], p["route"],
                     p["workplace_code"] or "", p["postal_code"] or "", p["pages"], p["sheets"],
                     st, p["reason"] or "", p["updated"], " ".join(keys)))
    result = TrackReport(batch, by_status, dict(sorted(by_route.items())),
                         dict(sorted(by_work.items())), returned, rows)
    if csv is not None:
        write_atomic(Path(csv), csv_bytes(REPORT_COLUMNS, rows))
    return result


def latest_batch(db: str | Path) -> str:
    """The most recently recorded batch id.

    Raises:
        ManifestError: the database holds no batch.
    """
    with connect(db, create=False) as conn:
        row = conn.execute(
            "SELECT id FROM batches ORDER BY created DESC, rowid DESC LIMIT 1"
        ).fetchone()
    if row is None:
        raise ManifestError("the tracking database holds no batch yet", file=db)
    return str(row[0])


def batch_pieces(
    db: str | Path, batch: str, *, route: str | None = None
) -> list[dict[str, Any]]:
    """The pieces of ``batch`` (optionally one route) in print order, as dicts."""
    db = Path(db)
    with connect(db, create=False) as conn:
        _batch_filter(conn, batch, db)
        sql = "SELECT * FROM pieces WHERE batch = ?"
        args: Sequence[Any] = (batch,)
        if route is not None:
            sql += " AND route = ?"
            args = (batch, route)
        return [dict(r) for r in conn.execute(sql + " ORDER BY seq", args)]
