"""Recording a planned batch: the merge writes the batch and its pieces here.

One transaction, after the manifest is written, so the database holds what the manifest
says went out: the batch (letter, notice, as-of date, roster SHA-256, row counts), each piece
with its member keys, sheet count and print file, each print file with its cover sheet's id,
and a ``generated`` event per new piece.

If the transaction fails (a full disk, a lock held too long) nothing of it is kept and the
merge stops with one line; running the same merge again records the batch (it renders
nothing again: the pieces and print files are there).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kenpo_docs.errors import ManifestError
from kenpo_docs.tracking.db import Clock, connect, stamp, transaction, utcnow
from kenpo_docs.tracking.postage import sheets_for

if TYPE_CHECKING:  # the plan, for the annotation only (print_files imports printfiles late)
    from kenpo_docs.mailing.plan import BatchPlan

logger = logging.getLogger(__name__)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file (the roster a batch came from), hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def print_files(plan: BatchPlan) -> dict[str, str | None]:
    """Each print file's cover sheet id (file name -> id, None for the home file), as the
    merge writes them (each piece's print file is in the plan: ``PieceRow.print_file``)."""
    # The print files' own grouping, naming and cover numbering: one source of truth.
    from kenpo_docs.mailing.printfiles import cover_id, print_groups

    covers: dict[str, str | None] = {}
    for number, (stem, code, _count) in enumerate(print_groups(plan), start=1):
        covers[f"{stem}.pdf"] = cover_id(plan, number) if code is not None else None
    return covers


def claim_batch(
    db: str | Path,
    batch_id: str,
    *,
    fingerprint: str,
    out: Path,
    letter: str,
    as_of: str,
    roster_sha256: str,
    clock: Clock = utcnow,
) -> None:
    """Claim ``batch_id`` for this input and this folder before anything is rendered.

    The same id with the same input and folder is a resume; anything else is refused, so a
    piece id never names two households and a batch is never made twice in two folders.

    Raises:
        ManifestError: the id is recorded or claimed for another roster, letter, date or
            options, or for another output folder.
    """
    db = Path(db)
    folder = str(out.resolve())
    with connect(db) as conn, transaction(conn):
        held = conn.execute(
            "SELECT letter, as_of, roster_sha256 FROM batches WHERE id = ?", (batch_id,)
        ).fetchone()
        if held is not None and tuple(held) != (letter, as_of, roster_sha256):
            raise ManifestError(_OTHER_INPUT.format(batch=batch_id), file=db)
        claim = conn.execute(
            "SELECT fingerprint, out_folder FROM batch_claims WHERE batch = ?", (batch_id,)
        ).fetchone()
        if claim is None:
            conn.execute(
                "INSERT INTO batch_claims (batch, fingerprint, out_folder, claimed) "
                "VALUES (?, ?, ?, ?)", (batch_id, fingerprint, folder, stamp(clock)))
        elif claim["fingerprint"] != fingerprint:
            raise ManifestError(_OTHER_INPUT.format(batch=batch_id), file=db)
        elif claim["out_folder"] != folder:
            raise ManifestError(
                f"バッチ {batch_id} は別のフォルダ {claim['out_folder']} で作られています "
                f"(batch {batch_id} is made in another folder): そのフォルダを --out にして続ける"
                "か、別の --batch-id を指定してください。同じ封筒を二つのフォルダから印刷しない"
                "ためです", file=db)


_OTHER_INPUT = ("バッチ {batch} は別の名簿・差込状・基準日・オプションで記録されています "
                "(batch {batch} is recorded from other input or options): 追跡データベースは"
                "変更していません。別の --batch-id を指定してください")


def record_batch(
    db: str | Path,
    plan: BatchPlan,
    *,
    roster: str | Path,
    page_counts: Mapping[str, int],
    notice: str | None = None,
    duplex: bool = True,
    clock: Clock = utcnow,
) -> int:
    """Record ``plan`` and its pieces in one transaction; returns how many pieces were new.

    A rerun of the same batch (a resume) upserts on the ids: no duplicate rows, counts, page
    numbers and print files refreshed, and a piece's status left where staff put it.
    ``duplex``: the batch was made with ``merge --sides duplex`` (two pages a sheet).

    Raises:
        ManifestError: the batch id is already recorded for another roster, letter or date.
    """
    db = Path(db)
    roster_sha = file_sha256(roster)
    now = stamp(clock)
    counts = Counter(o.status for o in plan.outcomes)
    covers = print_files(plan)
    with connect(db) as conn, transaction(conn):
        held = conn.execute(
            "SELECT letter, as_of, roster_sha256 FROM batches WHERE id = ?", (plan.batch_id,)
        ).fetchone()
        mine = (plan.letter.name, plan.as_of.isoformat(), roster_sha)
        if held is not None and tuple(held) != mine:
            raise ManifestError(_OTHER_INPUT.format(batch=plan.batch_id), file=db)
        conn.execute(
            """INSERT INTO batches (id, letter, notice, as_of, roster_sha256, created, updated,
                   pieces, pages, ok_rows, skipped_rows, rejected_rows)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET notice = excluded.notice,
                   updated = excluded.updated, pieces = excluded.pieces,
                   pages = excluded.pages, ok_rows = excluded.ok_rows,
                   skipped_rows = excluded.skipped_rows, rejected_rows = excluded.rejected_rows""",
            (plan.batch_id, plan.letter.name, notice, plan.as_of.isoformat(), roster_sha, now,
             now, len(plan.pieces), sum(page_counts.get(p.piece_id, 0) for p in plan.index()),
             counts["ok"], counts["skipped"], counts["rejected"]),
        )
        known = {
            r[0] for r in conn.execute("SELECT id FROM pieces WHERE batch = ?", (plan.batch_id,))
        }
        conn.execute("DELETE FROM print_files WHERE batch = ?", (plan.batch_id,))
        conn.executemany(
            "INSERT INTO print_files (batch, name, cover) VALUES (?, ?, ?)",
            [(plan.batch_id, name, cover) for name, cover in covers.items()],
        )
        new = 0
        for piece, members in plan.member_keys():  # print order, as the manifest's ids run
            pages = page_counts[piece.piece_id]
            conn.execute(
                """INSERT INTO pieces (id, batch, seq, household_key, route, workplace_code,
                       postal_code, pages, sheets, status, created, updated, print_file)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'generated', ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET pages = excluded.pages,
                       sheets = excluded.sheets, print_file = excluded.print_file""",
                (piece.piece_id, plan.batch_id, piece.seq, piece.household_key, piece.route,
                 piece.workplace_code, piece.postal_code, pages,
                 sheets_for(pages, duplex=duplex), now, now, f"{piece.print_file}.pdf"),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO piece_members (piece, member_key, row) VALUES (?, ?, ?)",
                [(piece.piece_id, key, row) for key, row in members],
            )
            if piece.piece_id not in known:
                new += 1
                conn.execute(
                    "INSERT INTO events (piece, status, at, note) VALUES (?, 'generated', ?, ?)",
                    (piece.piece_id, now, "merge"),
                )
    logger.info("tracking: batch %s recorded in %s (%d new pieces)", plan.batch_id, db, new)
    return new

