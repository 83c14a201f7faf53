"""Write templates/notices/house-style.docx: the Word file staff start a notice from.

It holds the house styles (表題, 見出し 1/2, 本文, 囲み, 注記, 手順, 質問, 回答, 照会先) with an
example paragraph in each, made by the same code that prints every notice's DOCX
(kenpo_docs.render.notice_docx), so the template and the output cannot drift apart.
Run from the project folder after changing the styles:

    PYTHONPATH=. .venv/bin/python templates/notices/make_house_style.py
"""

from __future__ import annotations

from pathlib import Path

from kenpo_docs.domain.facts import insurer
from kenpo_docs.render.notice_docx import house_style_template

if __name__ == "__main__":
    settings = insurer()
    target = Path(__file__).resolve().parent / "house-style.docx"
    target.write_bytes(house_style_template(author=settings.name,
                                            series_title=settings.series_title))
    print(target)
