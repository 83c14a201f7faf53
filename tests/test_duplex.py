"""Duplex-safe print files (``merge --sides duplex|simplex``, default duplex).

The same three households are merged both ways with the demo's enclosures: the
kakuninsho letter (one page), notice 539 and the one-page 別添3 stand-in, seven pages an
envelope. The expectations come from the rule itself, applied to what the simplex run
printed (pages counted with pypdf, codes decoded from rendered pages with zxing-cpp): in
duplex every envelope, and each workplace cover sheet, starts on an odd (front) physical
page; a piece of odd pages gets one page more, blank but for its piece code; sheets are
ceil(pages / 2) two-sided and pages one-sided.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from kenpo_docs.barcodes.verify import read_expected, read_pdf, verify_pdf
from kenpo_docs.cli import cli
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.paths import samples_dir
from kenpo_docs.pdf.sides import pad_to_front, sheets

HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)
ROWS = [
    # two home pieces (任意継続) in one print file, one workplace piece behind a cover sheet
    "10,3001,00,井上 和子,イノウエ カズコ,1958-09-09,2000-04-01,,任意継続,2026-12-01,"
    "2630023,千葉県千葉市稲毛区緑町3丁目30-8,郵便ビル403号,,,,,",
    "10,3002,00,岡田 進,オカダ ススム,1960-05-05,2001-04-01,,任意継続,2026-12-01,"
    "1000013,東京都千代田区霞が関1丁目3番2号,,,,,,",
    "10,3003,00,青木 一郎,アオキ イチロウ,1975-06-01,2015-04-01,,一般,2026-12-01,"
    "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局,,,",
]
AS_OF = date(2026, 12, 1)
ENCLOSE = ("notice:539", f"file:{samples_dir() / 'bessou3-standin.pdf'}")
#: The piece code's corner (bottom right, 6 mm from the edges, up to 30 mm square: see
#: kenpo_docs/barcodes/piececode.py) in points; everything else of a blank page is white.
CORNER_PT = 31 * 72 / 25.4


def _merge(tmp: Path, name: str, sides: str) -> Path:
    roster = tmp / "roster.csv"
    if not roster.exists():
        roster.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("cp932"))
    out = tmp / name
    result = merge(roster, options=MergeOptions(
        letter="kakuninsho", out=out, as_of=AS_OF, workers=1, enclosures=ENCLOSE,
        notice="539", db=tmp / "t.sqlite", sides=sides))  # type: ignore[arg-type]
    assert result.exit_code == 0 and result.pieces == 3
    return out


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("duplex")
    return _merge(tmp, "duplex", "duplex"), _merge(tmp, "simplex", "simplex"), tmp


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _preference(path: Path) -> object:
    prefs = PdfReader(path).trailer["/Root"].get("/ViewerPreferences")
    return None if prefs is None else prefs.get_object().get("/Duplex")


def _ink_outside_corner(page: pdfium.PdfPage, scale: float = 1.0) -> int:
    """Pixels darker than white outside the piece code's corner."""
    image = page.render(scale=scale, grayscale=True).to_pil()
    w, h = image.size
    corner = CORNER_PT * scale
    return sum(1 for y in range(h) for x in range(w)
               if not (x >= w - corner and y >= h - corner) and image.getpixel((x, y)) < 250)


def _first_pages(reading_codes: list) -> dict[str, int]:  # type: ignore[type-arg]
    """1-based physical page of each piece's page 1, from the codes read."""
    return {c.piece_id: n for n, c in enumerate(reading_codes, 1) if c is not None and c.page == 1}


def test_simplex_pieces_are_seven_pages_and_print_back_to_back(
    batches: tuple[Path, Path, Path]
) -> None:
    _, simplex, _ = batches
    home = simplex / "print" / "home.pdf"
    reading = read_pdf(home)
    assert all(c is not None for c in reading.codes)
    # letter 1 + notice 539 (5) + 別添3 stand-in (1): odd, so the test means something
    assert [c.pages for c in reading.codes if c is not None] == [7] * 14
    firsts = sorted(_first_pages(reading.codes).values())
    assert firsts == [1, 8]  # the second household's first page is a back side
    assert _preference(home) == "/Simplex"
    doc = pdfium.PdfDocument(home)
    assert all(_ink_outside_corner(doc[i], 0.25) > 0 for i in range(len(doc)))  # no blank page
    rows = _csv(simplex / "print" / "home.inserter.csv")
    assert [(r["pages"], r["sheets"], r["sides"]) for r in rows] == [("7", "7", "simplex")] * 2
    batch = json.loads((simplex / "batch.json").read_text("utf-8"))
    assert batch["sides"] == "simplex"


def test_duplex_starts_every_piece_on_a_front_side(batches: tuple[Path, Path, Path]) -> None:
    duplex, simplex, _ = batches
    for pdf in sorted((duplex / "print").glob("*.pdf")):
        reading = read_pdf(pdf)
        assert all(c is not None for c in reading.codes), pdf.name
        firsts = _first_pages(reading.codes)
        assert len(firsts) == len(reading.piece_ids)
        # every piece (and the workplace cover) starts on an odd physical page: a front side
        assert all(n % 2 == 1 for n in firsts.values()), (pdf.name, firsts)
        assert len(reading.codes) % 2 == 0
        assert _preference(pdf) == "/DuplexFlipLongEdge"
        rows = _csv(pdf.with_suffix(".inserter.csv"))
        assert {r["piece_id"]: int(r["first_page"]) for r in rows} == firsts
        assert len(PdfReader(pdf).pages) == sum(int(r["pages"]) for r in rows)
    home = read_pdf(duplex / "print" / "home.pdf")
    assert sorted(_first_pages(home.codes).values()) == [1, 9]
    # the pages of the simplex piece, then one more: page 8 of 8
    assert [(c.page, c.pages) for c in home.codes if c is not None] == [
        (n, 8) for n in range(1, 9)] * 2
    # the same pages but for the batch id in the 管理番号 (simplex is in the fingerprint)
    simplex_id = json.loads((simplex / "batch.json").read_text("utf-8"))["batch_id"]
    duplex_id = json.loads((duplex / "batch.json").read_text("utf-8"))["batch_id"]
    assert simplex_id != duplex_id
    simplex_text = [p.extract_text().replace(simplex_id, duplex_id)
                    for p in PdfReader(simplex / "print" / "home.pdf").pages]
    duplex_text = [p.extract_text() for p in PdfReader(duplex / "print" / "home.pdf").pages]
    assert duplex_text[0:7] == simplex_text[0:7] and duplex_text[8:15] == simplex_text[7:14]
    assert duplex_text[7].strip() == duplex_text[15].strip() == ""
    # the cover sheet of the workplace file (one page) is padded too
    cover = _csv(duplex / "print" / "workplace-001.inserter.csv")[0]
    assert cover["route"] == "cover:W01" and (cover["pages"], cover["sheets"]) == ("2", "1")


def test_the_blank_back_page_is_blank_but_for_its_piece_code(
    batches: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    duplex, _, _ = batches
    home = duplex / "print" / "home.pdf"
    first = _csv(home.with_suffix(".inserter.csv"))[0]["piece_id"]
    doc = pdfium.PdfDocument(home)
    page = doc[7]
    image = page.render(scale=200 / 72).to_pil()
    image.save(tmp_path / "blank-back.png")  # for a human: blank, the code bottom right
    codes = zxingcpp.read_barcodes(image)
    assert [c.text for c in codes] == [f"{first}|8/8"]
    assert _ink_outside_corner(page) == 0
    assert _ink_outside_corner(doc[6]) > 0  # the page before it is the 別添3 stand-in
    reader = PdfReader(home)
    blank, before = reader.pages[7], reader.pages[6]
    assert blank.mediabox == before.mediabox  # the back of the same A4 sheet
    assert not blank.get("/Resources")  # no font, no image: nothing but the code's paths
    # the piece file holds the blank page too, so piece, manifest and print file agree
    piece = PdfReader(duplex / "pieces" / f"{first}.pdf")
    assert len(piece.pages) == 8 and piece.pages[7].extract_text().strip() == ""
    assert _preference(duplex / "pieces" / f"{first}.pdf") == "/DuplexFlipLongEdge"
    manifest = {r["piece_id"]: r["pages"] for r in _csv(duplex / "manifest.csv")}
    assert set(manifest.values()) == {"8"}


def test_sheet_counts_follow_the_choice(batches: tuple[Path, Path, Path]) -> None:
    for out, sides in zip(batches[:2], ("duplex", "simplex"), strict=True):
        index = _csv(out / "print" / "index.csv")
        assert len(index) == 2
        for line in index:
            pdf = out / line["print_file"]
            rows = _csv(pdf.with_suffix(".inserter.csv"))
            for r in rows:
                pages = int(r["pages"])
                expected = math.ceil(pages / 2) if sides == "duplex" else pages
                assert (int(r["sheets"]), r["sides"]) == (expected, sides)
                # the contract's columns from before --sides stay, whatever the choice
                assert (int(r["sheets_simplex"]), int(r["sheets_duplex"])) == (
                    pages, math.ceil(pages / 2))
            physical = len(PdfReader(pdf).pages)
            assert int(line["pages"]) == physical
            assert int(line["sheets"]) == (physical // 2 if sides == "duplex" else physical)
            assert line["sides"] == sides
            assert int(line["sheets_simplex"]) == physical


def test_track_verify_and_postage_follow_the_batch(batches: tuple[Path, Path, Path]) -> None:
    duplex, simplex, tmp = batches
    runner = CliRunner()
    for out in (duplex, simplex):
        for pdf in sorted((out / "print").glob("*.pdf")):
            res = runner.invoke(cli, ["track", "verify", str(pdf), "--db", str(tmp / "t.sqlite")])
            assert res.exit_code == 0 and "OK" in res.output, res.output
            report = verify_pdf(pdf, expected=read_expected(pdf.with_suffix(".inserter.csv")))
            assert report.ok, report.problems
    # postage: 5.0 g envelope + 4.0 g a sheet (data/postage.toml): 4 sheets two-sided, 7 one-sided
    for out, sheet_count in ((duplex, 4), (simplex, 7)):
        batch = json.loads((out / "batch.json").read_text("utf-8"))["batch_id"]
        res = runner.invoke(cli, ["track", "postal", "--db", str(tmp / "t.sqlite"), "--batch",
                                  batch, "--csv", str(tmp / f"{batch}.csv")])
        assert res.exit_code == 0, res.output
        rows = _csv(tmp / f"{batch}.csv")
        assert [(r["sheets"], r["weight_g"]) for r in rows] == [
            (str(sheet_count), f"{5.0 + 4.0 * sheet_count:g}")] * 2


def test_a_batch_is_resumed_only_with_its_own_sides(batches: tuple[Path, Path, Path]) -> None:
    duplex, _, tmp = batches
    batch = json.loads((duplex / "batch.json").read_text("utf-8"))
    assert batch["sides"] == "duplex"
    res = CliRunner().invoke(cli, [
        "merge", str(tmp / "roster.csv"), "--letter", "kakuninsho", "--as-of", "2026-12-01",
        "--out", str(duplex), "--batch-id", batch["batch_id"], "--workers", "1",
        "--db", str(tmp / "t.sqlite"), "--notice", "539", "--sides", "simplex",
        *[a for e in ENCLOSE for a in ("--enclose", e)]])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--sides duplex" in lines[0], res.output
    # a folder written before --sides existed holds pieces without blank pages: simplex
    legacy = tmp / "legacy"
    legacy.mkdir()
    (legacy / "batch.json").write_text(json.dumps({k: batch[k] for k in ("batch_id",
                                                                       "fingerprint")}))
    res = CliRunner().invoke(cli, [
        "merge", str(tmp / "roster.csv"), "--letter", "kakuninsho", "--as-of", "2026-12-01",
        "--out", str(legacy), "--workers", "1", "--db", str(tmp / "legacy.sqlite")])
    assert res.exit_code == 2 and "--sides simplex" in res.output, res.output
    assert sorted(p.name for p in legacy.iterdir()) == ["batch.json"]  # nothing written
    bad = CliRunner().invoke(cli, ["merge", str(tmp / "roster.csv"), "--letter", "kakuninsho",
                                   "--out", str(tmp / "x"), "--sides", "both"])
    assert bad.exit_code == 2 and "both" in bad.output


def test_pad_to_front_counts_from_the_first_page_it_is_given() -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 300)
    start = len(writer.pages)
    for _ in range(3):
        writer.add_blank_page(100, 150)
    assert pad_to_front(writer, start, sides="simplex") == 0 and len(writer.pages) == 4
    assert pad_to_front(writer, start, sides="duplex") == 1 and len(writer.pages) == 5
    assert (writer.pages[4].mediabox.width, writer.pages[4].mediabox.height) == (100, 150)
    assert pad_to_front(writer, start, sides="duplex") == 0  # even already
    assert pad_to_front(writer, len(writer.pages), sides="duplex") == 0  # nothing from there
    assert [sheets(n, "duplex") for n in (1, 2, 7, 8)] == [1, 1, 4, 4]
    assert [sheets(n, "simplex") for n in (1, 2, 7, 8)] == [1, 2, 7, 8]
