"""The PDF side of overlaid pages (see :mod:`kenpo_docs.shapes.overlay`): the digest that
names a background, pictures drawn straight into a page, and the page that draws its shared
background first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from kenpo_docs.gates._pypdf import add_object, stored_bytes

_BG_NAME = NameObject("/KFB")


def digest(obj: Any, h: Any, seen: set[int]) -> None:
    """Feed ``obj`` and everything it references (not ``/Parent``) into the hash ``h``."""
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            h.update(b"@%d" % obj.idnum)
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        h.update(stored_bytes(obj))
    if isinstance(obj, DictionaryObject):
        for k in sorted(obj):
            if k == "/Parent":
                continue
            h.update(str(k).encode())
            digest(obj[k], h, seen)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            digest(item, h, seen)
    else:
        h.update(repr(obj).encode())


_SVG_NS = "{http://www.w3.org/2000/svg}"
_MM = re.compile(r"([0-9]+(?:\.[0-9]+)?)mm")
_PX_PER_MM = 96 / 25.4


def _num(value: float) -> str:
    """A number as WeasyPrint's PDF writer (pydyf) prints it."""
    return str(int(value)) if float(value).is_integer() else f"{value:f}".rstrip("0")


def rect_svg_ops(markup: str, slot: Any, tolerance: float) -> bytes | None:
    """PDF operators drawing a plain-rectangle SVG (the customer barcode: a white rectangle,
    then black bars in one group) at its slot exactly as WeasyPrint draws it, in CSS px of a
    page whose content starts from the default user space (see :func:`add_overlay_page`).
    None for any other SVG (the overlay document lays it out instead)."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(markup)
        width, height = (_MM.fullmatch(root.get(k, "")) for k in ("width", "height"))
        box = [float(v) for v in root.get("viewBox", "").split()]
    except (ElementTree.ParseError, ValueError):
        return None
    allowed = {"xmlns", "class", "width", "height", "viewBox", "role", "aria-label"}
    if len(root) and root[0].tag == f"{_SVG_NS}title" and not len(root[0]):
        root.remove(root[0])  # a text alternative: drawn here, the picture is an artifact
    if (root.tag != f"{_SVG_NS}svg" or width is None or height is None or len(box) != 4
            or box[:2] != [0, 0] or set(root.attrib) - allowed or len(root) != 2):
        return None
    w_px, h_px = float(width.group(1)) * _PX_PER_MM, float(height.group(1)) * _PX_PER_MM
    if abs(w_px - slot.width) > tolerance or abs(h_px - slot.height) > tolerance or \
            abs(box[2] / box[3] - w_px / h_px) > 1e-9 * w_px / h_px:
        return None
    white, group = root
    if (white.tag != f"{_SVG_NS}rect" or white.attrib != {"width": _num(box[2]),
                                                         "height": _num(box[3]),
                                                         "fill": "#fff"}
            or group.tag != f"{_SVG_NS}g" or group.attrib != {"fill": "#000"}):
        return None
    ops = [f"q 1 0 0 -1 0 {{page_height}} cm 0.75 0 0 0.75 0 0 cm "
           f"{_num(slot.x)} {_num(slot.top)} {_num(slot.width)} {_num(slot.height)} re W n "
           f"1 0 0 1 {_num(slot.x)} {_num(slot.top)} cm "
           f"{_num(slot.width / box[2])} 0 0 {_num(slot.height / box[3])} 0 0 cm "
           f"1 1 1 rg 0 0 {_num(box[2])} {_num(box[3])} re f 0 0 0 rg"]
    for bar in group:
        if bar.tag != f"{_SVG_NS}rect" or set(bar.attrib) != {"x", "y", "width", "height"} \
                or len(bar):
            return None
        ops.append(" ".join(_num(float(bar.get(k, ""))) for k in ("x", "y", "width", "height"))
                   + " re f")
    ops.append("Q")
    return "\n".join(ops).encode()


@dataclass(frozen=True)
class OverlayPage:
    """An overlay page plus pictures drawn straight into it (PDF operators, ``{page_height}``
    to fill in), which :func:`add_overlay_page` appends. ``marks``: for a tagged page, the
    MCID of each slot's value (the pictures are then artifacts: the customer barcode)."""

    page: Any
    drawn: bytes
    marks: dict[str, int] | None = None


def add_overlay_page(writer: PdfWriter, overlay: Any, background_ref: IndirectObject) -> None:
    """Add the overlay page (a pypdf page or an :class:`OverlayPage`) to ``writer`` drawing its
    background first (``/KFB Do``) and its directly drawn pictures last."""
    drawn = overlay.drawn if isinstance(overlay, OverlayPage) else b""
    page = writer.add_page(overlay.page if isinstance(overlay, OverlayPage) else overlay)
    # WeasyPrint shares one resource dictionary between the pages of a document: each page
    # gets its own (same entries) before its background is named in it.
    shared = page.get(NameObject("/Resources"))
    resources = DictionaryObject(shared.get_object() if shared is not None else {})
    xobjects = resources.get(NameObject("/XObject"))
    xobjects = DictionaryObject(xobjects.get_object() if xobjects is not None else {})
    xobjects[_BG_NAME] = background_ref
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    prefix = DecodedStreamObject()
    prefix.set_data(b"q /KFB Do Q\n")
    contents = page.get(NameObject("/Contents"))
    existing: list[Any] = []
    if contents is not None:
        resolved = contents.get_object()
        if isinstance(resolved, ArrayObject):
            existing = list(resolved)
        elif isinstance(contents, IndirectObject):
            existing = [contents]
        else:
            existing = [add_object(writer, resolved)]
    streams = [add_object(writer, prefix), *existing]
    if drawn:
        # WeasyPrint's content leaves its y-flip on the stack: wrap it, then draw from the
        # default user space.
        prefix.set_data(b"q /KFB Do Q\nq\n")
        suffix = DecodedStreamObject()
        height = _num(float(page.mediabox.height))
        drawn = drawn.replace(b"{page_height}", height.encode())
        if isinstance(overlay, OverlayPage) and overlay.marks is not None:
            drawn = b"/Artifact BMC\n" + drawn + b"\nEMC"
        suffix.set_data(b"\nQ\n" + drawn + b"\n")
        streams.append(add_object(writer, suffix))
    page[NameObject("/Contents")] = ArrayObject(streams)
