"""A laid-out document's pages by anchor: which pages each letter or form owns, and a list of
items laid out in documents and split by those anchors.

Many letters (or forms) go into one document, so the fonts are laid out and subset once per
document; each item starts with an element whose id is its anchor (``piece-<piece_id>``,
``form-<name>-<piece_id>``), and the pages from one anchor to the next are that item's.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from kenpo_docs.errors import RenderError
from kenpo_docs.render.options import RenderOptions
from kenpo_docs.render.pdf import render_document, write_pdf


def page_ranges(document: Any, anchors: list[str]) -> dict[str, tuple[int, int]]:
    """Map each anchor to the (first, end) page indexes it owns in ``document``."""
    starts: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name in anchors and name not in starts:
                starts[name] = index
    missing = [a for a in anchors if a not in starts]
    if missing:
        raise RenderError(f"template did not print the anchors {missing[:3]}")
    order = sorted(anchors, key=lambda a: starts[a])
    if order != anchors:
        raise RenderError("template printed the pieces out of order")
    ranges = {}
    for i, name in enumerate(anchors):
        end = starts[anchors[i + 1]] if i + 1 < len(anchors) else len(document.pages)
        ranges[name] = (starts[name], end)
    return ranges


#: Where a page range laid out in full is: anchor -> (reader, first page, end page).
FullPages = dict[str, tuple[PdfReader, int, int]]


def render_split(
    template: str, key: str, items: list[Any], anchors: list[str], options: RenderOptions,
    *, base: dict[str, Any] | None = None, per_document: int | None = None,
) -> FullPages:
    """Lay out ``items`` (the template's ``key`` list, with ``base``) in documents of at most
    ``per_document`` (None: one document) and say where each anchor's pages are."""
    size = per_document or max(1, len(items))
    found: FullPages = {}
    for start in range(0, len(items), size):
        part = anchors[start:start + size]
        document = render_document(template, {**(base or {}), key: items[start:start + size]},
                                   options=options)
        ranges = page_ranges(document, part)
        # (tagged, without object streams: pypdf reads the pages' objects alone, not the
        # object stream of the structure elements the catalog is in)
        reader = PdfReader(io.BytesIO(write_pdf(document, options=options, unpacked=True)))
        del document
        found.update({a: (reader, first, end) for a, (first, end) in ranges.items()})
    return found
