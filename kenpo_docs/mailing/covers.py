"""Cover sheets of the workplace print files: a 送付状 (covering letter) to the workplace's
staff, then the list of its envelopes (送付一覧), a page per ~30 envelopes.

A cover lists every envelope of a workplace's bundle. Laid out as one long table it cost
~6 ms of WeasyPrint per listed envelope, a quarter of a whole piece's CPU. So a cover is cut
into sheets of fixed lines here (:func:`cover_pages`: :data:`ROWS_FIRST` lines under the
送付状, then :data:`ROWS_NEXT` a sheet; lines left over print blank, ready for a note by
hand), and ``templates/mailing/cover.html`` prints each page as a section
of its own, with every per-workplace and per-envelope value marked ``| slot(...)`` (an
unused line's cells too, as blank slots: until 2026-11-29 they were plain blank cells, which
made one shape per count of lines in use, 16 in a 1,000-household batch, each laid out in
every process). A page is then the page of its *shape* (first or not, last or not) plus its
values: the shape is laid out once per process and the values are drawn on it, checked
value by value as the letters' are (:mod:`kenpo_docs.shapes.letters`,
:mod:`kenpo_docs.shapes.overlay`). A page that cannot take the overlay (a name too long for
its cell wraps its row) is laid out in full, the same template; the page count of a cover is
then read from what was laid out, so its piece code and the inserter file stay right.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfWriter

from kenpo_docs.pdf.sides import DEFAULT_SIDES, Sides, pad_to_front
from kenpo_docs.pdf.stream import Segment, SegmentRecorder
from kenpo_docs.render import RenderOptions

logger = logging.getLogger(__name__)

TEMPLATE = "mailing/cover.html"
#: Rows on a cover's first page (under the 送付状) and on each further page. Both leave
#: room for a few rows wrapped by a long name (the first sheet three) and the closing note.
ROWS_FIRST = 12
ROWS_NEXT = 30


def cover_pages(anchor: str, pieces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pages of one cover: ``anchor``-p<n>, first/last flags, its rows (numbered from 1
    through the whole cover; a sheet's unused lines are None, printed blank, so that every
    sheet has the same lines and a batch has four sheet shapes, not one per row count) and a
    ``n／mページ`` label (pages, not sheets: in duplex two pages share a sheet)."""
    rows = [{**p, "number": n} for n, p in enumerate(pieces, start=1)]
    pages: list[dict[str, Any]] = []
    start = 0
    while start < len(rows) or not pages:
        size = ROWS_FIRST if not pages else ROWS_NEXT
        listed = rows[start:start + size]
        pages.append({"anchor": f"{anchor}-p{len(pages) + 1}", "first": not pages,
                      "rows": listed + [None] * (size - len(listed))})
        start += size
    for n, page in enumerate(pages, start=1):
        page["last"] = n == len(pages)
        page["label"] = f"{n}／{len(pages)}ページ"
    return pages


def cover_item(anchor: str, code: str, name: str, pieces: list[dict[str, Any]], *,
               cover_id: str | None = None) -> dict[str, Any]:
    """One cover of the template's ``covers``; ``cover_id``: the piece id its pages' codes
    carry (None: no codes)."""
    return {"anchor": anchor, "workplace_code": code, "workplace_name": name,
            "count": len(pieces), "pages": cover_pages(anchor, pieces), "cover_id": cover_id}


def _overlays(base: dict[str, Any], pages: list[tuple[str, dict[str, Any], dict[str, Any]]],
              options: RenderOptions) -> dict[str, tuple[Any, Any]]:
    from kenpo_docs.shapes import letters as letteroverlay
    from kenpo_docs.shapes.overlay import render_overlay_pages

    try:
        items = [(anchor, {**base, "covers": [{**cover, "pages": [
            {**page, "anchor": letteroverlay.BG_ANCHOR}]}]}) for anchor, cover, page in pages]
        found = letteroverlay.template_overlay_pages("cover", TEMPLATE, items, options=options,
                                                     what="cover")
        return render_overlay_pages(found, options=options, what="cover")
    except Exception as exc:  # the full layout is always a correct answer
        logger.info("cover overlay not used (%s); cover pages laid out in full",
                    type(exc).__name__)
        return {}


def render_covers(context: dict[str, Any], as_of: date, shapes: Path | None = None,
                  sides: Sides = DEFAULT_SIDES) -> tuple[Segment, dict[str, tuple[int, int]]]:
    """The covers in ``context["covers"]`` (see :func:`cover_item`), each page stamped with
    its cover's code, serialized once (a :class:`~kenpo_docs.pdf.stream.Segment` the
    print files copy pages from), and each cover's page range. Picklable both ways, so a
    worker process can do it. ``shapes``: the batch's shared shapes folder (see
    :func:`~kenpo_docs.shapes.backgrounds.shared_shapes`). In ``duplex`` a cover of odd
    pages gets a blank back page (with its code), so the bundle's first piece starts on a
    front side."""
    from kenpo_docs.shapes.backgrounds import shared_shapes

    with shared_shapes(shapes):
        return _render_covers(context, as_of, sides)


def _render_covers(context: dict[str, Any], as_of: date, sides: Sides
                   ) -> tuple[Segment, dict[str, tuple[int, int]]]:
    from kenpo_docs.barcodes.piececode import piece_code_text, stamp_page
    from kenpo_docs.mailing.chunk import FULL_PER_DOCUMENT, STAMP_OPTIONS, add_document_pages
    from kenpo_docs.render.pages import render_split

    options = RenderOptions(as_of=as_of)  # tagged (docs/accessibility.md)
    base = {k: v for k, v in context.items() if k != "covers"}
    pages = [(page["anchor"], cover, page) for cover in context["covers"]
             for page in cover["pages"]]
    overlays = _overlays(base, pages, options)
    left = [(anchor, cover, page) for anchor, cover, page in pages if anchor not in overlays]
    full = render_split(TEMPLATE, "covers",
                         [{**cover, "pages": [page]} for _, cover, page in left],
                         [anchor for anchor, _, _ in left], options, base=base,
                         per_document=FULL_PER_DOCUMENT if overlays else None)
    writer = PdfWriter()
    backgrounds: dict[str, Any] = {}
    ranges: dict[str, tuple[int, int]] = {}
    tags: dict[int, Any] = {}
    for cover in context["covers"]:
        first = len(writer.pages)
        for page in cover["pages"]:
            add_document_pages(writer, page["anchor"], overlays, full, backgrounds, tags)
        pad_to_front(writer, first, sides=sides)
        end = len(writer.pages)
        if cover.get("cover_id"):
            for i in range(first, end):
                stamp_page(writer.pages[i], piece_code_text(cover["cover_id"], i - first + 1,
                                                            end - first), STAMP_OPTIONS)
        ranges[cover["anchor"]] = (first, end)
    recorder = SegmentRecorder()
    for index, page in enumerate(writer.pages):
        recorder.add_page(page, tags.get(index))
    return recorder.segment, ranges
