"""A notice written in Markdown, read into the notice tree (:mod:`.noticetree`).

markdown-it-py (CommonMark with GFM tables) reads the text and mdit-py-plugins' container
plugin the house's boxes (``::: box``, ``::: note``, ``::: steps``, ``::: faq``,
``::: contact``): a kept, tested parser rather than regular expressions of our own. Raw HTML
is off (it prints as text). What each construct means, with an example of each, is in
docs/notices.md:

* ``#`` the title (表題), ``##``/``###``/``####`` headings 1-3, ``---`` a page break;
* each line is a paragraph, as Enter makes one in Word (a line ending in ``\\`` breaks the
  line inside its paragraph);
* GFM tables: the header row (left empty: no header row), a cell all in bold in the first
  column is a row header, ``<br>`` breaks a line in a cell, and the dashes of the
  delimiter row give the column widths (``|---|------|`` is 1 : 2) when they differ;
* ``![alt](file.png)`` a picture from the notice's ``inserts/`` folder, alt text required;
* in ``::: steps`` a paragraph all in bold starts a step; in ``::: faq`` a paragraph
  ``Q1 …`` a question and ``A1 …`` its answer (a bare ``Q``/``A`` is numbered);
  ``::: contact 添付資料`` names the box (default 照会先).

Jinja variables are expanded before this (``kenpo_docs.render.notice_source``).
"""

from __future__ import annotations

import re
from typing import Any

from kenpo_docs.documents.noticetree import (
    BOX_KINDS,
    BREAK,
    QA,
    Block,
    Box,
    Cell,
    Faq,
    Heading,
    Image,
    ListBlock,
    NoticeDoc,
    PageBreak,
    Paragraph,
    Run,
    Runs,
    Step,
    Steps,
    Table,
    plain,
)

_QA = re.compile(r"^([QＱAＡ])([0-9０-９]*)(?:[.．:：]\s*|\s+)")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
#: A line of the source ends: each line is a paragraph of its own, as Enter makes one in Word.
_NEW_PARAGRAPH = Run("\x00")


def _parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.container import container_plugin

    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
    for kind in BOX_KINDS:
        md.use(container_plugin, kind)
    return md


def parse_markdown(text: str) -> NoticeDoc:
    """The notice tree of a Markdown text (Jinja already expanded)."""
    tokens = _parser().parse(text)
    lines = text.splitlines()
    blocks, title = _Reader(tokens, lines).blocks(None)
    return NoticeDoc(title=title, blocks=tuple(blocks))


def _runs(token: Any, *, in_cell: bool = False) -> Runs:
    """The inline runs of an ``inline`` token (images are left to the caller)."""
    out: list[Run] = []
    strong = em = 0
    for child in token.children or ():
        kind = child.type
        if kind == "strong_open":
            strong += 1
        elif kind == "strong_close":
            strong -= 1
        elif kind == "em_open":
            em += 1
        elif kind == "em_close":
            em -= 1
        elif kind == "softbreak":
            out.append(_NEW_PARAGRAPH)
        elif kind == "hardbreak":
            out.append(BREAK)
        elif kind in ("text", "code_inline"):
            parts = _BR.split(child.content) if in_cell else [child.content]
            for i, part in enumerate(parts):
                if i:
                    out.append(BREAK)
                if part:
                    out.append(Run(part, strong=strong > 0, em=em > 0))
    return _merge(out)


def _merge(runs: list[Run]) -> Runs:
    merged: list[Run] = []
    for run in runs:
        if merged and run.text not in "\n\x00" and merged[-1].text not in "\n\x00" \
                and (merged[-1].strong, merged[-1].em) == (run.strong, run.em):
            merged[-1] = Run(merged[-1].text + run.text, run.strong, run.em)
        else:
            merged.append(run)
    return tuple(merged)


def _images(token: Any, line: int) -> list[Image]:
    return [Image(src=str(c.attrGet("src") or "").removeprefix("inserts/"), alt=c.content,
                  line=line) for c in token.children or () if c.type == "image"]


class _Reader:
    """Walks markdown-it's flat token stream into nested blocks."""

    def __init__(self, tokens: list[Any], lines: list[str]) -> None:
        self.tokens = tokens
        self.lines = lines
        self.i = 0

    def blocks(self, close: str | None) -> tuple[list[Block], str | None]:
        out: list[Block] = []
        title: str | None = None
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            line = tok.map[0] + 1 if tok.map else 0
            if close is not None and tok.type == close:
                self.i += 1
                return out, title
            self.i += 1
            if tok.type == "heading_open":
                inline = self.tokens[self.i]
                self.i += 2
                level = int(tok.tag[1]) - 1  # "#" is the title, "##" heading 1
                if level == 0 and title is None and close is None:
                    title = plain(_runs(inline))
                else:  # a second "#" reads as a heading 1
                    out.append(Heading(max(level, 1), _runs(inline), line))
            elif tok.type == "paragraph_open":
                inline = self.tokens[self.i]
                self.i += 2
                for offset, runs in enumerate(_split(_runs(inline))):
                    if plain(runs).strip():
                        out.append(Paragraph(_strip(runs), line + offset))
                out.extend(_images(inline, line))
            elif tok.type == "hr":
                out.append(PageBreak(line))
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                out.append(self._list(tok, line))
            elif tok.type == "table_open":
                out.append(self._table(line))
            elif tok.type.startswith("container_") and tok.type.endswith("_open"):
                out.append(self._container(tok, line))
            elif tok.type in ("fence", "code_block"):
                out.append(Paragraph((Run(tok.content.rstrip("\n")),), line))
            # blockquote and html tokens carry no house meaning; their paragraphs still print
        return out, title

    def _list(self, tok: Any, line: int) -> ListBlock:
        close = tok.type.replace("_open", "_close")
        items: list[tuple[Block, ...]] = []
        while self.tokens[self.i].type != close:
            assert self.tokens[self.i].type == "list_item_open"
            self.i += 1
            body, _ = self.blocks("list_item_close")
            items.append(tuple(body))
        self.i += 1
        return ListBlock(tok.type.startswith("ordered"), tuple(items), line)

    def _table(self, line: int) -> Table:
        rows: list[tuple[Cell, ...]] = []
        header: tuple[Cell, ...] | None = None
        row: list[Cell] = []
        widths = _widths(self.lines[line] if line < len(self.lines) else "")
        in_head = False
        while (tok := self.tokens[self.i]).type != "table_close":
            self.i += 1
            if tok.type in ("thead_open", "thead_close"):
                in_head = tok.type == "thead_open"
            elif tok.type == "inline":
                runs = _runs(tok, in_cell=True)
                head = not in_head and not row and bool(runs) and all(
                    r.strong or r.text == "\n" for r in runs)
                row.append(Cell(_plain_look(runs) if head else runs, header=head))
            elif tok.type == "tr_close":
                if in_head:
                    header = tuple(row)
                else:
                    rows.append(tuple(row))
                row = []
        self.i += 1
        if header is not None and not any(plain(c.runs).strip() for c in header):
            header = None
        return Table(header, tuple(rows), widths, line)

    def _container(self, tok: Any, line: int) -> Block:
        info = tok.info.strip().split(maxsplit=1)
        kind = info[0] if info else ""
        label = info[1] if len(info) > 1 else ""
        body, _ = self.blocks(tok.type.replace("_open", "_close"))
        if kind == "steps":
            return _steps(body, line)
        if kind == "faq":
            return _faq(body, line)
        if kind == "contact" and not label:
            label = "照会先"
        return Box(kind, tuple(body), label, line)


def _split(runs: Runs) -> list[Runs]:
    """The runs of one Markdown paragraph cut at its source lines."""
    out: list[list[Run]] = [[]]
    for run in runs:
        if run is _NEW_PARAGRAPH or run == _NEW_PARAGRAPH:
            out.append([])
        else:
            out[-1].append(run)
    return [tuple(part) for part in out]


def _strip(runs: Runs) -> Runs:
    """Drop line breaks at either end (a paragraph's last source line break)."""
    items = list(runs)
    while items and items[-1].text == "\n":
        items.pop()
    while items and items[0].text == "\n":
        items.pop(0)
    return tuple(items)


def _plain_look(runs: Runs) -> Runs:
    return tuple(Run(r.text) for r in runs)


def _widths(delimiter: str) -> tuple[int, ...] | None:
    """Relative column widths from a GFM delimiter row (``|---|------|``), or None when
    every column has the same number of dashes."""
    cells = [c.strip() for c in delimiter.strip().strip("|").split("|")]
    counts = tuple(c.count("-") for c in cells)
    if not counts or len(set(counts)) == 1 or not all(counts):
        return None
    return counts


def _is_title(block: Block) -> bool:
    return isinstance(block, Paragraph) and bool(block.runs) and all(
        r.strong or r.text == "\n" for r in block.runs)


def _steps(body: list[Block], line: int) -> Steps:
    steps: list[Step] = []
    for block in body:
        if _is_title(block):
            assert isinstance(block, Paragraph)
            steps.append(Step(_plain_look(block.runs), ()))
        elif steps:
            steps[-1] = Step(steps[-1].title, (*steps[-1].blocks, block))
        else:  # before the first step title: a step of its own with no title (reported)
            steps.append(Step((), (block,)))
    return Steps(tuple(steps), line)


def qa_label(text: str) -> tuple[str, str, str] | None:
    """``("Q", "1", rest)`` for a paragraph starting ``Q1 …`` (or ``A…``), else None."""
    m = _QA.match(text)
    if m is None:
        return None
    return m.group(1), m.group(2), text[m.end():]


def _drop_label(runs: Runs, length: int) -> Runs:
    out: list[Run] = []
    for run in runs:
        if length > 0:
            cut = min(length, len(run.text))
            length -= cut
            run = Run(run.text[cut:], run.strong, run.em)
        if run.text:
            out.append(run)
    return tuple(out)


def _faq(body: list[Block], line: int) -> Faq:
    pairs: list[QA] = []
    for block in body:
        found = qa_label(plain(block.runs)) if isinstance(block, Paragraph) else None
        if found and found[0] in "QＱ" and isinstance(block, Paragraph):
            letter, number, rest = found
            label = f"{letter}{number or len(pairs) + 1}"
            runs = _drop_label(block.runs, len(plain(block.runs)) - len(rest))
            pairs.append(QA(label, _plain_look(runs), "", ()))
        elif found and isinstance(block, Paragraph) and pairs and not pairs[-1].a_label:
            letter, number, rest = found
            label = f"{letter}{number or len(pairs)}"
            runs = _drop_label(block.runs, len(plain(block.runs)) - len(rest))
            last = pairs[-1]
            pairs[-1] = QA(last.q_label, last.question, label, (Paragraph(runs, block.line),))
        elif pairs:
            last = pairs[-1]
            pairs[-1] = QA(last.q_label, last.question, last.a_label or "A", (*last.answer,
                                                                                 block))
        else:  # text before the first question: kept as an answer without a question
            pairs.append(QA("", (), "", (block,)))
    return Faq(tuple(pairs), line)
