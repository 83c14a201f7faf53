"""Build this notice's ``notice.docx`` (Word template) with python-docx.

Edit the text to match notice.html, then run ``python templates/notices/<N>/build_docx.py``.
It must use the same variables as notice.html (a test compares them for notice 539).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

HERE = Path(__file__).resolve().parent


def build(path: Path) -> None:
    doc = Document()
    doc.add_paragraph(
        "{{ series_title }} （第{{ notice.number }}号）{{ notice.date|wareki_short }}"
    )
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("{{ notice.title }}")
    run.bold, run.font.size = True, Pt(16)
    doc.add_paragraph("（本文）")
    doc.add_paragraph("照会先 {{ contact.name }} {{ contact.department }}")
    doc.add_paragraph("電話番号 {{ contact.phone }}")
    doc.add_paragraph("※お問い合わせは{{ contact.closed }}を除いた時間帯にお願いします。")
    doc.save(str(path))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "notice.docx")
