"""The Word twin of a printed document: the same HTML, laid out once, written as DOCX.

A DOCX kept beside the HTML drifts from it (issue 22 found every table in equal columns,
the boxes gone, the page breaks elsewhere). Here the twin is derived from what WeasyPrint
lays out for the PDF: the document's element tree gives the structure and the text, and
each element's laid-out box gives what the stylesheet made of it (its computed style, its
size and the page it starts on). Written with the house styles of
:mod:`kenpo_docs.render.docxstyle`:

* ``h1`` → Title (表題), ``h2`` → Heading 1 (見出し 1; Banner when it has a background),
  ``h3`` → Heading 2, ``h4`` → Heading 3; other text → Normal (9 pt text → Note), with the
  size, weight, colour, alignment and indent the stylesheet gives it.
* tables → Word tables with the laid-out column widths, each cell's borders, shading,
  padding, alignment and at least its laid-out row height; ``thead`` rows repeat.
* a block with a border or background and block content → a bordered single-cell table
  (a box); a block of text with a border or background → a bordered, shaded paragraph; a
  row of flex items with block content → a borderless table of those columns; an inline
  element boxed on all sides (a check box, a label) → a character border.
* empty blocks drawn only by their borders (the notice's arrows) → an arrow glyph.
* absolutely positioned blocks (a letter's window and sender) → Word frames at their
  laid-out place on the page; inline SVG made of rectangles (the customer barcode) → a
  PNG picture of its laid-out size; ``<img>`` of a template file → a picture.
* ``input`` check boxes (the fillable form) → check box content controls, text inputs →
  plain text content controls holding their value.
* a page break wherever the PDF starts a new page; the page margins of the first page;
  page numbers in the footer when the PDF prints them.

The box attributes read here (``element``, ``style``, ``position_x`` …) are WeasyPrint's
undocumented layout API, as in :mod:`kenpo_docs.shapes.slots`; the page box comes through
:mod:`kenpo_docs.gates._weasyprint` and the version is pinned there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Any

from kenpo_docs.gates._docx import (
    new_element,
    paragraph_element,
    paragraph_properties,
    run_fonts,
    run_properties,
)
from kenpo_docs.paths import fonts_dir
from kenpo_docs.render import docxstyle as ds
from kenpo_docs.render.boxstyle import (
    _BLOCKS,
    _HEADINGS,
    _RPR_ORDER,
    _SPACE,
    PX_MM,
    PX_PT,
    Layout,
    _arrow,
    _borders,
    _fill,
    _length,
    _line_height,
    _order,
    _rgb,
    _tag,
)
from kenpo_docs.render.docxfields import _el
from kenpo_docs.render.options import RenderOptions
from kenpo_docs.render.twintables import TablesMixin, _has_page_numbers

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


class Twin(TablesMixin):
    """Writes one laid-out document as DOCX (see the module docstring)."""

    def __init__(self, layout: Layout, *, author: str, title: str, header_class: str | None,
                 page_numbers: bool, created: datetime | None,
                 allowed: tuple[Path, ...] = ()) -> None:
        import docx

        self.layout = layout
        self.doc = docx.Document()
        page = layout.page
        margins = tuple(float(getattr(page, f"margin_{s}")) * PX_MM
                        for s in ("top", "right", "bottom", "left"))
        ds.apply_house_style(self.doc, author=author, title=title, created=created,
                             margins_mm=margins)  # type: ignore[arg-type]
        self.header_class = header_class
        self.page_numbers = page_numbers
        self.allowed = allowed
        self.page = 0
        self._heading_run: dict[str, Any] = {}
        self._explicit_runs = False
        #: The blocks before and after the one being written (for margins around tables).
        self._around: tuple[Any, Any] = (None, None)
        #: Elements whose border, background and padding a Word table cell already draws.
        self.framed: set[int] = set()

    # -- entry ----------------------------------------------------------------------------
    def build(self) -> bytes:
        root = self.layout.root
        body = next(c for c in root if _tag(c) == "body")
        self.flow(body, self.doc, top=True)
        if self.page_numbers:
            ds.add_page_numbers(self.doc)
        ds.order_document(self.doc)  # Word refuses properties out of the schema's order
        return ds.save_reproducible(self.doc)  # dated by apply_house_style (the as-of date)

    # -- blocks ---------------------------------------------------------------------------
    def is_block(self, el: Any) -> bool:
        box = self.layout.box(el)
        return box is not None and (type(box).__name__ in _BLOCKS
                                    or box.style["position"] in ("absolute", "fixed"))

    def flow(self, el: Any, container: Any, *, top: bool = False) -> None:
        """Write ``el``'s content: runs of inline content as paragraphs, blocks in turn."""
        pending: list[tuple[str, Any]] = []  # ("text", (text, element)) or ("el", element)

        def flush() -> None:
            if pending:
                self.paragraph(el, list(pending), container, top=top)
                pending.clear()

        if el.text:
            pending.append(("text", (el.text, el)))
        shown = [c for c in el if isinstance(c.tag, str) and self.layout.box(c) is not None
                 and self.is_block(c)]
        for child in el:
            if not isinstance(child.tag, str):
                if child.tail:
                    pending.append(("text", (child.tail, el)))
                continue
            if self.layout.box(child) is None and _tag(child) != "br":
                pass  # not displayed
            elif self.is_block(child):
                flush()
                i = shown.index(child)
                self._around = (shown[i - 1] if i else None,
                                shown[i + 1] if i + 1 < len(shown) else None)
                self.block(child, container, top=top)
            else:
                pending.append(("el", child))
            if child.tail:
                pending.append(("text", (child.tail, el)))
        flush()

    def _page_break(self, el: Any, top: bool) -> bool:
        page = self.layout.page_of(el)
        if not top or page is None or page <= self.page:
            return False
        self.page = page
        return True

    def block(self, el: Any, container: Any, *, top: bool) -> None:
        box = self.layout.box(el)
        style = box.style
        tag = _tag(el)
        classes = (el.get("class") or "").split()
        if self.header_class and self.header_class in classes and top and self.page == 0:
            self.header(el)
            return
        if style["position"] in ("absolute", "fixed"):
            self.frame(el, box, container)
            return
        if tag == "table":
            self._gap(container, el, after=False)
            self.table(el, container, top=top)
            self._gap(container, el, after=True)
            return
        if tag == "svg":  # a picture on a line of its own (the customer barcode)
            from docx.shared import Mm, Pt

            para = container.add_paragraph()
            self.svg(el, para)
            fmt = para.paragraph_format
            fmt.space_before = Mm(float(box.margin_top) * PX_MM)
            fmt.space_after = Mm(float(box.margin_bottom) * PX_MM)
            fmt.line_spacing = Pt(float(box.height) * PX_PT + 1)
            fmt.line_spacing_rule = 4
            return
        children = [c for c in el if isinstance(c.tag, str) and self.layout.box(c) is not None]
        block_children = [c for c in children if self.is_block(c)]
        inline_text = (el.text or "").strip() or any(
            not self.is_block(c) for c in children) or any((c.tail or "").strip()
                                                              for c in children)
        if not children and not (el.text or "").strip():
            self.empty(el, box, container, top=top)
            return
        if type(box).__name__ == "FlexBox" and style["flex_direction"] == "row" \
                and len(block_children) < len(children) + 1 and block_children \
                and all(self._text_only(c) for c in block_children):
            self.hanging(el, box, block_children[0], container, top=top)
            return
        if type(box).__name__ == "FlexBox" and block_children and not inline_text \
                and (len(block_children) > 1 or float(box.padding_left) > 0) \
                and style["flex_direction"] == "row":
            self._gap(container, el, after=False)
            self.columns(el, box, block_children, container, top=top)
            self._gap(container, el, after=True)
            return
        if block_children and (_borders(style) or _fill(style)):
            self._gap(container, el, after=False)
            self.box_table(el, box, container, top=top)
            self._gap(container, el, after=True)
            return
        wrapper = bool(block_children) and not inline_text and _tag(el) == "div"
        if wrapper:  # a plain <div> around blocks: its margins, which no paragraph carries
            self._gap(container, el, after=False)
        self.flow(el, container, top=top)
        if wrapper:
            self._gap(container, el, after=True)
        if style["height"] != "auto" and all(
                self.layout.box(c).style["position"] in ("absolute", "fixed")
                for c in block_children) and not inline_text:
            self.spacer(box, container)

    def _text_only(self, el: Any) -> bool:
        return not any(isinstance(c.tag, str) and self.is_block(c) for c in el.iter()
                       if c is not el) and _tag(el) not in ("table", "svg")

    def hanging(self, el: Any, box: Any, label: Any, container: Any, *, top: bool) -> None:
        """A flex row of text items (an FAQ's 「Q1」 then the question): one paragraph, the
        first item hanging in its laid-out width, the rest after a tab."""
        from docx.shared import Mm

        items: list[tuple[str, Any]] = []
        for child in el:
            if not isinstance(child.tag, str):
                continue
            items.append(("el", child))
            if child is label:
                items.append(("text", ("\t", el)))
            if child.tail and child.tail.strip():
                items.append(("text", (child.tail, el)))
        self.paragraph(el, items, container, top=top)
        para = container.paragraphs[-1]
        width = float(self.layout.box(label).margin_width()) * PX_MM
        fmt = para.paragraph_format
        base = fmt.left_indent or 0
        fmt.left_indent = Mm(width) + base
        fmt.first_line_indent = -Mm(width)
        fmt.tab_stops.add_tab_stop(Mm(width) + base)

    def empty(self, el: Any, box: Any, container: Any, *, top: bool) -> None:
        """An element with no content: an arrow drawn with borders, or a fixed-height gap."""
        borders = _borders(box.style)
        if not borders:
            if box.style["height"] != "auto":
                self.spacer(box, container)
            return
        glyph, size, color = _arrow(box, borders)
        para = container.add_paragraph()
        para.paragraph_format.space_after = 0
        para.alignment = 1 if glyph in "▼⟶" else 0
        run = para.add_run(glyph)
        self._run_format(run, size=size, color=color, bold=None)
        self._set_break(para, el, top)

    def _gap(self, container: Any, el: Any, *, after: bool) -> None:
        """A table's margin (Word puts no space around a table): an empty paragraph that
        high, less what the neighbouring block's own margin adds (CSS margins collapse),
        none at a page's end or start. Also keeps two tables apart, which Word would join."""
        from docx.shared import Pt

        box = self.layout.box(el)
        other = self._around[1 if after else 0]
        px = float(box.margin_bottom if after else box.margin_top)
        if other is not None:
            obox = self.layout.box(other)
            px -= float(obox.margin_top if after else obox.margin_bottom)
            if after and (self.layout.page_of(other) or 0) > (self.layout.page_of(el) or 0):
                return
        if px * PX_MM < 0.3:
            return
        para = container.add_paragraph()
        fmt = para.paragraph_format
        fmt.space_before = fmt.space_after = 0
        fmt.line_spacing = Pt(float(px) * PX_PT)
        fmt.line_spacing_rule = 4  # exactly

    def spacer(self, box: Any, container: Any) -> None:
        from docx.shared import Pt

        para = container.add_paragraph()
        fmt = para.paragraph_format
        fmt.space_before = fmt.space_after = 0
        fmt.line_spacing = Pt(max(1.0, box.margin_height() * PX_PT))
        fmt.line_spacing_rule = 4  # exactly

    # -- paragraphs -----------------------------------------------------------------------
    def paragraph(self, el: Any, items: list[tuple[str, Any]], container: Any, *,
                  top: bool) -> None:
        texts = [i for i in items if i[0] == "el" or i[1][0].strip()]
        if not texts:
            return
        box = self.layout.box(el)
        style = box.style
        tag = _tag(el)
        para = container.add_paragraph()
        heading = _HEADINGS.get(tag)
        if heading == "Heading 1" and _fill(style):
            heading = "Banner"
        size = float(style["font_size"]) * PX_PT
        # A heading drawn as a box of its own (notice 539's STEP heads: h3 for the structure,
        # shaded and framed like the box they were): the named style says what it is, its
        # look comes from the layout run by run, as for any boxed paragraph.
        boxed_heading = heading not in (None, "Banner") and bool(_fill(style) or _borders(style))
        self._explicit_runs = boxed_heading
        if heading:
            para.style = self.doc.styles[heading]
            if not boxed_heading:
                self._heading_overrides(para, heading, style)
        elif abs(size - 9) < 0.05:
            para.style = self.doc.styles["Note"]
        styled_heading = heading is not None and not boxed_heading
        self._paragraph_format(para, el, box, styled_heading,
                               boxed=id(el) not in self.framed, boxed_heading=boxed_heading)
        pre = style["white_space"] in ("pre", "pre-line", "pre-wrap")
        first = [True]
        for kind, value in items:
            if kind == "text":
                text, owner = value
                self._text(para, text, owner, pre, first, styled_heading)
            else:
                self.inline(value, para, pre, first, styled_heading)
        self._explicit_runs = False
        # Trailing space of the last run.
        if para.runs and para.runs[-1].text.endswith(" "):
            para.runs[-1].text = para.runs[-1].text.rstrip(" ")
        fmt = para.paragraph_format
        if (_fill(style) or heading == "Banner") and fmt.space_before and \
                self.layout.page_of(el) == self.page and id(el) not in self.framed:
            # Word shades a paragraph's space before too (two banners ran into one): the
            # margin becomes an unshaded empty paragraph of that height above it.
            gap = container.add_paragraph()
            gap.paragraph_format.space_before = gap.paragraph_format.space_after = 0
            gap.paragraph_format.line_spacing = fmt.space_before
            gap.paragraph_format.line_spacing_rule = 4
            gap.paragraph_format.keep_with_next = True
            paragraph_element(para).addprevious(paragraph_element(gap))
            fmt.space_before = 0
        self._set_break(para, el, top)

    def _heading_overrides(self, para: Any, heading: str, style: Any) -> None:
        """Where the stylesheet sets a heading apart from the house style (a form's plain
        black title): its colour, size and borders on the paragraph."""
        from docx.shared import Pt

        word = self.doc.styles[heading]
        color = _rgb(style["color"])
        size = float(style["font_size"]) * PX_PT
        para.paragraph_format.alignment = {"center": 1, "right": 2}.get(
            str(style["text_align_all"]), 0)
        self._heading_run = {
            "color": color[0] if color and str(word.font.color.rgb).lower() != color[0]
            else None,
            "size": size if word.font.size is None or abs(word.font.size.pt - size) > 0.1
            else None,
        }
        if not _borders(style) and heading in ("Title", "Heading 1"):
            ppr = paragraph_properties(para)
            pbdr = new_element("w:pBdr")
            for side in ("top", "left", "bottom", "right"):
                pbdr.append(new_element(f"w:{side}", val="nil"))
            ppr.append(pbdr)
            para.paragraph_format.left_indent = Pt(0)
            self._order_ppr(ppr)

    def _set_break(self, para: Any, el: Any, top: bool) -> None:
        if self._page_break(el, top):
            para.paragraph_format.page_break_before = True

    def _paragraph_format(self, para: Any, el: Any, box: Any, heading: bool, *,
                          boxed: bool = True, boxed_heading: bool = False) -> None:
        from docx.shared import Mm, Pt

        style = box.style
        fmt = para.paragraph_format
        align = style["text_align_all"]
        # Line height and margins as laid out, headings included (their named style says
        # what they are; these say where the PDF put them).
        lines = [c for c in getattr(box, "children", ()) if type(c).__name__ == "LineBox"]
        line = _line_height(style)
        if style["height"] != "auto" and len(lines) == 1:
            line = max(line, float(box.height))  # a one-line box of fixed height
        elif heading and len(lines) == 1 and not _borders(style):
            line += float(box.padding_top) + float(box.padding_bottom)  # a banner's padding
        fmt.line_spacing = Pt(line * PX_PT)
        fmt.line_spacing_rule = 4
        fmt.space_before = Mm(float(box.margin_top) * PX_MM)
        fmt.space_after = Mm(float(box.margin_bottom) * PX_MM)
        if not heading:
            fmt.alignment = {"center": 1, "right": 2, "end": 2, "justify": 3}.get(
                str(align), 0)
            indent = _length(style["text_indent"], float(box.width))
            if indent:
                fmt.first_line_indent = Mm(indent * PX_MM)
            pad_left = float(box.padding_left) + float(box.border_left_width)
            if pad_left and boxed and not _borders(style):
                fmt.left_indent = Mm(pad_left * PX_MM)
        borders = _borders(style)
        fill = _fill(style)
        if boxed and (_tag(el) not in _HEADINGS or boxed_heading) and (borders or fill):
            self._paragraph_box(para, box, borders, fill)

    def _text(self, para: Any, text: str, owner: Any, pre: bool, first: list[bool],
              heading: bool) -> None:
        if text == "\t":
            para.add_run("\t")
            return
        if pre:
            lines = [_SPACE.sub(" ", line) for line in text.split("\n")]
        else:
            lines = [_SPACE.sub(" ", text)]
        box = self.layout.box(owner)
        for i, line in enumerate(lines):
            if first[0]:
                line = line.lstrip(" ")
            if i:
                para.add_run().add_break()
            if not line:
                continue
            first[0] = False
            run = para.add_run(line)
            if box is not None and not heading:
                self._style_run(run, box.style)
            elif heading and self._heading_run:
                self._run_format(run, size=self._heading_run["size"], bold=None,
                                 color=self._heading_run["color"])

    def _style_run(self, run: Any, style: Any) -> None:
        size = float(style["font_size"]) * PX_PT
        weight = int(style["font_weight"]) if str(style["font_weight"]).isdigit() else 400
        color = _rgb(style["color"])
        explicit = self._explicit_runs  # in a boxed heading: not the heading style's look
        self._run_format(run, size=size if explicit or abs(size - 10) > 0.05 else None,
                         bold=weight >= 600 if explicit else (True if weight >= 600 else None),
                         color=color[0] if color and color[0] != "000000" else None)
        if "Mincho" in (tuple(style["font_family"]) or ("",))[0]:  # .mincho: BIZ UD明朝
            fonts = run_fonts(run)
            for slot in ("ascii", "hAnsi", "eastAsia"):
                fonts.set(f"{{{_W}}}{slot}", ds.MINCHO)

    @staticmethod
    def _run_format(run: Any, *, size: float | None, bold: bool | None,
                    color: str | None) -> None:
        from docx.shared import Pt, RGBColor

        if size:
            run.font.size = Pt(round(size * 2) / 2)
        if bold is not None:
            run.bold = bold
        if color:
            run.font.color.rgb = RGBColor.from_string(color.upper())

    def inline(self, el: Any, para: Any, pre: bool, first: list[bool], heading: bool) -> None:
        tag = _tag(el)
        if tag == "br":
            para.add_run().add_break()
            return
        box = self.layout.box(el)
        if tag == "svg":
            self.svg(el, para)
            return
        if tag == "img":
            self.image(el, box, para)
            return
        if tag == "input":
            self.input(el, box, para)
            return
        if box is None:
            return
        if type(box).__name__ in _BLOCKS:  # a flex item set on the paragraph's line
            for child in el.iter():
                if child is not el and isinstance(child.tag, str):
                    break
            else:
                run = para.add_run(_SPACE.sub(" ", el.text or "").strip())
                self._style_run(run, box.style)
                first[0] = False
                return
        start = len(para.runs)
        if el.text:
            self._text(para, el.text, el, pre or box.style["white_space"] == "pre-line",
                       first, heading)
        for child in el:
            if isinstance(child.tag, str):
                self.inline(child, para, pre, first, heading)
            if child.tail:
                self._text(para, child.tail, el, pre, first, heading)
        borders = _borders(box.style)
        fill = _fill(box.style)
        runs = para.runs[start:]
        if not runs and set(borders) == {"bottom"}:  # a line to write on
            from docx.shared import Pt

            size = float(box.style["font_size"]) * PX_PT
            run = para.add_run("　" * max(1, round(float(box.width) * PX_PT / size)))
            run.font.underline = True
            run.font.size = Pt(size)
            first[0] = False
            return
        if not runs and borders and len(borders) < 4:  # an arrow drawn with a border
            glyph, size, color = _arrow(box, borders)
            run = para.add_run(glyph)
            self._run_format(run, size=size, bold=None, color=color)
            first[0] = False
            return
        if not runs and (borders or box.style["display"] != ("inline", "flow")):
            runs = [para.add_run("　")]  # an empty boxed element (a check box left blank)
            first[0] = False
        if len(borders) == 4 or fill:
            if float(box.padding_left) * PX_MM >= 1 and runs:  # a label's padding
                runs[0].text = "\u00a0" + runs[0].text
                runs[-1].text = runs[-1].text + "\u00a0"
            self._boxed_runs(runs, borders if len(borders) == 4 else {}, fill)
        if float(box.margin_right) * PX_MM >= 1 and runs:
            para.add_run("\u00a0")

    @staticmethod
    def _boxed_runs(runs: list[Any], borders: dict[str, Any], fill: str | None) -> None:

        for run in runs:
            rpr = run_properties(run)
            if borders:
                width, kind, color = borders["top"]
                rpr.append(_el("w:bdr", val=kind, sz=str(max(2, round(width * 8))),
                                  space="0", color=color))
            if fill:
                rpr.append(_el("w:shd", val="clear", color="auto", fill=fill))
            _order(rpr, _RPR_ORDER)


def render_docx_twin(
    template: str,
    context: Mapping[str, Any],
    *,
    options: RenderOptions | None = None,
    header_class: str | None = None,
) -> bytes:
    """Render ``template`` as the PDF would be laid out, and write its Word twin.

    The author and date are the PDF's (the insurer, the as-of date); the title is the
    HTML's ``<title>``. ``header_class``: the class of
    the masthead element that becomes the first page's header (notices: ``masthead``).

    Raises:
        TemplateError, RenderError: as :func:`~kenpo_docs.render.render_pdf` does.
    """
    from kenpo_docs.render.pdf import _document_meta, _root, render_document

    options = options or RenderOptions()
    document = render_document(template, context, options=options)
    layout = Layout(document)
    title = next((" ".join("".join(el.itertext()).split()) for el in layout.root.iter()
                  if isinstance(el.tag, str) and _tag(el) == "title"), "")
    when = datetime.combine(options.as_of, time()) if options.as_of else None
    twin = Twin(layout, author=_document_meta(options)["author"], title=title,
                header_class=header_class, page_numbers=_has_page_numbers(layout),
                created=when, allowed=(_root(options).resolve(), fonts_dir().resolve()))
    return twin.build()

