"""Print-ready files: one per workplace (with a cover sheet for the payroll group) and one for
home delivery (sorted by postal code), each with a bookmark per piece and an inserter control
file beside it so a folding/inserting machine or a mailroom can drive and reconcile the run.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from datetime import date
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from kenpo_docs import rules
from kenpo_docs.barcodes.piececode import piece_code_text, stamp_page
from kenpo_docs.mailing.output import csv_bytes, private_dir, write_atomic
from kenpo_docs.mailing.plan import BatchPlan, PiecePlan
from kenpo_docs.mailing.render import page_ranges
from kenpo_docs.render import RenderOptions, render_document, write_pdf

INSERTER_COLUMNS = (
    "piece_id",
    "first_page",
    "pages",
    "sheets_simplex",
    "sheets_duplex",
    "route",
    "postal_code",
    "enclosures",
)


def _groups(plan: BatchPlan) -> list[tuple[str, str | None, list[PiecePlan]]]:
    """(file stem, workplace code or None, pieces) in print order."""
    work: dict[str, list[PiecePlan]] = defaultdict(list)
    home: list[PiecePlan] = []
    for piece in plan.pieces:
        if piece.route.kind == "workplace":
            work[piece.route.workplace_code or ""].append(piece)
        else:
            home.append(piece)
    groups: list[tuple[str, str | None, list[PiecePlan]]] = [
        (f"workplace-{code}", code, pieces) for code, pieces in sorted(work.items())
    ]
    if home:
        home.sort(key=lambda p: (p.postal_code or "", p.seq))
        groups.append(("home", None, home))
    return groups


def _covers(
    plan: BatchPlan,
    groups: list[tuple[str, str | None, list[PiecePlan]]],
    page_counts: dict[str, int],
    as_of: date,
) -> tuple[PdfReader, dict[str, tuple[int, int]]] | None:
    items = []
    for stem, code, pieces in groups:
        if code is None:
            continue
        items.append({
            "anchor": f"cover-{stem}",
            "workplace_code": code,
            "workplace_name": pieces[0].addressee.workplace_name or "",
            "pieces": [
                {
                    "piece_id": p.piece_id,
                    "household_key": p.household.key,
                    "name": p.addressee.name,
                    "members": len(p.parts),
                    "pages": page_counts[p.piece_id],
                }
                for p in pieces
            ],
        })
    if not items:
        return None
    context = {
        "covers": items,
        "batch_id": plan.batch_id,
        "letter": plan.letter,
        "as_of": as_of,
        "insurer": rules.insurer(),
    }
    options = RenderOptions(as_of=as_of, pdf_tags=False)
    document = render_document("mailing/cover.html", context, options=options)
    ranges = page_ranges(document, [item["anchor"] for item in items])
    return PdfReader(io.BytesIO(write_pdf(document, options=options))), ranges


def write_print_files(
    plan: BatchPlan,
    out: Path,
    page_counts: dict[str, int],
    *,
    as_of: date,
    enclosure_count: int = 0,
) -> list[Path]:
    """Write ``OUT/print/*.pdf`` and their ``*.inserter.csv``; returns the PDF paths."""
    folder = private_dir(out / "print")
    groups = _groups(plan)
    covers = _covers(plan, groups, page_counts, as_of)
    written = []
    for number, (stem, code, pieces) in enumerate(groups, start=1):
        writer = PdfWriter()
        rows = []
        if code is not None and covers is not None:
            # The cover is an item of the bundle in its own right: it carries its own code
            # and line in the inserter file, so verification accounts for every page.
            reader, ranges = covers
            first, end = ranges[f"cover-{stem}"]
            for i in range(first, end):
                writer.add_page(reader.pages[i])
            cover_id = f"{plan.batch_id}-C{number:03d}"
            for i, page in enumerate(writer.pages, start=1):
                stamp_page(page, piece_code_text(cover_id, i, end - first))
            writer.add_outline_item(title=f"表紙 {code}", page_number=0)
            rows.append((cover_id, 1, end - first, end - first, math.ceil((end - first) / 2),
                         f"cover:{code}", "", 0))
        for piece in pieces:
            first = len(writer.pages)
            reader = PdfReader(out / "pieces" / f"{piece.piece_id}.pdf")
            for page in reader.pages:
                writer.add_page(page)
            pages = len(writer.pages) - first
            writer.add_outline_item(title=f"{piece.seq:05d} {piece.piece_id}", page_number=first)
            rows.append((
                piece.piece_id, first + 1, pages, pages, math.ceil(pages / 2),
                str(piece.route), piece.postal_code or "", enclosure_count,
            ))
        writer.add_metadata({"/Title": f"{plan.letter.title} {plan.batch_id} {stem}"})
        buf = io.BytesIO()
        writer.write(buf)
        path = folder / f"{stem}.pdf"
        write_atomic(path, buf.getvalue())
        write_atomic(folder / f"{stem}.inserter.csv", csv_bytes(INSERTER_COLUMNS, rows))
        written.append(path)
    return written
