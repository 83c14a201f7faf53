"""The rendering engine: strict sandboxed Jinja, safe fetcher, vendored fonts, reproducible PDFs."""

from __future__ import annotations

import io
import logging
import shutil
from datetime import date
from pathlib import Path

import pypdf
import pytest
from fontTools.ttLib import TTFont

from kenpo_docs.errors import RenderError, TemplateError
from kenpo_docs.fonts import font_faces
from kenpo_docs.paths import fonts_dir
from kenpo_docs.render import (
    FetchRefused,
    RenderOptions,
    SafeFetcher,
    render_document,
    render_html,
    render_pdf,
)

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2024, 11, 19)

PAGE = """{% extends "base/base.html" %}
{% block title %}試験文書{% endblock %}
{% block body %}
<h1>見出し一</h1>
<p>{{ when|wareki_weekday }} / {{ when|wareki_short }} / {{ when|wareki_abbrev }}</p>
<p>{{ when|year_month }} {{ when|weekday }} {{ when|wareki }}</p>
<h2>見出し二</h2>
<p>氏名：{{ name }}</p>
{% endblock %}
"""


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(ROOT / "templates" / "base", root / "base")
    (root / "t").mkdir()
    (root / "t" / "page.html").write_text(PAGE, encoding="utf-8")
    return root


def _opts(templates: Path, **kw: object) -> RenderOptions:
    return RenderOptions(as_of=AS_OF, templates_dir=templates, **kw)  # type: ignore[arg-type]


CTX = {"when": date(2024, 12, 1), "name": "<script>年金 太郎</script>"}


def test_filters_write_the_notice_forms(templates: Path) -> None:
    html = render_html("t/page.html", CTX, options=_opts(templates))
    # Forms quoted from domain-rules.md ("Dates and eras").
    assert "令和6年12月1日（日） / 6.12.1 / R6.12.1" in html
    assert "令和6年12月 日 令和6年12月1日" in html


def test_autoescape_is_always_on(templates: Path) -> None:
    html = render_html("t/page.html", CTX, options=_opts(templates))
    assert "<script>" not in html
    assert "&lt;script&gt;年金 太郎&lt;/script&gt;" in html


def test_undefined_variable_names_variable_template_and_line(templates: Path) -> None:
    with pytest.raises(TemplateError) as info:
        render_pdf("t/page.html", {"when": date(2024, 12, 1)}, options=_opts(templates))
    err = info.value
    assert err.variable == "name"  # type: ignore[attr-defined]
    assert err.lineno == 8  # type: ignore[attr-defined]  # line of {{ name }} in PAGE
    assert err.template == "t/page.html"
    assert "'name'" in str(err) and "line 8" in str(err)


def test_missing_template_is_a_template_error(templates: Path) -> None:
    with pytest.raises(TemplateError, match=r"nope\.html"):
        render_html("t/nope.html", CTX, options=_opts(templates))


def test_sandbox_refuses_python_internals(templates: Path) -> None:
    (templates / "t" / "evil.html").write_text(
        "{{ name.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8"
    )
    with pytest.raises(TemplateError):
        render_html("t/evil.html", CTX, options=_opts(templates))


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.css",
        "https://example.com/x.png",
        "data:text/css,body{}",
        "file:///etc/passwd",
        "ftp://example.com/x",
    ],
)
def test_fetcher_refuses_outside_urls(
    templates: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = SafeFetcher([templates, fonts_dir()])
    with caplog.at_level(logging.WARNING, logger="kenpo_docs"), pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]
    assert any("refused to fetch" in r.getMessage() for r in caplog.records)


def test_fetcher_refuses_dotdot_even_when_it_resolves_inside(templates: Path) -> None:
    fetcher = SafeFetcher([templates])
    sneaky = (templates / "t" / ".." / "base" / "print.css").as_posix()
    with pytest.raises(FetchRefused):
        fetcher.fetch("file://" + sneaky)
    inside = (templates / "base" / "print.css").as_uri()
    assert b"@page" in fetcher.fetch(inside).read()


def test_fetcher_refuses_symlink_out_of_root(templates: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body{}", encoding="utf-8")
    (templates / "t" / "link.css").symlink_to(secret)
    with pytest.raises(FetchRefused):
        SafeFetcher([templates]).fetch((templates / "t" / "link.css").as_uri())


def test_template_asking_for_http_fails_and_nothing_is_fetched(
    templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (templates / "t" / "remote.html").write_text(
        '{% extends "base/base.html" %}{% block body %}'
        '<img src="http://example.invalid/{{ name }}.png">{% endblock %}',
        encoding="utf-8",
    )
    fetcher = SafeFetcher([templates, fonts_dir()])
    with caplog.at_level(logging.WARNING, logger="kenpo_docs"), pytest.raises(RenderError):
        render_pdf("t/remote.html", {"name": "x"}, options=_opts(templates), fetcher=fetcher)
    assert fetcher.refused == ["http://example.invalid/x.png"]
    # What was actually served: the stylesheet and the vendored fonts, nothing else.
    served = [u for u in fetcher.requested if u not in fetcher.refused]
    allowed = {(templates / "base" / "print.css").as_uri()} | {
        f.path.resolve().as_uri() for f in font_faces()
    }
    assert served and set(served) <= allowed


def _vendored_postscript_names() -> set[str]:
    names = set()
    for face in font_faces():
        with TTFont(str(face.path), lazy=True) as font:
            names.add(font["name"].getDebugName(6))
    return names


def pdf_font_names(data: bytes) -> set[str]:
    """PostScript names read from the font programs embedded on every page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    found = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for desc in [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]:
                descriptor = desc.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                if stream is None:
                    found.add("(not embedded) " + str(font["/BaseFont"]))
                    continue
                with TTFont(io.BytesIO(stream.get_object().get_data())) as tt:
                    found.add(str(tt["name"].getDebugName(6)))
    return found


def test_only_vendored_fonts_are_embedded(templates: Path) -> None:
    data = render_pdf("t/page.html", CTX, options=_opts(templates))
    used = pdf_font_names(data)
    assert used, "no fonts found"
    assert used <= _vendored_postscript_names()


def test_same_input_gives_identical_bytes(templates: Path) -> None:
    a = render_pdf("t/page.html", CTX, options=_opts(templates))
    b = render_pdf("t/page.html", CTX, options=_opts(templates))
    c = render_pdf(
        "t/page.html", CTX, options=RenderOptions(as_of=date(2024, 11, 20), templates_dir=templates)
    )
    assert a == b
    assert a != c


def test_metadata_bookmarks_tags_and_a4(templates: Path) -> None:
    data = render_pdf("t/page.html", CTX, options=_opts(templates))
    reader = pypdf.PdfReader(io.BytesIO(data))
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "試験文書"
    assert meta.author == "日本年金機構健康保険組合"  # domain-rules.md, 照会先
    assert meta["/CreationDate"].startswith("D:20241119")
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "ja"
    assert "/StructTreeRoot" in root  # tagged PDF
    outline = reader.outline
    assert outline[0]["/Title"] == "見出し一"
    assert outline[1][0]["/Title"] == "見出し二"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


def test_pdfa3b_option(templates: Path) -> None:
    data = render_pdf("t/page.html", CTX, options=_opts(templates, pdf_variant="pdf/a-3b"))
    reader = pypdf.PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp or b"<pdfaid:part>3</pdfaid:part>" in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]


def test_unknown_variant_refused() -> None:
    with pytest.raises(RenderError):
        RenderOptions(pdf_variant="pdf/x-9")


def test_render_document_gives_pages_to_split(templates: Path) -> None:
    doc = render_document("t/page.html", CTX, options=_opts(templates))
    assert len(doc.pages) == 1


@pytest.mark.parametrize("follower", ["ょ", "。", "」", "ー", "ッ"])
def test_kinsoku_no_line_starts_with_a_non_starter(templates: Path, follower: str) -> None:
    # A fixed-width face in a box exactly ten characters wide: a naive breaker would start
    # line two with the 11th character. JIS X 4051 forbids these at a line start.
    text = "あ" * 9 + "き" + follower + "いうえおかきくけこさしすせそ"
    (templates / "t" / "narrow.html").write_text(
        '{% extends "base/base.html" %}{% block body %}'
        '<p class="mincho" style="width: 10em; font-size: 12pt; text-align: left">{{ text }}</p>'
        "{% endblock %}",
        encoding="utf-8",
    )
    data = render_pdf("t/narrow.html", {"text": text}, options=_opts(templates))
    lines = [ln for ln in pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().splitlines()
             if ln.strip() and "/" not in ln]
    assert "".join(lines) == text  # nothing lost
    assert len(lines) >= 2  # it did wrap
    assert not any(ln.startswith(follower) for ln in lines[1:]), lines


def test_kinsoku_setup_breaks_at_the_eleventh_character_otherwise(templates: Path) -> None:
    # The control for the test above: an ordinary kana in 11th place does start line two.
    text = "あ" * 9 + "き" + "い" + "いうえおかきくけこさしすせそ"
    (templates / "t" / "narrow.html").write_text(
        '{% extends "base/base.html" %}{% block body %}'
        '<p class="mincho" style="width: 10em; font-size: 12pt; text-align: left">{{ text }}</p>'
        "{% endblock %}",
        encoding="utf-8",
    )
    data = render_pdf("t/narrow.html", {"text": text}, options=_opts(templates))
    lines = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().splitlines()
    assert lines[0] == "あ" * 9 + "き"
    assert lines[1].startswith("い")


def test_docx_undefined_variable_is_a_template_error(templates: Path) -> None:
    import docx as python_docx

    from kenpo_docs.render import render_docx

    page = python_docx.Document()
    page.add_paragraph("保険者 {{ insurer_name }}")
    page.add_paragraph("氏名 {{ member_name }}")
    page.save(str(templates / "t" / "letter.docx"))
    with pytest.raises(TemplateError) as info:
        render_docx("t/letter.docx", {"insurer_name": "x"}, options=_opts(templates))
    assert "member_name" in str(info.value)
    data = render_docx(
        "t/letter.docx", {"insurer_name": "<組合>", "member_name": "年金 太郎"},
        options=_opts(templates),
    )
    text = [p.text for p in python_docx.Document(io.BytesIO(data)).paragraphs]
    assert text == ["保険者 <組合>", "氏名 年金 太郎"]  # escaped in XML, read back as text


def test_pdf_ua_variant_is_tagged(templates: Path) -> None:
    data = render_pdf("t/page.html", CTX, options=_opts(templates, pdf_variant="pdf/ua-1"))
    root = pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
