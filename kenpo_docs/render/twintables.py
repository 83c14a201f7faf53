"""The twin's tables, boxes, columns, frames, pictures, form fields and masthead (a part of
:class:`kenpo_docs.render.twin.Twin`, kept apart to keep each module short)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from kenpo_docs.gates._docx import (
    cell_properties,
    new_element,
    paragraph_element,
    paragraph_properties,
    picture_inline,
    row_properties,
)
from kenpo_docs.render import docxstyle as ds
from kenpo_docs.render.boxstyle import (
    _PPR_ORDER,
    PX_MM,
    PX_PT,
    Layout,
    _borders,
    _fill,
    _length,
    _order,
    _tag,
    _walk,
)
from kenpo_docs.render.docxfields import _el


class TablesMixin:
    """Tables and the blocks drawn as tables; :class:`~kenpo_docs.render.twin.Twin` supplies
    the text flow (``flow``, ``block``) and the page breaks (``_set_break``)."""

    layout: Layout
    doc: Any
    framed: set[int]
    allowed: tuple[Path, ...]

    def flow(self, el: Any, container: Any, *, top: bool = False) -> None:
        raise NotImplementedError

    def block(self, el: Any, container: Any, *, top: bool) -> None:
        raise NotImplementedError

    def _set_break(self, para: Any, el: Any, top: bool) -> None:
        raise NotImplementedError

    @staticmethod
    def _order_ppr(ppr: Any) -> None:
        _order(ppr, _PPR_ORDER)

    def _paragraph_box(self, para: Any, box: Any, borders: dict[str, Any],
                       fill: str | None) -> None:
        from docx.shared import Mm

        ppr = paragraph_properties(para)
        pads = {s: float(getattr(box, f"padding_{s}")) * PX_PT
                for s in ("top", "right", "bottom", "left")}
        if fill:
            # Word shades a paragraph between its indents, widened only by the space of its
            # borders: a hairline in the fill's own colour on a side without a border carries
            # the shading out to the box's edge over the padding.
            borders = dict(borders)
            for side in ("left", "right"):
                if side not in borders and pads[side] > 0:
                    borders[side] = (0.25, "single", fill)
        if borders:
            pbdr = new_element("w:pBdr")
            for side in ("top", "left", "bottom", "right"):
                if side in borders:
                    width, kind, color = borders[side]
                    pbdr.append(_el(f"w:{side}", val=kind, sz=str(max(2, round(width * 8))),
                                       space=str(min(31, round(pads[side]))), color=color))
            ppr.append(pbdr)
        if fill:
            ppr.append(_el("w:shd", val="clear", color="auto", fill=fill))
        # The border sits outside the text by its padding: indent the text to keep it inside.
        fmt = para.paragraph_format
        fmt.left_indent = Mm((pads["left"] / PX_PT + float(box.border_left_width)) * PX_MM)
        fmt.right_indent = Mm((pads["right"] / PX_PT + float(box.border_right_width)) * PX_MM)
        # Padding above and below a one-line box without top and bottom borders (a shaded
        # band: an FAQ question, a STEP head) has nowhere to go in Word but the line itself.
        lines = [c for c in getattr(box, "children", ()) if type(c).__name__ == "LineBox"]
        vertical = pads["top"] * ("top" not in borders) + pads["bottom"] * (
            "bottom" not in borders)
        if len(lines) == 1 and vertical:
            from docx.shared import Pt

            fmt.line_spacing = Pt(float(lines[0].height) * PX_PT + vertical)
        elif not fill:  # unshaded: the padding is space above and below
            from docx.shared import Pt

            if "top" not in borders:
                fmt.space_before = Pt((fmt.space_before.pt if fmt.space_before else 0)
                                      + pads["top"])
            if "bottom" not in borders:
                fmt.space_after = Pt((fmt.space_after.pt if fmt.space_after else 0)
                                     + pads["bottom"])
        self._order_ppr(ppr)

    # -- tables and boxes -----------------------------------------------------------------
    def table(self, el: Any, container: Any, *, top: bool) -> None:
        from docx.enum.table import WD_ROW_HEIGHT_RULE
        from docx.shared import Mm

        tbox = self.layout.find(el, "TableBox")
        widths = [w * PX_MM for w in tbox.column_widths]
        rows: list[tuple[Any, bool]] = []
        for part in el:
            if not isinstance(part.tag, str):
                continue
            tag = _tag(part)
            if tag == "tr":
                rows.append((part, False))
            elif tag in ("thead", "tbody", "tfoot"):
                rows += [(r, tag == "thead") for r in part if _tag(r) == "tr"]
        table = ds.add_table(container, len(rows), widths, header_fill=None)
        ds.set_borders(table, style="nil", sides=("top", "left", "bottom", "right", "inside"))
        # border-collapse: the table's own border (a form's thick frame) wins on the edges.
        table_borders = _borders(tbox.style)
        taken: set[tuple[int, int]] = set()
        first_para = None
        for r, (row_el, head) in enumerate(rows):
            c = 0
            row = table.rows[r]
            rbox = self.layout.box(row_el)
            if rbox is not None:
                row.height = Mm(float(rbox.height) * PX_MM)
                row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
            trpr = row_properties(row)
            trpr.append(new_element("w:cantSplit"))
            if head:
                trpr.append(new_element("w:tblHeader"))
            for cell_el in row_el:
                if not isinstance(cell_el.tag, str) or _tag(cell_el) not in ("td", "th"):
                    continue
                while (r, c) in taken:
                    c += 1
                span = int(cell_el.get("colspan", 1))
                rspan = int(cell_el.get("rowspan", 1))
                for dr in range(rspan):
                    for dc in range(span):
                        taken.add((r + dr, c + dc))
                cell = table.cell(r, c)
                if span > 1 or rspan > 1:
                    cell = cell.merge(table.cell(r + rspan - 1, c + span - 1))
                edges = {"top": r == 0, "bottom": r + rspan == len(rows),
                         "left": c == 0, "right": c + span == len(widths)}
                self.cell(cell_el, cell, outer={side: table_borders[side]
                                                for side, on in edges.items()
                                                if on and side in table_borders})
                if first_para is None:
                    first_para = cell.paragraphs[0]
                c += span
        if first_para is not None:
            self._set_break(first_para, el, top)
        # break-inside: avoid → keep the rows on one page.
        if self.layout.box(el).style["break_inside"] in ("avoid", "avoid-page"):
            for row in table.rows[:-1]:
                for cell in row.cells:
                    for para in cell.paragraphs:
                        para.paragraph_format.keep_with_next = True

    def cell(self, el: Any, cell: Any, outer: dict[str, Any] | None = None) -> None:
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT as V

        box = self.layout.box(el)
        if box is None:
            return
        style = box.style
        borders = _borders(style)
        for side, border in (outer or {}).items():
            if side not in borders or border[0] > borders[side][0]:
                borders[side] = border
        for side in ("top", "left", "bottom", "right"):
            if side in borders:
                width, kind, color = borders[side]
                ds.set_borders(cell, width=width, style=kind, color=color, sides=(side,))
            else:
                ds.set_borders(cell, style="nil", sides=(side,))
        fill = _fill(style)
        if fill:
            ds.shade(cell, fill)
        # The computed padding: the laid-out one has vertical-align's offset added.
        pads = [_length(style[f"padding_{s}"], float(box.width)) * PX_MM
                for s in ("top", "left")]
        indent = 0.0
        if pads[1] > 5:  # a large padding (an arrow column): an indent, as Word lays it out
            indent, pads[1] = pads[1], 0.0
        ds.set_cell_margins(cell, pads[0], pads[1])
        cell.vertical_alignment = {"middle": V.CENTER, "bottom": V.BOTTOM}.get(
            str(style["vertical_align"]), V.TOP)
        lines = [b for b in _walk(box) if type(b).__name__ == "LineBox"]
        if any(b.style["white_space"] == "nowrap" for b in _walk(box)) or len(lines) == 1:
            ds.no_wrap(cell)  # what the PDF sets on one line (a date) stays on one line
        self.framed.add(id(el))
        self.flow(el, cell)
        self._tidy(cell)
        if indent:
            from docx.shared import Mm

            for para in cell.paragraphs:
                para.paragraph_format.left_indent = Mm(indent)

    @staticmethod
    def _tidy(cell: Any) -> None:
        """Drop the empty first paragraph python-docx puts in a new cell, if unused."""
        paras = cell.paragraphs
        if len(paras) > 1 and not paras[0].runs and not paragraph_element(paras[0]).findall(
                ".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sdt"):
            first = paragraph_element(paras[0])
            first.getparent().remove(first)

    def box_table(self, el: Any, box: Any, container: Any, *, top: bool) -> None:
        borders = _borders(box.style)
        width, kind, color = (borders.get("top") or next(iter(borders.values()))
                              if borders else (0.0, "nil", "000000"))
        cell = ds.add_box(container, float(box.border_width()) * PX_MM, border=width or 0.25,
                          color=color, style=kind if borders else "nil",
                          fill=_fill(box.style),
                          padding_mm=(float(box.padding_top) * PX_MM,
                                      float(box.padding_left) * PX_MM))
        self.framed.add(id(el))
        self.flow(el, cell)
        self._tidy(cell)
        self._set_break(cell.paragraphs[0], el, top)

    def columns(self, el: Any, box: Any, items: list[Any], container: Any, *,
                top: bool) -> None:
        """Flex items side by side: a borderless table, one cell per item, each cell as wide
        as the item plus its share of the gap and the container's padding."""
        left = float(box.position_x) + float(box.margin_left) + float(box.border_left_width)
        end = left + float(box.padding_width())
        bounds = []
        for item in items:
            ibox = self.layout.box(item)
            start = float(ibox.position_x)
            bounds.append((start, start + float(ibox.margin_width())))
        edges = [left] + [(bounds[i][1] + bounds[i + 1][0]) / 2
                          for i in range(len(bounds) - 1)] + [end]
        widths = [(edges[i + 1] - edges[i]) * PX_MM for i in range(len(items))]
        table = ds.add_table(container, 1, widths, header_fill=None)
        ds.set_borders(table, style="nil", sides=("top", "left", "bottom", "right", "inside"))
        pad_v = float(box.padding_top) * PX_MM
        for i, (item, cell) in enumerate(zip(items, table.rows[0].cells, strict=True)):
            ibox = self.layout.box(item)
            ds.set_cell_margins(cell, pad_v, 0)
            mar = cell_properties(cell).find(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tcMar")
            for side, value in (("left", bounds[i][0] - edges[i]),
                                ("right", edges[i + 1] - bounds[i][1])):
                mar.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
                         + side).set(
                    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w",
                    str(round(value * PX_MM / 25.4 * 1440)))
            self.block(item, cell, top=False)
            self._tidy(cell)
        self._set_break(table.cell(0, 0).paragraphs[0], el, top)

    # -- positioned content, pictures, fields ---------------------------------------------
    def frame(self, el: Any, box: Any, container: Any) -> None:
        start = len(container.paragraphs)
        self.flow(el, container)
        # The frame is the border box; a paragraph border is drawn inside it, its padding
        # as the border's distance from the text.
        x = (float(box.position_x) + float(box.margin_left)) * PX_MM
        y = (float(box.position_y) + float(box.margin_top)) * PX_MM
        width = float(box.border_width()) * PX_MM + 1  # rounding room: never wrap what fits
        for para in container.paragraphs[start:]:
            para.paragraph_format.left_indent = para.paragraph_format.right_indent = None
            ds.add_frame(para, x_mm=x, y_mm=y, width_mm=width)
            self._order_ppr(paragraph_properties(para))

    def svg(self, el: Any, para: Any) -> None:
        """Rectangles of an inline SVG (the customer barcode) as a 600 dpi PNG picture."""
        from docx.shared import Mm
        from PIL import Image, ImageDraw

        box = self.layout.box(el)
        if box is None:
            return
        view = [float(v) for v in (el.get("viewBox") or "0 0 1 1").split()]
        w_mm, h_mm = float(box.width) * PX_MM, float(box.height) * PX_MM
        dpi = 600
        size = (max(1, round(w_mm / 25.4 * dpi)), max(1, round(h_mm / 25.4 * dpi)))
        image = Image.new("1", size, 1)
        draw = ImageDraw.Draw(image)
        sx, sy = size[0] / view[2], size[1] / view[3]
        for rect in el.iter():
            if _tag(rect) != "rect":
                continue
            fill = rect.get("fill") or "#000"
            parent_black = fill not in ("#fff", "#ffffff", "white")
            if not parent_black:
                continue
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
            draw.rectangle([round((x - view[0]) * sx), round((y - view[1]) * sy),
                            round((x - view[0] + w) * sx) - 1,
                            round((y - view[1] + h) * sy) - 1], fill=0)
        png = io.BytesIO()
        image.save(png, format="PNG", dpi=(dpi, dpi))
        png.seek(0)
        _no_wrap_distance(para.add_run().add_picture(png, width=Mm(w_mm), height=Mm(h_mm)))

    def image(self, el: Any, box: Any, para: Any) -> None:
        from docx.shared import Mm

        src = urlparse(el.get("src") or "")
        if box is None or src.scheme != "file":
            return
        path = Path(unquote(src.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.allowed) or not path.is_file():
            return
        _no_wrap_distance(para.add_run().add_picture(str(path),
                                                     width=Mm(float(box.width) * PX_MM)))

    def input(self, el: Any, box: Any, para: Any) -> None:
        kind = (el.get("type") or "text").lower()
        if kind == "checkbox":
            ds.add_checkbox(para, checked=el.get("checked") is not None, size=12)
        else:
            ds.add_text_field(para, el.get("value") or "", title=el.get("title") or "",
                              size=float(box.style["font_size"]) * PX_PT if box else None)

    def header(self, el: Any) -> None:
        texts = [" ".join((c.text or "").split()) for c in el if isinstance(c.tag, str)]
        if len(texts) < 2:
            texts = [" ".join("".join(el.itertext()).split()), ""]
        para = ds.add_header(self.doc, series_title=texts[0],
                             number=" ".join(texts[1:-1]), date=texts[-1],
                             first_page_only=True)
        # The masthead sits where the PDF prints it: at the top margin, its margin below.
        from docx.shared import Mm

        box = self.layout.box(el)
        section = self.doc.sections[0]
        section.header_distance = section.top_margin
        para.paragraph_format.space_after = Mm(float(box.margin_bottom) * PX_MM)


def _has_page_numbers(layout: Layout) -> bool:
    """Whether the PDF prints something in a page's margin boxes (print.css: 「1 / 5」)."""
    for box in _walk(layout.page):
        if type(box).__name__ == "MarginBox" and getattr(box, "children", None):
            return True
    return False


def _no_wrap_distance(picture: Any) -> None:
    """A picture's distance from the text, 0 as in the PDF: python-docx leaves it out, which
    Word reads as 0 and LibreOffice as 3.2 mm (a barcode shifted in the window)."""
    for side in ("distT", "distB", "distL", "distR"):
        picture_inline(picture).set(side, "0")
