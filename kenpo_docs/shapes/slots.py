"""Where a shape's values go: the slots read from a laid-out background's box tree.

A background is the page with every value replaced by a hidden placeholder whose element id
starts with :data:`SLOT_PREFIX`; :func:`slots_of_page` reads where each placeholder was laid
out and how it is set (:class:`Slot`). This is the one module that reads WeasyPrint's boxes
(the page box itself comes through :mod:`kenpo_docs.gates._weasyprint`). :func:`drawable`
says whether a value's glyphs are all in its slot's font.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

logger = logging.getLogger(__name__)


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

def walk(box: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    yield box, path
    for child in getattr(box, "children", ()) or ():
        yield from walk(child, (*path, box))


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


class _TextStyle(dict[str, Any]):
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
    for box, path in walk(page_box):
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
                                 for b, _ in walk(lines[index - 1])):
            line_texts = [b for b, _ in walk(line) if type(b).__name__ == "TextBox"]
            if line_texts[:1] != [text]:
                return None
            min_width = text.width
        if text.justification_spacing or (align == "justify" and lines[-1] is not line):
            return None  # a justified (not last) line would space the value differently
        leaves = [b for b, _ in walk(line) if type(b).__name__ == "TextBox"
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
            inline_texts = [b for b, _ in walk(line) if type(b).__name__ == "TextBox"]
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


