"""Recording a planned batch: the merge writes the batch and its pieces here.

One transaction, after the manifest is written, so the database holds what the manifest
says went out: the batch (letter, notice, as-of date, roster SHA-256, row counts), each piece
with its member keys and sheet count, and a ``generated`` event per new piece.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from kenpo_docs.errors import ManifestError
from kenpo_docs.tracking.db import Clock, connect, stamp, transaction, utcnow
from kenpo_docs.tracking.postage import load_postage, sheets_for

if TYPE_CHECKING:  # for the annotation only: at run time tracking imports nothing of mailing
    from kenpo_docs.mailing.plan import BatchPlan

logger = logging.getLogger(__name__)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file (the roster a batch came from), hex."""
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
    clock: Clock = utcnow,
) -> int:
    """Record ``plan`` and its pieces in one transaction; returns how many pieces were new.

    A rerun of the same batch (a resume) upserts on the ids: no duplicate rows, counts and page
    numbers refreshed, and a piece's status left where staff put it.

    Raises:
        ManifestError: the batch id is already recorded for another roster, letter or date.
    """
    if duplex is None:
        duplex = load_postage().duplex
    db = Path(db)
    roster_sha = file_sha256(roster)
    now = stamp(clock)
    counts = Counter(o.status for o in plan.outcomes)
    with connect(db) as conn, transaction(conn):
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
