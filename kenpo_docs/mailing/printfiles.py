"""Print-ready files: one per workplace (with a cover sheet for the payroll group) and one for
home delivery (sorted by postal code), each with a bookmark per piece and an inserter control
file beside it so a folding/inserting machine or a mailroom can drive and reconcile the run.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from concurrent.futures import Executor
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from kenpo_docs.domain import facts
from kenpo_docs.files import csv_bytes, write_atomic
from kenpo_docs.mailing.covers import cover_item, render_covers
from kenpo_docs.mailing.executor import held_sigint
from kenpo_docs.mailing.folder import subfolder
from kenpo_docs.mailing.plan import BatchPlan, PiecePlan
from kenpo_docs.pdf.sides import DEFAULT_SIDES, Sides, sheets
from kenpo_docs.pdf.stream import PdfStreamWriter, Segment
from kenpo_docs.pdf.tagtree import Tagged, compile_tags, read_tags

#: ``sheets`` is the sheets of paper as the batch prints (``sides``: its ``--sides``): a
#: duplex file's blank back pages are counted in ``pages`` and make no sheet of their own.
#: ``sheets_simplex`` / ``sheets_duplex`` (the contract's columns from before ``--sides``) are
#: the file's pages printed one-sided / two-sided; new columns go at the end.
INSERTER_COLUMNS = (
    "piece_id",
    "first_page",
    "pages",
    "sheets_simplex",
    "sheets_duplex",
    "route",
    "postal_code",
    "enclosures",
    "sheets",
    "sides",
)


INDEX_COLUMNS = ("print_file", "route", "workplace_code", "workplace_name", "pieces", "pages",
                 "sheets_simplex", "sheets", "sides")


def print_groups(plan: BatchPlan) -> list[tuple[str, str | None, list[PiecePlan]]]:
    """(file stem, workplace code or None, pieces) in print order.

    File names come from our own numbering, never from a roster cell: the workplaces in code
    order are ``workplace-001``, ``workplace-002``... (the number of their cover's id), so a
    code can neither leave the folder, nor name two bundles the same file on a file system
    that ignores case. The manifest's ``print_file`` column and the cover sheet say which
    workplace a file holds.
    """
    work: dict[str, list[PiecePlan]] = defaultdict(list)
    home: list[PiecePlan] = []
    for piece in plan.pieces:
        if piece.route.kind == "workplace":
            work[piece.route.workplace_code or ""].append(piece)
        else:
            home.append(piece)
    groups: list[tuple[str, str | None, list[PiecePlan]]] = [
        (f"workplace-{number:03d}", code, pieces)
        for number, (code, pieces) in enumerate(sorted(work.items()), start=1)
    ]
    if home:
        home.sort(key=lambda p: (p.postal_code or "", p.seq))
        groups.append(("home", None, home))
    return groups


#: Cover rows laid out per document. Covers are cut into documents of about this many rows
#: (whole covers, in print order) whatever the number of workers, so the print files come out
#: the same with one worker or several; several documents are laid out in parallel.
COVER_ROWS_PER_DOCUMENT = 400

#: Where each cover's pages are: anchor -> (segment, first page, end page).
Covers = dict[str, tuple[Segment, int, int]]


def _covers(
    plan: BatchPlan,
    groups: list[tuple[str, str | None, list[PiecePlan]]],
    page_counts: dict[str, int],
    as_of: date,
    pool: Executor | None = None,
    shapes: Path | None = None,
    sides: Sides = DEFAULT_SIDES,
    document_number: int | None = None,
) -> Covers:
    items = []
    for number, (stem, code, pieces) in enumerate(groups, start=1):
        if code is None:
            continue
        items.append(cover_item(
            f"cover-{stem}", code, pieces[0].addressee.workplace_name or "",
            [
                {
                    "piece_id": p.piece_id,
                    "household_key": p.household.key,
                    "name": p.addressee.name,
                    "members": len(p.parts),
                    "pages": page_counts[p.piece_id],
                }
                for p in pieces
            ],
            cover_id=cover_id(plan, number),
        ))
    batches: list[list[dict[str, Any]]] = []
    rows = COVER_ROWS_PER_DOCUMENT
    for item in items:
        if rows + item["count"] > COVER_ROWS_PER_DOCUMENT and (not batches or batches[-1]):
            batches.append([])
            rows = 0
        batches[-1].append(item)
        rows += item["count"]
    contexts = [{
        "covers": batch,
        "batch_id": plan.batch_id,
        "letter": plan.letter,
        "as_of": as_of,
        "insurer": facts.insurer(),
        # the 送付状's 文書番号: the batch's, as its letters print it (None: none)
        "document_number": (None if document_number is None
                            else facts.insurer().document_number(document_number)),
    } for batch in batches]
    shapes = shapes if shapes is not None and shapes.is_dir() else None
    if pool is not None and len(contexts) > 1:
        with held_sigint():  # map hands out every document (and starts workers) at once
            laid_out = pool.map(render_covers, contexts, [as_of] * len(contexts),
                                [shapes] * len(contexts), [sides] * len(contexts))
        done = list(laid_out)
    else:
        done = [render_covers(c, as_of, shapes, sides) for c in contexts]
    covers: Covers = {}
    for segment, ranges in done:
        for anchor, (first, end) in ranges.items():
            covers[anchor] = (segment, first, end)
    return covers


def print_files(plan: BatchPlan) -> dict[str, str]:
    """Which print file each piece is in: ``piece_id -> "print/<stem>.pdf"``."""
    return {p.piece_id: f"print/{stem}.pdf" for stem, _code, pieces in print_groups(plan)
            for p in pieces}


def cover_id(plan: BatchPlan, number: int) -> str:
    """The piece id of the cover of the ``number``-th print file (its pages' codes)."""
    return f"{plan.batch_id}-C{number:03d}"


def _sources(out: Path) -> dict[str, tuple[Path, int]]:
    """Where each piece's pages are: ``piece_id -> (part file, first page)``.

    A chunk's part file (a saved :class:`~kenpo_docs.pdf.stream.Segment`) holds its
    pieces' pages serialized, with the fonts once per chunk and static enclosures as shared
    Form XObjects. Pieces without a part (rendered by an earlier run that stopped before
    writing it) are read from their own piece file.
    """
    found: dict[str, tuple[Path, int]] = {}
    folder = out / "parts"
    if folder.is_dir():
        for index in sorted(folder.glob("*.json")):
            part = index.with_suffix(".seg")
            if not part.exists():
                continue
            for piece_id, first, _pages in json.loads(index.read_text("utf-8")):
                found[piece_id] = (part, first)
    return found


class _Parts:
    """A few loaded part segments at a time (print order mostly walks the parts in order)."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self.open: OrderedDict[Path, Segment] = OrderedDict()

    def get(self, path: Path, writer: PdfStreamWriter) -> Segment:
        segment = self.open.get(path)
        if segment is None:
            segment = Segment.load(path)
            self.open[path] = segment
            while len(self.open) > self.keep:
                _, old = self.open.popitem(last=False)
                writer.forget(old)
        self.open.move_to_end(path)
        return segment


def write_print_files(
    plan: BatchPlan,
    out: Path,
    page_counts: dict[str, int],
    *,
    as_of: date,
    enclosure_count: int = 0,
    pool: Executor | None = None,
    sides: Sides = DEFAULT_SIDES,
    document_number: int | None = None,
) -> list[Path]:
    """Write ``OUT/print/*.pdf``, their ``*.inserter.csv`` and ``index.csv`` (which file holds
    which workplace's bundle); returns the PDF paths.

    ``enclosure_count`` is the inserter file's ``enclosures`` column: how many documents go
    into each envelope besides the letter (one per ``--enclose``); cover sheets have none.
    With a ``pool``, documents of cover sheets are laid out in parallel. ``sides``: the
    batch's ``--sides`` (the pieces' pages are already padded for it), which the files'
    viewer preference, the covers' padding and the sheet counts follow.
    ``document_number``: the batch's 文書番号 N, printed on the covers as on the letters.

    Each file is streamed to disk page by page (see :mod:`kenpo_docs.pdf.stream`):
    memory stays flat however many pieces there are, fonts come once per chunk and each
    static enclosure page once per file.
    """
    folder = subfolder(out, "print")
    groups = print_groups(plan)
    covers = _covers(plan, groups, page_counts, as_of, pool, out / "parts", sides,
                     document_number=document_number)
    sources = _sources(out)
    written = []
    index = []
    for number, (stem, code, pieces) in enumerate(groups, start=1):
        path = folder / f"{stem}.pdf"
        rows = _write_print_file(plan, path, number, stem, code, pieces, covers, sources,
                                 page_counts, enclosure_count, out, sides)
        write_atomic(folder / f"{stem}.inserter.csv", csv_bytes(INSERTER_COLUMNS, rows))
        written.append(path)
        index.append((f"print/{stem}.pdf", "home" if code is None else f"workplace:{code}",
                      code or "", (pieces[0].addressee.workplace_name or "") if code else "",
                      len(pieces), sum(r[2] for r in rows), sum(r[3] for r in rows),
                      sum(r[8] for r in rows), sides))
    # Which file is which bundle (file names are numbers of ours, not workplace codes).
    write_atomic(folder / "index.csv", csv_bytes(INDEX_COLUMNS, index))
    return written


#: A line of an inserter file (see :data:`INSERTER_COLUMNS`).
InserterRow = tuple[str, int, int, int, int, str, str, int, int, str]


def _inserter_row(piece_id: str, first_page: int, pages: int, route: str, postal_code: str,
                  enclosures: int, sides: Sides) -> InserterRow:
    return (piece_id, first_page, pages, sheets(pages, "simplex"), sheets(pages, "duplex"),
            route, postal_code, enclosures, sheets(pages, sides), sides)


def _write_print_file(
    plan: BatchPlan, path: Path, number: int, stem: str, code: str | None,
    pieces: list[PiecePlan], covers: Covers, sources: dict[str, tuple[Path, int]],
    page_counts: dict[str, int], enclosure_count: int, out: Path, sides: Sides,
) -> list[InserterRow]:
    """Stream one print file (its cover, then its pieces); returns its inserter lines."""
    rows: list[InserterRow] = []
    with PdfStreamWriter(path) as writer:
        writer.sides = sides
        if code is not None:
            # The cover is an item of the bundle in its own right: it carries its own
            # code and line in the inserter file, so verification accounts for every page.
            cover, first, end = covers[f"cover-{stem}"]
            for i in range(first, end):
                writer.add_segment_page(cover, i,
                                        bookmark=f"表紙 {code}" if i == first else None)
            writer.forget(cover)
            rows.append(_inserter_row(cover_id(plan, number), 1, end - first, f"cover:{code}",
                                      "", 0, sides))
        parts = _Parts()
        for piece in pieces:
            first = writer.pages
            pages = page_counts[piece.piece_id]
            source = sources.get(piece.piece_id)
            mark = f"{piece.seq:05d} {piece.piece_id}"
            if source is None:
                reader = PdfReader(out / "pieces" / f"{piece.piece_id}.pdf")
                tags = read_tags(reader)  # its structure, to go on in the print file's
                for i in range(pages):
                    own = tags[i]
                    writer.add_page(reader.pages[i], bookmark=mark if i == 0 else None,
                                    tags=Tagged(compile_tags(own)) if own else None)
                writer.forget(reader)
            else:
                segment, start = parts.get(source[0], writer), source[1]
                for i in range(pages):
                    writer.add_segment_page(segment, start + i,
                                            bookmark=mark if i == 0 else None)
            rows.append(_inserter_row(piece.piece_id, first + 1, pages, str(piece.route),
                                      piece.postal_code or "", enclosure_count, sides))
        writer.info = {"Title": f"{plan.letter.title} {plan.batch_id} {stem}",
                       "Producer": "kenpo-docs"}
        writer.close()
    return rows
