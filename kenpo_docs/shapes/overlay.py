"""Pages printed as a shared background plus a small overlay of their values.

Used by the prefilled forms (:mod:`kenpo_docs.shapes.forms`), the letters
(:mod:`kenpo_docs.shapes.letters`) and the cover sheets (:mod:`kenpo_docs.mailing.covers`).
A page of one *shape* is the same page for every piece with a few values in fixed boxes:

* its **background** (:mod:`kenpo_docs.shapes.backgrounds`) is laid out once per batch and
  drawn under every page of the shape as one Form XObject;
* where the values go (:class:`~kenpo_docs.shapes.slots.Slot`) is read from the background's
  box tree (:mod:`kenpo_docs.shapes.slots`);
* per chunk, the values are drawn straight into one small page per piece, each shaped and
  drawn as WeasyPrint draws a line of text (:mod:`kenpo_docs.shapes.draw`), and checked
  there: one line, in the placeholder's font, no wider than the room the background leaves
  it. Plain-rectangle pictures (the customer barcode) are drawn straight into the page too.

Tagged PDFs and other pictures go through one laid-out **overlay document** instead
(:func:`_laid_out_overlay_pages`): the values absolutely positioned at their slots, every
laid-out value checked against its slot (:func:`overlay_problem`: one line of exactly its
text, baseline and x within the slots' tolerance, no wider than its room). A page that fails
any check is left out (with its reason), and the caller lays it out in full. The PDF side is
in :mod:`kenpo_docs.pdf.compose`.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from markupsafe import Markup
from pypdf import PdfReader

from kenpo_docs import gates
from kenpo_docs.gates._weasyprint import page_box, unwrap_absolute
from kenpo_docs.pdf.compose import OverlayPage, rect_svg_ops
from kenpo_docs.render.pages import page_ranges
from kenpo_docs.render.pdf import render_document, write_pdf
from kenpo_docs.shapes import draw
from kenpo_docs.shapes.backgrounds import Background
from kenpo_docs.shapes.slots import PLACEHOLDER, TOLERANCE, Slot, walk

logger = logging.getLogger(__name__)

OVERLAY_TEMPLATE = "forms/_overlay.html"


# -- overlays --------------------------------------------------------------------------------

def _check_svg(div: Any, slot: Slot) -> str | None:
    pictures = [b for b, _ in walk(div) if type(b).__name__.endswith("ReplacedBox")]
    if len(pictures) != 1 or any(type(b).__name__ == "TextBox" for b, _ in walk(div)):
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
    divs = [unwrap_absolute(b) for b, _ in walk(page_box)
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
    texts = [b for b, _ in walk(line) if type(b).__name__ == "TextBox"]
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
    tagged = bool(getattr(options, "pdf_tags", False))
    if tagged:
        # A tagged page puts its values where its background's tree had their placeholders
        # (pdf.tagtree): a background without that tree is laid out in full.
        for anchor, _, bg in pages:
            if bg.tags is None:
                problems[anchor] = "background: untagged"
        pages = [p for p in pages if p[2].tags is not None]
    if draw.supported(options):
        direct = [p for p in pages if all(v["slot"].kind == "text" and v["slot"].style is not None
                                         for v in p[1])]
        if direct:
            marks: dict[str, dict[str, int]] | None = {} if tagged else None
            got, drawn_problems = draw.draw_pages(direct, placeholder=PLACEHOLDER,
                                                  options=options, marks=marks)
            for anchor, problem in drawn_problems.items():
                logger.debug("%s overlay: %s laid out in full (%s)", what, anchor, problem)
            problems.update(drawn_problems)
            by_anchor = {a: bg for a, _, bg in direct}
            result = {a: (OverlayPage(page, drawn.get(a, b""), marks.get(a, {}))
                          if marks is not None
                          else OverlayPage(page, drawn[a]) if a in drawn else page,
                          by_anchor[a])
                      for a, page in got.items()}
            done = {a for a, _, _ in direct}
            pages = [p for p in pages if p[0] not in done]
    if pages and tagged:
        # the laid-out overlay document's values are not in the background's tree
        for anchor, _, _ in pages:
            problems.setdefault(anchor, "a picture in a tagged page")
        pages = []
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
