"""A notice written in Word with the house styles (issue 24): the same structure, and the
same printed text, as its Markdown twin; formatting Word cannot carry into the house style
is reported by paragraph, never dropped without a word; tables and pictures are kept."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import docx
import pypdf
import pytest
from click.testing import CliRunner
from docx.shared import Pt, RGBColor
from PIL import Image

from kenpo_docs.cli import cli
from kenpo_docs.documents.notice_word import escape_markdown, read_word
from kenpo_docs.documents.notices import Notice, save_register
from kenpo_docs.publish.notices import build_notice, new_from_source
from kenpo_docs.render.notice_docx import STYLES
from tests.test_notice_539 import assert_in_order, expected_lines

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "notices" / "house-style.docx"

TWIN_MD = """\
# 年末年始の業務について

## 休業期間

年末年始は業務課の窓口を休みます。
**お急ぎの方は早めにご連絡ください。**

| 期間 | 窓口 |
|---|---|
| **12月29日～1月3日** | 休み |
{% for p in periods %}
| 交付期間（{{ p.ordinal|fullwidth }}回目） | {{ p.expiry|wareki }} |
{% endfor %}

::: box
資格確認書の交付は休業明けに順次行います。
:::

### 手続きの流れ

::: steps
**申請書を書く**
別添１に記入します。
**提出する**
日本年金機構本部給与Ｇへ提出してください。
:::

::: faq
Q1 休み中に保険証をなくしたら？
A1 休業明けに再交付の手続きをしてください。
:::

::: contact
{{ contact.name }} {{ contact.department }}
電話番号 {{ contact.phone }}
:::
"""


def house_document() -> docx.document.Document:
    """A new document from the house template, its example paragraphs removed."""
    document = docx.Document(str(TEMPLATE))
    body = document.element.body
    for child in list(body):
        if not child.tag.endswith("}sectPr"):
            body.remove(child)
    return document


def word_twin() -> bytes:
    """TWIN_MD written in Word: only the house styles, no direct formatting."""
    d = house_document()
    d.add_paragraph("年末年始の業務について", style="Title")
    d.add_paragraph("休業期間", style="Heading 1")
    d.add_paragraph("年末年始は業務課の窓口を休みます。", style="Body Text")
    d.add_paragraph(style="Body Text").add_run("お急ぎの方は早めにご連絡ください。",
                                               style="Strong")
    table = d.add_table(rows=4, cols=2)
    for r, cells in enumerate([("期間", "窓口"), ("12月29日～1月3日", "休み"),
                               ("{% for p in periods %}", ""),
                               ("交付期間（{{ p.ordinal|fullwidth }}回目）",
                                "{{ p.expiry|wareki }}")]):
        for c, text in enumerate(cells):
            run = table.cell(r, c).paragraphs[0].add_run(text)
            if r == 0 or (r == 1 and c == 0):
                run.style = d.styles["Strong"]
    row = table.add_row()
    row.cells[0].paragraphs[0].add_run("{% endfor %}")
    d.add_paragraph("資格確認書の交付は休業明けに順次行います。", style="囲み")
    d.add_paragraph("手続きの流れ", style="Heading 2")
    d.add_paragraph("申請書を書く", style="手順")
    d.add_paragraph("別添１に記入します。", style="Body Text")
    d.add_paragraph("提出する", style="手順")
    d.add_paragraph("日本年金機構本部給与Ｇへ提出してください。", style="Body Text")
    d.add_paragraph("Q1 休み中に保険証をなくしたら？", style="質問")
    d.add_paragraph("A1 休業明けに再交付の手続きをしてください。", style="回答")
    d.add_paragraph("{{ contact.name }} {{ contact.department }}", style="照会先")
    d.add_paragraph("電話番号 {{ contact.phone }}", style="照会先")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def squashed_pdf_text(path: Path) -> str:
    text = "".join(p.extract_text() for p in pypdf.PdfReader(path).pages)
    return re.sub(r"\s+", "", text)


def test_the_house_template_has_every_style() -> None:
    document = docx.Document(str(TEMPLATE))
    names = {s.name for s in document.styles}
    assert {"Title", "Heading 1", "Heading 2", "Body Text", *STYLES.values()} <= names
    used = {p.style.name for p in document.paragraphs}
    assert set(STYLES.values()) <= used  # an example of each
    title = document.styles["Title"].element
    fonts = title.find(".//{*}rFonts")
    assert fonts is not None and "BIZ UD" in (fonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") or "")
    assert read_word(TEMPLATE.read_bytes()).warnings == []


def test_word_twin_prints_the_same_text_as_markdown(home: Path, tmp_path: Path) -> None:
    (tmp_path / "twin.md").write_text(TWIN_MD, "utf-8")
    (tmp_path / "twin.docx").write_bytes(word_twin())
    md, md_warnings = new_from_source("年末年始の業務について", date(2024, 12, 20),
                                      tmp_path / "twin.md")
    word, word_warnings = new_from_source("年末年始の業務について", date(2024, 12, 20),
                                          tmp_path / "twin.docx")
    assert md_warnings == [] and word_warnings == []
    folder = home / "templates" / "notices" / str(word.number)
    assert sorted(p.name for p in folder.iterdir()) == ["notice.md", "source.docx"]
    # Same register line (number and date) for both, so the masthead is the same too.
    save_register([Notice(541, date(2024, 12, 20), "年末年始の業務について", str(md.number)),
                   Notice(542, date(2024, 12, 20), "年末年始の業務について", str(word.number))])
    from_md = squashed_pdf_text(build_notice(541, "pdf", out_dir=tmp_path / "md"))
    from_word = squashed_pdf_text(build_notice(542, "pdf", out_dir=tmp_path / "word"))
    assert from_word.replace("第542号", "第541号") == from_md
    for text in ("STEP１申請書を書く", "Q1休み中に保険証をなくしたら？", "令和9年11月30日",
                 "03-5216-3223", "12月29日～1月3日休み"):
        assert text in from_md


def test_the_docx_we_print_reads_back_as_the_same_notice(home: Path, tmp_path: Path) -> None:
    """539 in Markdown → our DOCX → read as a staff Word file → PDF: every sentence and
    cell of notice 539 is still there, in order."""
    folder = home / "templates" / "notices" / "539md"
    folder.mkdir()
    (folder / "notice.md").write_text(
        (ROOT / "tests" / "data" / "notice539.md").read_text("utf-8"), "utf-8")
    save_register([Notice(539, date(2024, 11, 19), "マイナ保険証への移行について", "539md")])
    docx_path = build_notice(539, "docx", out_dir=tmp_path)
    notice, warnings = new_from_source("マイナ保険証への移行について", date(2024, 11, 19),
                                       docx_path)
    assert [w for w in warnings if "段落" in w] == []  # nothing of ours is direct formatting
    save_register([Notice(539, date(2024, 11, 19), "マイナ保険証への移行について",
                          str(notice.number))])
    assert_in_order("\n".join(p.extract_text() for p in pypdf.PdfReader(
        build_notice(539, "pdf", out_dir=tmp_path / "again")).pages), expected_lines())


def test_direct_formatting_is_reported_by_paragraph(tmp_path: Path) -> None:
    d = house_document()
    d.add_paragraph("お知らせ", style="Heading 1")
    para = d.add_paragraph("通常の文と", style="Body Text")
    para.add_run("赤い文字").font.color.rgb = RGBColor(0xFF, 0, 0)
    centred = d.add_paragraph("中央に寄せた段落です。", style="Body Text")
    centred.alignment = 1
    d.add_paragraph("大きな文字", style="Body Text").runs[0].font.size = Pt(20)
    d.add_paragraph("引用のスタイル", style="Quote")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "項目", "内容"
    table.cell(1, 0).text, table.cell(1, 1).text = "期間", "12月29日から"
    picture = tmp_path / "map.png"
    Image.new("RGB", (60, 30), "white").save(picture)
    d.add_paragraph(style="Body Text").add_run().add_picture(str(picture))
    d.element.body.xpath("//wp:docPr")[-1].set("descr", "窓口の地図")
    out = io.BytesIO()
    d.save(out)
    extracted = read_word(out.getvalue())
    warnings = extracted.warnings
    assert any(w.startswith("段落 2「通常の文と赤い文字」") and "colour" in w for w in warnings)
    assert any(w.startswith("段落 3「中央に寄せた段落です。」") and "alignment" in w
               for w in warnings)
    assert any(w.startswith("段落 4「大きな文字」") and "size" in w for w in warnings)
    assert any(w.startswith("段落 5「引用のスタイル」") and "'Quote'" in w for w in warnings)
    assert len(warnings) == 4, warnings
    # The text is kept (in the house look), and so are the table and the picture.
    md = extracted.markdown
    assert "通常の文と赤い文字" in md and "引用のスタイル" in md
    assert "| 期間 | 12月29日から |" in md
    assert "![窓口の地図](image1.png)" in md and extracted.images["image1.png"].startswith(
        b"\x89PNG")


def test_cli_prints_the_warnings_and_keeps_the_picture(home: Path, tmp_path: Path) -> None:
    d = house_document()
    d.add_paragraph("お知らせ", style="Heading 1")
    d.add_paragraph("本文です。", style="Body Text").runs[0].font.name = "ＭＳ 明朝"
    picture = tmp_path / "map.png"
    Image.new("RGB", (60, 30), "white").save(picture)
    d.add_paragraph(style="Body Text").add_run().add_picture(str(picture))  # no alt text
    d.save(str(tmp_path / "notice.docx"))
    result = CliRunner().invoke(cli, ["notice", "new", "--title", "お知らせ", "--date",
                                      "2025-01-10", "--from", str(tmp_path / "notice.docx")])
    assert result.exit_code == 0, result.output
    assert "段落 2「本文です。」" in result.output and "font" in result.output
    folder = home / "templates" / "notices" / "540"
    assert (folder / "inserts" / "image1.png").is_file()
    built = CliRunner().invoke(cli, ["notice", "build", "540", "--out", str(tmp_path / "o")])
    assert built.exit_code == 2 and "alt text" in built.output  # the picture needs its alt


def test_not_a_word_file_is_a_one_line_error(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notice.docx"
    bad.write_bytes(b"not a zip")
    result = CliRunner().invoke(cli, ["notice", "new", "--title", "x", "--date", "2025-01-10",
                                      "--from", str(bad)])
    assert result.exit_code == 2 and "not a Word" in result.output
    other = tmp_path / "notice.txt"
    other.write_text("x", "utf-8")
    result = CliRunner().invoke(cli, ["notice", "new", "--title", "x", "--date", "2025-01-10",
                                      "--from", str(other)])
    assert result.exit_code == 2 and ".md" in result.output


@pytest.mark.parametrize(("text", "escaped"), [
    ("1. で始まる文", "1\\. で始まる文".replace("1\\.", "\\1.")),
    ("# 見出しではない", "\\# 見出しではない"),
    ("a*b* と {{ contact.phone|e }}", "a\\*b\\* と {{ contact.phone|e }}"),
])
def test_word_text_is_escaped_for_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_links_and_footnotes_are_reported(tmp_path: Path) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = house_document()
    d.add_paragraph("見出し", style="Heading 1")
    para = d.add_paragraph("詳しくは", style="Body Text")
    link = OxmlElement("w:hyperlink")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "総合サイト"
    run.append(text)
    link.append(run)
    para._p.append(link)
    note = d.add_paragraph("脚注つきの文", style="Body Text").add_run()
    ref = OxmlElement("w:footnoteReference")
    ref.set(qn("w:id"), "1")
    note._r.append(ref)
    out = io.BytesIO()
    d.save(out)
    extracted = read_word(out.getvalue())
    assert "詳しくは総合サイト" in extracted.markdown  # the link's text is kept
    link_warning, note_warning = extracted.warnings
    assert link_warning.startswith("段落 2「詳しくは総合サイト」") and "link" in link_warning
    assert note_warning.startswith("段落 3「脚注つきの文」") and "footnote" in note_warning
