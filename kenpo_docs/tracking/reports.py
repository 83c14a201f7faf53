"""Reading the database back: one piece's record, counts per batch, route and workplace.

Months after a mailing, staff must answer "did 10-2002 get their 資格確認書?" (``show``) and
"which envelopes came back 宛所不明?" (``report``, with its optional CSV). ``status_by_batch``
counts the statuses of every batch (the web page's chart). ``latest_batch`` and
``batch_pieces`` are the queries the postal report builds on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenpo_docs.errors import BarcodeError, ManifestError
from kenpo_docs.files import csv_bytes, refuse_foreign_file, refuse_same_file, write_atomic
from kenpo_docs.japantime import to_japan_time
from kenpo_docs.spreadsheets import (
    DATETIME,
    INT,
    Column,
    refuse_foreign_table,
    require_xlsx,
    write_xlsx,
)
from kenpo_docs.tracking.db import connect
from kenpo_docs.tracking.events import STATUSES, piece_id_from_scan

REPORT_COLUMNS = (
    "piece_id", "batch_id", "seq", "household_key", "route", "workplace_code", "postal_code",
    "pages", "sheets", "status", "reason", "updated", "member_keys",
)
#: The same columns typed for Excel: ids and keys text, counts numbers, ``updated`` a date
#: and time in Japan time (the CSV keeps the database's UTC stamp, with its offset).
REPORT_TABLE = (
    Column("piece_id"), Column("batch_id"), Column("seq", INT), Column("household_key"),
    Column("route"), Column("workplace_code"), Column("postal_code"), Column("pages", INT),
    Column("sheets", INT), Column("status"), Column("reason"),
    Column("updated (日本時間)", DATETIME), Column("member_keys"),
)


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
                out.append(f"  {r.piece_id}  {r.reason}  {to_japan_time(r.at)}  "
                           f"{' '.join(r.member_keys)}"
                           + (f"  {r.note}" if r.note else ""))
        return out


def _batch_filter(conn: sqlite3.Connection, batch: str | None, db: Path) -> None:
    if batch is not None and conn.execute(
        "SELECT 1 FROM batches WHERE id = ?", (batch,)
    ).fetchone() is None:
        raise ManifestError(f"batch {batch} is not in the tracking database", file=db)


def report(
    db: str | Path, *, batch: str | None = None, csv: str | Path | None = None,
    xlsx: str | Path | None = None, force: bool = False,
) -> TrackReport:
    """Counts by status, route and workplace; returned pieces with their member keys.

    ``csv`` also writes one line per piece (REPORT_COLUMNS), ``xlsx`` the same as an Excel
    workbook (REPORT_TABLE: typed columns, times in Japan time); 0600, never over the
    database, nor over a file that is not such a table of ours (unless ``force``).
    """
    db = Path(db)
    if csv is not None:
        refuse_same_file(csv, "--csv", tracking_database=db)
        refuse_foreign_file(csv, REPORT_COLUMNS, option="--csv", force=force)
    if xlsx is not None:
        require_xlsx(xlsx, option="--xlsx")
        refuse_same_file(xlsx, "--xlsx", tracking_database=db, csv=csv)
        refuse_foreign_table(xlsx, REPORT_TABLE, option="--xlsx", force=force)
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
    if xlsx is not None:
        write_xlsx(xlsx, REPORT_TABLE, rows)
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


@dataclass(frozen=True)
class BatchStatus:
    """How many pieces of one batch are in each status (every status listed, zeros too)."""

    batch: str
    letter: str
    created: str  # UTC, as stored
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def status_by_batch(db: str | Path, *, limit: int | None = None) -> list[BatchStatus]:
    """Counts by status of each batch, oldest first (the ``limit`` latest when given).

    Raises:
        ManifestError: no database at ``db`` (or one that cannot be read).
    """
    with connect(db, create=False) as conn:
        batches = conn.execute(
            "SELECT id, letter, created FROM batches ORDER BY created DESC, rowid DESC"
            + (" LIMIT ?" if limit is not None else ""),
            (limit,) if limit is not None else (),
        ).fetchall()
        counts = conn.execute(
            "SELECT batch, status, count(*) FROM pieces GROUP BY batch, status"
        ).fetchall()
    per: dict[str, dict[str, int]] = {}
    for batch, status, n in counts:
        per.setdefault(batch, dict.fromkeys(STATUSES, 0))[status] = int(n)
    return [BatchStatus(b["id"], b["letter"], b["created"],
                        per.get(b["id"], dict.fromkeys(STATUSES, 0)))
            for b in reversed(batches)]
