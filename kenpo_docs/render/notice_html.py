"""The notice tree as the house HTML (the body of ``templates/notices/_house/notice.html``).

The page around it (masthead, title box, fonts, page numbers) is the house template; the
classes here are those of its stylesheet (``_house/notice.css``, the look of notice 539:
boxes, STEP boxes, the FAQ, the 照会先 table). Every text is escaped; nothing from the
source becomes markup.
"""

from __future__ import annotations

from html import escape

from kenpo_docs.documents.noticetree import (
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
    Runs,
    Steps,
    Table,
)

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def step_badge(index: int) -> str:
    """STEP１, STEP２ … (full-width digits, as the house prints them)."""
    return f"STEP{str(index).translate(_FULLWIDTH)}"


def runs_html(runs: Runs) -> str:
    out = []
    for run in runs:
        if run.text == "\n":
            out.append("<br>")
            continue
        text = escape(run.text)
        if run.em:
            text = f"<em>{text}</em>"
        if run.strong:
            text = f"<strong>{text}</strong>"
        out.append(text)
    return "".join(out)


def body_html(doc: NoticeDoc, *, image_base: str) -> str:
    """The notice's blocks as HTML; ``image_base`` is the URL of its ``inserts/`` folder."""
    return _blocks(doc.blocks, image_base, top=True)


def _blocks(blocks: tuple[Block, ...], base: str, *, top: bool = False) -> str:
    out: list[str] = []
    contact: list[Box] = []
    for block in (*blocks, None):
        if isinstance(block, Box) and block.kind == "contact":
            contact.append(block)  # consecutive 照会先 boxes are rows of one table
            continue
        if contact:
            out.append(_contact(contact, base))
            contact = []
        if block is not None:
            out.append(_block(block, base, top))
    return "\n".join(out)


def _block(block: Block, base: str, top: bool) -> str:
    if isinstance(block, Heading):
        tag = f"h{block.level + 1}"
        return f"<{tag}>{runs_html(block.runs)}</{tag}>"
    if isinstance(block, Paragraph):
        lead = ' class="lead"' if top else ""
        return f"<p{lead}>{runs_html(block.runs)}</p>"
    if isinstance(block, Image):
        src = escape(base + block.src, quote=True)
        return (f'<div class="insert"><img src="{src}" alt="{escape(block.alt, quote=True)}">'
                "</div>")
    if isinstance(block, PageBreak):
        return '<div class="page-break"></div>'
    if isinstance(block, ListBlock):
        tag = "ol" if block.ordered else "ul"
        items = "".join(f"<li>{_blocks(item, base)}</li>" for item in block.items)
        return f"<{tag}>{items}</{tag}>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Box):
        return f'<div class="{block.kind}">{_blocks(block.blocks, base)}</div>'
    if isinstance(block, Steps):
        return _steps(block, base)
    if isinstance(block, Faq):
        return _faq(block, base)
    raise TypeError(f"unknown block {block!r}")


def _cell(cell: Cell, tag: str, scope: str, span: int = 1) -> str:
    attrs = f' scope="{scope}"' if tag == "th" else ""
    if span > 1:
        attrs += f' colspan="{span}"'
    return f"<{tag}{attrs}>{runs_html(cell.runs)}</{tag}>"


def header_spans(header: tuple[Cell, ...]) -> list[tuple[Cell, int]]:
    """The header row's cells with their column spans: an empty header cell widens the
    non-empty one on its left (a group heading over several columns)."""
    spans: list[tuple[Cell, int]] = []
    for cell in header:
        if spans and not "".join(r.text for r in cell.runs).strip() \
                and "".join(r.text for r in spans[-1][0].runs).strip():
            spans[-1] = (spans[-1][0], spans[-1][1] + 1)
        else:
            spans.append((cell, 1))
    return spans


def _table(table: Table) -> str:
    out = ['<table class="md">']
    if table.widths:
        total = sum(table.widths)
        out.append("<colgroup>" + "".join(
            f'<col style="width: {100 * w / total:.1f}%">' for w in table.widths) + "</colgroup>")
    if table.header is not None:
        out.append("<thead><tr>" + "".join(
            _cell(c, "th", "col", span) for c, span in header_spans(table.header))
            + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        out.append("<tr>" + "".join(
            _cell(c, "th" if c.header else "td", "row") for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _contact(boxes: list[Box], base: str) -> str:
    rows = "".join(f'<tr><th scope="row">{escape(box.label)}</th>'
                   f"<td>{_blocks(box.blocks, base)}</td></tr>" for box in boxes)
    return f'<table class="contact">{rows}</table>'


def _steps(steps: Steps, base: str) -> str:
    parts = []
    for i, step in enumerate(steps.steps, start=1):
        parts.append(
            '<div class="step"><div class="step-head">'
            f'<span class="badge">{step_badge(i)}</span>'
            f'<span class="step-title">{runs_html(step.title)}</span></div>'
            f'<div class="step-body">{_blocks(step.blocks, base)}</div></div>')
    return '\n<div class="down"></div>\n'.join(parts)


def _faq(faq: Faq, base: str) -> str:
    items = []
    for pair in faq.pairs:
        if pair.q_label or pair.question:
            items.append(f'<dt><span class="qa">{escape(pair.q_label)}</span>'
                         f'<span class="ans">{runs_html(pair.question)}</span></dt>')
        items.append(f'<dd><span class="qa">{escape(pair.a_label)}</span>'
                     f'<div class="ans">{_blocks(pair.answer, base)}</div></dd>')
    return f'<dl class="faq">{"".join(items)}</dl>'
