"""Status changes: where a piece may go next, and ``mark``, which moves it and logs an event.

``kenpo-docs track mark`` moves pieces along

    generated -> printed -> mailed -> delivered
                                   -> returned -> reissued
    (returned with a reason: 宛所不明, 転居先不明, 受取拒否 or other)

and every change is an event. Any other move is refused unless forced (the event's note says
so). Pieces are named by id or by the page-code text a barcode scanner types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kenpo_docs.barcodes.piececode import PIECE_ID_RE, parse_piece_code
from kenpo_docs.errors import BarcodeError, ManifestError
from kenpo_docs.tracking.db import Clock, connect, stamp, transaction, utcnow

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


def piece_id_from_scan(text: str) -> str:
    """A piece id from what a scanner typed: the id itself or a page code ``id|page/pages``.

    Raises:
        BarcodeError: neither form.
    """
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
    clock: Clock = utcnow,
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
    now = stamp(clock)
    with connect(db, create=False) as conn, transaction(conn):
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
