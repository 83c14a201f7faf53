"""The notice tree as a Word document in the house styles (never a second hand-kept file).

The document starts from :func:`house_style_document`: the shared house Word settings
(:func:`kenpo_docs.render.docxstyle.apply_house_style`: Title, Heading 1-3, fonts, ja-JP)
plus the notice styles staff write with, which Japanese Word shows by these names:

==============  ===========================================================
style           what it is (the Markdown it reads back to)
==============  ===========================================================
Title           表題 (``#``)
Heading 1, 2    見出し 1, 見出し 2 (``##``, ``###``; Heading 3 ``####``)
Body Text       本文 (a paragraph)
囲み            a bordered box (``::: box``)
注記            a note in small print (``::: note``)
手順            a step's title, STEP１ … (``::: steps``); 本文 under it is the step
質問, 回答      a question and its answer (``::: faq``)
照会先          the contact box (``::: contact``); a line 【添付資料】 starts another
==============  ===========================================================

``templates/notices/house-style.docx`` is this document with an example of each style,
written by ``templates/notices/make_house_style.py``; staff start their Word notice from
it. Reading such a file back: :mod:`kenpo_docs.documents.notice_word`.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Mm, Pt, RGBColor

from kenpo_docs.documents.noticetree import (
    Block,
    Box,
    Faq,
    Heading,
    Image,
    ListBlock,
    NoticeDoc,
    PageBreak,
    Paragraph,
    Run,
    Runs,
    Steps,
    Table,
)
from kenpo_docs.domain.era import format_short
from kenpo_docs.gates._docx import new_element, qn, style_paragraph_properties
from kenpo_docs.render import docxstyle
from kenpo_docs.render.notice_html import header_spans, step_badge

BODY = "Body Text"
#: The notice styles of :func:`house_style_document`, by what they mark.
STYLES = {"box": "囲み", "note": "注記", "step": "手順", "question": "質問",
          "answer": "回答", "contact": "照会先"}
TEXT_WIDTH_MM = 178.0
_BLUE = RGBColor.from_string(docxstyle.BLUE.upper())


def _borders(style: Any, width: float, color: str = "000000", kind: str = "single") -> None:
    ppr = style_paragraph_properties(style)
    pbdr = new_element("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        el = new_element(f"w:{side}")
        el.set(qn("w:val"), kind)
        el.set(qn("w:sz"), str(round(width * 8)))
        el.set(qn("w:space"), "4")
        el.set(qn("w:color"), color)
        pbdr.append(el)
    ppr.insert(0, pbdr)


def _fill(style: Any, color: str) -> None:
    shd = new_element("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), color)
    style_paragraph_properties(style).append(shd)


def _paragraph_style(document: Any, name: str, *, size: float = 10, bold: bool = False,
                     indent_mm: float = 0, before: float = 0, after: float = 1.5) -> Any:
    from docx.enum.style import WD_STYLE_TYPE

    try:
        style = document.styles[name]
    except KeyError:
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.left_indent = Mm(indent_mm) if indent_mm else None
    fmt.space_before, fmt.space_after = Pt(before), Pt(after * 72 / 25.4)
    return style


def house_style_document(*, author: str, title: str | None = None) -> Any:
    """A new document with the house Word settings and the notice styles (see the module)."""
    document = docx.Document()
    docxstyle.apply_house_style(document, author=author, title=title)
    body = _paragraph_style(document, BODY)
    body.paragraph_format.first_line_indent = Pt(10)
    box = _paragraph_style(document, STYLES["box"], indent_mm=1.5)
    _borders(box, 1.0)
    _paragraph_style(document, STYLES["note"], size=9, indent_mm=3.5, after=0.8)
    step = _paragraph_style(document, STYLES["step"], size=12, bold=True, before=6)
    _borders(step, 1.2, docxstyle.BLUE)
    _fill(step, "E3ECF7")
    step.paragraph_format.keep_with_next = True
    question = _paragraph_style(document, STYLES["question"], bold=True, before=6)
    _fill(question, "E3ECF7")
    question.font.color.rgb = None
    question.paragraph_format.keep_with_next = True
    _paragraph_style(document, STYLES["answer"], indent_mm=0)
    contact = _paragraph_style(document, STYLES["contact"], indent_mm=1.5, after=0.5)
    _borders(contact, 0.8)
    emphasis = document.styles["Emphasis"]
    emphasis.font.italic = False
    emphasis.font.underline = True
    document.styles["Strong"].font.bold = True
    return document


def _runs(paragraph: Any, runs: Runs) -> None:
    for run in runs:
        if run.text == "\n":
            paragraph.add_run().add_break()
            continue
        style = "Strong" if run.strong else "Emphasis" if run.em else None
        paragraph.add_run(run.text, style=style)


def notice_docx(doc: NoticeDoc, *, number: int, date: Date, title: str, series_title: str,
                inserts: Path, author: str | None = None) -> bytes:
    """The notice as DOCX bytes: the masthead as the page header, page numbers in the
    footer, the title in 表題 and every block in its house style."""
    if author is None:
        from kenpo_docs.domain.facts import insurer

        author = insurer().name
    document = house_style_document(author=author, title=title)
    docxstyle.add_header(document, series_title=series_title, number=f"（第{number}号）",
                         date=format_short(date))
    docxstyle.add_page_numbers(document)
    document.add_paragraph(title, style="Title")
    _Writer(document, inserts).blocks(doc.blocks, document)
    return docxstyle.save_reproducible(document, when=datetime(date.year, date.month, date.day))


#: The example text of ``templates/notices/house-style.docx``: one paragraph in each style.
EXAMPLE = """\
## 見出し 1: 大きな区切り（「見出し 1」スタイル）

本文のスタイルは「本文」です。Enter で改行すると次の段落になります。**太字**は強調として印刷します。

### 見出し 2: 小さな区切り（「見出し 2」スタイル）

| 項目 | 内容（表は Word の表のまま。1行目を見出し行にしてください） |
|------|------------|
| **対象者** | 新規加入者 |

::: box
「囲み」スタイルの段落は枠で囲んで印刷します。
:::

::: note
※「注記」スタイルの段落は小さな文字で印刷します。
:::

::: steps
**「手順」スタイルの段落は STEP１、STEP２…の見出しです**
その下の本文が、その手順の中身です。
:::

::: faq
Q1 「質問」スタイルの段落が質問です。
A1 「回答」スタイルの段落が回答です。
:::

::: contact
「照会先」スタイルの段落は照会先の枠に入ります。電話番号 {{ contact.phone }}
:::
"""


def house_style_template(*, author: str, series_title: str) -> bytes:
    """``templates/notices/house-style.docx``: the house styles with an example of each,
    for staff to start a Word notice from (``make_house_style.py`` writes it)."""
    from kenpo_docs.documents.notice_markdown import parse_markdown

    document = house_style_document(author=author, title="（表題）")
    docxstyle.add_header(document, series_title=series_title, number="（第　号）",
                         date="（日付）")
    docxstyle.add_page_numbers(document)
    document.add_paragraph("（表題: 「表題」スタイル。印刷では登録簿の表題が入ります）",
                           style="Title")
    _Writer(document, Path(".")).blocks(parse_markdown(EXAMPLE).blocks, document)
    return docxstyle.save_reproducible(document)  # dated 2000-01-01 by apply_house_style


def _cell(cell: Any, runs: Runs, *, centred: bool = False) -> None:
    """A table cell's text, a paragraph per line (a line break in a justified paragraph
    would spread its characters across the cell), aligned left or centred."""
    lines: list[list[Run]] = [[]]
    for run in runs:
        if run.text == "\n":
            lines.append([])
        else:
            lines[-1].append(run)
    for i, line in enumerate(lines):
        para = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
        _runs(para, tuple(line))


def _width_mm(path: Path) -> float:
    """A picture's natural width at 96 dpi (screenshots), never wider than the text."""
    from PIL import Image as PILImage

    with PILImage.open(path) as im:
        return float(im.width) * 25.4 / 96


class _Writer:
    def __init__(self, document: Any, inserts: Path) -> None:
        self.document = document
        self.inserts = inserts

    def blocks(self, blocks: tuple[Block, ...], where: Any, style: str = BODY) -> None:
        for block in blocks:
            self.block(block, where, style)

    def block(self, block: Block, where: Any, style: str) -> None:
        if isinstance(block, Heading):
            _runs(where.add_paragraph(style=f"Heading {block.level}"), block.runs)
        elif isinstance(block, Paragraph):
            _runs(where.add_paragraph(style=style), block.runs)
        elif isinstance(block, PageBreak):
            where.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif isinstance(block, Image):
            self.image(block, where)
        elif isinstance(block, ListBlock):
            kind = "List Number" if block.ordered else "List Bullet"
            for item in block.items:
                self.blocks(item, where, kind)
        elif isinstance(block, Table):
            self.table(block, where)
        elif isinstance(block, Box):
            name = STYLES["box" if block.kind == "box" else block.kind]
            if block.kind == "contact":
                where.add_paragraph(f"【{block.label}】", style=name)
            self.blocks(block.blocks, where, name)
        elif isinstance(block, Steps):
            for i, step in enumerate(block.steps, start=1):
                para = where.add_paragraph(style=STYLES["step"])
                para.add_run(step_badge(i) + "　")
                _runs(para, step.title)
                self.blocks(step.blocks, where, BODY)
        elif isinstance(block, Faq):
            for pair in block.pairs:
                para = where.add_paragraph(f"{pair.q_label}　", style=STYLES["question"])
                _runs(para, pair.question)
                for j, answer in enumerate(pair.answer):
                    if j == 0 and isinstance(answer, Paragraph):
                        para = where.add_paragraph(f"{pair.a_label}　", style=STYLES["answer"])
                        _runs(para, answer.runs)
                    else:
                        self.block(answer, where, STYLES["answer"])

    def image(self, block: Image, where: Any) -> None:
        path = self.inserts / block.src
        if not path.is_file() or path.suffix.lower() == ".svg":
            where.add_paragraph(f"［画像: {block.alt}］", style=BODY)  # shown, never dropped
            return
        run = where.add_paragraph(style="Normal").add_run()
        run.add_picture(str(path), width=Mm(min(TEXT_WIDTH_MM, _width_mm(path))))
        doc_pr = self.document.element.xpath("//wp:docPr")[-1]  # the picture just added
        doc_pr.set("descr", block.alt)
        doc_pr.set("title", block.alt)

    def table(self, block: Table, where: Any) -> None:
        cols = max(len(r) for r in ((block.header or ()), *block.rows))
        weights = list(block.widths or (1,) * cols)[:cols]
        weights += [1] * (cols - len(weights))
        widths = [TEXT_WIDTH_MM * w / sum(weights) for w in weights]
        header = block.header is not None
        table = docxstyle.add_table(where, len(block.rows) + int(header), widths,
                                    header_rows=int(header))
        offset = 0
        if block.header is not None:
            col = 0
            for cell, span in header_spans(block.header):
                target = table.cell(0, col)
                if span > 1:
                    target = target.merge(table.cell(0, col + span - 1))
                _cell(target, tuple(Run(r.text, True, r.em) for r in cell.runs), centred=True)
                col += span
            offset = 1
        for r, row in enumerate(block.rows):
            for c, cell in enumerate(row[:cols]):
                target = table.cell(r + offset, c)
                if cell.header:
                    docxstyle.shade(target, "F4F4F4")
                _cell(target, tuple(Run(r.text, r.strong or cell.header, r.em)
                                    for r in cell.runs))
        # An empty paragraph after the table, as Word needs between two tables.
        where.add_paragraph(style="Normal")
