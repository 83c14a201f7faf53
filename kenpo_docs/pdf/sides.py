"""One-sided or two-sided printing (``merge --sides``): the blank back page that keeps the
next piece on a front side, the sheet count, and the viewer preference a print dialog reads.

Printed two-sided, a file whose piece ends on a front side puts the next household's first
page on its back: one envelope would hold another household's letter (a privacy incident).
So in ``duplex`` every piece (and each workplace cover sheet, and a card sheet inside a
piece) starts on a front side: where it has an odd number of pages a blank page is added
after it (:func:`pad_to_front`). The blank page carries only the piece code, stamped with
the piece's other pages, so ``track verify`` counts it like any other page. In ``simplex``
nothing is added; such a file must be printed one-sided.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

from pypdf import PdfWriter

Sides = Literal["duplex", "simplex"]
SIDES: tuple[str, ...] = get_args(Sides)
DEFAULT_SIDES: Sides = "duplex"

#: The catalog's /ViewerPreferences entry for each choice (PDF 2.0 12.2, Table 147: /Duplex
#: is the print dialog's default; DuplexFlipLongEdge is two-sided for portrait A4).
VIEWER_PREFERENCES: dict[str, bytes] = {
    "duplex": b"/Duplex/DuplexFlipLongEdge",
    "simplex": b"/Duplex/Simplex",
}


def sheets(pages: int, sides: Sides) -> int:
    """Sheets of paper ``pages`` pages take printed ``sides``."""
    return math.ceil(pages / 2) if sides == "duplex" else pages


def pad_to_front(writer: PdfWriter, first_page: int, *, sides: Sides) -> int:
    """In ``duplex``, add a blank page to ``writer`` when the pages from ``first_page``
    (0-based index of the piece's, or card sheet's, first page in ``writer``) to the end are
    odd in number, so that whatever is added next starts on a front side. Returns the pages
    added (0 or 1); ``simplex`` adds none.

    The blank page has the size of the page before it (the back of the same sheet), no
    content and no resources: stamping the piece code on it afterwards, as on every page of
    the piece, is what makes it countable. Nothing on it is tagged, so it needs no artifact
    marking (the code's own marking, if any, is the stamp's).
    """
    end = len(writer.pages)
    if sides != "duplex" or end <= first_page or (end - first_page) % 2 == 0:
        return 0
    last = writer.pages[end - 1].mediabox
    writer.add_blank_page(float(last.width), float(last.height))
    return 1
