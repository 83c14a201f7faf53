"""Overlay values drawn straight into PDF pages, without laying out an overlay document.

:func:`kenpo_docs.shapes.overlay.render_overlay_pages` used to lay out one small WeasyPrint
document per chunk holding only the values, absolutely positioned at their slots, and then
check every laid-out value against its slot. Laying out that document (HTML, CSS cascade,
boxes) cost ~0.04-0.05 CPU s per letter or form, most of what is left of a piece. The values
need none of it: each one is a single line of known text in a known font at a known baseline.
So this module does, per value, exactly what WeasyPrint does for one line of text, with
WeasyPrint's own functions:

* the text is shaped by Pango in a ``weasyprint.text.line_break.Layout`` made from the
  computed style of the slot's placeholder (same font description, language, features and
  letter spacing as in the full layout), and measured with ``line_size`` (its logical width);
* the value is checked as the overlay document's values were (:func:`value_problem`): one
  line, every glyph from the placeholder's font file, no wider than its room (and, for a value
  that wrapped onto its line, no narrower than the placeholder); its x follows from the slot's
  alignment and that width, its baseline is the slot's;
* it is drawn with ``weasyprint.draw.text.draw_first_line`` into a WeasyPrint ``Stream``, in
  the slot's colour, as ``draw_text`` does;
* the fonts the chunk's values use are embedded (and subset) once per chunk by
  ``weasyprint.pdf.fonts.build_fonts_dictionary``, as ``write_pdf`` does for a document.

These are WeasyPrint internals (70.x), reached only through
:mod:`kenpo_docs.gates._weasyprint`. tests/test_form_overlay.py, tests/test_letter_overlay.py
and tests/test_covers.py compare drawn pages with the full layout pixel by pixel, and
``test_overlay_outside_the_merge_matches_full_layout`` forbids the laid-out overlay document,
so a change in these functions fails there rather than slowing the merge down unnoticed.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pydyf
from pypdf import PdfReader

from kenpo_docs.gates import _weasyprint as wp
from kenpo_docs.render.pdf import source_date_epoch

#: A font file hash per (slot style): the file the placeholder was set in.
_PLACEHOLDER_FONT: dict[int, tuple[Any, str]] = {}


@dataclass(frozen=True)
class _Drawn:
    """A value as :func:`draw_pages` drew it once: what shaping measured, and what
    ``draw_first_line`` wrote after the text matrix and told its font, so the same text in
    the same style is drawn again without shaping it (dates, codes, labels: ~40 % of the
    values of a batch)."""

    style: Any  # held: the key's id(style) stays this style's
    width: float
    index: int | None
    font_key: Any  # the key of the one font it is set in (in draw_pages' ``fonts``)
    font_name: str  # that key as value_problem compares it
    font_size: tuple[str, float]  # what it passed to Stream.set_font_size
    ops: tuple[bytes, ...]  # the operators after the text matrix and the font (TJ, Ts)
    glyphs: tuple[tuple[int, str, int], ...]  # (glyph, its text in this value, width)


#: Drawn values by (id(style), text), least recently used first.
_DRAWN: dict[tuple[int, str], _Drawn] = {}
#: How many :data:`_DRAWN` keeps (~1 KB each): the repeating values stay, names and
#: addresses pass through.
MAX_DRAWN = 4096


def supported(options: Any) -> bool:
    """True if pages can be drawn here (no PDF variant, which needs more than drawing:
    output intents). Tagged, each value is its own marked-content sequence (see
    :func:`draw_pages`)."""
    return not getattr(options, "pdf_variant", None)


def _font_key(pango_font: Any) -> str:
    return str(wp.font_key(pango_font))


def _placeholder_font(style: Any, placeholder: str) -> str | None:
    """The font (key) Pango sets the slot's placeholder in."""
    cached = _PLACEHOLDER_FONT.get(id(style))
    if cached is not None and cached[0] is style:
        return cached[1]
    layout, line, _ = wp.shape_line(placeholder, style)  # the line lives as long as its layout
    fonts = {_font_key(f) for f in wp.run_fonts(line)}
    del layout
    key = fonts.pop() if len(fonts) == 1 else None
    if key is not None:
        _PLACEHOLDER_FONT[id(style)] = (style, key)
    return key


def value_problem(slot: Any, text: str, width: float, index: int | None,
                  fonts: set[str], placeholder_font: str | None) -> str | None:
    """Why a shaped value does not print as the full layout would (None: it does)."""
    if index is not None:
        return f"{slot.name}: more than one line"
    if placeholder_font is None or fonts != {placeholder_font}:
        return f"{slot.name}: not all in the placeholder's font"
    if width > (slot.width if slot.max_width is None else slot.max_width) + 1e-6:
        return f"{slot.name}: too wide"  # the full layout would wrap (or clip) it
    if slot.min_width is not None and width < slot.min_width:
        return f"{slot.name}: might fit on the line before"
    return None


def _x(slot: Any, width: float) -> float:
    x: float = slot.x if slot.align == "left" else slot.left + (slot.width - width) / 2
    return x


def _remember(style: Any, text: str, drawn: _Drawn) -> None:
    if len(_DRAWN) >= MAX_DRAWN:
        del _DRAWN[next(iter(_DRAWN))]
    _DRAWN[(id(style), text)] = drawn


def _redraw(stream: Any, font: Any, known: _Drawn, slot: Any, matrix: Any) -> None:
    """Draw a value again as ``draw_first_line`` drew it (see :class:`_Drawn`): the same
    operators at this slot's text matrix, the font set through the stream (which leaves the
    ``Tf`` out when the text before was in the same font), and the same glyphs told to this
    chunk's font (a glyph's text only if the font has none yet, as ``draw_first_line`` does)."""
    stream.set_color(slot.style["color"])
    stream.begin_text()
    stream.set_text_matrix(*matrix.values)
    stream.set_font_size(*known.font_size)
    stream.stream.extend(known.ops)
    stream.end_text()
    for glyph, chars, width in known.glyphs:
        wp.glyph_texts(font).setdefault(glyph, chars)
        wp.glyph_widths(font).setdefault(glyph, width)


def draw_pages(pages: list[tuple[str, list[dict[str, Any]], Any]], *, placeholder: str,
               options: Any, marks: dict[str, dict[str, int]] | None = None
               ) -> tuple[dict[str, Any], dict[str, str]]:
    """Draw the text values of ``(anchor, values, background)`` pages (pictures are the
    caller's): ``({anchor: pypdf page}, {anchor: problem})`` where a page with any value that
    would not print as in the full layout is left out with its reason.

    With ``marks`` (a tagged PDF), each value is a ``/Span`` marked-content sequence of its
    own, MCIDs from 0 on each page, and ``marks[anchor]`` says which slot has which."""
    fonts: dict[Any, Any] = {}
    pdf = pydyf.PDF()
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(),
                                  "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(),
                                  "Shading": pydyf.Dictionary(),
                                  "ColorSpace": pydyf.Dictionary()})
    pdf.add_object(resources)
    problems: dict[str, str] = {}
    drawn: list[str] = []
    layouts: dict[int, Any] = {}  # by id of the style (the slots keep the styles alive)
    digest = hashlib.sha256()
    for anchor, values, bg in pages:
        width, height = bg.size
        stream = wp.new_stream(fonts, (width, height), resources)
        stream.transform(d=-1, f=height * 0.75)
        stream.transform(a=0.75, d=0.75)
        problem = None
        page_marks: dict[str, int] = {}
        for value in values:
            slot, text = value["slot"], value["text"]
            style = slot.style
            if marks is not None:
                page_marks[slot.name] = len(page_marks)
                stream.stream.append(b"/Span <</MCID %d>> BDC" % page_marks[slot.name])
            known = _DRAWN.pop((id(style), text), None)
            if known is not None and known.style is style and known.font_key in fonts:
                _DRAWN[(id(style), text)] = known  # the most recently used now
                problem = value_problem(slot, text, known.width, known.index,
                                        {known.font_name},
                                        _placeholder_font(style, placeholder))
                if problem:
                    break
                _redraw(stream, fonts[known.font_key], known, slot,
                        wp.matrix(d=-1, e=_x(slot, known.width), f=slot.baseline))
                if marks is not None:
                    stream.stream.append(b"EMC")
                continue
            layout, line, index = wp.shape_line(text, style, layouts.get(id(style)))
            layouts[id(style)] = layout  # each value is drawn before the next is shaped
            text_width = wp.line_width(line, style)
            run_fonts = wp.run_fonts(line)
            problem = value_problem(slot, text, text_width, index,
                                    {_font_key(f) for f in run_fonts},
                                    _placeholder_font(style, placeholder))
            if problem:
                break
            stream.set_color(style["color"])
            stream.begin_text()
            box = SimpleNamespace(text=text, style=style, pango_layout=layout,
                                  baseline=slot.baseline - slot.top)
            key = wp.font_key(run_fonts[0])  # one font: value_problem said so
            font = fonts.get(key)
            seen = None
            if font is not None:  # see what this value alone tells the font
                seen = wp.glyph_texts(font)
                wp.set_glyph_texts(font, {})
            first = len(stream.stream)
            try:
                colour = wp.draw_line(stream, box,
                                      wp.matrix(d=-1, e=_x(slot, text_width), f=slot.baseline))
            finally:
                font = fonts.get(key) if font is None else font
                own = wp.glyph_texts(font) if font is not None else {}
                if seen is not None:
                    for glyph, chars in own.items():
                        seen.setdefault(glyph, chars)
                    wp.set_glyph_texts(font, seen)
            if colour:
                problem = f"{slot.name}: a colour glyph"
                break
            font_size = wp.stream_font(stream)  # what drawing the line set the font to
            ops = stream.stream[first + 1:]  # after the text matrix
            if ops and ops[0].endswith(b" Tf"):
                ops = ops[1:]
            stream.end_text()
            if marks is not None:
                stream.stream.append(b"EMC")
            if ops and font is not None and font_size is not None:
                widths = wp.glyph_widths(font)
                _remember(style, text, _Drawn(
                    style, text_width, index, key, _font_key(run_fonts[0]), font_size,
                    tuple(ops), tuple((g, chars, widths[g]) for g, chars in own.items())))
        if problem:
            problems[anchor] = problem
            continue
        pdf.add_object(stream)
        pdf.add_page(pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, width * 0.75, height * 0.75]),
            "Contents": stream.reference, "Resources": resources.reference,
        }))
        drawn.append(anchor)
        if marks is not None:
            marks[anchor] = page_marks
        digest.update("\0".join([anchor, *(v["text"] for v in values)]).encode() + b"\n")
    if not drawn:
        return {}, problems
    with source_date_epoch(options):
        pdf_fonts = wp.embed_fonts(pdf, fonts)
        pdf.add_object(pdf_fonts)
        resources["Font"] = pdf_fonts.reference
        out = io.BytesIO()
        pdf.write(out, None, digest.hexdigest()[:32].encode(), True)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    return {a: reader.pages[i] for i, a in enumerate(drawn)}, problems
