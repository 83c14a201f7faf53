"""A notice written in Word with the house styles, extracted as the notice's Markdown.

Staff write in Word from ``templates/notices/house-style.docx`` (表題, 見出し 1/2, 本文, 囲み,
注記, 手順, 質問, 回答, 照会先: :mod:`kenpo_docs.render.notice_docx`). :func:`read_word` turns
such a file into the notice's ``notice.md`` (and its pictures), so a Word notice and a
Markdown one are the same thing from there on: one structure, every format printed from it.
The Markdown is kept in the notice's folder beside the Word file, readable and reviewable.

python-docx reads the file (not mammoth): mammoth maps styles well but drops direct
formatting without a word, and the contract is to report every piece of it. What has no
house equivalent (a colour, a font or size set by hand, centring, an indent, an unknown
style) is a warning naming the paragraph (its number and first characters); bold is
強調 (``**``), italic and underline 強調 of the second kind (``*``); tables (with their
header row, merged header cells and column widths) and pictures (with their alt text)
are kept. Jinja in the text (``{{ contact.phone }}``, a table row ``{% for p in periods %}``)
passes through unchanged.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from kenpo_docs.errors import TemplateError

#: Paragraph style names (as Word stores them, and as Japanese Word shows them) → kind.
KINDS = {
    "title": "title", "表題": "title",
    "heading 1": "h1", "見出し 1": "h1", "heading 2": "h2", "見出し 2": "h2",
    "heading 3": "h3", "見出し 3": "h3",
    "body text": "body", "本文": "body", "normal": "body", "標準": "body",
    "囲み": "box", "注記": "note", "手順": "step", "質問": "question", "回答": "answer",
    "照会先": "contact",
    "list bullet": "bullet", "list paragraph": "bullet", "箇条書き": "bullet",
    "list number": "number", "段落番号": "number",
}
STRONG_STYLES = {"strong", "強調太字"}
EM_STYLES = {"emphasis", "強調斜体"}
#: Paragraph properties that are layout Word keeps by itself, not a look someone chose.
_QUIET_PPR = {"pStyle", "numPr", "rPr", "keepNext", "keepLines", "widowControl", "snapToGrid",
              "autoSpaceDE", "autoSpaceDN", "kinsoku", "wordWrap", "overflowPunct",
              "topLinePunct", "adjustRightInd", "textAlignment", "outlineLvl", "sectPr",
              "suppressAutoHyphens", "contextualSpacing", "bidi", "mirrorIndents"}
_PPR_NAMES = {"jc": "配置 (alignment)", "ind": "インデント (indent)",
              "spacing": "段落の間隔 (spacing)", "pBdr": "罫線 (border)",
              "shd": "網かけ (shading)", "tabs": "タブ位置 (tab stops)",
              "framePr": "枠 (frame)", "pageBreakBefore": "段落前で改ページ (page break before)"}
#: What a paragraph may hold that the notice does not print as Word shows it.
_NOT_PRINTED = {
    "hyperlink": "リンク先は印刷されません。文字だけ印刷します "
                 "(a link: its text is printed, not where it points)",
    "footnoteReference": "脚注は印刷されません。本文か注記に書いてください "
                         "(a footnote is not printed)",
    "endnoteReference": "文末脚注は印刷されません (an endnote is not printed)",
    "txbxContent": "テキストボックスの文字は、この段落の中に続けて印刷します "
                   "(a text box's text is printed inside this paragraph)",
}
_STEP_LABEL = re.compile(r"^STEP\s*[0-9０-９]+[\s　:：.．]*", re.IGNORECASE)
_QA_LABEL = re.compile(r"^[QＱAＡ][0-9０-９]*(?:[.．:：]\s*|\s+|　)")
_BRACKET = re.compile(r"^【([^】]+)】$")
_JINJA = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})")
_MD_ESCAPE = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(#|[-+=]|:::|\d+[.)])")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass
class WordExtract:
    """What :func:`read_word` found: the notice's Markdown, its pictures (file name →
    bytes, for ``inserts/``) and the warnings to show."""

    markdown: str
    images: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def escape_markdown(text: str, *, line_start: bool = True) -> str:
    """``text`` with the characters Markdown would read as markup escaped; Jinja kept."""
    parts = _JINJA.split(text)
    out = [part if i % 2 else _MD_ESCAPE.sub(r"\\\1", part) for i, part in enumerate(parts)]
    joined = "".join(out)
    if line_start and _LINE_START.match(joined):
        joined = "\\" + joined
    return joined


def read_word(data: bytes) -> WordExtract:
    """The notice in a Word file, as Markdown (see the module).

    Raises:
        TemplateError: the file is not a Word document.
    """
    import docx

    from kenpo_docs import gates

    gates.warn_once_if_docx_untested()

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zip, XML and key errors alike
        raise TemplateError(f"not a Word (.docx) file: {exc}") from exc
    reader = _WordReader(document)
    reader.read()
    return WordExtract("\n".join(reader.lines).strip() + "\n", reader.images, reader.warnings)


class _WordReader:
    def __init__(self, document: Any) -> None:
        self.document = document
        self.lines: list[str] = []
        self.images: dict[str, bytes] = {}
        self.warnings: list[str] = []
        self.container: str | None = None
        self.number = 0  # paragraphs met so far (those in tables too), for the warnings
        self.last_faq = ""

    # -- blocks ----------------------------------------------------------------------
    def read(self) -> None:
        from docx.table import Table

        from kenpo_docs.gates._docx import body_blocks

        for block in body_blocks(self.document):
            if isinstance(block, Table):
                self.table(block)
            else:
                self.paragraph(block)
        self.close()

    def open(self, kind: str, label: str = "") -> None:
        if self.container == kind and not label:
            return
        self.close()
        self.lines += ["", f"::: {kind}{' ' + label if label else ''}"]
        self.container = kind

    def close(self) -> None:
        if self.container is not None:
            self.lines += [":::", ""]
            self.container = None

    def paragraph(self, para: Any) -> None:
        self.number += 1
        text, breaks = self.runs(para, in_cell=False)
        style = para.style.name if para.style is not None else "Normal"
        kind = KINDS.get(style.lower(), KINDS.get(style))
        plain = para.text.strip()
        if kind is None:
            self.warn(para, f"スタイル「{style}」は家のスタイルにありません。本文として読みます "
                            f"(style {style!r} is not a house style; read as body text)")
            kind = "body"
        self.paragraph_format(para)
        for _ in range(breaks):
            self.close()
            self.lines += ["", "---", ""]
        if not text.strip():
            return
        if kind == "title":
            self.close()
            self.lines += [f"# {text}", ""]
        elif kind in ("h1", "h2", "h3"):
            self.close()
            self.lines += ["", "#" * (int(kind[1]) + 1) + " " + text, ""]
        elif kind in ("bullet", "number"):
            if self.container not in ("steps", "faq"):
                self.close()
            self.lines += [("- " if kind == "bullet" else "1. ") + text, ""]
        elif kind in ("box", "note"):
            self.open(kind)
            self.lines.append(text)
        elif kind == "contact":
            label = _BRACKET.match(plain)
            if label is not None:
                self.open("contact", label.group(1).replace(" ", "").replace("　", ""))
            else:
                self.open("contact")
                self.lines.append(text)
        elif kind == "step":
            self.open("steps")
            title = _STEP_LABEL.sub("", text)
            self.lines.append(f"**{title}**")
        elif kind == "question":
            self.open("faq")
            self.lines.append(text if _QA_LABEL.match(text) else f"Q {text}")
            self.last_faq = "Q"
        elif kind == "answer":
            self.open("faq")
            start = self.last_faq == "Q" and not _QA_LABEL.match(text)
            self.lines.append(f"A {text}" if start else text)
            self.last_faq = "A"
        else:  # body: inside steps and answers it continues them; it ends a box
            if self.container not in ("steps", "faq"):
                self.close()
            self.lines.append(text)

    def table(self, table: Any) -> None:
        from kenpo_docs.gates._docx import paragraph_at, table_element

        if self.container not in ("steps", "faq"):
            self.close()
        tbl = table_element(table)
        grid = [int(c.get(f"{_W}w") or 0) for c in tbl.iter(f"{_W}gridCol")]
        rows: list[list[str]] = []
        header = False
        for r, tr in enumerate(tbl.iter(f"{_W}tr")):
            cells: list[str] = []
            bold_row = True
            for c, tc in enumerate(tr.iter(f"{_W}tc")):
                texts = []
                cell_bold = True
                for p in tc.iter(f"{_W}p"):
                    para = paragraph_at(p, table)
                    self.number += 1
                    self.paragraph_format(para, in_cell=True)
                    text, _ = self.runs(para, in_cell=True)
                    if text:
                        texts.append(text)
                    cell_bold = cell_bold and all(
                        self.is_bold(run) for run in para.runs if run.text.strip())
                text = "<br>".join(texts)
                shaded = tc.find(f"{_W}tcPr/{_W}shd") is not None
                if c == 0 and text and (shaded or cell_bold) \
                        and not text.startswith("**"):
                    text = f"**{text}**"
                bold_row = bold_row and (cell_bold or not text)
                cells.append(text)
                span = tc.find(f"{_W}tcPr/{_W}gridSpan")
                if span is not None:
                    cells += [""] * (int(span.get(f"{_W}val") or 1) - 1)
            if r == 0:
                header = tr.find(f"{_W}trPr/{_W}tblHeader") is not None or bold_row
                if header:
                    cells = [c.removeprefix("**").removesuffix("**") for c in cells]
            rows.append(cells)
        if not rows:
            return
        width = max(len(r) for r in rows)
        if not header:
            rows.insert(0, [""] * width)
        self.lines.append("")
        for i, row in enumerate(rows):
            jinja = row[0].replace("\\", "")
            if i > 0 and jinja.startswith("{%") and not any(row[1:]):
                self.lines.append(jinja)
                continue
            row = row + [""] * (width - len(row))
            self.lines.append("| " + " | ".join(row) + " |")
            if i == 0:
                self.lines.append("|" + "|".join("-" * d for d in _dashes(grid, width)) + "|")
        self.lines.append("")

    # -- runs --------------------------------------------------------------------------
    def is_bold(self, run: Any) -> bool:
        style = (run.style.name if run.style is not None else "").lower()
        return bool(run.bold) or style in STRONG_STYLES

    def runs(self, para: Any, *, in_cell: bool) -> tuple[str, int]:
        """The paragraph as Markdown text, and how many page breaks it holds."""
        from kenpo_docs.gates._docx import paragraph_element, run_at

        out: list[str] = []
        page_breaks = 0
        for r in paragraph_element(para).iter(f"{_W}r"):
            run = run_at(r, para)
            for br in r.iter(f"{_W}br"):
                if br.get(f"{_W}type") == "page":
                    page_breaks += 1
            for blip in r.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}blip"):
                out.append(self.image(r, blip))
            text = "".join(_run_text(child) for child in r)
            if not text:
                continue
            self.run_format(para, run)
            style = (run.style.name if run.style is not None else "").lower()
            strong = self.is_bold(run)
            em = bool(run.italic) or bool(run.underline) or style in EM_STYLES
            pieces = text.split("\n")
            marked: list[str] = []
            for piece in pieces:
                piece = escape_markdown(piece, line_start=not out and not marked)
                if piece and strong:
                    piece = f"**{piece}**"
                elif piece and em:
                    piece = f"*{piece}*"
                marked.append(piece)
            out.append(("<br>" if in_cell else "\\\n").join(marked))
        return "".join(out).replace("****", ""), page_breaks

    def image(self, r: Any, blip: Any) -> str:
        rid = blip.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
                       "embed")
        part = self.document.part.related_parts.get(rid)
        if part is None:
            return ""
        ext = (part.partname.ext or "png").lower()
        name = f"image{len(self.images) + 1}.{ext}"
        self.images[name] = part.blob
        alt = ""
        for pr in r.iter("{http://schemas.openxmlformats.org/drawingml/2006/"
                         "wordprocessingDrawing}docPr"):
            alt = pr.get("descr") or pr.get("title") or ""
        return f"![{escape_markdown(alt, line_start=False)}]({name})"

    # -- warnings ----------------------------------------------------------------------
    def warn(self, para: Any, what: str) -> None:
        text = para.text.strip()
        head = text[:12] + ("…" if len(text) > 12 else "")
        self.warnings.append(f"段落 {self.number}「{head}」: {what}")

    def paragraph_format(self, para: Any, *, in_cell: bool = False) -> None:
        from kenpo_docs.gates._docx import paragraph_element, paragraph_properties_if_any

        for tag, what in _NOT_PRINTED.items():
            if next(paragraph_element(para).iter(f"{_W}{tag}"), None) is not None:
                self.warn(para, what)
        ppr = paragraph_properties_if_any(para)
        if ppr is None:
            return
        for child in ppr:
            name = child.tag.rsplit("}", 1)[-1]
            if name in _QUIET_PPR or (in_cell and name == "jc"):
                continue
            label = _PPR_NAMES.get(name, name)
            self.warn(para, f"直接の書式 {label} は家のスタイルにないため印刷されません "
                            "(direct formatting with no house equivalent, not printed)")

    def run_format(self, para: Any, run: Any) -> None:
        from kenpo_docs.gates._docx import run_fonts_if_any

        font = run.font
        found = []
        if font.color is not None and font.color.type is not None:
            found.append("文字色 (colour)")
        if font.size is not None:
            found.append("文字サイズ (size)")
        if font.highlight_color is not None:
            found.append("蛍光ペン (highlight)")
        rfonts = run_fonts_if_any(run)
        if rfonts is not None and any(rfonts.get(f"{_W}{k}") for k in
                                      ("ascii", "hAnsi", "eastAsia")):
            found.append("フォント (font)")
        for attr, label in (("strike", "取り消し線 (strike)"),
                            ("double_strike", "二重取り消し線 (double strike)"),
                            ("superscript", "上付き (superscript)"),
                            ("subscript", "下付き (subscript)"),
                            ("all_caps", "大文字 (caps)"), ("small_caps", "小型英大文字")):
            if getattr(font, attr):
                found.append(label)
        style = run.style.name if run.style is not None else ""
        if style and style.lower() not in STRONG_STYLES | EM_STYLES | {
                "default paragraph font", "段落フォント"}:
            found.append(f"文字スタイル「{style}」 (character style)")
        for label in found:
            text = run.text.strip()[:10]
            self.warn(para, f"「{text}」の {label} は家のスタイルにないため印刷されません "
                            "(direct formatting with no house equivalent, not printed)")


def _run_text(child: Any) -> str:
    tag = child.tag.rsplit("}", 1)[-1]
    if tag == "t":
        return str(child.text or "")
    if tag == "br" and child.get(f"{_W}type") not in ("page", "column"):
        return "\n"
    if tag == "tab":
        return "　"
    return ""


def _dashes(grid: list[int], width: int) -> list[int]:
    """The delimiter row's dashes: the column widths when they differ (see
    :mod:`.notice_markdown`), three each when they are equal or unknown."""
    if len(grid) != width or not all(grid) or len(set(grid)) == 1:
        return [3] * width
    low = min(grid)
    return [max(2, round(3 * w / low)) for w in grid]
