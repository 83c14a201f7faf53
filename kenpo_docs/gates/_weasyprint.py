"""WeasyPrint's (and pydyf's) private parts we use, each behind one function.

The merge draws a value exactly as WeasyPrint draws one line of text, with WeasyPrint's own
functions (see :mod:`kenpo_docs.shapes.draw`), and reads where the values go from the laid-out
page's boxes (:mod:`kenpo_docs.shapes.slots`). None of that is public API: WeasyPrint's own
stability note says to pin the version when using anything undocumented. Every such symbol is
imported or read here and nowhere else; ``tests/test_gates.py`` checks each one, and
:func:`kenpo_docs.gates.fast_path` keeps the merge off them on an untested version. The box
attributes the slots reader uses (``children``, ``position_x``, ``baseline`` …) are not
documented either: they are read in :mod:`kenpo_docs.shapes.slots` only, covered by the same
tests and the same version check, but not wrapped one by one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydyf


def page_box(page: Any) -> Any:
    """The laid-out page box of a ``weasyprint.Page`` (private ``Page._page_box``)."""
    return page._page_box


def unwrap_absolute(box: Any) -> Any:
    """The box an ``AbsolutePlaceholder`` stands for (private ``_box``); others as they are."""
    return getattr(box, "_box", box) if type(box).__name__ == "AbsolutePlaceholder" else box


def font_folder(font_config: Any) -> Path | None:
    """The temp folder a ``FontConfiguration`` copies its ``@font-face`` files into."""
    folder = getattr(font_config, "_folder", None)
    return Path(folder) if folder is not None else None


def uses_harfbuzz_subset() -> bool:
    """True when WeasyPrint subsets fonts with HarfBuzz-Subset rather than fontTools."""
    from weasyprint.pdf import fonts

    return bool(getattr(fonts, "harfbuzz_subset", None))


# -- one line of text, as WeasyPrint shapes and draws it ---------------------------------------

def shape_line(text: str, style: Any, layout: Any = None) -> tuple[Any, Any, int | None]:
    """``text`` shaped by Pango in ``style`` (a computed style): the layout (``layout``
    reused if given), its first line, and where a second line would start (None: one)."""
    from weasyprint.text.line_break import Layout

    if layout is None:
        layout = Layout(style)
    layout.set_text(text)
    first_line, index = layout.get_first_line()
    return layout, first_line, index


def line_width(line: Any, style: Any) -> float:
    """The logical width of a shaped line (``line_size``), in CSS px."""
    from weasyprint.text.line_break import line_size

    width, _ = line_size(line, style)
    return float(width)


def run_fonts(line: Any) -> list[Any]:
    """The Pango fonts of a shaped line's runs, in order."""
    from weasyprint.text.ffi import ffi

    fonts = []
    run = line.runs
    while run != ffi.NULL:
        fonts.append(run.data.item.analysis.font)
        run = run.next
    return fonts


def font_key(pango_font: Any) -> Any:
    """The key WeasyPrint files a Pango font's PDF font under."""
    from weasyprint.text.fonts import get_pango_font_key

    return get_pango_font_key(pango_font)[0]


def matrix(**values: float) -> Any:
    """A WeasyPrint ``Matrix`` (a, b, c, d, e, f)."""
    from weasyprint.matrix import Matrix

    return Matrix(**values)


def new_stream(fonts: dict[Any, Any], size: tuple[float, float], resources: Any) -> Any:
    """A WeasyPrint content ``Stream`` for a page of ``size`` (CSS px), compressed."""
    from weasyprint.pdf.stream import Stream

    width, height = size
    return Stream(fonts, (0, 0, width, height), resources, {}, None, {}, None, compress=True)


def stream_font(stream: Any) -> Any:
    """What the stream last set the font to (``Stream._current_font``)."""
    return stream._current_font


def draw_line(stream: Any, box: Any, transform: Any) -> Any:
    """Draw the first line of ``box`` (text, style, pango_layout, baseline) into ``stream``
    at ``transform``, as ``draw_text`` does; returns whether a colour glyph was drawn."""
    from weasyprint.draw.text import draw_first_line

    return draw_first_line(stream, box, "clip", "none", transform)


def glyph_texts(font: Any) -> dict[int, str]:
    """A PDF font's glyph → text map (its ToUnicode to be)."""
    texts: dict[int, str] = font.to_unicode
    return texts


def set_glyph_texts(font: Any, texts: dict[int, str]) -> None:
    font.to_unicode = texts


def glyph_widths(font: Any) -> dict[int, int]:
    widths: dict[int, int] = font.widths
    return widths


def embed_fonts(pdf: pydyf.PDF, fonts: dict[Any, Any]) -> Any:
    """The PDF fonts dictionary of ``fonts`` (subset and embedded), as ``write_pdf`` makes it."""
    from weasyprint.pdf.fonts import build_fonts_dictionary

    return build_fonts_dictionary(pdf, fonts, True, True, {"hinting": False, "pdf_version": None})
