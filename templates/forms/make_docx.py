"""Build the editable Word request forms ``templates/forms/<name>/form.docx`` (python-docx).

Run from the project root after changing a form's wording or layout::

    .venv/bin/python templates/forms/make_docx.py

Each DOCX is a docxtpl template receiving exactly what the HTML form gets: ``forms``, the list
of per-form dicts from :func:`kenpo_docs.documents.forms.form_context`, one form per page. The two forms
share this layout (their titles, 申請理由 and 提出先 lines come from the data), so one builder
writes both files. Boxes are table cells with fixed row heights, large enough for a pen.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table

HERE = Path(__file__).resolve().parent
FONT = "IPAexGothic"
ERA_BLANK = "昭和・平成・令和　　年　　月　　日"


def _table(doc: Document, rows: int, widths_mm: list[float]) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    return table


def _height(table: Table, mm: float) -> None:
    for row in table.rows:
        row.height = Mm(mm)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def _set(cell: object, text: str, *, bold: bool = False, size: float | None = None) -> None:
    para = cell.paragraphs[0]  # type: ignore[attr-defined]
    run = para.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


def build(path: Path) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(16)
    section.top_margin, section.bottom_margin = Mm(12), Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(2)

    doc.add_paragraph("{%p for form in forms %}")
    doc.add_paragraph("{%p if not loop.first %}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("{%p endif %}")
    corner = doc.add_paragraph()
    corner.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    corner.add_run("【{{ form.label }}】").bold = True
    doc.add_paragraph("{{ form.insurer.name }}　理事長　殿")
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("{{ form.title }}")
    run.bold = True
    run.font.size = Pt(16)

    doc.add_paragraph().add_run("提出先").bold = True
    doc.add_paragraph("{%p for line in form.route_lines %}")
    doc.add_paragraph('{{ "▶" if line.applies else "・" }}{{ line.text }}')
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("下記のとおり申請します。太枠内をご記入ください"
                      "（印字済みの欄は確認のうえ、誤りがあれば訂正してください）。")

    head = _table(doc, 4, [30, 62, 22, 64])
    _height(head, 10)
    _set(head.cell(0, 0), "申請日", bold=True)
    head.cell(0, 1).merge(head.cell(0, 3))
    _set(head.cell(0, 1), "令和　　年　　月　　日")
    _set(head.cell(1, 0), "被保険者 記号・番号", bold=True)
    _set(head.cell(1, 1), "{% if form.symbol %}{{ form.symbol }}-{{ form.number }}{% endif %}")
    _set(head.cell(1, 2), "生年月日", bold=True)
    _set(head.cell(1, 3), "{{ form.applicant_birth or '" + ERA_BLANK + "' }}")
    _set(head.cell(2, 0), "フリガナ", bold=True)
    head.cell(2, 1).merge(head.cell(2, 3))
    _set(head.cell(2, 1), "{{ form.applicant_kana }}")
    _set(head.cell(3, 0), "氏名（被保険者）", bold=True)
    head.cell(3, 1).merge(head.cell(3, 3))
    _set(head.cell(3, 1), "{{ form.applicant_name }}", size=14)
    head.rows[3].height = Mm(13)

    doc.add_paragraph()
    doc.add_paragraph().add_run(
        "対象者（交付を希望する方の「対象」欄に✓を付けてください。被扶養者の分も申請できます。）"
    ).bold = True
    targets = _table(doc, 3, [14, 22, 14, 64, 64])
    for cell, text in zip(targets.rows[0].cells, ("対象", "区分", "枝番", "氏名", "生年月日"),
                          strict=True):
        _set(cell, text, bold=True)
    row = targets.rows[1].cells
    row[0].merge(row[4])
    _set(row[0], "{%tr for t in form.targets %}")
    row = targets.rows[2].cells
    _set(row[0], "{{ '✓' if t.checked else '□' }}")
    _set(row[1], "{{ t.kind if t.filled else '本人・家族' }}")
    _set(row[2], "{{ t.branch }}")
    _set(row[3], "{{ t.name }}")
    _set(row[4], "{{ t.birth if t.filled else '" + ERA_BLANK + "' }}")
    _height(targets, 9)
    end = targets.add_row().cells
    end[0].merge(end[4])
    _set(end[0], "{%tr endfor %}")

    doc.add_paragraph()
    rest = _table(doc, 5, [30, 148])
    _height(rest, 10)
    _set(rest.cell(0, 0), "申請理由", bold=True)
    _set(rest.cell(0, 1), "{% for r in form.reasons %}□{{ r.label }}　{% endfor %}"
         "（　　　　　　　　　　）")
    _set(rest.cell(1, 0), "送付先", bold=True)
    _set(rest.cell(1, 1), "{{ '✓' if form.send.workplace else '□' }}就労先"
         "（{{ form.insurer.payroll_group }}経由）　就労先名 {{ form.send.workplace_name }}")
    _set(rest.cell(2, 0), "")
    rest.cell(1, 0).merge(rest.cell(2, 0))
    _set(rest.cell(2, 1), "{{ '✓' if form.send.home else '□' }}自宅（任意継続の方）"
         "　〒{{ form.send.postal }}　住所 {{ form.send.address }}")
    rest.rows[2].height = Mm(16)
    _set(rest.cell(3, 0), "連絡先電話番号", bold=True)
    _set(rest.cell(3, 1), "　　　　（　　　　　）　　　　　日中に連絡のつく番号")
    _set(rest.cell(4, 0), "署名（被保険者）", bold=True)
    _set(rest.cell(4, 1), "被保険者ご本人が自署してください。")
    rest.rows[4].height = Mm(14)

    doc.add_paragraph("{%p for note in form.notes %}")
    doc.add_paragraph("※{{ note }}").runs[0].font.size = Pt(8.5)
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("照会先　{{ form.insurer.name }} {{ form.insurer.department }}"
                      "　電話 {{ form.insurer.phone }}").runs[0].font.size = Pt(8.5)
    doc.add_paragraph("{%p endfor %}")
    doc.core_properties.title = "{{ forms[0].title }}"
    doc.core_properties.author = "kenpo-docs"
    doc.save(str(path))


def main() -> None:
    for name in ("bessou1", "bessou2"):
        build(HERE / name / "form.docx")


if __name__ == "__main__":
    main()
