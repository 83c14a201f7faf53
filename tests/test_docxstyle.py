"""The house Word settings (kenpo_docs.render.docxstyle), read back with python-docx and
from the raw XML: named styles with BIZ UD fonts in every script slot, no theme colours,
ja-JP, Word 2013+ compatibility mode, the insurer as author, fields, boxes, check boxes."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.oxml.ns import qn

from kenpo_docs.render import docxstyle

W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"


@pytest.fixture
def document() -> docx.document.Document:
    doc = docx.Document()
    docxstyle.apply_house_style(doc, author="日本年金機構健康保険組合", title="テスト")
    docxstyle.add_header(doc, series_title="年金機構けんぽからのお知らせ", number="（第539号）",
                         date="6.11.19")
    docxstyle.add_page_numbers(doc)
    doc.add_paragraph("表題", style="Title")
    doc.add_paragraph("見出し", style="Heading 1")
    table = docxstyle.add_table(doc, 2, [22, 40, 30], header_rows=1, no_wrap_cols=[2])
    docxstyle.write(table.cell(0, 0), "対象者", bold=True)
    cell = docxstyle.add_box(doc, 178, style="dashed")
    docxstyle.add_checkbox(cell.paragraphs[0], checked=True)
    docxstyle.add_checkbox(cell.paragraphs[0], checked=False)
    frame = doc.add_paragraph("〒263-0023")
    docxstyle.add_frame(frame, x_mm=25, y_mm=15, width_mm=85, height_mm=40)
    return doc


def _reopen(doc: docx.document.Document) -> tuple[docx.document.Document, dict[str, bytes]]:
    out = io.BytesIO()
    doc.save(out)
    parts = {n: zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist()}
    return docx.Document(io.BytesIO(out.getvalue())), parts


def test_styles_fonts_language_and_no_theme(document: docx.document.Document) -> None:
    doc, parts = _reopen(document)
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Banner", "Note"):
        rpr = doc.styles[name].element.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            assert fonts.get(qn(slot)) == "BIZ UDPゴシック", (name, slot)
        assert not [k for k in fonts.keys() if k.endswith("Theme")], name
        color = rpr.find(qn("w:color"))
        assert color.get(qn("w:themeColor")) is None, name
        lang = rpr.find(qn("w:lang"))
        assert (lang.get(qn("w:val")), lang.get(qn("w:eastAsia"))) == ("ja-JP", "ja-JP")
    # No blue python-docx heading: the headings are black (h3) or the house blue.
    assert doc.styles["Heading 2"].font.color.rgb == docx.shared.RGBColor(0, 0, 0)
    assert str(doc.styles["Title"].font.color.rgb).lower() == docxstyle.BLUE
    assert doc.styles["Title"].font.size == docx.shared.Pt(17)
    assert doc.styles["Normal"].font.size == docx.shared.Pt(10)
    styles_xml = parts["word/styles.xml"].decode()
    assert "majorHAnsi" not in styles_xml.split("<w:style ")[0]  # docDefaults: no theme font
    assert 'w:eastAsia="ja-JP"' in styles_xml.split("<w:style ")[0]


def test_properties_and_compatibility(document: docx.document.Document) -> None:
    doc, parts = _reopen(document)
    assert doc.core_properties.author == "日本年金機構健康保険組合"
    assert doc.core_properties.title == "テスト"
    settings = parts["word/settings.xml"].decode()
    assert ('w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" '
            'w:val="15"') in settings


def test_header_footer_fields_box_checkbox_frame(document: docx.document.Document) -> None:
    doc, parts = _reopen(document)
    section = doc.sections[0]
    assert section.header.paragraphs[0].text == "年金機構けんぽからのお知らせ （第539号）\t6.11.19"
    footer = parts["word/footer1.xml"].decode() if "word/footer1.xml" in parts else \
        next(v.decode() for k, v in parts.items() if k.startswith("word/footer"))
    assert " PAGE " in footer and " NUMPAGES " in footer
    table = doc.tables[0]
    assert table.style.name == "Kenpo Table"
    widths = [col.get(qn("w:w")) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert widths == ["1247", "2268", "1701"]  # 22, 40, 30 mm in twips
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    shd = table.cell(0, 0)._tc.tcPr.find(qn("w:shd"))
    assert shd.get(qn("w:fill")) == "e8e8e8"
    assert table.cell(1, 2)._tc.tcPr.find(qn("w:noWrap")) is not None
    box = doc.tables[1]
    assert len(box.rows) == 1 and len(box.columns) == 1
    assert box._tbl.tblPr.find(qn("w:tblBorders")).find(qn("w:top")).get(qn("w:val")) \
        == "dashed"
    boxes = box.cell(0, 0)._tc.findall(".//" + qn("w:sdt"))
    states = [b.find(".//" + W14 + "checked").get(W14 + "val") for b in boxes]
    assert states == ["1", "0"]
    assert [b.findtext(".//" + qn("w:t")) for b in boxes] == ["✓", "□"]
    frame = doc.paragraphs[-1]._p.pPr.find(qn("w:framePr"))
    assert (frame.get(qn("w:x")), frame.get(qn("w:y")), frame.get(qn("w:hAnchor")),
            frame.get(qn("w:vAnchor"))) == ("1417", "850", "page", "page")


def test_same_parts_twice() -> None:
    """The same document gives the same parts (the zip itself stamps each entry with the
    clock, as tests/contract hashes DOCX files part by part)."""
    def make() -> dict[str, bytes]:
        doc = docx.Document()
        docxstyle.apply_house_style(doc, author="健保", title="t")
        doc.add_paragraph("本文")
        return _reopen(doc)[1]

    assert make() == make()


def test_helpers_write_properties_in_the_schemas_order(document: docx.document.Document) -> None:
    """Without the document-wide pass (render.twin runs it): each helper's own output is in
    ECMA-376's order, which Word insists on."""
    from lxml import etree

    from kenpo_docs.render.docxfields import SCHEMA_ORDER

    _, parts = _reopen(document)
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    for name, data in parts.items():
        if not (name.startswith("word/") and name.endswith(".xml")):
            continue
        for el in etree.fromstring(data).iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(w):
                continue
            order = SCHEMA_ORDER.get(el.tag[len(w):])
            if order is None:
                continue
            ranks = [order.index(c.tag[len(w):]) for c in el
                     if c.tag.startswith(w) and c.tag[len(w):] in order]
            assert ranks == sorted(ranks), (name, el.tag, [c.tag for c in el])
