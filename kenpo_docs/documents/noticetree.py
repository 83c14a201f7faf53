"""A notice's structure: the one tree every source reads into and every format prints from.

Staff write a notice in Markdown (:mod:`kenpo_docs.documents.notice_markdown`) or in Word
with the house styles (:mod:`kenpo_docs.documents.notice_word`); both become this tree, and
the house HTML (→ PDF) and the DOCX are printed from it (:mod:`kenpo_docs.render.notice_html`,
:mod:`kenpo_docs.render.notice_docx`). No format is kept by hand beside another.

The tree is small on purpose: a title, headings of three levels, paragraphs of runs
(strong, emphasis, line breaks), lists, tables (header row, row headers, column widths),
the house's boxes (囲み, 注記, 手順, よくあるご質問, 照会先), images with their alt text and
page breaks. :func:`check_notice` validates it before anything is built.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from kenpo_docs.fonts import missing_glyphs


@dataclass(frozen=True)
class Run:
    """A piece of text with one look; ``"\\n"`` alone is a line break."""

    text: str
    strong: bool = False
    em: bool = False


Runs = tuple[Run, ...]
BREAK = Run("\n")


def plain(runs: Runs) -> str:
    """The runs' text, line breaks as ``\\n``."""
    return "".join(r.text for r in runs)


@dataclass(frozen=True)
class Heading:
    """見出し: level 1 (見出し 1, ``##``) to 3 (``####``)."""

    level: int
    runs: Runs
    line: int = 0


@dataclass(frozen=True)
class Paragraph:
    runs: Runs
    line: int = 0


@dataclass(frozen=True)
class Image:
    """A picture from the notice's ``inserts/`` folder; ``alt`` is what a screen reader says."""

    src: str
    alt: str
    line: int = 0


@dataclass(frozen=True)
class PageBreak:
    line: int = 0


@dataclass(frozen=True)
class Cell:
    runs: Runs
    header: bool = False  # a row header (a th in the first column)


@dataclass(frozen=True)
class Table:
    """``header`` is the header row (None: the table has none); ``widths`` relative column
    widths (None: as the text needs)."""

    header: tuple[Cell, ...] | None
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[int, ...] | None = None
    line: int = 0


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    items: tuple[tuple[Block, ...], ...]
    line: int = 0


@dataclass(frozen=True)
class Box:
    """囲み (``box``), 注記 (``note``) or 照会先 (``contact``, ``label`` its heading cell)."""

    kind: str
    blocks: tuple[Block, ...]
    label: str = ""
    line: int = 0


@dataclass(frozen=True)
class Step:
    title: Runs
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Steps:
    """手順: STEP１, STEP２ … each with a title and what to do."""

    steps: tuple[Step, ...]
    line: int = 0


@dataclass(frozen=True)
class QA:
    q_label: str
    question: Runs
    a_label: str
    answer: tuple[Block, ...]


@dataclass(frozen=True)
class Faq:
    """よくあるご質問: question and answer pairs (Q1/A1 …)."""

    pairs: tuple[QA, ...]
    line: int = 0


Block = Heading | Paragraph | Image | PageBreak | Table | ListBlock | Box | Steps | Faq
BOX_KINDS = ("box", "note", "steps", "faq", "contact")


@dataclass(frozen=True)
class NoticeDoc:
    """A whole notice: the source's own title (``#``/表題, if it has one) and its blocks."""

    title: str | None
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check_notice`: an ``error`` stops the build, a ``warning``
    is reported (``notice issue`` refuses while there are any)."""

    severity: str
    message: str
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.line}行目: " if self.line else ""
        return f"{where}{self.message}"


@dataclass
class _Collector:
    problems: list[Problem] = field(default_factory=list)

    def error(self, message: str, line: int = 0) -> None:
        self.problems.append(Problem("error", message, line))

    def warning(self, message: str, line: int = 0) -> None:
        self.problems.append(Problem("warning", message, line))


def walk(blocks: tuple[Block, ...]) -> Iterator[Block]:
    """Every block, nested ones (in lists, boxes, steps, answers) included, in order."""
    for block in blocks:
        yield block
        if isinstance(block, ListBlock):
            for item in block.items:
                yield from walk(item)
        elif isinstance(block, Box):
            yield from walk(block.blocks)
        elif isinstance(block, Steps):
            for step in block.steps:
                yield from walk(step.blocks)
        elif isinstance(block, Faq):
            for pair in block.pairs:
                yield from walk(pair.answer)


def texts(doc: NoticeDoc) -> Iterator[str]:
    """Every piece of text the notice prints, in reading order."""
    if doc.title:
        yield doc.title
    for block in walk(doc.blocks):
        if isinstance(block, Heading | Paragraph):
            yield plain(block.runs)
        elif isinstance(block, Image):
            yield block.alt
        elif isinstance(block, Table):
            for row in ((block.header or ()), *block.rows):
                for cell in row:
                    yield plain(cell.runs)
        elif isinstance(block, Box):
            yield block.label
        elif isinstance(block, Steps):
            for step in block.steps:
                yield plain(step.title)
        elif isinstance(block, Faq):
            for pair in block.pairs:
                yield pair.q_label + plain(pair.question) + pair.a_label


#: The masthead's title box holds one line of 17 pt across the 178 mm text width: 29 full
#: width characters (a half-width one counts a half).
TITLE_MAX_EM = 29.0


def title_width(title: str) -> float:
    """The title's width in full-width characters (ems)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in title)


def check_notice(
    doc: NoticeDoc,
    *,
    title: str,
    inserts: frozenset[str] = frozenset(),
) -> list[Problem]:
    """Validate a notice before it is built: the title fits the masthead (and matches the
    register's), headings go down one level at a time, no section is empty, every image has
    its alt text and file, every character is printable with the vendored fonts.

    ``inserts``: the file names present in the notice's ``inserts/`` folder.
    """
    out = _Collector()
    if title_width(title) > TITLE_MAX_EM:
        out.error(f"表題「{title}」が長すぎます: 全角{title_width(title):g}字、見出し枠は"
                  f"{TITLE_MAX_EM:g}字まで (title too long for the masthead)")
    if doc.title is not None and doc.title != title:
        out.warning(f"本文の表題「{doc.title}」が登録簿の表題「{title}」と違います。登録簿の表題を"
                    "印刷します (the source's title differs from the register's)")
    _check_headings(doc.blocks, out)
    for block in walk(doc.blocks):
        if isinstance(block, Image):
            if not block.alt.strip():
                out.error(f"画像 {block.src} に代替テキストがありません "
                          "(image without alt text)", block.line)
            if "/" in block.src or "\\" in block.src or block.src.startswith("."):
                out.error(f"画像 {block.src}: inserts/ フォルダのファイル名だけを書いてください "
                          "(an image must be a file of the notice's inserts/ folder)", block.line)
            elif block.src not in inserts:
                out.warning(f"画像ファイル inserts/{block.src} がありません "
                            "(image file missing)", block.line)
        elif isinstance(block, Paragraph):
            text = plain(block.runs)
            if text.strip() == ":::":
                out.error("::: で始まる囲みのない ::: です (a ::: closes no box)", block.line)
            elif text.startswith(":::"):
                out.error(f"「{text[:20]}」: 囲みの種類は {', '.join(BOX_KINDS)} です "
                          "(unknown box)", block.line)
            if "（本文）" in text:
                out.warning("（本文）が残っています (the starter's placeholder is still there)",
                            block.line)
    missing = sorted(missing_glyphs("".join(texts(doc))))
    if missing:
        out.error("印刷できない文字があります: " + " ".join(missing)
                  + " (characters no vendored font prints)")
    return out.problems


def _check_headings(blocks: tuple[Block, ...], out: _Collector) -> None:
    level = 0
    open_heading: Heading | None = None
    for block in blocks:
        if isinstance(block, Heading):
            if block.level > 3:
                out.error(f"見出し「{plain(block.runs)}」: 見出しは3段まで (#### まで) です "
                          "(heading deeper than level 3)", block.line)
            elif block.level > level + 1:
                out.error(f"見出し「{plain(block.runs)}」: 見出し {level} の次に見出し "
                          f"{block.level} です。1段ずつ下げてください (heading level jumps)",
                          block.line)
            if open_heading is not None and block.level <= open_heading.level:
                _empty(open_heading, out)
            open_heading, level = block, block.level
        elif not isinstance(block, PageBreak):
            open_heading = None
    if open_heading is not None:
        _empty(open_heading, out)


def _empty(heading: Heading, out: _Collector) -> None:
    out.warning(f"「{plain(heading.runs)}」の本文がありません (section left empty)",
                heading.line)
