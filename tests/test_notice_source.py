"""A notice written in Markdown (issue 24): one source → PDF, DOCX and HTML in the house style.

Notice 539 re-expressed as Markdown (tests/data/notice539.md, written from the source text
of the notice, with the rules tables as Jinja loops) must print every sentence and table
cell of the notice in order, the same expected text as tests/test_notice_539.py, in the PDF
and in the DOCX; validation stops or warns before anything is written.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import docx
import pypdf
import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.documents.notice_markdown import parse_markdown
from kenpo_docs.documents.notices import Notice, load_register, save_register
from kenpo_docs.documents.noticetree import Box, Faq, Steps, Table, check_notice
from kenpo_docs.errors import TemplateError
from kenpo_docs.publish.notices import build_notice, incomplete, issue, new_from_source
from tests.test_notice_539 import assert_in_order, docx_text, expected_lines

ROOT = Path(__file__).resolve().parent.parent
MD539 = ROOT / "tests" / "data" / "notice539.md"


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def docx_all_text(data: bytes) -> str:
    """The page header (masthead) and the body, as a reader meets them."""
    document = docx.Document(io.BytesIO(data))
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    return header + "\n" + docx_text(data)


def as_539(home: Path) -> None:
    """The home's register with 539 written in Markdown (folder 539md), not the issued one."""
    folder = home / "templates" / "notices" / "539md"
    folder.mkdir()
    (folder / "notice.md").write_text(MD539.read_text("utf-8"), "utf-8")
    save_register([Notice(539, date(2024, 11, 19), "マイナ保険証への移行について", "539md",
                          attachments=(("form:bessou1", "資格確認書（再）交付申請書"),))])


@pytest.fixture(scope="module")
def built539(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    import shutil

    shutil.copytree(ROOT / "templates", home / "templates")
    (home / "fonts").symlink_to(ROOT / "fonts")
    mp.setenv("KENPO_DOCS_HOME", str(home))
    try:
        as_539(home)
        out = home / "out"
        return {fmt: build_notice(539, fmt, out_dir=out) for fmt in ("pdf", "docx", "html")}
    finally:
        mp.undo()


def test_markdown_539_pdf_has_every_sentence_and_cell_in_order(
        built539: dict[str, Path]) -> None:
    assert_in_order(pdf_text(built539["pdf"]), expected_lines())
    assert built539["pdf"].stat().st_mode & 0o777 == 0o600


def test_markdown_539_docx_has_the_same_text(built539: dict[str, Path]) -> None:
    data = built539["docx"].read_bytes()
    assert_in_order(docx_all_text(data), expected_lines())
    document = docx.Document(io.BytesIO(data))
    assert document.core_properties.title == "マイナ保険証への移行について"
    styles = {p.style.name for p in document.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Body Text", "囲み", "手順", "質問", "回答",
            "照会先"} <= styles


def test_markdown_539_html_is_the_house_page(built539: dict[str, Path]) -> None:
    html = built539["html"].read_text("utf-8")
    for cls in ('class="masthead"', 'class="title"', 'class="step"', 'class="faq"',
                'class="contact"', 'scope="row"', 'colspan="4"'):
        assert cls in html
    assert "file:" not in html


def test_markdown_539_pdf_looks_like_the_issued_one(built539: dict[str, Path]) -> None:
    reader = pypdf.PdfReader(built539["pdf"])
    assert 4 <= len(reader.pages) <= 6
    first = "".join(reader.pages[0].extract_text().split("\n")[0].split())
    assert first == "年金機構けんぽからのお知らせ（第539号）6.11.19"
    assert reader.metadata is not None
    assert reader.metadata.title == "マイナ保険証への移行について（第539号）"


def test_the_download_section_is_reported_empty(home: Path) -> None:
    as_539(home)
    assert any("ダウンロード方法" in line and "本文がありません" in line
               for line in incomplete(539))
    with pytest.raises(TemplateError, match="not complete"):
        issue(539)


def test_new_without_source_gets_the_starter(home: Path, tmp_path: Path) -> None:
    notice, warnings = new_from_source("年末年始のお知らせ", date(2024, 12, 20))
    folder = home / "templates" / "notices" / str(notice.number)
    assert sorted(p.name for p in folder.iterdir()) == ["notice.md"]
    assert any("（本文）" in w for w in warnings)
    html = build_notice(notice.number, "html", out_dir=tmp_path).read_text("utf-8")
    assert "（第540号）" in html and "6.12.20" in html and "年末年始のお知らせ" in html


def test_cli_new_from_markdown_then_build_every_format(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "src" / "notice.md"
    source.parent.mkdir()
    source.write_text("## お知らせ\n本文です。電話番号 {{ contact.phone }}\n\n"
                      "![窓口の地図](map.png)\n", "utf-8")
    from PIL import Image

    Image.new("RGB", (40, 20), "white").save(source.parent / "map.png")
    runner = CliRunner()
    made = runner.invoke(cli, ["notice", "new", "--title", "窓口のご案内", "--date",
                               "令和7年1月10日", "--from", str(source)])
    assert made.exit_code == 0, made.output
    folder = home / "templates" / "notices" / "540"
    assert sorted(p.name for p in folder.rglob("*")) == ["inserts", "map.png", "notice.md"]
    for fmt in ("pdf", "docx", "html"):
        built = runner.invoke(cli, ["notice", "build", "540", "--format", fmt, "--out",
                                    str(tmp_path / "o")])
        assert built.exit_code == 0, built.output
    assert "03-5216-3223" in pdf_text(tmp_path / "o" / "notice-540.pdf")
    html = (tmp_path / "o" / "notice-540.html").read_text("utf-8")
    assert 'alt="窓口の地図"' in html and "data:image/png;base64," in html


def test_undefined_variable_fails_before_any_file_is_written(home: Path,
                                                             tmp_path: Path) -> None:
    source = tmp_path / "bad.md"
    source.write_text("## 見出し\n\n本文\n{{ member_name }}\n", "utf-8")
    before = (home / "templates" / "notices" / "register.toml").read_bytes()
    result = CliRunner().invoke(cli, ["notice", "new", "--title", "x", "--date", "2025-01-10",
                                      "--from", str(source)])
    assert result.exit_code == 2
    assert "member_name" in result.output and "line 4" in result.output
    assert "Traceback" not in result.output
    assert not (home / "templates" / "notices" / "540").exists()
    assert (home / "templates" / "notices" / "register.toml").read_bytes() == before
    # And in a folder's own notice.md: build refuses before writing.
    notice, _ = new_from_source("x", date(2025, 1, 10))
    md = home / "templates" / "notices" / str(notice.number) / "notice.md"
    md.write_text(md.read_text("utf-8") + "{{ periods[0].nothing }}\n", "utf-8")
    for fmt in ("pdf", "docx", "html"):
        with pytest.raises(TemplateError, match="nothing"):
            build_notice(notice.number, fmt, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_only_the_rules_tables_are_variables(home: Path, tmp_path: Path) -> None:
    notice, _ = new_from_source("x", date(2025, 1, 10))
    md = home / "templates" / "notices" / str(notice.number) / "notice.md"
    md.write_text("## 見出し\n{{ series_title }} {{ inserts }}\n", "utf-8")
    with pytest.raises(TemplateError, match="series_title"):
        build_notice(notice.number, "pdf", out_dir=tmp_path)


@pytest.mark.parametrize(("source", "severity", "needle"), [
    ("## A\n本文\n#### C\n本文\n", "error", "heading level jumps"),
    ("## A\n## B\n本文\n", "warning", "「A」の本文がありません"),
    ("## A\n![](pic.png)\n", "error", "without alt text"),
    ("## A\n![写真](../../secret.png)\n", "error", "inserts/"),
    ("## A\n本文\uE000\n", "error", "印刷できない文字"),
    ("## A\n::: boks\n本文\n:::\n", "error", "unknown box"),
])
def test_validation(source: str, severity: str, needle: str) -> None:
    problems = check_notice(parse_markdown(source), title="お知らせ")
    assert [p.severity for p in problems if needle in p.message] == [severity], problems


def test_title_must_fit_the_masthead() -> None:
    doc = parse_markdown("## A\n本文\n")
    assert check_notice(doc, title="あ" * 29) == []
    [problem] = check_notice(doc, title="あ" * 30)
    assert problem.severity == "error" and "title too long" in problem.message


def test_validation_error_stops_the_build(home: Path, tmp_path: Path) -> None:
    notice, _ = new_from_source("x", date(2025, 1, 10))
    md = home / "templates" / "notices" / str(notice.number) / "notice.md"
    md.write_text("## 見出し\n本文\n#### 深すぎる見出し\n本文\n", "utf-8")
    result = CliRunner().invoke(cli, ["notice", "build", str(notice.number), "--out",
                                      str(tmp_path / "o")])
    assert result.exit_code == 2 and "heading level jumps" in result.output
    assert not (tmp_path / "o").exists()


def test_structure_of_the_boxes() -> None:
    doc = parse_markdown(MD539.read_text("utf-8").replace("{% for", "{#").replace(
        "{% endfor %}", "#}"))
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds.count("Steps") == 1 and kinds.count("Faq") == 1
    steps = next(b for b in doc.blocks if isinstance(b, Steps))
    assert len(steps.steps) == 3
    faq = next(b for b in doc.blocks if isinstance(b, Faq))
    assert [p.q_label for p in faq.pairs] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert faq.pairs[3].a_label == "A４"  # as the notice prints it
    contacts = [b.label for b in doc.blocks if isinstance(b, Box) and b.kind == "contact"]
    assert contacts == ["照会先", "添付資料"]
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert tables[0].header is None and tables[0].rows[0][0].header
    assert tables[0].widths == (2, 10)


def test_register_keeps_both_kinds(home: Path, tmp_path: Path) -> None:
    new_from_source("年末年始のお知らせ", date(2024, 12, 20))
    assert [n.number for n in load_register()] == [539, 540]
    # The issued HTML notice still builds as before.
    assert build_notice(539, "html", out_dir=tmp_path).is_file()


def test_the_demo_sample_builds_clean_and_says_it_is_a_sample(home: Path, tmp_path: Path) -> None:
    from kenpo_docs.demo import SAMPLE_NOTICE, sample_notice

    (home / "samples").symlink_to(ROOT / "samples")
    register = (home / "templates" / "notices" / "register.toml").read_bytes()
    before = sorted(p.name for p in (home / "templates" / "notices").iterdir())
    pdf, docx_path, html = sample_notice(tmp_path)
    text = pdf_text(pdf)
    assert "【見本】" in text and "見本（サンプル）" in text
    assert f"（第{SAMPLE_NOTICE[0]}号）" in text and "7.11.4" in text
    # The rules tables are printed from the rules: the 2nd period's expiry and the phone.
    assert "令和10年11月30日" in text and "03-5216-3223" in text
    assert "見本" in docx_all_text(docx_path.read_bytes())
    assert "STEP" in html.read_text("utf-8")
    from kenpo_docs.publish.notices import render_source

    _, warnings = render_source(ROOT / "samples" / "notice-540.md", "html", number=540,
                                on=date(2025, 11, 4), title=SAMPLE_NOTICE[2])
    assert warnings == []
    # Nothing was registered or written in the templates folder.
    assert (home / "templates" / "notices" / "register.toml").read_bytes() == register
    assert sorted(p.name for p in (home / "templates" / "notices").iterdir()) == before


def test_render_source_reports_warnings_without_a_folder(home: Path, tmp_path: Path) -> None:
    from kenpo_docs.publish.notices import render_source

    source = tmp_path / "draft.md"
    source.write_text("## 空の見出し\n## 次\n本文\n", "utf-8")
    data, warnings = render_source(source, "pdf", number=600, on=date(2025, 1, 10),
                                   title="下書き")
    assert data.startswith(b"%PDF") and any("「空の見出し」" in w for w in warnings)


def test_pack_and_proof_take_a_markdown_notice(home: Path, tmp_path: Path) -> None:
    from kenpo_docs.publish.notices import proof_notice
    from kenpo_docs.publish.pack import render_pack

    as_539(home)
    pages = proof_notice(539, out_dir=tmp_path)
    assert 4 <= len(pages) <= 6
    reader = pypdf.PdfReader(io.BytesIO(render_pack(539)))
    titles = [item["/Title"] for item in reader.outline if isinstance(item, dict)]
    assert titles == ["第539号 マイナ保険証への移行について", "別添1 資格確認書（再）交付申請書"]


def test_an_issued_markdown_notice_is_frozen_with_the_house_page(home: Path,
                                                                 tmp_path: Path) -> None:
    source = tmp_path / "n.md"
    source.write_text("## お知らせ\n本文です。\n", "utf-8")
    notice, warnings = new_from_source("お知らせ", date(2025, 1, 10), source)
    assert warnings == []
    result = CliRunner().invoke(cli, ["notice", "issue", str(notice.number)])
    assert result.exit_code == 0, result.output
    assert build_notice(notice.number, "pdf", out_dir=tmp_path / "a").is_file()
    css = home / "templates" / "notices" / "_house" / "notice.css"
    css.write_text(css.read_text("utf-8") + "\n/* changed */\n", "utf-8")
    result = CliRunner().invoke(cli, ["notice", "build", str(notice.number), "--out",
                                      str(tmp_path / "b")])
    assert result.exit_code == 2 and "--force" in result.output
    assert not (tmp_path / "b").exists()
    # 539, an HTML template, does not depend on the house page.
    assert build_notice(539, "html", out_dir=tmp_path / "c").is_file()


@pytest.mark.parametrize("expression", ["{{ 9**99999999 }}", "{{ 'x' * 10**10 }}",
                                        "{{ [1] * 100000 }}", "{{ 100000 * 'ab' }}"])
def test_arithmetic_that_would_hold_the_machine_is_refused(expression: str) -> None:
    """The sandbox bounds ``range`` only; a power or a repetition this size would take a worker
    (or the web page's thread) for minutes. Refused at once, as a template error."""
    import time

    from kenpo_docs.errors import TemplateError
    from kenpo_docs.render.notice_source import expand_variables

    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"大きすぎ|長すぎ"):
        expand_variables(f"# 題\n\n{expression}\n", {}, source="notice.md")
    assert time.monotonic() - started < 5


def test_ordinary_arithmetic_still_works() -> None:
    from kenpo_docs.render.notice_source import expand_variables

    assert expand_variables("{{ 2**10 }} {{ '-' * 3 }} {{ 3 * 4 }}", {}, source="n.md") \
        == "1024 --- 12"
