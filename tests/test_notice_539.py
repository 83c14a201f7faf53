"""Notice No. 539 reproduced: the printed text against the source notice, DOCX likewise."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import jinja2.meta
import pypdf
import pytest

from kenpo_docs.documents.notices import get_notice, template_hash
from kenpo_docs.publish.notices import build_notice
from kenpo_docs.render import make_environment
from tests.test_render import _vendored_postscript_names, pdf_font_names

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "data" / "notice-539-expected.txt"
FOLDER = ROOT / "templates" / "notices" / "539"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def expected_lines() -> list[str]:
    lines = EXPECTED.read_text(encoding="utf-8").splitlines()
    return [_squash(line) for line in lines if line.strip() and not line.startswith("#")]


def assert_in_order(haystack: str, needles: list[str]) -> None:
    """Every needle occurs in ``haystack`` after the previous one (whitespace removed)."""
    text = _squash(haystack)
    pos = 0
    for i, needle in enumerate(needles):
        found = text.find(needle, pos)
        if found < 0:
            where = "elsewhere (out of order)" if needle in text else "nowhere"
            context = text[max(pos - 40, 0) : pos + 40]
            pytest.fail(f"line {i + 1} {needle!r} not found after position {pos}, but "
                        f"{where}; text there: …{context}…")
        pos = found + len(needle)


@pytest.fixture(scope="module")
def pdf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("notice")
    path = build_notice(539, "pdf", out_dir=out)
    assert path == out / "notice-539.pdf"
    assert path.stat().st_mode & 0o777 == 0o600
    return path.read_bytes()


@pytest.fixture(scope="module")
def pdf_text(pdf_bytes: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages]


def test_expected_file_is_substantial() -> None:
    lines = expected_lines()
    assert len(lines) > 150
    assert "保健診療" in "".join(lines)  # the notice's own typo is kept


def test_pdf_contains_every_sentence_and_cell_in_order(pdf_text: list[str]) -> None:
    assert_in_order("\n".join(pdf_text), expected_lines())


def test_header_reads_number_and_short_date(pdf_text: list[str]) -> None:
    first = _squash(pdf_text[0].splitlines()[0])
    assert first == "年金機構けんぽからのお知らせ（第539号）6.11.19"


def test_about_five_a4_pages(pdf_bytes: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    assert 4 <= len(reader.pages) <= 5
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_pdf_metadata(pdf_bytes: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    assert reader.metadata is not None
    assert reader.metadata.title == "マイナ保険証への移行について（第539号）"
    assert reader.metadata["/CreationDate"].startswith("D:20241119")
    titles = [item["/Title"] for item in reader.outline if isinstance(item, dict)]
    assert "マイナ保険証への移行について" in titles


def test_only_vendored_fonts(pdf_bytes: bytes) -> None:
    used = pdf_font_names(pdf_bytes)
    assert used and used <= _vendored_postscript_names()


def test_no_line_starts_with_a_kinsoku_character(pdf_text: list[str]) -> None:
    # JIS X 4051 line-start prohibitions: closing punctuation, small kana, iteration marks.
    forbidden = set("、。，．）」』】〕》〉ゃゅょっぁぃぅぇぉャュョッァィゥェォーゝゞ々！？：；")
    bad = [ln for page in pdf_text for ln in page.splitlines() if ln[:1] in forbidden]
    assert bad == []


def test_build_is_reproducible(pdf_bytes: bytes, tmp_path: Path) -> None:
    again = build_notice(539, "pdf", out_dir=tmp_path).read_bytes()
    assert again == pdf_bytes


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    # The masthead is the first page's header (as the PDF prints it: on page 1 only).
    parts: list[str] = [p.text for p in document.sections[0].first_page_header.paragraphs]
    body = document.element.body
    # Paragraphs and tables in document order.
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            parts.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tc"):
                    parts.append("".join(t.text or "" for t in row.iter() if t.tag.endswith("}t")))
    return "\n".join(parts)


def test_docx_contains_the_same_sentences(tmp_path: Path) -> None:
    data = build_notice(539, "docx", out_dir=tmp_path).read_bytes()
    text = docx_text(data)
    assert "{{" not in text and "{%" not in text
    assert_in_order(text, expected_lines())
    # The PDF's title (its <title>), as the PDF's metadata has it.
    assert docx.Document(io.BytesIO(data)).core_properties.title == \
        "マイナ保険証への移行について（第539号）"


def test_html_uses_the_rules_tables() -> None:
    # The DOCX is the twin of this HTML (kenpo_docs.render.twin), so it prints the same
    # variables by construction; the folder's notice.docx (frozen with it) is not used.
    env = make_environment()
    source = (FOLDER / "notice.html").read_text(encoding="utf-8")
    html_vars = jinja2.meta.find_undeclared_variables(env.parse(source))
    html_vars.discard("document")  # supplied by the engine for base.html's metadata
    assert html_vars == {"notice", "card_rows", "periods", "timings", "contact", "inserts"}


def test_register_has_539_issued_and_frozen() -> None:
    notice = get_notice(539)
    assert notice.status == "issued"
    assert notice.date.isoformat() == "2024-11-19"
    assert notice.title == "マイナ保険証への移行について"
    # The committed template folder (and templates/base/) is the one that was issued.
    assert notice.hash == template_hash(notice)
