"""Every private symbol of another library we use, checked on its own (kenpo_docs.gates).

A failure here names the symbol that changed; the version check keeps the merge off the fast
path on any version these tests did not run on.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pydyf
import pytest
from markupsafe import Markup
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, IndirectObject, NameObject

from kenpo_docs import gates
from kenpo_docs.gates import _docx, _pypdf, _weasyprint
from kenpo_docs.render import RenderOptions, render_document
from kenpo_docs.render.pdf import shared_font_config

AS_OF = date(2026, 12, 1)
CSS = ".s0 { font-family: 'BIZ UDPGothic'; font-size: 12px; line-height: 1.5 }"


def _overlay_document(text: str = "X") -> object:
    return render_document(
        "forms/_overlay.html",
        {"pages": [{"anchor": "p", "boxes": [{"text": text, "cls": "s0", "left": "10",
                                              "top": "20", "width": "100", "align": "left"}]}],
         "css": Markup(CSS)},  # as overlay.py passes it: CSS, not text to escape
        options=RenderOptions(as_of=AS_OF),
    )


def _walk(box: object) -> list[object]:
    found = [box]
    for child in getattr(box, "children", ()) or ():
        found += _walk(child)
    return found


# -- versions ----------------------------------------------------------------------------------

def test_the_installed_libraries_are_the_tested_ones_so_the_fast_path_is_on() -> None:
    """CI installs from the lock: this fails when the lock and TESTED disagree."""
    assert gates.fast_path() == gates.FastPath(True), gates.fast_path().reason


def test_an_untested_version_turns_the_fast_path_off_with_one_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(gates.TESTED, "weasyprint", ("69.0",))
    monkeypatch.setattr(gates, "_WARNED", [])
    gates.fast_path.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="kenpo_docs"):
            first = gates.warn_once_if_off()
            second = gates.warn_once_if_off()
    finally:
        gates.fast_path.cache_clear()
    assert not first.on and first == second
    assert "weasyprint 70.0 (tested: 69.0)" in first.reason
    warnings = [r for r in caplog.records if "fast path off" in r.getMessage()]
    assert len(warnings) == 1 and "slower" in warnings[0].getMessage()


def test_the_library_key_names_every_gated_library_and_its_version() -> None:
    key = gates.library_key()
    for name in gates.TESTED:
        assert f"{name}={gates.installed(name)}" in key


# -- pypdf -------------------------------------------------------------------------------------

def test_pypdf_add_object_makes_an_indirect_object_of_the_writer() -> None:
    writer = PdfWriter()
    stream = DecodedStreamObject()
    stream.set_data(b"q Q")
    ref = _pypdf.add_object(writer, stream)
    assert isinstance(ref, IndirectObject) and ref.pdf is writer
    assert writer.get_object(ref.idnum).get_data() == b"q Q"


def test_pypdf_stored_bytes_are_the_encoded_bytes_not_the_decoded_ones() -> None:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    stream = DecodedStreamObject()
    stream.set_data(b"0 0 m 10 10 l S " * 50)
    page = writer.pages[0]
    page[NameObject("/Contents")] = _pypdf.add_object(writer, stream.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    contents = PdfReader(io.BytesIO(out.getvalue())).pages[0]["/Contents"].get_object()
    raw = _pypdf.stored_bytes(contents)
    assert raw != contents.get_data() and raw.startswith(b"x")  # zlib, as stored
    assert contents.get_data() == b"0 0 m 10 10 l S " * 50


# -- WeasyPrint --------------------------------------------------------------------------------

def test_weasyprint_page_box_and_absolute_placeholders() -> None:
    document = _overlay_document()
    page_box = _weasyprint.page_box(document.pages[0])  # type: ignore[attr-defined]
    assert type(page_box).__name__ == "PageBox"
    placeholders = [b for b in _walk(page_box) if type(b).__name__ == "AbsolutePlaceholder"]
    assert len(placeholders) == 1
    div = _weasyprint.unwrap_absolute(placeholders[0])
    assert type(div).__name__ == "BlockBox" and div.position_x == 10 and div.position_y == 20
    (text,) = [b for b in _walk(div) if type(b).__name__ == "TextBox"]
    assert text.text == "X" and 20 < text.position_y + text.baseline < 38
    assert _weasyprint.unwrap_absolute(div) is div


def test_weasyprint_font_folder_is_where_the_font_faces_were_copied() -> None:
    folder = _weasyprint.font_folder(shared_font_config(RenderOptions(as_of=AS_OF)))
    assert folder is not None and folder.is_dir()
    assert any(p.stat().st_size > 100_000 for p in folder.iterdir())  # the vendored fonts


def test_weasyprint_subsetter_is_reported() -> None:
    from weasyprint.text.ffi import harfbuzz_subset

    assert _weasyprint.uses_harfbuzz_subset() == bool(harfbuzz_subset)


def _text_style() -> object:
    document = _overlay_document("漢字")
    page_box = _weasyprint.page_box(document.pages[0])  # type: ignore[attr-defined]
    (text,) = [b for b in _walk(page_box) if type(b).__name__ == "TextBox"]
    return text.style


def test_weasyprint_shapes_measures_and_names_the_font_of_a_line() -> None:
    style = _text_style()
    layout, line, index = _weasyprint.shape_line("あいう", style)
    assert index is None  # one line
    width = _weasyprint.line_width(line, style)
    assert 30 < width < 40  # three full-width glyphs at 12px
    fonts = _weasyprint.run_fonts(line)
    assert len(fonts) == 1
    key = _weasyprint.font_key(fonts[0])
    again, line2, _ = _weasyprint.shape_line("かきく", style, layout)
    assert again is layout  # reused, not made anew
    assert _weasyprint.font_key(_weasyprint.run_fonts(line2)[0]) == key


def test_weasyprint_draws_a_line_into_a_stream_and_embeds_its_font() -> None:
    from types import SimpleNamespace

    style = _text_style()
    layout, _line, _ = _weasyprint.shape_line("あいう", style)
    fonts: dict[object, object] = {}
    pdf = pydyf.PDF()
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary()})
    pdf.add_object(resources)
    stream = _weasyprint.new_stream(fonts, (200.0, 100.0), resources)
    stream.begin_text()
    box = SimpleNamespace(text="あいう", style=style, pango_layout=layout, baseline=10)
    colour = _weasyprint.draw_line(stream, box, _weasyprint.matrix(d=-1, e=5, f=30))
    assert not colour
    size = _weasyprint.stream_font(stream)
    assert size is not None and size[1] == 12
    stream.end_text()
    (font,) = fonts.values()
    texts = _weasyprint.glyph_texts(font)
    assert sorted(texts.values()) == ["あ", "い", "う"]
    assert set(_weasyprint.glyph_widths(font)) >= set(texts)
    _weasyprint.set_glyph_texts(font, dict(texts))
    assert _weasyprint.glyph_texts(font) == texts
    pdf.add_object(stream)
    pdf.add_page(pydyf.Dictionary({
        "Type": "/Page", "Parent": pdf.pages.reference, "MediaBox": pydyf.Array([0, 0, 150, 75]),
        "Contents": stream.reference, "Resources": resources.reference}))
    embedded = _weasyprint.embed_fonts(pdf, fonts)
    pdf.add_object(embedded)
    resources["Font"] = embedded.reference
    out = io.BytesIO()
    pdf.write(out, None, b"0" * 32, True)
    assert PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text() == "あいう"


# -- the pinned font subsetter -----------------------------------------------------------------

def test_the_installed_subsetter_is_the_pinned_version() -> None:
    """CI installs from the lock: this fails when the lock and PINNED disagree (the contract
    recording was made with the pinned version)."""
    for name, versions in gates.PINNED.items():
        assert gates.installed(name) in versions, (name, gates.installed(name), versions)
        assert f"{name}={gates.installed(name)}" in gates.library_key()


def test_weasyprint_font_subset_is_what_the_pin_replaces() -> None:
    """What the pin relies on: ``Font.clean`` subsets through ``self.subset(to_unicode,
    hinting)``, and a Font holds its font file, index, missing glyphs and family."""
    import inspect

    from weasyprint.pdf.fonts import Font

    assert "self.subset(to_unicode, hinting)" in inspect.getsource(Font.clean)
    _weasyprint.pin_subsetter()
    _weasyprint.pin_subsetter()  # idempotent
    assert Font.subset is _weasyprint._pinned_subset
    font, _texts = _drawn_font("あ")
    assert font.file_content[:4] == b"\0\1\0\0" and font.index == 0  # type: ignore[attr-defined]
    assert font.missing == {} and font.family == "BIZ UDPGothic"  # type: ignore[attr-defined]


def _drawn_font(text: str) -> tuple[object, dict[int, str]]:
    """The WeasyPrint font ``text`` is drawn in (not yet embedded), and its glyphs' texts."""
    from types import SimpleNamespace

    style = _text_style()
    layout, _line, _ = _weasyprint.shape_line(text, style)
    fonts: dict[object, object] = {}
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary()})
    stream = _weasyprint.new_stream(fonts, (200.0, 100.0), resources)
    stream.begin_text()
    box = SimpleNamespace(text=text, style=style, pango_layout=layout, baseline=10)
    _weasyprint.draw_line(stream, box, _weasyprint.matrix(d=-1, e=5, f=30))
    stream.end_text()
    (font,) = fonts.values()
    return font, dict(_weasyprint.glyph_texts(font))


def _font_programs(data: bytes) -> list[bytes]:
    """The FontFile2 streams of a PDF's pages, as decoded."""
    programs = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            (cid_font,) = font.get_object()["/DescendantFonts"]
            descriptor = cid_font.get_object()["/FontDescriptor"].get_object()
            programs.append(descriptor["/FontFile2"].get_object().get_data())
    return programs


def test_embedded_fonts_are_subset_by_the_pinned_subsetter() -> None:
    from kenpo_docs.fonts import font_faces

    font, texts = _drawn_font("健康保険あいう")
    pdf = pydyf.PDF()
    embedded = _weasyprint.embed_fonts(pdf, {"f": font})
    pdf.add_object(embedded)
    (program,) = [o.stream[0] for o in pdf.objects
                  if isinstance(o, pydyf.Stream) and "Length1" in o.extra]
    regular = next(f.path for f in font_faces() if f.path.name == "BIZUDPGothic-Regular.ttf")
    expected = _weasyprint.subset_font(regular.read_bytes(), 0, texts, hinting=False,
                                       notdef_outline=False)
    assert program == expected


def test_the_subset_keeps_glyph_ids_and_only_the_glyphs_asked_for() -> None:
    from fontTools.ttLib import TTFont

    from kenpo_docs.fonts import font_faces

    regular = next(f.path for f in font_faces() if f.path.name == "BIZUDPGothic-Regular.ttf")
    data = regular.read_bytes()
    full = TTFont(io.BytesIO(data))
    keep = {full.getGlyphID(full.getBestCmap()[ord(c)]) for c in "健康あ"}
    small = TTFont(io.BytesIO(_weasyprint.subset_font(data, 0, keep, hinting=False,
                                                      notdef_outline=False)))
    assert len(small.getGlyphOrder()) == max(keep) + 1  # nothing after the last one kept
    full_glyf, small_glyf = full["glyf"], small["glyf"]
    for gid in keep:
        name, small_name = full.getGlyphName(gid), small.getGlyphName(gid)
        assert small_glyf[small_name].numberOfContours == full_glyf[name].numberOfContours > 0
        assert small["hmtx"][small_name] == full["hmtx"][name]
    dropped = next(g for g in range(1, max(keep)) if g not in keep)
    assert small_glyf[small.getGlyphName(dropped)].numberOfContours == 0
    assert "GSUB" not in small and "GPOS" not in small


def test_the_bytes_do_not_depend_on_whether_weasyprint_loaded_harfbuzz_subset(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process: the same document with WeasyPrint's subsetter choice either way
    (tests/test_contract.py runs the whole scenario without the library in a subprocess)."""
    from weasyprint.pdf import fonts

    from kenpo_docs.render import write_pdf

    options = RenderOptions(as_of=AS_OF)
    first = write_pdf(_overlay_document("健康保険証"), options=options)
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)  # as without the system library
    second = write_pdf(_overlay_document("健康保険証"), options=options)
    assert first == second and _font_programs(first)


def test_a_font_harfbuzz_cannot_subset_is_embedded_whole_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    from types import SimpleNamespace

    font = SimpleNamespace(file_content=b"not a font", index=0, missing={}, family="X")
    with caplog.at_level(logging.WARNING, logger="kenpo_docs"):
        _weasyprint._pinned_subset(font, {3: "a"}, False)
    assert font.file_content == b"not a font"
    assert any("unable to subset X" in r.getMessage() for r in caplog.records)


def test_without_uharfbuzz_the_pin_refuses_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback to what the system has: writing a PDF would fail, naming the wheel."""
    from weasyprint.pdf.fonts import Font

    monkeypatch.setattr(Font, "subset", lambda font, to_unicode, hinting: None)
    monkeypatch.setattr(_weasyprint, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="uharfbuzz"):
        _weasyprint.pin_subsetter()


# -- python-docx -------------------------------------------------------------------------------

_WNS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_the_installed_python_docx_is_the_tested_one() -> None:
    """CI installs from the lock: this fails when the lock and DOCX_TESTED disagree."""
    assert gates.docx_status() == gates.FastPath(True), gates.docx_status().reason


def test_an_untested_python_docx_is_one_warning_and_the_word_file_is_still_written(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from kenpo_docs.render.notice_docx import house_style_document

    monkeypatch.setattr(gates, "DOCX_TESTED", ("0.8.11",))
    monkeypatch.setattr(gates, "_DOCX_WARNED", [])
    gates.docx_status.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="kenpo_docs"):
            document = house_style_document(author="健保", title="t")
            house_style_document(author="健保", title="t")
            status = gates.warn_once_if_docx_untested()
    finally:
        gates.docx_status.cache_clear()
    assert not status.on and "python-docx 1.2.0 (tested: 0.8.11)" in status.reason
    warnings = [r for r in caplog.records if "python-docx" in r.getMessage()]
    assert len(warnings) == 1 and "requirements.lock" in warnings[0].getMessage()
    assert document.styles["Title"] is not None


def test_docx_qn_expands_a_prefixed_name() -> None:
    assert _docx.qn("w:val") == f"{_WNS}val"
    assert _docx.qn("xml:space") == "{http://www.w3.org/XML/1998/namespace}space"


def test_docx_new_element_sets_its_attributes_in_the_w_namespace_in_order() -> None:
    el = _docx.new_element("w:shd", val="clear", color="auto", fill="e8e8e8")
    assert el.tag == f"{_WNS}shd"
    assert list(el.attrib.items()) == [(f"{_WNS}val", "clear"), (f"{_WNS}color", "auto"),
                                       (f"{_WNS}fill", "e8e8e8")]
    assert _docx.new_element("w14:checkbox").tag.endswith("/wordml}checkbox")


def test_docx_parse_xml_gives_python_docx_elements() -> None:
    el = _docx.parse_xml(f'<w:p xmlns:w="{_WNS[1:-1]}"><w:r><w:t>あ</w:t></w:r></w:p>')
    assert el.tag == f"{_WNS}p" and el.xpath("string(.)") == "あ"


def _docx_document() -> object:
    import docx

    document = docx.Document()
    document.add_paragraph("一").add_run("二")
    document.add_table(rows=1, cols=2)
    document.add_paragraph("三")
    return document


def test_docx_paragraph_run_and_their_properties() -> None:
    document: Any = _docx_document()
    para = document.paragraphs[0]
    p = _docx.paragraph_element(para)
    assert p.tag == f"{_WNS}p" and p.getparent().tag == f"{_WNS}body"
    run = para.runs[1]
    r = _docx.run_element(run)
    assert r.tag == f"{_WNS}r" and r.getparent() is p
    assert _docx.paragraph_properties_if_any(para) is None
    ppr = _docx.paragraph_properties(para)
    assert ppr.tag == f"{_WNS}pPr" and ppr.getparent() is p and p[0] is ppr
    assert _docx.paragraph_properties_if_any(para) is ppr
    assert _docx.paragraph_properties(para) is ppr  # not added twice
    assert _docx.run_fonts_if_any(run) is None
    rpr = _docx.run_properties(run)
    assert rpr.tag == f"{_WNS}rPr" and rpr.getparent() is r
    fonts = _docx.run_fonts(run)
    assert fonts.tag == f"{_WNS}rFonts" and fonts.getparent() is rpr
    assert _docx.run_fonts_if_any(run) is fonts


def test_docx_table_row_and_cell_elements_and_properties() -> None:
    document: Any = _docx_document()
    table = document.tables[0]
    tbl = _docx.table_element(table)
    assert tbl.tag == f"{_WNS}tbl"
    assert _docx.table_properties(table).tag == f"{_WNS}tblPr"
    grid = _docx.table_grid(table)
    assert grid.tag == f"{_WNS}tblGrid" and len(grid.findall(f"{_WNS}gridCol")) == 2
    trpr = _docx.row_properties(table.rows[0])
    assert trpr.tag == f"{_WNS}trPr" and trpr.getparent().getparent() is tbl
    cell = table.cell(0, 1)
    assert isinstance(cell, _docx.Cell)
    tc = _docx.cell_element(cell)
    assert tc.tag == f"{_WNS}tc" and tc.getparent().getparent() is tbl
    tcpr = _docx.cell_properties(cell)
    assert tcpr.tag == f"{_WNS}tcPr" and tcpr.getparent() is tc


def test_docx_style_paragraph_properties() -> None:
    document: Any = _docx_document()
    style = document.styles["Title"]
    ppr = _docx.style_paragraph_properties(style)
    assert ppr.tag == f"{_WNS}pPr" and ppr.getparent() is style.element


def test_docx_part_element_is_the_header_root() -> None:
    document: Any = _docx_document()
    header = document.sections[0].header
    header.is_linked_to_previous = False
    root = _docx.part_element(header)
    assert root.tag == f"{_WNS}hdr"
    assert _docx.paragraph_element(header.paragraphs[0]).getparent() is root


def test_docx_picture_inline_is_the_inline_drawing(tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "dot.png"
    Image.new("RGB", (4, 4), "white").save(png)
    document: Any = _docx_document()
    picture = document.add_paragraph().add_run().add_picture(str(png))
    inline = _docx.picture_inline(picture)
    assert inline.tag.endswith("wordprocessingDrawing}inline")
    inline.set("distT", "0")
    assert inline.get("distT") == "0"


def test_docx_body_blocks_are_the_paragraphs_and_tables_in_order() -> None:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document: Any = _docx_document()
    blocks = list(_docx.body_blocks(document))
    assert [type(b) for b in blocks] == [Paragraph, Table, Paragraph]
    assert blocks[0].text == "一二" and blocks[2].text == "三"  # type: ignore[union-attr]
    assert len(blocks[1].columns) == 2  # type: ignore[union-attr]


def test_docx_paragraph_at_and_run_at_make_proxies_of_elements() -> None:
    document: Any = _docx_document()
    table = document.tables[0]
    table.cell(0, 0).paragraphs[0].add_run("セル")
    tc = _docx.cell_element(table.cell(0, 0))
    para = _docx.paragraph_at(tc.find(f"{_WNS}p"), table)
    assert para.text == "セル"
    run = _docx.run_at(_docx.paragraph_element(para).find(f"{_WNS}r"), para)
    assert run.text == "セル" and _docx.run_element(run).getparent() is not None
