"""Word content controls and frames in the house style (re-exported by
:mod:`kenpo_docs.render.docxstyle`, where they are documented with the rest)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

from docx.text.paragraph import Paragraph

from kenpo_docs.gates._docx import (
    new_element,
    paragraph_element,
    paragraph_properties,
    part_element,
    qn,
)

__all__ = ["GOTHIC", "SCHEMA_ORDER", "ZIP_TIME", "add_checkbox", "add_frame", "add_text_field",
           "order_document", "restamp", "save_reproducible", "schema_order"]

#: Word's name of BIZ UDPGothic on Windows 10/11 (the vendored font's Japanese name).
GOTHIC = "BIZ UDPゴシック"


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def _el(tag: str, **attrs: str) -> Any:
    return new_element(tag, **attrs)

_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


def add_checkbox(paragraph: Paragraph, *, checked: bool, size: float | None = None) -> Any:
    """A check box content control (``w14:checkbox``) drawn as the PDF form draws it: □
    unticked, ✓ ticked (BIZ UDPゴシック has both; Word's default ☐/☒ are MS Gothic glyphs
    BIZ UD lacks). A click in Word toggles it. Returns the ``w:sdt`` element."""
    sdt = new_element("w:sdt")
    sdtpr = new_element("w:sdtPr")
    box = new_element("w14:checkbox")
    checked_el = new_element("w14:checked")
    checked_el.set(f"{{{_W14}}}val", "1" if checked else "0")
    box.append(checked_el)
    for tag, code in (("w14:checkedState", "2713"), ("w14:uncheckedState", "25A1")):
        state = new_element(tag)
        state.set(f"{{{_W14}}}val", code)
        state.set(f"{{{_W14}}}font", GOTHIC)
        box.append(state)
    sdtpr.append(box)
    sdt.append(sdtpr)
    content = new_element("w:sdtContent")
    run = new_element("w:r")
    rpr = new_element("w:rPr")
    rpr.append(_el("w:rFonts", ascii=GOTHIC, hAnsi=GOTHIC, eastAsia=GOTHIC, hint="eastAsia"))
    if size:
        rpr.append(_el("w:sz", val=str(round(size * 2))))
    run.append(rpr)
    text = new_element("w:t")
    text.text = "✓" if checked else "□"
    run.append(text)
    content.append(run)
    sdt.append(content)
    paragraph_element(paragraph).append(sdt)
    return sdt


def add_text_field(paragraph: Paragraph, value: str, *, title: str = "",
                   size: float | None = None) -> Any:
    """A plain-text content control (``w:sdt`` with ``w:text``) holding ``value``, titled
    ``title`` (Word shows it on the control); an empty one shows 「　」 to click into."""
    sdt = new_element("w:sdt")
    sdtpr = new_element("w:sdtPr")
    if title:
        sdtpr.append(_el("w:alias", val=title))
    if not value:
        sdtpr.append(new_element("w:showingPlcHdr"))
    sdtpr.append(new_element("w:text"))
    sdt.append(sdtpr)
    content = new_element("w:sdtContent")
    run = new_element("w:r")
    if size:
        rpr = new_element("w:rPr")
        rpr.append(_el("w:sz", val=str(round(size * 2))))
        run.append(rpr)
    text = new_element("w:t")
    text.set(qn("xml:space"), "preserve")
    text.text = value or "　　　　"
    run.append(text)
    content.append(run)
    sdt.append(content)
    paragraph_element(paragraph).append(sdt)
    return sdt


def add_frame(paragraph: Paragraph, *, x_mm: float, y_mm: float, width_mm: float,
              height_mm: float | None = None) -> Paragraph:
    """Pin ``paragraph`` to an absolute place on the page (a Word frame, ``w:framePr``):
    ``x_mm``/``y_mm`` from the page's top-left corner. Consecutive paragraphs with the same
    frame settings share one frame (an address block of several lines)."""
    ppr = paragraph_properties(paragraph)
    attrs = {"w": str(_twips(width_mm)), "hSpace": "0", "wrap": "around",
             "vAnchor": "page", "hAnchor": "page", "x": str(_twips(x_mm)),
             "y": str(_twips(y_mm))}
    if height_mm is not None:
        attrs["h"] = str(_twips(height_mm))
        attrs["hRule"] = "exact"
    frame = _el("w:framePr", **attrs)
    # framePr comes right after pStyle/keepNext/keepLines/pageBreakBefore in pPr.
    anchor = None
    for tag in ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore"):
        found = ppr.find(qn(tag))
        if found is not None:
            anchor = found
    if anchor is None:
        ppr.insert(0, frame)
    else:
        anchor.addnext(frame)
    return paragraph


#: The order WordprocessingML's schema gives the children of each properties element. Word
#: refuses a file (「問題があるため開けません」) whose properties are out of order, where
#: LibreOffice is lenient; python-docx keeps its own insertions in order, not ours.
SCHEMA_ORDER: dict[str, tuple[str, ...]] = {
    "pPr": ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
            "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
            "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
            "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind",
            "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
            "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
            "sectPr", "pPrChange"),
    "rPr": ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike",
            "dstrike", "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid",
            "vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs",
            "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
            "lang", "eastAsianLayout", "specVanish", "oMath", "rPrChange"),
    "tblPr": ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
              "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders",
              "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription"),
    "tcPr": ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap",
             "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark"),
    "pBdr": ("top", "left", "bottom", "right", "between", "bar"),
    "tblBorders": ("top", "left", "start", "bottom", "right", "end", "insideH", "insideV"),
    "tcBorders": ("top", "left", "start", "bottom", "right", "end", "insideH", "insideV",
                  "tl2br", "tr2bl"),
}


def schema_order(root: Any) -> None:
    """Sort the children of every properties element under ``root`` into the schema's order
    (:data:`SCHEMA_ORDER`); a stable sort, so repeated elements keep their order."""
    ranks = {qn(f"w:{tag}"): {qn(f"w:{c}"): i for i, c in enumerate(order)}
             for tag, order in SCHEMA_ORDER.items()}
    for el in root.iter(*ranks):
        rank = ranks[el.tag]
        children = sorted(el, key=lambda c: rank.get(c.tag, len(rank)))
        for child in children:
            el.remove(child)
            el.append(child)


def order_document(document: Any) -> None:
    """:func:`schema_order` over a document's body, styles, headers and footers."""
    schema_order(document.element)
    schema_order(document.styles.element)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header,
                     section.first_page_footer):
            if not part.is_linked_to_previous:
                schema_order(part_element(part))


#: The time stamp of every part of every DOCX we write (the zip format's earliest): the
#: clock never gets into the bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def save_reproducible(document: Any, *, when: datetime | None = None) -> bytes:
    """``document`` as DOCX bytes that depend on its content alone: the core properties'
    作成日時 and 更新日時 are ``when`` (the document's own date: the notice's date, the
    as-of date; by default what is already set), and the zip is :func:`restamp`-ed. Every
    DOCX writer saves through here."""
    if when is not None:
        core = document.core_properties
        core.created = core.modified = when
    raw = io.BytesIO()
    document.save(raw)
    return restamp(raw.getvalue())


def restamp(data: bytes) -> bytes:
    """A zip (DOCX) with every entry stamped :data:`ZIP_TIME`, with the same attributes and
    compression, in the order written: python-docx (and the zip module) stamp each with the
    clock, so two builds a second apart differed in their bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            new.writestr(entry, old.read(info.filename))
    return out.getvalue()
