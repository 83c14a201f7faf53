"""Piece codes: real PDFs stamped, rendered with pypdfium2 and read back with zxing-cpp.

Expected texts are written here from the format in the brief (``<piece_id>|<page>/<pages>``)
and the words we put on the source pages, never taken from our own output. Sizes come from
ISO/IEC 18004 (version v has 17 + 4v modules) and the option values (0.5 mm modules, 2 mm
quiet zone).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pypdf
import pypdfium2
import pytest
import segno
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from kenpo_docs.barcodes.piececode import (
    PieceCode,
    StampOptions,
    parse_piece_code,
    piece_code_text,
    stamp_page,
    stamp_pieces,
)
from kenpo_docs.barcodes.verify import read_expected, verify_pdf
from kenpo_docs.cli import cli
from kenpo_docs.errors import AssemblyError, BarcodeError, ManifestError

A, B, C = "B20261128-0001-000123", "B20261128-0001-000124", "B20261128-0001-000125"
FOREIGN = "B20261031-0007-000042"
PIECES = [(A, 3), (B, 1), (C, 2)]
EXPECTED = {A: 3, B: 1, C: 2}
# The words on each source sheet (the shared notice is sheet 4 and sheet 6).
SHEETS = ["Letter A one", "Letter A two", "Letter A three", "Shared notice", "Letter C one",
          "Shared notice"]
MM = 72 / 25.4


def _text_page(writer: pypdf.PdfWriter, words: str, *, rotate: int = 0) -> None:
    """An A4 page with Helvetica text, a grey block under the code's corner, and a graphics
    state left dirty on purpose (scale and colour never restored) to prove the q/Q wrap."""
    page = writer.add_blank_page(595.28, 841.89)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    ops = (
        "0.3 g 0 0 595.28 841.89 re f "  # grey over the whole page but the text
        "1 g 60 740 300 50 re f 0 g BT /F1 14 Tf 72 760 Td ({words}) Tj ET "
        "0 0 1 rg 0.5 0 0 0.5 100 100 cm"  # dirty state: blue, scaled, shifted
    ).replace("{words}", words)
    stream = DecodedStreamObject()
    stream.set_data(ops.encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    if rotate:
        page.rotate(rotate)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("piececode")


@pytest.fixture(scope="module")
def source(work: Path) -> Path:
    writer = pypdf.PdfWriter()
    for words in SHEETS:
        _text_page(writer, words)
    path = work / "source.pdf"
    writer.write(path)
    return path


@pytest.fixture(scope="module")
def stamped(work: Path, source: Path) -> Path:
    out = work / "stamped.pdf"
    assert stamp_pieces(source, out, PIECES) == 6
    return out


@pytest.fixture(scope="module")
def foreign_page(work: Path, source: Path) -> Path:
    out = work / "foreign.pdf"
    reader = pypdf.PdfReader(source)
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[0])
    writer.write(work / "one.pdf")
    stamp_pieces(work / "one.pdf", out, [(FOREIGN, 1)])
    return out


def _reorder(dst: Path, parts: list[tuple[Path, int]]) -> Path:
    writer = pypdf.PdfWriter()
    for path, index in parts:
        writer.add_page(pypdf.PdfReader(path).pages[index])
    writer.write(dst)
    return dst


# ------------------------------------------------------------------------------------------
# The text


def test_code_text_is_exactly_id_bar_page_slash_pages() -> None:
    assert piece_code_text(A, 2, 3) == "B20261128-0001-000123|2/3"
    assert parse_piece_code("B20261128-0001-000123|2/3") == PieceCode(A, 2, 3)
    assert PieceCode("a.b_c-9", 1, 1).text == "a.b_c-9|1/1"


@pytest.mark.parametrize(
    "piece_id", ["", "x" * 41, "A|B", "A B", "山田", "A/1", "A\n", "Ａ1"]
)
def test_bad_piece_ids_are_refused(piece_id: str) -> None:
    with pytest.raises(BarcodeError):
        piece_code_text(piece_id, 1, 1)


def test_forty_character_id_is_allowed() -> None:
    assert piece_code_text("x" * 40, 1, 1) == "x" * 40 + "|1/1"


@pytest.mark.parametrize(("page", "pages"), [(0, 1), (2, 1), (1, 0), (-1, 3), (1, 10000)])
def test_bad_page_numbers_are_refused(page: int, pages: int) -> None:
    with pytest.raises(BarcodeError):
        piece_code_text(A, page, pages)


@pytest.mark.parametrize(
    "text",
    ["", "A|1/0", "A|3/2", "A|0/2", "A|01/2", "A|1-2", "A1/2", "A|1/2|x", "A B|1/1",
     "x" * 41 + "|1/1", "山田太郎|1/1", "A|1/2\n"],
)
def test_malformed_codes_are_refused(text: str) -> None:
    with pytest.raises(BarcodeError) as info:
        parse_piece_code(text)
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------------------
# Stamping


def test_stamped_file_verifies_clean(stamped: Path) -> None:
    report = verify_pdf(stamped, expected=EXPECTED)
    assert report.problems == []
    assert [c.text if c else None for c in report.codes] == [
        "B20261128-0001-000123|1/3",
        "B20261128-0001-000123|2/3",
        "B20261128-0001-000123|3/3",
        "B20261128-0001-000124|1/1",
        "B20261128-0001-000125|1/2",
        "B20261128-0001-000125|2/2",
    ]
    assert report.ok and report.pages == 6 and report.pieces == 3
    assert os.stat(stamped).st_mode & 0o777 == 0o600


def test_original_text_is_unchanged(source: Path, stamped: Path) -> None:
    before = [p.extract_text() for p in pypdf.PdfReader(source).pages]
    after = [p.extract_text() for p in pypdf.PdfReader(stamped).pages]
    assert after == before
    assert after == SHEETS  # the words we wrote, not our output


def _render(path: Path, index: int, dpi: int = 300):  # type: ignore[no-untyped-def]
    doc = pypdfium2.PdfDocument(path)
    try:
        return doc[index].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()


def test_quiet_zone_is_white_and_code_holds_only_the_ids(stamped: Path) -> None:
    img = _render(stamped, 0)
    codes = zxingcpp.read_barcodes(img)
    assert [c.text for c in codes] == ["B20261128-0001-000123|1/3"]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode
    pos = codes[0].position
    xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
    ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
    px_mm = 300 / 25.4
    # ISO 18004: 25 text bytes at level M need version 2 = 21 + 4 = 25 modules of 0.5 mm.
    left, right, top, bottom = min(xs), max(xs) + 1, min(ys), max(ys) + 1
    assert right - left == pytest.approx(12.5 * px_mm, abs=3)
    assert bottom - top == pytest.approx(12.5 * px_mm, abs=3)
    # Bottom-right corner, far from the window (top third of A4) and the left binding edge.
    assert left > 150 * px_mm and top > 200 * px_mm
    assert right < img.width - 6 * px_mm and bottom < img.height - 6 * px_mm
    band = math.ceil(2 * px_mm)  # the full 2 mm
    gray = img.load()

    def white(x: int, y: int) -> bool:
        return gray[x, y] >= 250

    ring = [
        (x, y)
        for x in range(round(left) - band, round(right) + band)
        for y in range(round(top) - band, round(bottom) + band)
        if not (left - 2 <= x <= right + 1 and top - 2 <= y <= bottom + 1)
    ]
    assert len(ring) > 4 * band * (right - left)
    assert all(white(x, y) for x, y in ring)
    # The page under the code is grey: the white comes from the stamp, so this test can fail.
    outside = round(left) - band - round(2 * px_mm)
    assert gray[outside, round(top)] < 128


def test_rotated_page_gets_the_code_in_its_displayed_corner(work: Path) -> None:
    writer = pypdf.PdfWriter()
    _text_page(writer, "Landscape flyer", rotate=90)
    _text_page(writer, "Upside down", rotate=180)
    _text_page(writer, "Rotated left", rotate=270)
    writer.write(work / "rotated-src.pdf")
    out = work / "rotated.pdf"
    stamp_pieces(work / "rotated-src.pdf", out, [("R1", 3)])
    for index in range(3):
        img = _render(out, index, dpi=150)
        codes = zxingcpp.read_barcodes(img)
        assert [c.text for c in codes] == [f"R1|{index + 1}/3"]
        pos = codes[0].position
        assert pos.top_left.x > img.width / 2 and pos.top_left.y > img.height / 2
        assert codes[0].orientation == 0  # upright as the page is seen
    assert verify_pdf(out, expected={"R1": 3}).ok


def test_stamp_page_works_while_assembling_a_writer(source: Path, work: Path) -> None:
    reader = pypdf.PdfReader(source)
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[3])  # the shared notice, in two pieces
    writer.add_page(reader.pages[3])
    stamp_page(writer.pages[0], "P-1|1/1")
    stamp_page(writer.pages[1], "P-2|1/1", StampOptions(corner="bottom-left"))
    writer.write(work / "assembled.pdf")
    assert [c.text for c in zxingcpp.read_barcodes(_render(work / "assembled.pdf", 0, 150))] == [
        "P-1|1/1"
    ]
    report = verify_pdf(work / "assembled.pdf", options=StampOptions(corner="bottom-left"))
    # Page 1's code sits bottom-right: the whole-page fallback reads it, but an inserter
    # looking at the bottom-left corner would not, so it is reported.
    assert [c.text if c else None for c in report.codes] == ["P-1|1/1", "P-2|1/1"]
    assert _rows(report) == {("unreadable", 1, "P-1")}
    assert "outside the bottom-left corner" in report.problems[0].detail


def test_stamping_keeps_no_writer_alive(source: Path) -> None:
    """A merge stamps the pages of one writer per chunk: once the chunk is done, nothing of
    the stamping may keep its writer (and so every page of the chunk) in memory."""
    import gc
    import weakref

    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(source).pages[0])
    writer.add_page(pypdf.PdfReader(source).pages[1])
    stamp_page(writer.pages[0], "P-1|1/2")
    stamp_page(writer.pages[1], "P-1|2/2")
    gone = weakref.ref(writer)
    del writer
    gc.collect()
    assert gone() is None


def test_stamp_page_refuses_a_reader_page(source: Path) -> None:
    with pytest.raises(BarcodeError):
        stamp_page(pypdf.PdfReader(source).pages[0], "P|1/1")


def test_stamp_page_refuses_non_codes(source: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=source)
    with pytest.raises(BarcodeError):
        stamp_page(writer.pages[0], "山田太郎 東京都千代田区")


@pytest.mark.parametrize(
    "pieces", [[(A, 3), (B, 1)], [(A, 3), (B, 1), (C, 3)], [(A, 3), (A, 1), (C, 2)],
               [(A, 3), (B, 0), (C, 3)]],
)
def test_piece_list_must_match_the_pages(source: Path, work: Path, pieces: list) -> None:
    with pytest.raises(BarcodeError):
        stamp_pieces(source, work / "never.pdf", pieces)
    assert not (work / "never.pdf").exists()


def test_options_are_validated() -> None:
    with pytest.raises(BarcodeError):
        StampOptions(quiet_mm=1.0)
    with pytest.raises(BarcodeError):
        StampOptions(corner="middle")  # type: ignore[arg-type]
    assert StampOptions(module_mm=0.4, quiet_mm=2.0).quiet_zone_mm == 2.0
    assert StampOptions(module_mm=0.6, quiet_mm=2.0).quiet_zone_mm == pytest.approx(2.4)


# ------------------------------------------------------------------------------------------
# Tampering: each fault is reported with its kind and physical page


def _rows(report) -> set[tuple[str, int | None, str | None]]:  # type: ignore[no-untyped-def]
    return {(p.kind, p.page, p.piece_id) for p in report.problems}


@pytest.mark.parametrize(
    ("name", "order", "expected", "problems"),
    [
        ("removed", [0, 2, 3, 4, 5], EXPECTED, {("missing_page", 2, A)}),
        ("swapped", [0, 2, 1, 3, 4, 5], EXPECTED, {("out_of_order", 3, A)}),
        ("duplicated", [0, 1, 1, 2, 3, 4, 5], EXPECTED, {("duplicate_page", 3, A)}),
        ("interleaved", [0, 3, 1, 2, 4, 5], EXPECTED, {("interleaved", 3, A)}),
        ("piece gone", [0, 1, 2, 4, 5], EXPECTED, {("missing_page", None, B)}),
        ("count", [0, 1, 2, 3, 4, 5], {A: 4, B: 1, C: 2},
         {("count_mismatch", 1, A), ("missing_page", 3, A)}),
        ("last page gone, no manifest", [0, 1, 2, 3, 4], None, {("missing_page", 5, C)}),
    ],
)
def test_tampered_files_are_reported(
    work: Path, stamped: Path, name: str, order: list[int], expected: dict | None,
    problems: set,
) -> None:
    path = _reorder(work / f"{name}.pdf", [(stamped, i) for i in order])
    report = verify_pdf(path, expected=expected)
    assert _rows(report) == problems
    assert not report.ok


def test_foreign_page_inside_a_piece(work: Path, stamped: Path, foreign_page: Path) -> None:
    parts = [(stamped, 0), (foreign_page, 0), (stamped, 1), (stamped, 2), (stamped, 3),
             (stamped, 4), (stamped, 5)]
    report = verify_pdf(_reorder(work / "foreign-in.pdf", parts), expected=EXPECTED)
    assert _rows(report) == {("foreign_page", 2, FOREIGN), ("interleaved", 3, A)}


def test_unstamped_page_inside_a_piece(work: Path, stamped: Path, source: Path) -> None:
    parts = [(stamped, 0), (source, 0), (stamped, 1), (stamped, 2), (stamped, 3),
             (stamped, 4), (stamped, 5)]
    report = verify_pdf(_reorder(work / "unstamped.pdf", parts), expected=EXPECTED)
    assert _rows(report) == {("unreadable", 2, None)}
    assert report.codes[1] is None


def test_progress_is_reported(stamped: Path) -> None:
    seen: list[tuple[int, int]] = []
    verify_pdf(stamped, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 6) for i in range(1, 7)]


def test_unreadable_file_is_an_assembly_error(work: Path) -> None:
    bad = work / "not-a.pdf"
    bad.write_text("hello")
    with pytest.raises(AssemblyError) as info:
        verify_pdf(bad)
    assert info.value.file == str(bad)


# ------------------------------------------------------------------------------------------
# Manifest and CLI


def _manifest(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_manifest_gives_expected_pieces(work: Path) -> None:
    m = _manifest(
        work / "manifest.csv",
        "row,member_key,status,reason,piece_id,pages\n"
        f"2,K1,ok,,{A},3\n3,K2,ok,,{A},3\n4,K3,rejected,bad date,,\n5,K4,ok,,{B},1\n"
        f"6,K5,ok,,{C},2\n",
    )
    assert read_expected(m) == EXPECTED
    no_pages = _manifest(work / "manifest2.csv", f"piece_id\n{A}\n{B}\n")
    assert read_expected(no_pages) == {A: None, B: None}


@pytest.mark.parametrize(
    "text", ["member_key\nK1\n", f"piece_id,pages\n{A},3\n{A},2\n", f"piece_id,pages\n{A},x\n",
             "piece_id\nA|B\n"],
)
def test_bad_manifest_is_a_manifest_error(work: Path, text: str) -> None:
    with pytest.raises(ManifestError):
        read_expected(_manifest(work / "bad.csv", text))


def test_cli_clean_file_exits_0(stamped: Path, work: Path) -> None:
    m = _manifest(work / "m-ok.csv", f"piece_id,pages\n{A},3\n{B},1\n{C},2\n")
    result = CliRunner().invoke(cli, ["track", "verify", str(stamped), "--manifest", str(m)])
    assert result.exit_code == 0, result.output
    assert "6 pages, 3 pieces, OK" in result.output


def test_cli_problems_exit_1_with_a_table(stamped: Path, work: Path, foreign_page: Path) -> None:
    path = _reorder(work / "cli-bad.pdf", [(stamped, 0), (foreign_page, 0), (stamped, 2)])
    m = _manifest(work / "m.csv", f"piece_id,pages\n{A},3\n{B},1\n")
    result = CliRunner().invoke(cli, ["track", "verify", str(path), "--manifest", str(m)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:3] == ["foreign_page", "2", FOREIGN] for line in lines)
    assert any(line.split()[:3] == ["missing_page", "3", A] for line in lines)
    assert any(line.split()[:3] == ["interleaved", "3", A] for line in lines)
    assert any(line.split()[:3] == ["missing_page", "-", B] for line in lines)
    assert "4 problem(s)" in lines[-1]


@pytest.mark.parametrize("exists", [True, False])
def test_cli_unreadable_file_exits_2(work: Path, exists: bool) -> None:
    bad = work / "broken.pdf"
    bad.unlink(missing_ok=True)
    if exists:
        bad.write_bytes(b"%PDF-1.7\nnot really")
    result = CliRunner().invoke(cli, ["track", "verify", str(bad)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "broken.pdf" in result.output


def test_longest_id_fits_and_reads_back(work: Path, source: Path) -> None:
    long_id = "L" * 39 + "9"
    reader = pypdf.PdfReader(source)
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[0])
    writer.write(work / "long-src.pdf")
    stamp_pieces(work / "long-src.pdf", work / "long.pdf", [(long_id, 1)])
    codes = zxingcpp.read_barcodes(_render(work / "long.pdf", 0, 150))
    assert [c.text for c in codes] == [long_id + "|1/1"]
    report = verify_pdf(work / "long.pdf", expected={long_id: 1}, dpi=150)
    assert report.ok


def test_codes_that_disagree_on_the_page_count(work: Path, source: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=source)
    stamp_page(writer.pages[0], "P|1/2")
    stamp_page(writer.pages[1], "P|2/3")
    del writer.pages[2:]
    writer.write(work / "disagree.pdf")
    report = verify_pdf(work / "disagree.pdf")
    # Both say 2 and 3 pages (a tie): the first count seen is taken as the piece's.
    assert ("count_mismatch", 2, "P") in _rows(report)


def test_a_qr_that_is_not_a_piece_code_is_unreadable(work: Path, source: Path) -> None:
    qr = segno.make("https://www.example.jp/kenpo", error="m")
    png = work / "url.png"
    qr.save(png, scale=8)
    doc = pypdfium2.PdfDocument.new()
    page = doc.new_page(595.28, 841.89)
    image = pypdfium2.PdfImage.new(doc)
    bitmap = pypdfium2.PdfBitmap.from_pil(Image.open(png).convert("RGB"))
    image.set_bitmap(bitmap)
    image.set_matrix(pypdfium2.PdfMatrix().scale(100, 100).translate(450, 50))
    page.insert_obj(image)
    page.gen_content()
    doc.save(work / "url.pdf")
    doc.close()
    report = verify_pdf(work / "url.pdf")
    assert _rows(report) == {("unreadable", 1, None)}
    assert "not a piece code" in report.problems[0].detail
