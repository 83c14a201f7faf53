"""The house Word settings: every DOCX we write looks like our PDF and reads as Japanese.

Call :func:`apply_house_style` once on a fresh ``docx.Document()`` and build the body with
the named styles it defines, never with fonts set run by run:

=================  ==========================  =============================================
style (built-in)   Japanese Word shows          looks like (the PDF's CSS)
=================  ==========================  =============================================
``Normal``         標準                         BIZ UDPゴシック 10 pt, line 1.55, black
``Title``          表題                         17 pt bold, house blue, centred in a blue box
``Heading 1``      見出し 1                     12 pt bold, blue bar on the left (the h2)
``Heading 2``      見出し 2                     10.5 pt bold (the h3)
``Heading 3``      見出し 3                     10 pt bold
``Banner``         (ours, based on Heading 1)   white on house blue (the notice's h2.banner)
``Note``           (ours)                       9 pt (``.note``)
``Kenpo Table``    (ours, a table style)        0.8 pt black grid, 1.2 × 2 mm cell padding
=================  ==========================  =============================================

Fonts are BIZ UDPゴシック and BIZ UD明朝 Medium, the names Word on Windows 10/11 gives the
BIZ UD fonts Windows ships (the vendored ``fonts/`` are the same designs; LibreOffice finds
them by their Japanese names through fontconfig). Every style sets ``w:ascii``, ``w:hAnsi``,
``w:eastAsia`` and ``w:cs``, so Latin digits inside Japanese text do not fall back to
Calibri, and no theme font or theme colour is left (python-docx's template has blue
Calibri Light headings). The language is ja-JP (``w:lang w:val`` and ``w:eastAsia``), the
compatibility mode Word 2013+ (``compatibilityMode`` 15: no 「互換モード」 banner), the
author the insurer (``insurer.toml``).

Helpers for what the PDFs print around and inside the text: :func:`add_header` (series
title, number, date over a rule), :func:`add_page_numbers` (PAGE / NUMPAGES fields),
:func:`add_box` (a bordered single-cell table), :func:`add_table` (fixed column widths,
shaded header cells), :func:`shade`, :func:`set_borders`, :func:`write` (lines into a cell),
:func:`add_checkbox` (a Word content control check box, ``w14:checkbox``) and
:func:`add_frame` (a paragraph at an absolute place on the page, for the envelope window).
Call :func:`order_document` last: it puts every properties element in the schema's order,
which Word (not LibreOffice) insists on.

Lengths are millimetres and points as in the CSS; colours hex ``"1d4e89"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx.document import Document as DocumentType
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from kenpo_docs import gates
from kenpo_docs.gates._docx import (
    Cell,
    cell_properties,
    new_element,
    paragraph_element,
    paragraph_properties,
    qn,
    row_properties,
    run_element,
    run_properties,
    table_element,
    table_grid,
    table_properties,
)

# The content controls and frames, and the few primitives they share with this module, live
# in docxfields (this one stays short); they are part of this module's API.
from kenpo_docs.render.docxfields import (
    GOTHIC,
    _el,
    _twips,
    add_checkbox,
    add_frame,
    add_text_field,
    order_document,
    restamp,
    save_reproducible,
    schema_order,
)

__all__ = [
    "BLUE",
    "GOTHIC",
    "MINCHO",
    "add_box",
    "add_checkbox",
    "add_frame",
    "add_header",
    "add_page_numbers",
    "add_table",
    "add_text_field",
    "apply_house_style",
    "no_wrap",
    "order_document",
    "restamp",
    "save_reproducible",
    "schema_order",
    "set_borders",
    "set_cell_margins",
    "shade",
    "write",
]

#: Word's name of BIZ UD Mincho on Windows 10/11 (GOTHIC: see docxfields).
MINCHO = "BIZ UD明朝 Medium"
#: The house blue of the notices (#1d4e89 in notice.css).
BLUE = "1d4e89"
#: Table header grey (``th { background: #e8e8e8 }`` in print.css).
HEADER_FILL = "e8e8e8"

def _eighths(pt: float) -> int:
    """A border width in eighths of a point (Word's unit for w:sz)."""
    return max(2, round(pt * 8))


def _replace(parent: Any, tag: str, new: Any) -> Any:
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    parent.append(new)
    return new


def _rpr(*, font: str = GOTHIC, size: float | None = None, bold: bool | None = None,
         color: str | None = "000000") -> Any:
    rpr = new_element("w:rPr")
    rpr.append(_el("w:rFonts", ascii=font, hAnsi=font, eastAsia=font, cs=font))
    if bold is not None:
        rpr.append(_el("w:b", val="1" if bold else "0"))
        rpr.append(_el("w:bCs", val="1" if bold else "0"))
    if color is not None:
        rpr.append(_el("w:color", val=color))
    if size is not None:
        rpr.append(_el("w:sz", val=str(round(size * 2))))
        rpr.append(_el("w:szCs", val=str(round(size * 2))))
    rpr.append(_el("w:lang", val="ja-JP", eastAsia="ja-JP", bidi="ar-SA"))
    return rpr


def _spacing(*, before: float = 0, after: float = 0, line: float | None = None) -> Any:
    """Paragraph spacing in mm; ``line`` a multiple of the font size (CSS line-height)."""
    attrs = {"before": str(_twips(before)), "after": str(_twips(after))}
    if line is not None:  # Word's "multiple" is of the font's own line height; "exact" is
        attrs["line"] = str(round(line * 20))  # what CSS means by a line height.
        attrs["lineRule"] = "exact"
    return _el("w:spacing", **attrs)


def _border(side: str, *, width: float, color: str = "000000", style: str = "single",
            space: float = 0) -> Any:
    return _el(f"w:{side}", val=style, sz=str(_eighths(width)), space=str(round(space)),
               color=color)


def _style(document: DocumentType, name: str, kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH,
           base: str | None = None) -> Any:
    styles = document.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, kind)
        style.quick_style = True
    if base is not None:
        style.base_style = styles[base]
    return style


def _set_paragraph_style(style: Any, *, size: float, bold: bool = False, color: str = "000000",
                         before: float = 0, after: float = 0, line: float,
                         align: str | None = None, borders: Sequence[Any] = (),
                         fill: str | None = None, outline: int | None = None,
                         keep_next: bool = False, indent_left: float | None = None,
                         font: str = GOTHIC) -> None:
    el = style.element
    rpr = _rpr(font=font, size=size, bold=bold, color=color)
    ppr = new_element("w:pPr")
    autospace = [_el("w:autoSpaceDE", val="0"), _el("w:autoSpaceDN", val="0")]
    if keep_next:
        ppr.append(_el("w:keepNext"))
        ppr.append(_el("w:keepLines"))
    if borders:
        pbdr = new_element("w:pBdr")
        order = ("top", "left", "bottom", "right")
        for b in sorted(borders, key=lambda b: order.index(b.tag.split("}")[1])):
            pbdr.append(b)
        ppr.append(pbdr)
    if fill:
        ppr.append(_el("w:shd", val="clear", color="auto", fill=fill))
    ppr.extend(autospace)
    ppr.append(_spacing(before=before, after=after, line=line))
    if indent_left is not None:
        ppr.append(_el("w:ind", left=str(_twips(indent_left))))
    if align:
        ppr.append(_el("w:jc", val=align))
    if outline is not None:
        ppr.append(_el("w:outlineLvl", val=str(outline)))
    for tag in ("w:pPr", "w:rPr"):
        for old in el.findall(qn(tag)):
            el.remove(old)
    el.append(ppr)
    el.append(rpr)


def _table_style(document: DocumentType) -> None:
    style = _style(document, "Kenpo Table", WD_STYLE_TYPE.TABLE)
    el = style.element
    for old in el.findall(qn("w:tblPr")):
        el.remove(old)
    tblpr = new_element("w:tblPr")
    borders = new_element("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_border(side, width=0.8))
    tblpr.append(borders)
    tblpr.append(_cell_margins_el("w:tblCellMar", 1.2, 2.0))
    el.append(tblpr)


def _cell_margins_el(tag: str, vertical: float, horizontal: float) -> Any:
    mar = new_element(tag)
    for side, mm in (("top", vertical), ("left", horizontal), ("bottom", vertical),
                     ("right", horizontal)):
        mar.append(_el(f"w:{side}", w=str(_twips(mm)), type="dxa"))
    return mar


def apply_house_style(
    document: DocumentType,
    *,
    author: str,
    title: str | None = None,
    created: datetime | None = None,
    margins_mm: tuple[float, float, float, float] = (15, 16, 28, 16),
) -> DocumentType:
    """Give ``document`` the house styles, language, compatibility mode and properties.

    Args:
        document: a new ``docx.Document()`` (its first section is set to A4 portrait).
        author: the core property 作成者 (the kenpo's name from ``insurer.toml``).
        title: the core property タイトル (the document's title), if known.
        created: the created/modified time written (a fixed one keeps the bytes stable;
            by default midnight of 2000-01-01, never the clock).
        margins_mm: top, right, bottom, left page margins (print.css's ``@page`` by default).

    Returns the same document, for chaining.
    """
    gates.warn_once_if_docx_untested()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    top, right, bottom, left = margins_mm
    section.top_margin, section.right_margin = Mm(top), Mm(right)
    section.bottom_margin, section.left_margin = Mm(bottom), Mm(left)
    section.header_distance, section.footer_distance = Mm(6), Mm(8)

    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    _replace(rpr_default, "w:rPr", _rpr(size=10))
    ppr_default = defaults.find(qn("w:pPrDefault"))
    if ppr_default is None:
        ppr_default = new_element("w:pPrDefault")
        defaults.append(ppr_default)
    default_ppr = new_element("w:pPr")
    # No extra space between Japanese and Latin letters or digits (Word's 「日本語と英字/数字の
    # 間隔を自動調整する」): the PDF sets 「令和6年」 tight.
    default_ppr.append(_el("w:autoSpaceDE", val="0"))
    default_ppr.append(_el("w:autoSpaceDN", val="0"))
    default_ppr.append(_spacing(line=10 * 1.55))
    _replace(ppr_default, "w:pPr", default_ppr)

    _set_paragraph_style(_style(document, "Normal"), size=10, after=1.5, line=10 * 1.55,
                         align="both")
    _set_paragraph_style(
        _style(document, "Title"), size=17, bold=True, color=BLUE, after=5, line=17 * 1.3,
        align="center", outline=0,
        borders=[_border(s, width=1.2, color=BLUE, space=7 if s in ("top", "bottom") else 4)
                 for s in ("top", "left", "bottom", "right")],
    )
    _set_paragraph_style(
        _style(document, "Heading 1"), size=12, bold=True, before=4, after=1.5,
        line=12 * 1.3, outline=0, keep_next=True, indent_left=2.5,
        borders=[_border("left", width=8.5, color=BLUE, space=5)],
    )
    _set_paragraph_style(_style(document, "Heading 2"), size=10.5, bold=True, before=3,
                         after=1, line=10.5 * 1.3, outline=1, keep_next=True)
    _set_paragraph_style(_style(document, "Heading 3"), size=10, bold=True, before=2,
                         after=1, line=10 * 1.3, outline=2, keep_next=True)
    _set_paragraph_style(_style(document, "Banner", base="Heading 1"), size=12, bold=True,
                         color="FFFFFF", before=4, after=1.5, line=12 * 1.3 + 8.5,
                         outline=0, keep_next=True, fill=BLUE, indent_left=3,
                         # a hairline in the banner's own blue, 3 mm out: the shading reaches
                         # the margin and the text keeps the CSS padding (not Heading 1's bar)
                         borders=[_border("left", width=0.25, color=BLUE, space=8.5)])
    _set_paragraph_style(_style(document, "Note", base="Normal"), size=9, line=9 * 1.55,
                         after=0.8)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Banner"):
        document.styles[name].next_paragraph_style = document.styles["Normal"]
    _table_style(document)
    _compatibility_15(document)

    core = document.core_properties
    core.author = author
    core.last_modified_by = author
    core.title = title or ""
    core.comments = ""
    core.revision = 1
    core.language = "ja-JP"
    when = created or datetime(2000, 1, 1)
    core.created = core.modified = when
    return document


def _compatibility_15(document: DocumentType) -> None:
    settings = document.settings.element
    compat = settings.find(qn("w:compat"))
    if compat is None:
        compat = new_element("w:compat")
        settings.append(compat)
    for item in compat.findall(qn("w:compatSetting")):
        if item.get(qn("w:name")) == "compatibilityMode":
            item.set(qn("w:val"), "15")
            break
    else:
        compat.append(_el("w:compatSetting", name="compatibilityMode",
                          uri="http://schemas.microsoft.com/office/word", val="15"))
    # A line ended by a manual break (Shift+Enter, <br>) is not stretched in a justified
    # paragraph, as in the PDF.
    if compat.find(qn("w:doNotExpandShiftReturn")) is None:
        compat.insert(0, _el("w:doNotExpandShiftReturn"))
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:val"), "ja-JP")
        lang.set(qn("w:eastAsia"), "ja-JP")


def add_header(document: DocumentType, *, series_title: str, number: str = "",
               date: str = "", rule_color: str = BLUE, first_page_only: bool = False
               ) -> Paragraph:
    """The masthead as the page header: series title (bold) and number on the left, the date
    at the right margin, a 1.6 pt rule under them (notice.css ``.masthead``). On every page,
    or with ``first_page_only`` on the first page alone (as the PDF prints it; Word's
    「先頭ページのみ別指定」)."""
    section = document.sections[0]
    if first_page_only:
        section.different_first_page_header_footer = True
        header = section.first_page_header
    else:
        header = section.header
    header.is_linked_to_previous = False
    para: Paragraph = header.paragraphs[0]
    para.style = document.styles["Normal"]
    width = (section.page_width or Mm(210)) - (section.left_margin or 0) \
        - (section.right_margin or 0)
    ppr = paragraph_properties(para)
    tabs = new_element("w:tabs")
    tabs.append(_el("w:tab", val="right", pos=str(round(width / 635))))
    ppr.append(tabs)
    pbdr = new_element("w:pBdr")
    pbdr.append(_border("bottom", width=1.6, color=rule_color, space=1))
    ppr.append(pbdr)
    run = para.add_run(series_title)
    run.bold = True
    run.font.size = Pt(10.5)
    if number:
        para.add_run(" " + number).font.size = Pt(10.5)
    if date:
        para.add_run("\t" + date).font.size = Pt(10.5)
    schema_order(paragraph_element(para))
    return para


def _field(para: Paragraph, code: str, shown: str) -> None:
    for kind, text in (("begin", None), ("code", code), ("separate", None), ("result", shown),
                       ("end", None)):
        run = para.add_run()
        if kind in ("begin", "separate", "end"):
            run_element(run).append(_el("w:fldChar", fldCharType=kind))
        elif kind == "code":
            instr = new_element("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run_element(run).append(instr)
        else:
            run.text = text or ""


def add_page_numbers(document: DocumentType, *, total: bool = True, size: float = 8,
                     color: str = "555555") -> Paragraph:
    """「1 / 5」 centred in the footer (PAGE and NUMPAGES fields), as print.css prints it;
    in the first page's footer too when it has one of its own (:func:`add_header`)."""
    section = document.sections[0]
    para: Paragraph = _page_number_paragraph(section.footer, total, size, color)
    if section.different_first_page_header_footer:
        _page_number_paragraph(section.first_page_footer, total, size, color)
    schema_order(paragraph_element(para))
    return para


def _page_number_paragraph(footer: Any, total: bool, size: float, color: str) -> Paragraph:
    footer.is_linked_to_previous = False
    para: Paragraph = footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(para, "PAGE", "1")
    if total:
        para.add_run(" / ")
        _field(para, "NUMPAGES", "1")
    for run in para.runs:
        run.font.size = Pt(size)
        run.font.color.rgb = None
        rpr = run_properties(run)
        rpr.append(_el("w:color", val=color))
    schema_order(paragraph_element(para))
    return para


def set_borders(target: Table | Cell, *, width: float = 0.8, color: str = "000000",
                style: str = "single", sides: Sequence[str] = ("top", "left", "bottom",
                                                                "right")) -> None:
    """Borders of a table (outer and inner lines) or of one cell; ``style="nil"`` removes."""
    all_sides: tuple[str, ...]
    if isinstance(target, Table):
        pr = table_properties(target)
        tag, all_sides = "w:tblBorders", ("top", "left", "bottom", "right", "insideH",
                                          "insideV")
    else:
        pr = cell_properties(target)
        tag, all_sides = "w:tcBorders", ("top", "left", "bottom", "right")
    borders = pr.find(qn(tag))
    if borders is None:
        borders = new_element(tag)
        pr.append(borders)
    current = {child.tag: child for child in borders}
    for side in all_sides:
        if side in sides or (side.startswith("inside") and "inside" in sides):
            new = (_el(f"w:{side}", val="nil") if style == "nil"
                   else _border(side, width=width, color=color, style=style))
            current[qn(f"w:{side}")] = new
    for child in list(borders):
        borders.remove(child)
    for side in all_sides:
        if qn(f"w:{side}") in current:
            borders.append(current[qn(f"w:{side}")])
    if not isinstance(target, Table):
        _order_tcpr(pr)
    else:
        schema_order(pr)


def _order_tcpr(tcpr: Any) -> None:
    """Put tcPr children in the schema's order (Word rejects a file otherwise)."""
    order = ["w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders",
             "w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign",
             "w:hideMark"]
    rank = {qn(t): i for i, t in enumerate(order)}
    children = sorted(tcpr, key=lambda c: rank.get(c.tag, len(order)))
    for child in children:
        tcpr.remove(child)
        tcpr.append(child)


def shade(cell: Cell, fill: str) -> None:
    """Background colour of a cell (CSS ``background``)."""
    tcpr = cell_properties(cell)
    _replace(tcpr, "w:shd", _el("w:shd", val="clear", color="auto", fill=fill))
    _order_tcpr(tcpr)


def set_cell_margins(target: Table | Cell, vertical: float, horizontal: float) -> None:
    """Cell padding in mm: for every cell of a table, or for one cell."""
    if isinstance(target, Table):
        _replace(table_properties(target), "w:tblCellMar",
                 _cell_margins_el("w:tblCellMar", vertical, horizontal))
        schema_order(table_properties(target))
    else:
        tcpr = cell_properties(target)
        _replace(tcpr, "w:tcMar", _cell_margins_el("w:tcMar", vertical, horizontal))
        _order_tcpr(tcpr)


def no_wrap(cell: Cell) -> None:
    """Keep a cell's text on one line (a date)."""
    tcpr = cell_properties(cell)
    _replace(tcpr, "w:noWrap", _el("w:noWrap"))
    _order_tcpr(tcpr)


def add_table(container: Any, rows: int, widths_mm: Sequence[float], *,
              header_rows: int = 0, header_fill: str | None = HEADER_FILL,
              header_cols: int = 0, align: WD_TABLE_ALIGNMENT = WD_TABLE_ALIGNMENT.LEFT,
              no_wrap_cols: Sequence[int] = ()) -> Table:
    """A ``Kenpo Table`` with fixed column widths (mm) and shaded, bold header cells.

    ``container`` is the document or a cell. Header rows repeat on every page and are
    marked as such (``w:tblHeader``). Columns in ``no_wrap_cols`` never wrap (dates).
    """
    table: Table = container.add_table(rows=rows, cols=len(widths_mm))
    table.style = "Kenpo Table"
    table.alignment = align
    table.autofit = False
    tblpr = table_properties(table)
    _replace(tblpr, "w:tblW", _el("w:tblW", w=str(sum(_twips(w) for w in widths_mm)),
                                  type="dxa"))
    _replace(tblpr, "w:tblLayout", _el("w:tblLayout", type="fixed"))
    look = tblpr.find(qn("w:tblLook"))
    if look is not None:
        tblpr.remove(look)
    # A table style's borders are not read by every program: the grid is set on the table too.
    set_borders(table, width=0.8, sides=("top", "left", "bottom", "right", "inside"))
    grid = table_grid(table)
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(_twips(width)))
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.width = Mm(widths_mm[c])
            is_header = r < header_rows or c < header_cols
            if is_header and header_fill:
                shade(cell, header_fill)
            if c in no_wrap_cols:
                no_wrap(cell)
        if r < header_rows:
            trpr = row_properties(row)
            trpr.append(_el("w:tblHeader"))
    schema_order(table_element(table))
    return table


def write(cell: Cell, *lines: str, style: str | None = None, bold: bool | None = None,
          size: float | None = None, align: WD_ALIGN_PARAGRAPH | None = None) -> None:
    """Put ``lines`` into ``cell``, one paragraph each, in the named ``style``."""
    paragraphs = list(cell.paragraphs)
    for i, line in enumerate(lines):
        para = paragraphs[i] if i < len(paragraphs) else cell.add_paragraph()
        if style:
            para.style = style
        if align is not None:
            para.alignment = align
        run = para.add_run(line)
        if bold is not None:
            run.bold = bold
        if size:
            run.font.size = Pt(size)


def add_box(container: Any, width_mm: float, *, border: float = 1.0, color: str = "000000",
            style: str = "single", fill: str | None = None, padding_mm: tuple[float, float] = (
                1.5, 3.0)) -> Cell:
    """A bordered box (single-cell table) ``width_mm`` wide; returns its cell to write into.

    ``style`` is a Word border style: ``single``, ``dashed``, ``thick``, ``double``. The
    cell starts with one empty paragraph (use it first: ``cell.paragraphs[0]``).
    """
    table = add_table(container, 1, [width_mm], header_fill=None)
    set_borders(table, width=border, color=color, style=style,
                sides=("top", "left", "bottom", "right"))
    set_borders(table, style="nil", sides=("inside",))
    cell = table.cell(0, 0)
    set_cell_margins(cell, *padding_mm)
    if fill:
        shade(cell, fill)
    return cell

