"""Print-ready files: one per workplace (with a cover sheet for the payroll group) and one for
home delivery (sorted by postal code), each with a bookmark per piece and an inserter control
file beside it so a folding/inserting machine or a mailroom can drive and reconcile the run.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from kenpo_docs.domain import facts
from kenpo_docs.files import csv_bytes, write_atomic, write_csv_atomic
from kenpo_docs.mailing.covers import cover_item, render_covers
from kenpo_docs.mailing.executor import held_sigint
from kenpo_docs.mailing.folder import subfolder
from kenpo_docs.mailing.plan import BatchPlan
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


def print_groups(plan: BatchPlan) -> list[tuple[str, str | None, int]]:
    """(file stem, workplace code or None, pieces) in print order.

    File names come from our own numbering, never from a roster cell: the workplaces in code
    order are ``workplace-001``, ``workplace-002``... (the number of their cover's id), so a
    code can neither leave the folder, nor name two bundles the same file on a file system
    that ignores case. The manifest's ``print_file`` column and the cover sheet say which
    workplace a file holds. The plan numbers them (:meth:`BatchPlan.group` gives a file's
    pieces: a workplace's in print order, the home file's by postal code).
    """
    return plan.print_groups()


#: Cover rows laid out per document. Covers are cut into documents of about this many rows
#: (whole covers, in print order) whatever the number of workers, so the print files come out
#: the same with one worker or several; several documents are laid out in parallel.
COVER_ROWS_PER_DOCUMENT = 400

#: Where each cover's pages are: anchor -> (saved segment, first page, end page).
Covers = dict[str, tuple[Path, int, int]]
#: A document of covers, saved in the parts folder until the print files are written.
COVERS_FILE = "covers-{:05d}.seg"


def _cover_documents(plan: BatchPlan, groups: list[tuple[str, str | None, int]],
                     page_counts: Mapping[str, int]) -> Iterator[list[dict[str, Any]]]:
    """The covers (see :func:`cover_item`) cut into documents of about
    :data:`COVER_ROWS_PER_DOCUMENT` rows, whole covers in print order, one document at a
    time (a batch's list of envelopes is never held whole)."""
    batch: list[dict[str, Any]] = []
    rows = COVER_ROWS_PER_DOCUMENT
    for number, (stem, code, _count) in enumerate(groups, start=1):
        if code is None:
            continue
        listed = []
        name = None
        for p in plan.group_pieces(stem):
            if name is None:
                name = p.addressee.workplace_name or ""
            listed.append({
                "piece_id": p.piece_id,
                "household_key": p.household.key,
                "name": p.addressee.name,
                "members": len(p.parts),
                "pages": page_counts[p.piece_id],
            })
        item = cover_item(f"cover-{stem}", code, name or "", listed,
                          cover_id=cover_id(plan, number))
        if rows + item["count"] > COVER_ROWS_PER_DOCUMENT and batch:
            yield batch
            batch = []
            rows = 0
        elif rows + item["count"] > COVER_ROWS_PER_DOCUMENT:
            rows = 0
        batch.append(item)
        rows += item["count"]
    if batch:
        yield batch


def _covers(
    plan: BatchPlan,
    groups: list[tuple[str, str | None, int]],
    page_counts: Mapping[str, int],
    as_of: date,
    parts: Path,
    pool: Executor | None = None,
    sides: Sides = DEFAULT_SIDES,
    document_number: int | None = None,
) -> Covers:
    """Lay the covers out, a document at a time (in parallel with a ``pool``, a few
    documents ahead), each saved in ``parts`` (:data:`COVERS_FILE`)."""
    base = {
        "batch_id": plan.batch_id,
        "letter": plan.letter,
        "as_of": as_of,
        "insurer": facts.insurer(),
        # the 送付状's 文書番号: the batch's, as its letters print it (None: none)
        "document_number": (None if document_number is None
                            else facts.insurer().document_number(document_number)),
    }
    shapes = parts if parts.is_dir() else None
    covers: Covers = {}
    documents = ({"covers": batch, **base} for batch in _cover_documents(plan, groups,
                                                                        page_counts))

    def keep(index: int, done: tuple[Segment, dict[str, tuple[int, int]]]) -> None:
        segment, ranges = done
        path = parts / COVERS_FILE.format(index)
        segment.save(path)
        for anchor, (first, end) in ranges.items():
            covers[anchor] = (path, first, end)

    if pool is None:
        for index, context in enumerate(documents, start=1):
            keep(index, render_covers(context, as_of, shapes, sides))
        return covers
    ahead: deque[Future[tuple[Segment, dict[str, tuple[int, int]]]]] = deque()
    index = 0
    try:
        for context in documents:
            with held_sigint():
                ahead.append(pool.submit(render_covers, context, as_of, shapes, sides))
            if len(ahead) >= _COVERS_AHEAD:
                index += 1
                keep(index, ahead.popleft().result())
        while ahead:
            index += 1
            keep(index, ahead.popleft().result())
    except BaseException:
        for future in ahead:
            future.cancel()
        raise
    return covers


#: Cover documents laid out ahead of the one being saved, with a pool.
_COVERS_AHEAD = 8


def print_files(plan: BatchPlan) -> dict[str, str]:
    """Which print file each piece is in: ``piece_id -> "print/<stem>.pdf"``."""
    return {p.piece_id: f"print/{p.print_file}.pdf" for p in plan.index()}


def cover_id(plan: BatchPlan, number: int) -> str:
    """The piece id of the cover of the ``number``-th print file (its pages' codes)."""
    return f"{plan.batch_id}-C{number:03d}"


class _Sources:
    """Where each piece's pages are: ``piece_id -> (part file, first page)``, staged in the
    plan's store (a million pieces are not a dict).

    A chunk's part file (a saved :class:`~kenpo_docs.pdf.stream.Segment`) holds its
    pieces' pages serialized, with the fonts once per chunk and static enclosures as shared
    Form XObjects. Pieces without a part (rendered by an earlier run that stopped before
    writing it) are read from their own piece file.
    """

    def __init__(self, plan: BatchPlan, out: Path) -> None:
        assert plan.store is not None
        self.store = plan.store
        self.table = f"{plan.table}_sources"
        self.store.execute(f"DROP TABLE IF EXISTS {self.table}")
        self.store.execute(f"CREATE TABLE {self.table} (piece_id TEXT PRIMARY KEY, "
                           "part TEXT, first INTEGER)")
        folder = out / "parts"
        if folder.is_dir():
            for index in sorted(folder.glob("*.json")):
                part = index.with_suffix(".seg")
                if not part.exists():
                    continue
                self.store.many(
                    f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?)",
                    [(piece_id, str(part), first)
                     for piece_id, first, _pages in json.loads(index.read_text("utf-8"))])

    def get(self, piece_id: str) -> tuple[Path, int] | None:
        row = self.store.execute(f"SELECT part, first FROM {self.table} WHERE piece_id = ?",
                                 (piece_id,)).fetchone()
        return None if row is None else (Path(row[0]), int(row[1]))


class _Parts:
    """A few loaded part segments at a time (print order mostly walks the parts in order),
    kept from one print file to the next: a chunk's pieces go to several workplaces' files,
    and each file loading the part again took most of the time its pages took to copy."""

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
    page_counts: Mapping[str, int],
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
    covers = _covers(plan, groups, page_counts, as_of, out / "parts", pool, sides,
                     document_number=document_number)
    try:
        sources = _Sources(plan, out)
        parts = _Parts()
        written = []
        index = []
        for number, (stem, code, count) in enumerate(groups, start=1):
            path = folder / f"{stem}.pdf"
            rows = _write_print_file(plan, path, number, stem, code, covers, sources,
                                     parts, page_counts, enclosure_count, out, sides)
            write_csv_atomic(folder / f"{stem}.inserter.csv", INSERTER_COLUMNS, rows)
            written.append(path)
            name = ""
            if code is not None:
                name = next(plan.group_pieces(stem)).addressee.workplace_name or ""
            index.append((f"print/{stem}.pdf", "home" if code is None else f"workplace:{code}",
                          code or "", name, count, sum(r[2] for r in rows),
                          sum(r[3] for r in rows), sum(r[8] for r in rows), sides))
    finally:
        for saved in {path for path, _, _ in covers.values()}:
            saved.unlink(missing_ok=True)
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
    covers: Covers, sources: _Sources, parts: _Parts,
    page_counts: Mapping[str, int], enclosure_count: int, out: Path, sides: Sides,
) -> list[InserterRow]:
    """Stream one print file (its cover, then its pieces); returns its inserter lines."""
    rows: list[InserterRow] = []
    with PdfStreamWriter(path) as writer:
        writer.sides = sides
        if code is not None:
            # The cover is an item of the bundle in its own right: it carries its own
            # code and line in the inserter file, so verification accounts for every page.
            saved, first, end = covers[f"cover-{stem}"]
            cover = parts.get(saved, writer)  # (a document of covers: many files')
            for i in range(first, end):
                writer.add_segment_page(cover, i,
                                        bookmark=f"表紙 {code}" if i == first else None)
            writer.forget(cover)
            rows.append(_inserter_row(cover_id(plan, number), 1, end - first, f"cover:{code}",
                                      "", 0, sides))
        for piece in plan.group(stem):
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
            rows.append(_inserter_row(piece.piece_id, first + 1, pages, piece.route,
                                      piece.postal_code or "", enclosure_count, sides))
        writer.info = {"Title": f"{plan.letter.title} {plan.batch_id} {stem}",
                       "Producer": "kenpo-docs"}
        writer.close()
    return rows
