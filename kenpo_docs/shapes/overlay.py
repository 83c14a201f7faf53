"""Pages printed as a shared background plus a small overlay of their values.

Used by the prefilled forms (:mod:`kenpo_docs.shapes.forms`), the letters
(:mod:`kenpo_docs.shapes.letters`) and the cover sheets (:mod:`kenpo_docs.mailing.covers`)
of the merge. A page of one *shape* is the same page for every piece with a few values in
fixed boxes, so:

* the **background** of a shape is laid out once per batch, alone in its own document (its
  bytes depend on the shape only): the page with every value replaced by a hidden placeholder
  (same font, so every line and box keeps its place) whose element id starts with
  :data:`SLOT_PREFIX`. It becomes a Form XObject marked with
  :data:`~kenpo_docs.pdf.stream.STATIC_KEY`, stored once per piece, part and print
  file like a static enclosure page. The batch's processes share the shapes they lay out
  (:func:`shared_shapes`);
* the positions and styles of the values (:class:`Slot`) are read from the background's box
  tree (:func:`slots_of_page`, the one place that reads WeasyPrint's boxes);
* per chunk, the values are drawn straight into one small page per piece, each shaped and
  drawn as WeasyPrint draws a line of text, in its slot's style
  (:mod:`kenpo_docs.shapes.draw`), and checked there: one line, in the placeholder's
  font, no wider than the room the background leaves it. Plain-rectangle pictures (the
  customer barcode) are drawn straight into the page too; each overlay page draws its
  background first (:func:`add_overlay_page`).

Tagged PDFs and other pictures go through one laid-out **overlay document** instead
(:func:`_laid_out_overlay_pages`): the values absolutely positioned at their slots, every
laid-out value checked against its slot (:func:`overlay_problem`: one line of exactly its
text, baseline and x within :data:`TOLERANCE` of the background's, no wider than its room).
A page that fails any check is left out, and the caller lays it out in full. The PDF side
(the background's digest, pictures drawn straight into a page, :func:`add_overlay_page`) is
in :mod:`kenpo_docs.pdf.compose`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    IndirectObject,
    NameObject,
)

from kenpo_docs import gates
from kenpo_docs.gates._weasyprint import page_box, unwrap_absolute
from kenpo_docs.paths import fonts_dir, templates_dir
from kenpo_docs.pdf.compose import (  # noqa: F401  (add_overlay_page: the API)
    OverlayPage,
    add_overlay_page,
    digest,
    rect_svg_ops,
)
from kenpo_docs.pdf.stream import shared_form_xobject
from kenpo_docs.render.pages import page_ranges
from kenpo_docs.render.pdf import render_document, shared_font_config, write_pdf
from kenpo_docs.shapes import draw

logger = logging.getLogger("kenpo_docs")

OVERLAY_TEMPLATE = "forms/_overlay.html"
SLOT_PREFIX = "kenpo-ov-"
#: Placeholder laid out (hidden) where a value goes: a glyph of the page's font.
PLACEHOLDER = "あ"
#: Values allowed in a slot that starts a soft-wrapped line: no break opportunity inside
#: (UAX #14: letters and digits hold together, a hyphen holds before digits).
_UNBREAKABLE = re.compile(r"[0-9A-Za-z]+(-[0-9]+)*")
#: How far (CSS px) an overlay value may sit from where the background says it goes.
TOLERANCE = 0.01


def hidden(slot: str, text: str = PLACEHOLDER, *, close: bool = True) -> Markup:
    """The hidden placeholder of ``slot`` (``close=False``: the caller closes the span)."""
    tail = "</span>" if close else ""
    return Markup(f'<span id="{SLOT_PREFIX}{slot}" style="visibility: hidden">'
                  f"{Markup.escape(text)}{tail}")


# -- the background's box tree ---------------------------------------------------------------

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
    kind: str = "text"  # or "svg": an SVG of exactly the placeholder's size at (x, top)
    height: float = 0.0  # svg slots: the picture's height
    #: A left-aligned value that cannot wrap (``white-space: nowrap``) may overflow its room
    #: as it would in the full layout, up to the nearest clipping edge (inf: none).
    max_width: float | None = None
    #: The used line height (CSS px), or None where it is not a plain length ("normal").
    line_height: float | None = None
    #: The placeholder's text properties (:func:`_detached`), which values are shaped and
    #: drawn with (:mod:`kenpo_docs.shapes.draw`); None: not drawn directly.
    style: Any = field(default=None, compare=False, repr=False)


#: The computed properties WeasyPrint 70 reads to shape, measure and draw one line of text
#: (``Layout.setup``/``set_text``, ``get_font_description``, ``line_size``,
#: ``draw_first_line``, ``Stream.set_color``); :func:`_detached` copies them.
_TEXT_PROPERTIES = (
    "direction", "lang", "font_language_override", "font_family", "font_style", "font_stretch",
    "font_weight", "font_size", "font_variant_caps", "font_variation_settings",
    "text_decoration_line", "font_kerning", "font_variant_ligatures", "font_variant_position",
    "font_variant_numeric", "font_variant_alternates", "font_variant_east_asian",
    "font_feature_settings", "word_spacing", "letter_spacing", "overflow_wrap", "white_space",
    "tab_size", "hyphenate_character", "color",
)


class _TextStyle(dict):  # type: ignore[type-arg]
    """The text properties of a computed style, without the style itself: a WeasyPrint
    ``ComputedStyle`` holds its parents and its document's shared cache, which a background
    kept for the rest of the batch would keep alive (memory would grow with the shapes).
    Pickled without its font configuration (see :func:`load_shape`)."""

    font_config: Any

    def __reduce__(self) -> tuple[Any, ...]:
        return (_TextStyle, (dict(self),))


def _detached(style: Any) -> _TextStyle:
    copy = _TextStyle((key, style[key]) for key in _TEXT_PROPERTIES)
    copy.font_config = style.font_config
    return copy


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


def _line_height_px(style: Any) -> float | None:
    value = style["line_height"]
    if isinstance(value, float):
        return value * float(style["font_size"])
    if getattr(value, "unit", "") == "px":
        return float(value.value)
    return None


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
    spacing = style["letter_spacing"]
    if spacing != "normal":
        parts.append(f"letter-spacing: {float(spacing):.10g}px")
    return "; ".join(parts)


#: Computed styles a value must have for the overlay to set it exactly as the full layout
#: (letter-spacing is copied by :func:`_font_css`).
_PLAIN_TEXT = {"word_spacing": 0, "text_transform": "none",
               "font_stretch": "normal", "font_kerning": "auto",
               "font_feature_settings": "normal", "font_variant_ligatures": "normal",
               "font_variant_numeric": "normal", "font_variant_east_asian": "normal",
               "font_variant_caps": "normal", "font_variant_position": "normal",
               "font_variant_alternates": "normal", "font_language_override": "normal"}


def _inside_clips(path: tuple[Any, ...], x: float, y: float, w: float, h: float) -> bool:
    """True if the rectangle lies inside every ``overflow: hidden`` ancestor (the full layout
    clips there; the overlay does not)."""
    for box in path:
        style = getattr(box, "style", None)
        if style is None or style["overflow"] == "visible":
            continue
        bx, by = box.padding_box_x(), box.padding_box_y()
        if (x < bx - TOLERANCE or y < by - TOLERANCE
                or x + w > bx + box.padding_width() + TOLERANCE
                or y + h > by + box.padding_height() + TOLERANCE):
            return False
    return True


def _clip_right(path: tuple[Any, ...]) -> float:
    edges = [box.padding_box_x() + box.padding_width() for box in path
             if getattr(box, "style", None) is not None and box.style["overflow"] != "visible"]
    return min(edges, default=float("inf"))


def _sized_by_content(path: tuple[Any, ...]) -> bool:
    """True if an ancestor's size depends on its content (an automatic table layout, a
    shrink-to-fit float, absolute or inline-block box): the placeholder could then give it
    another size than the value does. Not detected: a flex item sized by its content (the
    form's footer has one, sized by its long notes rather than the key in it)."""
    for box in path:
        kind = type(box).__name__
        style = getattr(box, "style", None)
        if style is None:
            continue
        if kind in ("TableBox", "InlineTableBox") and style["table_layout"] != "fixed":
            return True
        shrinks = (style["position"] in ("absolute", "fixed") or style["float"] != "none"
                   or "InlineBlock" in kind)
        if shrinks and style["width"] == "auto":
            return True
    return False


def _svg_slot(name: str, box: Any, path: tuple[Any, ...]) -> Slot | None:
    x, y = box.content_box_x(), box.content_box_y()
    if not _inside_clips(path, x, y, box.width, box.height) or _sized_by_content(path):
        return None
    return Slot(name=name, left=x, width=box.width, align="left", top=y, baseline=y, x=x,
                css="", kind="svg", height=box.height)


def slots_of_page(page_box: Any) -> dict[str, Slot] | None:
    """The value slots of a background page, or None if one cannot be overlaid safely."""
    slots: dict[str, Slot] = {}
    for box, path in _walk(page_box):
        element = getattr(box, "element", None)
        ident = element.get("id") if element is not None else None
        if not ident or not ident.startswith(SLOT_PREFIX):
            continue
        name = ident[len(SLOT_PREFIX):]
        kind = type(box).__name__
        if not kind.endswith("ReplacedBox") and kind != "InlineBox":
            continue  # the span's text box, or a box of another kind (see `wanted`)
        if name in slots:
            return None  # split over two lines, or laid out twice
        if kind.endswith("ReplacedBox"):
            svg = _svg_slot(name, box, path)
            if svg is None:
                return None
            slots[name] = svg
            continue
        texts = [b for b in box.children if type(b).__name__ == "TextBox"]
        if len(texts) != 1 or len(box.children) != 1:
            return None  # split over two lines
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
        leaves = [b for b, _ in _walk(line) if type(b).__name__ == "TextBox"
                  or type(b).__name__.endswith(("ReplacedBox", "BlockBox"))]
        if leaves[-1] is not text:
            return None  # what follows the value on its line would move with its width
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
        if not _inside_clips(path, left, text.position_y, width, text.height) or \
                _sized_by_content(path):
            return None
        max_width = None
        if mode == "left" and text.style["white_space"] in ("nowrap", "pre"):
            max_width = _clip_right(path) - text.position_x
        slots[name] = Slot(
            name=name, left=left, width=width, align=mode, top=text.position_y,
            baseline=text.position_y + text.baseline, x=text.position_x,
            css=_font_css(text.style), min_width=min_width, max_width=max_width,
            line_height=_line_height_px(text.style), style=_detached(text.style),
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


def drawable(value: str, slot: Slot) -> bool:
    """True if the slot's first font draws every character, with no movable white space."""
    if slot.kind != "text":
        return False
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
    """One shape's background: its page (for the XObject) and the slots, or unusable."""

    key: str
    name: str  # the /KenpoStatic name: a prefix + digest of the drawn content and its fonts
    page: Any  # pypdf page of the background's own PDF
    data: bytes  # the page's content stream, decoded
    slots: dict[str, Slot] | None
    size: tuple[float, float] = (0.0, 0.0)  # CSS px of the laid-out page

    @property
    def usable(self) -> bool:
        return self.slots is not None


def make_background(document: Any, pdf: bytes, *, key: str, prefix: str,
                    wanted: set[str] | None) -> Background:
    """The background of a document laid out alone (its first page), named ``prefix-<digest>``.

    ``wanted``: the slots the page must have, exactly (None: the shape is not to be overlaid).
    """
    reader = PdfReader(io.BytesIO(pdf))
    slots = None
    if wanted is not None and len(document.pages) == 1:
        slots = slots_of_page(page_box(document.pages[0]))
        if slots is not None and set(slots) != wanted:
            slots = None
    page = reader.pages[0]
    contents = page.get_contents()
    data = contents.get_data() if contents is not None else b""
    h = hashlib.sha256(data)
    digest(page.get(NameObject("/Resources")), h, set())
    first = document.pages[0]
    background = Background(key, f"{prefix}-{h.hexdigest()[:24]}", page, data, slots,
                            (float(first.width), float(first.height)))
    _save_shape(background, pdf)
    return background


# -- shapes shared by the batch's processes --------------------------------------------------

#: Folder where this process shares the backgrounds it lays out with the batch's other
#: processes (None: not shared). See :func:`shared_shapes`.
_SHAPES: tuple[Path, str] | None = None


@functools.lru_cache(maxsize=4)
def cache_digest(templates: Path) -> str:
    """What every saved shape depends on besides its own key: each file of the templates
    folder (a letter's HTML names its stylesheets, it does not hold them), the vendored fonts
    (names and sizes), the code that lays shapes out and reads their slots, and the versions
    of the libraries it uses. A resumed batch after an edit to print.css or an upgrade lays
    its shapes out again instead of loading stale ones."""
    h = hashlib.sha256(gates.library_key().encode())
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            h.update(b"\0t" + path.relative_to(templates).as_posix().encode() + b"\0"
                     + path.read_bytes())
    for path in sorted(fonts_dir().glob("*")):
        h.update(b"\0f" + path.name.encode() + str(path.stat().st_size).encode())
    code = Path(__file__).resolve().parent
    for path in sorted([*code.glob("*.py"), *(code.parent / "render").glob("*.py")]):
        h.update(b"\0c" + path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:32]


@contextlib.contextmanager
def shared_shapes(folder: Path | None, templates: Path | None = None) -> Iterator[None]:
    """Share backgrounds through ``folder`` (the batch's ``parts``) while in the block: a
    process that lays out a shape saves it there, and the batch's other processes (the other
    workers, later generations of workers, a resumed run) load it instead of laying it out
    again (~0.2-0.5 s a shape, a few dozen shapes a process). A background's bytes depend on
    its shape only, so a loaded one is the one that would have been laid out. The files are
    pickles: ``folder`` must be the batch's own private (0700) folder, never one others can
    write to."""
    global _SHAPES
    shared = None
    if folder is not None:
        shared = (folder, cache_digest((templates or templates_dir()).resolve()))
    before, _SHAPES = _SHAPES, shared
    try:
        yield
    finally:
        _SHAPES = before


def _shape_path(key: str) -> Path | None:
    if _SHAPES is None:
        return None
    folder, digest = _SHAPES
    return folder / f"{hashlib.sha256((digest + key).encode()).hexdigest()[:32]}.shape"


def _save_shape(background: Background, pdf: bytes) -> None:
    from kenpo_docs.files import write_atomic

    path = _shape_path(background.key)
    if path is None or path.exists():
        return
    try:
        write_atomic(path, pickle.dumps((background.key, background.name, pdf,
                                         background.slots, background.size)))
    except OSError as exc:  # sharing is an optimisation: laying out again is always right
        logger.debug("shape not shared (%s)", type(exc).__name__)


def load_shape(key: str, options: Any) -> Background | None:
    """The background of ``key`` saved by another process of the batch, or None."""
    path = _shape_path(key)
    if path is None or not path.exists():
        return None
    try:
        saved_key, name, pdf, slots, size = pickle.loads(path.read_bytes())
    except Exception as exc:  # a torn or foreign file: lay the shape out instead
        logger.debug("shape not loaded (%s)", type(exc).__name__)
        return None
    if saved_key != key:
        return None
    if slots is not None:
        font_config = shared_font_config(options)
        for slot in slots.values():
            if slot.style is not None:
                slot.style.font_config = font_config
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    contents = page.get_contents()
    return Background(key, name, page, contents.get_data() if contents is not None else b"",
                      slots, size)


def background_xobject(writer: PdfWriter, background: Background) -> IndirectObject:
    """The background page as a Form XObject in ``writer``, marked to be stored once."""
    return shared_form_xobject(writer, background.data, background.page, background.name)


# -- overlays --------------------------------------------------------------------------------

def _check_svg(div: Any, slot: Slot) -> str | None:
    pictures = [b for b, _ in _walk(div) if type(b).__name__.endswith("ReplacedBox")]
    if len(pictures) != 1 or any(type(b).__name__ == "TextBox" for b, _ in _walk(div)):
        return f"{slot.name}: not one picture"
    box = pictures[0]
    for got, want, what in ((box.content_box_x(), slot.x, "x"),
                            (box.content_box_y(), slot.top, "y"),
                            (box.width, slot.width, "width"),
                            (box.height, slot.height, "height")):
        if abs(got - want) > TOLERANCE:
            return f"{slot.name}: {what} off by {got - want}"
    return None


def overlay_problem(page_box: Any, blocks: list[list[dict[str, Any]]]) -> str | None:
    """Why an overlay page is not safe (None if every value lies on its own line where its
    slot is, no wider than the full layout leaves it room for; every picture where and as
    large as its slot). ``blocks``: the values of each overlay block, one per line."""
    divs = [unwrap_absolute(b) for b, _ in _walk(page_box)
            if type(b).__name__ in ("AbsolutePlaceholder", "BlockBox")
            and getattr(b, "element_tag", None) == "div"
            and "v" in (b.element.get("class") or "").split()]
    if len(divs) != len(blocks) or any(type(d).__name__ != "BlockBox" for d in divs):
        return "unexpected boxes"
    for div, block in zip(divs, blocks, strict=True):
        if block[0]["slot"].kind == "svg":
            problem = _check_svg(div, block[0]["slot"])
            if problem:
                return problem
            continue
        lines = [c for c in div.children if type(c).__name__ == "LineBox"]
        if len(lines) != len(block):
            return f"{block[0]['slot'].name}: {len(lines)} lines for {len(block)} values"
        for line, value in zip(lines, block, strict=True):
            problem = _line_problem(line, value)
            if problem:
                return problem
    return None


def _line_problem(line: Any, value: dict[str, Any]) -> str | None:
    slot: Slot = value["slot"]
    texts = [b for b, _ in _walk(line) if type(b).__name__ == "TextBox"]
    if len(texts) != 1 or texts[0].text != value["text"]:
        return f"{slot.name}: not one line of its text"
    text = texts[0]
    if text.justification_spacing:
        return f"{slot.name}: justified"
    if abs(text.position_y + text.baseline - slot.baseline) > TOLERANCE:
        return f"{slot.name}: baseline off by {text.position_y + text.baseline - slot.baseline}"
    width = text.width
    if width > (slot.width if slot.max_width is None else slot.max_width) + 1e-6:
        return f"{slot.name}: too wide"  # the full layout would wrap (or clip) it
    if slot.min_width is not None and width < slot.min_width:
        return f"{slot.name}: might fit on the line before"
    expected_x = slot.x if slot.align == "left" else slot.left + (slot.width - width) / 2
    if abs(text.position_x - expected_x) > TOLERANCE:
        return f"{slot.name}: x off by {text.position_x - expected_x}"
    return None


def _blocks(values: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The page's values as overlay blocks: values set alike (font, box, x) one below the
    other at a constant pitch (a table column, address lines) share one block of lines, as
    WeasyPrint spends ~2.5 ms per block and ~1 ms per line; anything else is a block alone."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    blocks: list[list[dict[str, Any]]] = []
    for v in values:
        slot: Slot = v["slot"]
        if slot.kind != "text" or slot.line_height is None or slot.min_width is not None:
            blocks.append([v])
            continue
        key = (slot.css, slot.left, slot.width, slot.align, slot.x, slot.max_width is None)
        groups.setdefault(key, []).append(v)
    for group in groups.values():
        group.sort(key=lambda v: v["slot"].baseline)
        run = [group[0]]
        for v in group[1:]:
            step = v["slot"].baseline - run[-1]["slot"].baseline
            pitch = run[1]["slot"].baseline - run[0]["slot"].baseline if len(run) > 1 else step
            if step > 0 and abs(step - pitch) < 1e-6:
                run.append(v)
            else:
                blocks.append(run)
                run = [v]
        blocks.append(run)
    return blocks


def overlay_css(values: list[list[dict[str, Any]]]) -> tuple[str, dict[str, str]]:
    """One class per distinct font style."""
    classes: dict[str, str] = {}
    for page in values:
        for v in page:
            if v["slot"].kind == "text":
                classes.setdefault(v["slot"].css, f"s{len(classes)}")
    # div.v.sN: more specific than the template's div.v (which resets letter-spacing).
    css = "\n".join(f"div.v.{c} {{ {css} }}" for css, c in classes.items())
    return css, classes


def enabled() -> bool:
    """Whether shapes are printed as overlays here: the libraries' internals they use are
    tested versions (:func:`kenpo_docs.gates.fast_path`); otherwise every page is laid out
    in full."""
    return gates.fast_path().on


def render_overlay_pages(
    pages: list[tuple[str, list[dict[str, Any]], Background]], *, options: Any, what: str,
    problems: dict[str, str] | None = None,
) -> dict[str, tuple[Any, Background]]:
    """The overlay pages of ``(anchor, values, background)`` pages: ``{anchor: (pypdf page,
    background)}`` for the pages that print exactly as the full layout. ``values`` are
    ``{"slot": Slot, "text": str}`` (an svg slot's text is the SVG markup).

    Text values are drawn straight into the page (:mod:`kenpo_docs.shapes.draw`);
    pages with a picture other than plain rectangles, or written as a tagged PDF or a PDF
    variant, go through one laid-out overlay document (:func:`_laid_out_overlay_pages`).
    ``problems`` gets why each page left out must be laid out in full."""
    if not pages or not enabled():
        return {}
    problems = {} if problems is None else problems
    # Plain-rectangle SVGs are drawn straight into the page (WeasyPrint spends ~45 ms laying
    # out and drawing a barcode's 70 elements); any other picture is laid out.
    drawn: dict[str, bytes] = {}
    laid_out = []
    for anchor, values, bg in pages:
        keep = []
        for v in values:
            ops = rect_svg_ops(str(v["text"]), v["slot"], TOLERANCE) \
                if v["slot"].kind == "svg" else None
            if ops is None:
                keep.append(v)
            else:
                drawn[anchor] = drawn.get(anchor, b"") + ops
        laid_out.append((anchor, keep, bg))
    pages = laid_out
    result: dict[str, tuple[Any, Background]] = {}
    if draw.supported(options):
        direct = [p for p in pages if all(v["slot"].kind == "text" and v["slot"].style is not None
                                         for v in p[1])]
        if direct:
            got, drawn_problems = draw.draw_pages(direct, placeholder=PLACEHOLDER,
                                                  options=options)
            for anchor, problem in drawn_problems.items():
                logger.debug("%s overlay: %s laid out in full (%s)", what, anchor, problem)
            problems.update(drawn_problems)
            by_anchor = {a: bg for a, _, bg in direct}
            result = {a: (OverlayPage(page, drawn[a]) if a in drawn else page, by_anchor[a])
                      for a, page in got.items()}
            done = {a for a, _, _ in direct}
            pages = [p for p in pages if p[0] not in done]
    if pages:
        result.update(_laid_out_overlay_pages(pages, drawn, options=options, what=what,
                                              problems=problems))
    return result


def _laid_out_overlay_pages(
    pages: list[tuple[str, list[dict[str, Any]], Background]], drawn: dict[str, bytes], *,
    options: Any, what: str, problems: dict[str, str],
) -> dict[str, tuple[Any, Background]]:
    """The overlay pages as one laid-out document (values in absolutely positioned boxes),
    each page checked against its slots; for pages :mod:`overlaytext` cannot draw."""
    css, classes = overlay_css([v for _, v, _ in pages])
    # One class per place too: a rule is parsed once, where a style attribute is per value.
    places: dict[str, str] = {}
    items = []
    page_blocks: dict[str, list[list[dict[str, Any]]]] = {}
    for anchor, values, _ in pages:
        boxes = []
        page_blocks[anchor] = _blocks(values)
        for block in page_blocks[anchor]:
            slot: Slot = block[0]["slot"]
            svg = slot.kind == "svg"
            top = slot.top
            extra = ""
            if len(block) > 1:
                # Lines at the block's pitch: the line height is the pitch, and the first
                # baseline stays where it was (the half-leading grows by half the difference).
                assert slot.line_height is not None
                pitch = block[1]["slot"].baseline - slot.baseline
                top = slot.top - (pitch - slot.line_height) / 2
                extra = f"; white-space: pre; line-height: {pitch!r}px"
            place = (f"left: {slot.x if svg else slot.left:.4f}px; top: {top!r}px; "
                     f"width: {slot.width:.4f}px; text-align: {slot.align}{extra}")
            text = Markup(block[0]["text"]) if svg else "\n".join(v["text"] for v in block)
            boxes.append({"text": text,
                          "cls": ("svg" if svg else classes[slot.css]) + " " +
                          places.setdefault(place, f"p{len(places)}")})
        items.append({"anchor": anchor, "boxes": boxes})
    css += "\n" + "\n".join(f"div.v.{c} {{ {place} }}" for place, c in places.items())
    document = render_document(OVERLAY_TEMPLATE, {"pages": items, "css": Markup(css)},
                               options=options, shared_fonts=True)
    ranges = page_ranges(document, [a for a, _, _ in pages])
    ok: dict[str, int] = {}
    for anchor, _, bg in pages:
        first, end = ranges[anchor]
        page = document.pages[first]
        if end - first != 1:
            problem: str | None = "two pages"
        elif abs(page.width - bg.size[0]) > TOLERANCE or abs(page.height - bg.size[1]) > TOLERANCE:
            problem = "page size"
        else:
            problem = overlay_problem(page_box(page), page_blocks[anchor])
        if problem is None:
            ok[anchor] = first
        else:
            logger.debug("%s overlay: %s laid out in full (%s)", what, anchor, problem)
            problems[anchor] = problem
    if len(ok) < len(pages):
        logger.debug("%s overlay: %d of %d laid out in full after the check",
                     what, len(pages) - len(ok), len(pages))
    if not ok:
        return {}
    reader = PdfReader(io.BytesIO(write_pdf(document, options=options)))
    by_anchor = {a: bg for a, _, bg in pages}
    return {a: (OverlayPage(reader.pages[i], drawn[a]) if a in drawn else reader.pages[i],
                by_anchor[a]) for a, i in ok.items()}
