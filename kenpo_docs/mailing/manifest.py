"""The manifest (``manifest.csv``, a contract): one line per roster data row, with its fate,
its piece and its page count."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from pypdf import PdfReader

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import write_csv_atomic
from kenpo_docs.mailing.plan import BatchPlan, PageCounts

MANIFEST_COLUMNS = (
    "row",
    "member_key",
    "status",
    "reason",
    "piece_id",
    "piece_file",
    "route",
    "certificate_expiry",
    "batch_id",
    "pages",
    "print_file",
)


def page_counts(plan: BatchPlan, pieces_dir: Path) -> PageCounts:
    """Pages per piece: as the workers recorded them (:meth:`BatchPlan.set_pages`), or read
    from pieces done by an earlier run."""
    counts = plan.page_counts()
    found = []
    for piece in plan.index():
        path = pieces_dir / f"{piece.piece_id}.pdf"
        if not path.exists():
            raise ManifestError(f"piece {piece.piece_id} was not written", file=path)
        if piece.piece_id not in counts:
            found.append((piece.piece_id, len(PdfReader(path).pages)))
    plan.set_pages(found)
    return counts


def read_page_counts(out: Path) -> dict[str, int]:
    """Pages per piece as a finished batch's ``manifest.csv`` lists them.

    Raises:
        ManifestError: there is no readable manifest (the batch is not finished).
    """
    path = out / "manifest.csv"
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        return {r["piece_id"]: int(r["pages"]) for r in rows if r["piece_id"]}
    except (OSError, UnicodeDecodeError, KeyError, ValueError) as exc:
        raise ManifestError(f"cannot read the batch's manifest: {exc}", file=path) from exc


def write_manifest(plan: BatchPlan, out: Path, page_counts: Mapping[str, int]) -> None:
    """Write ``manifest.csv``: the plan's outcomes in row order with their pieces' print
    files (joined in the plan's store), written as they are read."""
    def rows() -> Iterator[tuple[object, ...]]:
        for o, print_file in plan.manifest_rows():
            yield (
                o.row,
                o.member_key,
                o.status,
                o.reason,
                o.piece_id,
                f"pieces/{o.piece_id}.pdf" if o.piece_id else "",
                o.route,
                o.certificate_expiry.isoformat() if o.certificate_expiry else "",
                plan.batch_id,
                page_counts.get(o.piece_id, "") if o.piece_id else "",
                f"print/{print_file}.pdf" if o.piece_id else "",
            )

    write_csv_atomic(out / "manifest.csv", MANIFEST_COLUMNS, rows())
