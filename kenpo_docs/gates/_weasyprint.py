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

One private method is replaced rather than called: ``Font.subset``, so that every font is
subset by the pinned uharfbuzz and not by whatever the system has (:func:`pin_subsetter`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pydyf

logger = logging.getLogger(__name__)


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
    """True when WeasyPrint loaded the system's HarfBuzz-Subset library (which its own
    ``Font.subset`` would use instead of fontTools; :func:`pin_subsetter` uses neither)."""
    from weasyprint.pdf import fonts

    return bool(getattr(fonts, "harfbuzz_subset", None))


# -- the font subsetter, pinned ----------------------------------------------------------------
#
# WeasyPrint 70 picks its subsetter by what the system has: ``weasyprint.text.ffi`` loads the
# HarfBuzz-Subset library with ``allow_fail=True`` at import, and ``Font.subset`` uses it when
# it loaded (and is 4.1+), fontTools otherwise; no option or environment variable chooses.
# The two embed different bytes (so did two HarfBuzz versions). Every font is subset instead
# by the HarfBuzz inside the pinned ``uharfbuzz`` wheel, with the calls and flags of
# WeasyPrint's own HarfBuzz path: the same input gives the same bytes on every machine.

#: Tables WeasyPrint 70 drops from every subset (``Font._harfbuzz_subset``).
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF",
                   b"LTSH", b"PCLT", b"SVG ")


def subset_font(data: bytes, index: int, glyphs: Iterable[int], *, hinting: bool,
                notdef_outline: bool) -> bytes:
    """Font ``index`` of ``data`` keeping only ``glyphs`` (glyph ids, retained: glyph 1274
    stays glyph 1274), as WeasyPrint 70's HarfBuzz path subsets it, with uharfbuzz.

    Raises:
        RuntimeError: HarfBuzz could not subset the font.
    """
    import uharfbuzz as hb  # type: ignore[import-untyped]  # no type information shipped

    keep = sorted(glyphs)
    if not keep:
        raise RuntimeError("no glyph to keep")
    face = hb.Face(hb.Blob(data), index)
    request = hb.SubsetInput()
    request.sets(hb.SubsetInputSets.GLYPH_INDEX).update(keep)
    request.sets(hb.SubsetInputSets.DROP_TABLE_TAG).update(
        int.from_bytes(tag, "big") for tag in _DROPPED_TABLES)
    flags = (hb.SubsetFlags.RETAIN_GIDS | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
             | hb.SubsetFlags.DESUBROUTINIZE)
    notdef = hb.SubsetFlags.NOTDEF_OUTLINE if notdef_outline else hb.SubsetFlags.DEFAULT
    request.flags = flags | notdef
    retained = hb.subset(face, request)
    # then every glyph id up to the last one used, without retaining the empty ones after it
    request.sets(hb.SubsetInputSets.GLYPH_INDEX).update(range(keep[-1] + 1))
    flags = hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED | hb.SubsetFlags.DESUBROUTINIZE
    if not hinting:
        flags |= hb.SubsetFlags.NO_HINTING
    request.flags = flags | notdef
    program: bytes = hb.subset(retained, request).blob.data
    if not program:
        raise RuntimeError("HarfBuzz returned an empty font")
    return program


def _pinned_subset(font: Any, to_unicode: dict[int, str], hinting: bool) -> None:
    """``Font.subset`` (``font.file_content`` replaced by its subset), with :func:`subset_font`."""
    if not to_unicode:
        return
    try:
        font.file_content = subset_font(font.file_content, font.index, to_unicode,
                                        hinting=hinting, notdef_outline=bool(font.missing))
    except RuntimeError:  # as WeasyPrint does: the whole font, larger but correct
        logger.warning("unable to subset %s with HarfBuzz: embedded whole", font.family)


def pin_subsetter() -> None:
    """Make WeasyPrint subset every font with :func:`subset_font` in this process (its
    ``Font.subset`` replaced), whatever the system has. Idempotent; cheap to call again.

    Raises:
        ImportError: uharfbuzz, the pinned subsetter, is not installed.
    """
    from weasyprint.pdf.fonts import Font

    if Font.subset is _pinned_subset:
        return
    if find_spec("uharfbuzz") is None:
        raise ImportError("uharfbuzz, the font subsetter this project pins, is not "
                          "installed (install from requirements.lock)")
    Font.subset = _pinned_subset


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

    pin_subsetter()
    return build_fonts_dictionary(pdf, fonts, True, True, {"hinting": False, "pdf_version": None})
