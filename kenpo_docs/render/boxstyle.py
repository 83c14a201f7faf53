"""What WeasyPrint's layout says about each element: its boxes by page, and the computed
style of its principal box read as Word needs it (colours in hex, lengths in px, borders as
width, Word style and colour), for :mod:`kenpo_docs.render.twin`.

The box attributes read here (``element``, ``style``, ``position_x`` …) are WeasyPrint's
undocumented layout API, as in :mod:`kenpo_docs.shapes.slots`: covered by the twin's tests and
by the version pin of :mod:`kenpo_docs.gates`; the page box itself comes through the gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kenpo_docs.gates._docx import qn
from kenpo_docs.gates._weasyprint import page_box, unwrap_absolute

__all__ = [
    "PX_MM",
    "PX_PT",
    "_BLOCKS",
    "_HEADINGS",
    "_PPR_ORDER",
    "_RPR_ORDER",
    "_SPACE",
    "Layout",
    "_arrow",
    "_border",
    "_borders",
    "_fill",
    "_length",
    "_line_height",
    "_order",
    "_rgb",
    "_tag",
    "_walk",
]

PX_MM = 25.4 / 96
PX_PT = 0.75
_SPACE = re.compile(r"[ \t\r\n\f]+")
_BLOCKS = {"BlockBox", "TableWrapperBox", "FlexBox", "BlockReplacedBox", "GridBox",
           "TableBox", "TableRowBox", "TableCellBox", "TableRowGroupBox"}
_HEADINGS = {"h1": "Title", "h2": "Heading 1", "h3": "Heading 2", "h4": "Heading 3"}


def _tag(el: Any) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _walk(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _walk(unwrap_absolute(child))


def _rgb(color: Any) -> tuple[str, float] | None:
    """(hex, alpha) of a computed colour, None when it is not a colour."""
    try:
        r, g, b, a = (float(c) for c in color)
    except (TypeError, ValueError):
        return None
    return f"{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}", a


class Layout:
    """Where each element of a laid-out WeasyPrint document went: its boxes, by page."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.boxes: dict[int, list[tuple[int, Any]]] = {}
        self.root: Any = None
        for number, page in enumerate(document.pages):
            pbox = page_box(page)
            if number == 0:
                self.page = pbox
            for box in _walk(pbox):
                el = getattr(box, "element", None)
                tag = getattr(box, "element_tag", "") or ""
                if el is None or "::" in tag:
                    continue
                if self.root is None and _tag(el) == "html":
                    self.root = el
                self.boxes.setdefault(id(el), []).append((number, box))

    def box(self, el: Any) -> Any:
        found = self.boxes.get(id(el))
        return found[0][1] if found else None

    def page_of(self, el: Any) -> int | None:
        found = self.boxes.get(id(el))
        return found[0][0] if found else None

    def find(self, el: Any, kind: str) -> Any:
        return next((b for _, b in self.boxes.get(id(el), ()) if type(b).__name__ == kind),
                    None)


def _border(style: Any, side: str) -> tuple[float, str, str] | None:
    """(width pt, Word style, hex colour) of a visible border side, else None."""
    kind = style[f"border_{side}_style"]
    width = float(style[f"border_{side}_width"])
    if kind in ("none", "hidden") or width <= 0:
        return None
    color = _rgb(style[f"border_{side}_color"]) or _rgb(style["color"]) or ("000000", 1)
    if color[1] == 0:
        return None
    word = {"dashed": "dashed", "dotted": "dotted", "double": "double"}.get(kind, "single")
    return width * PX_PT, word, color[0]


def _borders(style: Any) -> dict[str, tuple[float, str, str]]:
    found = {s: _border(style, s) for s in ("top", "right", "bottom", "left")}
    return {s: b for s, b in found.items() if b is not None}


def _fill(style: Any) -> str | None:
    color = _rgb(style["background_color"])
    return color[0] if color and color[1] > 0 else None


def _length(value: Any, base: float = 0) -> float:
    """A computed length in px (percentages of ``base``)."""
    unit = getattr(value, "unit", None)
    if unit == "%":
        return float(value.value) * base / 100
    if unit in (None, "px"):
        try:
            return float(getattr(value, "value", value))
        except (TypeError, ValueError):
            return 0.0
    return 0.0


_RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike",
              "dstrike", "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid",
              "vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs",
              "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs",
              "em", "lang", "eastAsianLayout", "specVanish", "oMath"]
_PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr",
                 "widowControl", "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs",
                 "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct",
                 "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
                 "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap",
                 "jc", "textDirection", "textAlignment", "textboxTightWrap",
                 "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"]


def _order(parent: Any, order: list[str]) -> None:
    """Put an element's children in the schema's order (Word refuses a file otherwise)."""
    rank = {qn(f"w:{t}"): i for i, t in enumerate(order)}
    children = sorted(parent, key=lambda c: rank.get(c.tag, len(order)))
    for child in children:
        parent.remove(child)
        parent.append(child)


def _arrow(box: Any, borders: dict[str, Any]) -> tuple[str, float, str]:
    """The glyph, size (pt) and colour standing for an empty element drawn by its borders:
    a CSS triangle (▼), a horizontal line with a head (→) or a vertical one (↓)."""
    color = next(iter(borders.values()))[2]
    width, height = float(box.width), float(box.height)
    if width <= 1 and height <= 1 and "top" in borders:
        return "▼", 18.0, color
    if height <= 2:
        return "⟶", 14.0, color
    return "↓", 14.0, color


def _line_height(style: Any) -> float:
    """The used line height in px: a number times the font size, or a length."""
    value = style["line_height"]
    size = float(style["font_size"])
    if isinstance(value, (int, float)):
        return size * float(value)
    if value == "normal":
        return size * 1.2
    return _length(value, size) or size * 1.2
