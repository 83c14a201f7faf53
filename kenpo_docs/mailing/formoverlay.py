"""Prefilled forms in the merge as a shared background plus a small overlay of the values.

A prefilled form is the same blank form for every household of one *shape* (how many 対象者
rows, which 提出先 line and 送付先 box apply, which values are present) with a dozen values in
fixed boxes. Laying the whole form out per household is the biggest cost of a piece, so:

* the **background** of a shape is laid out once per process: the form with every value
  replaced by a hidden placeholder (``visibility: hidden``, same font, so every line and box
  keeps its place). It becomes a Form XObject marked with
  :data:`~kenpo_docs.mailing.pdfstream.STATIC_KEY`, stored once per piece, part and print file
  like a static enclosure page;
* the positions and styles of the values are read from the background's box tree
  (:func:`_page_box`, the one place that uses WeasyPrint internals);
* per chunk, one small **overlay** document prints only the values, absolutely positioned at
  those boxes in the same font and size; each overlay page draws its background first.

A form is printed the old way (full layout) whenever the overlay is not known to give the
same page: fillable forms, shapes that take two pages (9+ members), a value with a character
the form's font has no glyph for (another font would change the line), a value with spaces
that white-space processing could move, a value that does not fit on its line in its box
(the full layout would wrap it and grow the row), or an overlay whose laid-out text is not
exactly where the background says (checked on every value of every overlay page).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from kenpo_docs.mailing.pdfstream import shared_form_xobject

logger = logging.getLogger("kenpo_docs")

OVERLAY_TEMPLATE = "forms/_overlay.html"
_SLOT_PREFIX = "kenpo-ov-"
#: Placeholder laid out (hidden) where a value goes: a glyph of the form's font.
_PLACEHOLDER = "あ"
#: The key's placeholder: narrow digits, so that real keys (as long or longer) are no narrower.
_KEY_PLACEHOLDER = "1111-111111"
#: Values allowed in a slot that starts a soft-wrapped line: no break opportunity inside
#: (UAX #14: letters and digits hold together, a hyphen holds before digits).
_UNBREAKABLE = re.compile(r"[0-9A-Za-z]+(-[0-9]+)*")
#: How far (CSS px) an overlay value may sit from where the background says it goes.
_TOLERANCE = 0.01
_BG_NAME = NameObject("/KFB")


# -- values and shapes -----------------------------------------------------------------------

def _slot_values(ctx: dict[str, Any]) -> dict[str, str]:
    """Every per-household value the form prints, by slot name (empty when not printed)."""
    values = {
        "symbol_number": f"{ctx['symbol']}-{ctx['number']}" if ctx["symbol"] else "",
        "applicant_birth": ctx["applicant_birth"],
        "applicant_kana": ctx["applicant_kana"],
        "applicant_name": ctx["applicant_name"],
        "workplace_name": ctx["send"]["workplace_name"],
        "postal": ctx["send"]["postal"],
        "address": ctx["send"]["address"],
        "key": ctx["key"],
    }
    for n, t in enumerate(ctx["targets"], start=1):
        values[f"t{n}_branch"] = t["branch"]
        values[f"t{n}_name"] = t["name"]
        values[f"t{n}_birth"] = t["birth"]
    return values


def _hidden(slot: str, text: str = _PLACEHOLDER, *, close: bool = True) -> Markup:
    tail = "</span>" if close else ""
    return Markup(f'<span id="{_SLOT_PREFIX}{slot}" style="visibility: hidden">'
                  f"{text}{tail}")


def _background_context(ctx: dict[str, Any]) -> dict[str, Any]:
    """``ctx`` with each present value replaced by a hidden placeholder of its slot."""
    bg = copy.deepcopy(ctx)
    bg["anchor"] = None
    if ctx["symbol"]:
        # The template prints symbol ~ "-" ~ number: the span opens in one, closes in the other.
        bg["symbol"] = _hidden("symbol_number", close=False)
        bg["number"] = Markup("</span>")
    for key in ("applicant_birth", "applicant_kana", "applicant_name"):
        if ctx[key]:
            bg[key] = _hidden(key)
    if ctx["key"]:
        # The key follows the 照会先 line and wraps below it: the placeholder must be as wide
        # as a key, or it would stay on that line where real keys do not (see Slot.min_width).
        bg["key"] = _hidden("key", _KEY_PLACEHOLDER)
    for key, slot in (("workplace_name", "workplace_name"), ("postal", "postal"),
                      ("address", "address")):
        if ctx["send"][key]:
            bg["send"][key] = _hidden(slot)
    for n, t in enumerate(bg["targets"], start=1):
        for field in ("branch", "name", "birth"):
            if t[field]:
                t[field] = _hidden(f"t{n}_{field}")
        t["kana"] = ""  # not printed
    return bg


def shape_key(ctx: dict[str, Any]) -> str:
    """What the background depends on: the form context with every value reduced to present
    or absent (so the route lines, check marks, 区分 and row count are all part of it)."""
    masked = copy.deepcopy(ctx)
    masked["anchor"] = None
    for t in masked["targets"]:
        t["kana"] = ""
    present = {slot: bool(v) for slot, v in _slot_values(ctx).items()}
    for key in ("symbol", "number", "applicant_birth", "applicant_kana", "applicant_name",
                "key"):
        masked[key] = ""
    for key in ("workplace_name", "postal", "address"):
        masked["send"][key] = ""
    for t in masked["targets"]:
        t["branch"] = t["name"] = t["birth"] = ""
    return json.dumps([masked, present], sort_keys=True, default=str, ensure_ascii=False)


# -- the background's box tree ---------------------------------------------------------------

def _page_box(page: Any) -> Any:
    """The laid-out page box of a WeasyPrint ``Page``.

    WeasyPrint 70 keeps it in the private ``Page._page_box`` (there is no public accessor);
    tests/test_form_overlay.py::test_weasyprint_page_box_internals fails if that changes.
    """
    return page._page_box


def _unwrap(box: Any) -> Any:
    """The box an absolutely positioned element's placeholder stands for.

    WeasyPrint 70 puts absolute boxes in the tree as ``AbsolutePlaceholder`` holding the
    laid-out box in the private ``_box`` (tested with :func:`_page_box`).
    """
    return getattr(box, "_box", box) if type(box).__name__ == "AbsolutePlaceholder" else box


def _walk(box: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    yield box, path
    for child in getattr(box, "children", ()) or ():
        yield from _walk(child, (*path, box))


def _css_color(color: Any) -> str:
    r, g, b, a = (float(c) for c in color)
    return f"rgba({round(r * 255)}, {round(g * 255)}, {round(b * 255)}, {a:g})"


@dataclass(frozen=True)
class Slot:
    """Where one value goes on the page (CSS px of the page) and how it is set."""

    name: str
    left: float  # the overlay box: left edge and width of the value's line
    width: float
    align: str  # "left" or "center"
    top: float  # top of the value's text box; baseline = top + (same font, same strut)
    baseline: float  # page y of the baseline the value sits on
    x: float  # where the placeholder started (left-aligned slots start the value here)
    css: str  # font and colour declarations
    #: For a slot that starts a line the previous one wrapped onto: the placeholder's width.
    #: The placeholder did not fit at the end of that line, so an unbreakable value at least
    #: as wide does not either and wraps the same way; a narrower one might not.
    min_width: float | None = None


def _line_height_css(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "NORMAL":
        return "normal"
    if isinstance(value, str):
        return value
    if hasattr(value, "unit"):
        if value.unit is None:
            return f"{float(value.value):g}"
        return f"{float(value.value):g}{value.unit}"
    return f"{float(value):g}"


def _font_css(style: Any) -> str:
    families = ", ".join(f'"{f}"' for f in style["font_family"])
    parts = [
        f"font-family: {families}",
        f"font-size: {float(style['font_size']):.10g}px",
        f"font-weight: {int(style['font_weight'])}",
        f"font-style: {style['font_style']}",
        f"line-height: {_line_height_css(style['line_height'])}",
        f"color: {_css_color(style['color'])}",
    ]
    return "; ".join(parts)


#: Computed styles a value must have for the overlay to set it exactly as the full layout.
_PLAIN_TEXT = {"letter_spacing": "normal", "word_spacing": 0, "text_transform": "none",
               "font_stretch": "normal", "font_kerning": "auto",
               "font_feature_settings": "normal", "font_variant_ligatures": "normal",
               "font_variant_numeric": "normal", "font_variant_east_asian": "normal",
               "font_variant_caps": "normal", "font_variant_position": "normal",
               "font_variant_alternates": "normal", "font_language_override": "normal"}


def _slots_of_page(page_box: Any) -> dict[str, Slot] | None:
    """The value slots of a background page, or None if one cannot be overlaid safely."""
    slots: dict[str, Slot] = {}
    for box, path in _walk(page_box):
        element = getattr(box, "element", None)
        ident = element.get("id") if element is not None else None
        if not ident or not ident.startswith(_SLOT_PREFIX) or type(box).__name__ != "InlineBox":
            continue
        name = ident[len(_SLOT_PREFIX):]
        texts = [b for b in box.children if type(b).__name__ == "TextBox"]
        if name in slots or len(texts) != 1 or len(box.children) != 1:
            return None  # split over two lines, or laid out twice
        text = texts[0]
        if any(text.style[k] != v for k, v in _PLAIN_TEXT.items()):
            return None  # spacing, transforms or features the overlay does not copy
        line = next((p for p in reversed(path) if type(p).__name__ == "LineBox"), None)
        if line is None:
            return None
        block = path[path.index(line) - 1]
        lines = [c for c in block.children if type(c).__name__ == "LineBox"]
        align = block.style["text_align_all"]
        index = lines.index(line)
        min_width = None
        if index > 0 and not any(getattr(b, "element_tag", None) == "br"
                                 for b, _ in _walk(lines[index - 1])):
            line_texts = [b for b, _ in _walk(line) if type(b).__name__ == "TextBox"]
            if line_texts[:1] != [text]:
                return None
            min_width = text.width
        if text.justification_spacing or (align == "justify" and lines[-1] is not line):
            return None  # a justified (not last) line would space the value differently
        left = block.content_box_x()
        width = block.width
        if align in ("start", "left", "justify"):
            if block.style["direction"] != "ltr":
                return None
            mode = "left"
            width = left + width - text.position_x
            left = text.position_x
        elif align == "center":
            # Centred: the value must be alone on its line, or its width would move others.
            inline_texts = [b for b, _ in _walk(line) if type(b).__name__ == "TextBox"]
            if inline_texts != [text]:
                return None
            mode = "center"
        else:
            return None
        slots[name] = Slot(
            name=name, left=left, width=width, align=mode, top=text.position_y,
            baseline=text.position_y + text.baseline, x=text.position_x,
            css=_font_css(text.style), min_width=min_width,
        )
    return slots


# -- glyph coverage --------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _cmap(family: str, weight: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    from kenpo_docs.fonts import font_faces

    for face in font_faces():
        if face.family == family and face.weight == weight:
            with TTFont(face.path, lazy=True) as font:
                return frozenset(font.getBestCmap())
    return frozenset()


def _drawable(value: str, slot: Slot) -> bool:
    """True if the slot's first font draws every character, with no movable white space."""
    if any(c in value for c in "\t\n\r\x0c") or value != value.strip(" ") or "  " in value:
        return False
    if slot.min_width is not None and not _UNBREAKABLE.fullmatch(value):
        return False
    family = slot.css.split('"')[1]
    weight = int(slot.css.split("font-weight: ")[1].split(";")[0])
    cmap = _cmap(family, weight)
    return bool(cmap) and all(ord(c) in cmap for c in value if c != " ")


# -- backgrounds -----------------------------------------------------------------------------

@dataclass
class Background:
    """One shape's blank form: its page (for the XObject) and the slots, or unusable."""

    key: str
    name: str  # the /KenpoStatic name: form + digest of the drawn content and its fonts
    page: Any  # pypdf page of the background's own PDF
    data: bytes  # the page's content stream, decoded
    slots: dict[str, Slot] | None

    @property
    def usable(self) -> bool:
        return self.slots is not None


def _digest(obj: Any, h: Any, seen: set[int]) -> None:
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            h.update(b"@%d" % obj.idnum)
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        h.update(obj._data)
    if isinstance(obj, DictionaryObject):
        for k in sorted(obj):
            if k == "/Parent":
                continue
            h.update(str(k).encode())
            _digest(obj[k], h, seen)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            _digest(item, h, seen)
    else:
        h.update(repr(obj).encode())


_BACKGROUNDS: dict[str, Background] = {}
#: Shapes kept per process; a batch has a few dozen at most (row counts x routes x blanks).
MAX_BACKGROUNDS = 128


def _lay_out_background(form: str, key: str, ctx: dict[str, Any], options: Any) -> Background:
    """One shape's background, alone in its document: its bytes depend on the shape only, so
    every process (and a resumed batch) writes the same background for the same shape."""
    from kenpo_docs import forms as form_module
    from kenpo_docs.render import render_document, write_pdf

    document = render_document(form_module.FORMS[form].template,
                               {"forms": [_background_context(ctx)]}, options=options)
    reader = PdfReader(io.BytesIO(write_pdf(document, options=options)))
    slots = None
    if len(document.pages) == 1 and not ctx["fillable"]:
        slots = _slots_of_page(_page_box(document.pages[0]))
        wanted = {s for s, v in _slot_values(ctx).items() if v}
        if slots is not None and set(slots) != wanted:
            slots = None
    page = reader.pages[0]
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    h = hashlib.sha256(data)
    _digest(page.get(NameObject("/Resources")), h, set())
    return Background(key, f"form-{form}-{h.hexdigest()[:24]}", page, data, slots)


def backgrounds(form: str, contexts: list[dict[str, Any]], options: Any) -> list[Background]:
    """The background of each context's shape, laid out once per process."""
    keys = [shape_key(c) for c in contexts]
    for key, ctx in zip(keys, contexts, strict=True):
        if key not in _BACKGROUNDS:
            if len(_BACKGROUNDS) >= MAX_BACKGROUNDS:
                _BACKGROUNDS.clear()
            _BACKGROUNDS[key] = _lay_out_background(form, key, ctx, options)
    return [_BACKGROUNDS[k] for k in keys]


def background_xobject(writer: PdfWriter, background: Background) -> IndirectObject:
    """The background page as a Form XObject in ``writer``, marked to be stored once."""
    return shared_form_xobject(writer, background.data, background.page, background.name)


# -- overlays --------------------------------------------------------------------------------

def _overlay_item(ctx: dict[str, Any], background: Background) -> list[dict[str, Any]] | None:
    """The positioned values of one form, or None if one of them cannot be overlaid."""
    assert background.slots is not None
    values = []
    for slot_name, value in _slot_values(ctx).items():
        if not value:
            continue
        slot = background.slots[slot_name]
        if not _drawable(value, slot):
            return None
        values.append({"slot": slot, "text": value})
    return values


def overlay_problem(page_box: Any, values: list[dict[str, Any]]) -> str | None:
    """Why an overlay page is not safe (None if every value lies on one line where its slot
    is, no wider than the full layout leaves it room for)."""
    divs = [_unwrap(b) for b, _ in _walk(page_box)
            if type(b).__name__ in ("AbsolutePlaceholder", "BlockBox")
            and getattr(b, "element_tag", None) == "div"
            and "v" in (b.element.get("class") or "").split()]
    if len(divs) != len(values) or any(type(d).__name__ != "BlockBox" for d in divs):
        return "unexpected boxes"
    for div, value in zip(divs, values, strict=True):
        slot: Slot = value["slot"]
        lines = [c for c in div.children if type(c).__name__ == "LineBox"]
        texts = [b for line in lines for b, _ in _walk(line) if type(b).__name__ == "TextBox"]
        if len(lines) != 1 or len(texts) != 1 or texts[0].text != value["text"]:
            return f"{slot.name}: not one line of its text"
        text = texts[0]
        if text.justification_spacing:
            return f"{slot.name}: justified"
        if abs(text.position_y + text.baseline - slot.baseline) > _TOLERANCE:
            return f"{slot.name}: baseline off by {text.position_y + text.baseline - slot.baseline}"
        width = text.width
        if width > slot.width + 1e-6:
            return f"{slot.name}: too wide"  # the full layout would wrap it
        if slot.min_width is not None and width < slot.min_width:
            return f"{slot.name}: might fit on the line before"
        expected_x = slot.x if slot.align == "left" else slot.left + (slot.width - width) / 2
        if abs(text.position_x - expected_x) > _TOLERANCE:
            return f"{slot.name}: x off by {text.position_x - expected_x}"
    return None


def overlay_css(values: list[list[dict[str, Any]]]) -> tuple[str, dict[str, str]]:
    """One class per distinct font style."""
    classes: dict[str, str] = {}
    for page in values:
        for v in page:
            classes.setdefault(v["slot"].css, f"s{len(classes)}")
    css = "\n".join(f".{c} {{ {css} }}" for css, c in classes.items())
    return css, classes


def render_overlays(
    form: str,
    contexts: list[dict[str, Any]],
    anchors: list[str],
    *,
    as_of: date,
    options: Any,
) -> dict[str, tuple[Any, Background]]:
    """Overlay pages for the forms that can take one: ``{anchor: (pypdf page, background)}``.

    Anchors left out must be laid out in full.
    """
    from kenpo_docs.mailing.render import page_ranges
    from kenpo_docs.render import render_document, write_pdf

    if not contexts:
        return {}
    bgs = backgrounds(form, contexts, options)
    pages: list[tuple[str, list[dict[str, Any]], Background]] = []
    for anchor, ctx, bg in zip(anchors, contexts, bgs, strict=True):
        if not bg.usable or ctx["fillable"]:
            continue
        values = _overlay_item(ctx, bg)
        if values is not None:
            pages.append((anchor, values, bg))
    if not pages:
        return {}
    css, classes = overlay_css([v for _, v, _ in pages])
    items = []
    for anchor, values, _ in pages:
        items.append({"anchor": anchor, "boxes": [
            {"text": v["text"], "cls": classes[v["slot"].css],
             "left": f"{v['slot'].left:.4f}", "top": f"{v['slot'].top:.4f}",
             "width": f"{v['slot'].width:.4f}", "align": v["slot"].align}
            for v in values
        ]})
    document = render_document(OVERLAY_TEMPLATE, {"pages": items, "css": Markup(css)},
                               options=options)
    ranges = page_ranges(document, [a for a, _, _ in pages])
    ok: dict[str, int] = {}
    for anchor, values, _ in pages:
        first, end = ranges[anchor]
        problem = "two pages" if end - first != 1 else \
            overlay_problem(_page_box(document.pages[first]), values)
        if problem is None:
            ok[anchor] = first
        else:
            logger.debug("form overlay: %s laid out in full (%s)", anchor, problem)
    if len(ok) < len(pages):
        logger.debug("form overlay: %d of %d forms laid out in full after the check",
                     len(pages) - len(ok), len(pages))
    if not ok:
        return {}
    reader = PdfReader(io.BytesIO(write_pdf(document, options=options)))
    by_anchor = {a: bg for a, _, bg in pages}
    return {a: (reader.pages[i], by_anchor[a]) for a, i in ok.items()}


def add_overlay_page(writer: PdfWriter, overlay: Any, background_ref: IndirectObject) -> None:
    """Add the overlay page to ``writer`` drawing its background first (``/KFB Do``)."""
    page = writer.add_page(overlay)
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
            existing = [writer._add_object(resolved)]
    page[NameObject("/Contents")] = ArrayObject([writer._add_object(prefix), *existing])
