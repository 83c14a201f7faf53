"""Issue 18 §3: a name that cannot be printed is never printed.

A roster written by hand (UTF-8: 𠮷 is not in CP932) with names that need the name font
(𠮷 U+20BB7, in the name and the address), an ideographic variation sequence the body font has
(葛󠄀 U+845B U+E0100), one only the name font has (葛 U+E0102: Pango sets 葛 in BIZ UD, which
would drop the selector), a real ideograph no vendored font has (东 U+4E1C) and a 外字
(U+E000). What we print is read back: the text (pypdf), the glyph ids in the embedded fonts,
and the pixels of the name (pypdfium2) against the name font's own rendering and its .notdef.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw, ImageFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from kenpo_docs.cli import cli
from kenpo_docs.fonts import missing_glyphs
from kenpo_docs.mailing.options import MergeOptions, MergeResult
from kenpo_docs.mailing.run import merge
from kenpo_docs.paths import fonts_dir

HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)
YOSHI = "\U00020bb7"  # 𠮷
KATSU_AJ1 = "葛\U000e0100"  # 葛󠄀: BIZ UD has the sequence (its glyph 12547)
KATSU_MJ = "葛\U000e0102"  # only IPAmj has it; BIZ UD sets 葛 and would drop the selector
HOME = ",任意継続,2026-11-01,2630023,千葉県千葉市稲毛区{addr},,,,,,"
ROWS = [
    f"10,3001,00,{YOSHI}田 一郎,ヨシダ イチロウ,1960-01-01,2000-04-01,"
    + HOME.format(addr=f"{YOSHI}野町1-2"),
    f"10,3002,00,{KATSU_AJ1}西 花子,カサイ ハナコ,1961-02-02,2000-04-01,"
    + HOME.format(addr="緑町3-30"),
    "10,3003,00,东山 次郎,ヒガシヤマ ジロウ,1962-03-03,2000-04-01,"
    + HOME.format(addr="緑町3-31"),
    "10,3004,00,\ue000川 三郎,イチカワ サブロウ,1963-04-04,2000-04-01,"
    + HOME.format(addr="緑町3-32"),
    f"10,3005,00,{KATSU_MJ}城 四郎,カツラギ シロウ,1964-05-05,2000-04-01,"
    + HOME.format(addr="緑町3-33"),
]
REJECTED = {  # member key -> what the reason names, and a part of the name never printed
    "10-3003-00": ("U+4E1C", "次郎"),
    "10-3004-00": ("U+E000", "三郎"),
    "10-3005-00": ("U+845B U+E0102", "四郎"),
}
AS_OF = date(2026, 12, 1)
Merged = tuple[Path, MergeResult, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("names") / "roster.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def merged(roster: Path) -> Merged:
    out = roster.parent / "out"
    result = merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF,
                                                workers=1, enclosures=("form:bessou1",)))
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    rows = {r["member_key"]: r for r in csv.DictReader(io.StringIO(text))}
    return out, result, rows


def _ipamj() -> Path:
    return fonts_dir() / "ipamjm.ttf"


# -- the preflight ---------------------------------------------------------------------------

def test_the_chain_covers_the_name_font_and_not_what_no_font_has() -> None:
    assert missing_glyphs(f"{YOSHI}田 {KATSU_AJ1}西") == set()
    assert missing_glyphs("东\ue000") == {"东", "\ue000"}
    assert missing_glyphs(f"{KATSU_MJ}城") == {KATSU_MJ}
    assert missing_glyphs("\U000e0100") == {"\U000e0100"}  # a selector with no base
    assert missing_glyphs("\U0003fffd") == {"\U0003fffd"}  # not a character


# -- check -----------------------------------------------------------------------------------

def test_check_rejects_each_row_naming_the_column_and_code_points(
    roster: Path, tmp_path: Path
) -> None:
    report = tmp_path / "rejects.csv"
    res = CliRunner().invoke(cli, ["check", str(roster), "--as-of", "2026-12-01",
                                   "--report", str(report)])
    assert res.exit_code == 1, res.output
    text = res.output + report.read_bytes().decode("utf-8-sig")
    for code, given in REJECTED.values():
        assert code in text
        assert given not in text  # the cell is not echoed
    lines = [line for line in report.read_bytes().decode("utf-8-sig").splitlines()[1:] if line]
    assert len(lines) == 3 and all("氏名" in line for line in lines), lines
    assert "東" not in text and "U+20BB7" not in text and "U+E0100" not in text


# -- merge -----------------------------------------------------------------------------------

def _pdf_texts(out: Path) -> dict[Path, str]:
    return {p: "".join(page.extract_text() for page in PdfReader(p).pages)
            for p in sorted(out.rglob("*.pdf"))}


def test_merge_rejects_them_in_the_manifest_and_prints_them_nowhere(merged: Merged) -> None:
    out, _result, rows = merged
    for key, (code, given) in REJECTED.items():
        assert rows[key]["status"] == "rejected", rows[key]
        assert code in rows[key]["reason"] and given not in rows[key]["reason"]
        assert rows[key]["piece_file"] == ""
    assert rows["10-3001-00"]["status"] == "ok" and rows["10-3002-00"]["status"] == "ok"
    texts = _pdf_texts(out)
    assert texts
    for path, text in texts.items():
        for _code, given in REJECTED.values():
            assert given not in text, (path, given)


def _raw(string: object) -> bytes:
    """A PDF string's bytes as written (pypdf decodes some into text)."""
    return bytes(getattr(string, "original_bytes", string))  # type: ignore[arg-type]


def _glyphs(piece: Path, page_no: int = 0) -> list[tuple[str, int]]:
    """(BaseFont without the subset tag, glyph id) of every glyph a page shows."""
    reader = PdfReader(piece)
    page = reader.pages[page_no]
    fonts = page["/Resources"]["/Font"]
    shown: list[tuple[str, int]] = []
    current = ""

    def take(data: bytes) -> None:
        shown.extend((current, int.from_bytes(data[i:i + 2], "big"))
                     for i in range(0, len(data), 2))

    def walk(stream: object, resources: object) -> None:
        nonlocal current
        for operands, op in ContentStream(stream, reader).operations:
            if op == b"Tf":
                current = str(fonts[operands[0]].get_object()["/BaseFont"]).split("+")[-1]
            elif op == b"Tj":
                take(_raw(operands[0]))
            elif op == b"TJ":
                for part in operands[0]:
                    if isinstance(part, bytes | str):
                        take(_raw(part))
            elif op == b"Do":
                xobject = resources["/XObject"][operands[0]].get_object()
                if xobject.get("/Subtype") == "/Form":
                    nonlocal_fonts = xobject.get("/Resources", {}).get("/Font")
                    if nonlocal_fonts:
                        fonts.update(nonlocal_fonts)
                    walk(xobject, xobject.get("/Resources", resources))

    fonts = dict(fonts)
    walk(page.get_contents(), page["/Resources"])
    return shown


def test_yoshi_prints_from_the_name_font_in_name_and_address(merged: Merged) -> None:
    out, _result, rows = merged
    piece = out / rows["10-3001-00"]["piece_file"]
    text = "".join(page.extract_text() for page in PdfReader(piece).pages)
    assert f"{YOSHI}田 一郎" in text.replace("\u3000", " ")
    assert f"{YOSHI}野町" in text
    with TTFont(_ipamj(), lazy=True) as font:
        gid = font.getGlyphID(font.getBestCmap()[ord(YOSHI)])
    assert gid != 0
    shown = _glyphs(piece)
    assert ("IPAmjMincho", gid) in shown  # the real glyph, by its id (ids are retained)
    assert all(g != 0 for _f, g in shown)  # no .notdef anywhere on the page
    assert shown.count(("IPAmjMincho", gid)) >= 3  # window name, address, the table


def test_every_yoshi_on_the_letter_looks_like_the_font_not_notdef(merged: Merged) -> None:
    """Each 𠮷 of the letter's page (window address, window name, the table), cut out of a
    600 dpi rendering by pdfium's character box, is compared with IPAmj's own 𠮷 and with its
    .notdef (drawn by FreeType, through Pillow, straight from the font file)."""
    out, _result, rows = merged
    piece = out / rows["10-3001-00"]["piece_file"]
    scale = 600 / 72
    pdf = pdfium.PdfDocument(piece)
    try:
        page = pdf[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        boxes = []
        for at, char in enumerate(text):
            if char == YOSHI:  # pdfium counts a character outside the BMP twice
                index = at + sum(1 for c in text[:at] if ord(c) > 0xFFFF)
                boxes.append(textpage.get_charbox(index))
        image = page.render(scale=scale).to_pil().convert("L")
        height = page.get_height()
        textpage.close()
    finally:
        pdf.close()
    assert len(boxes) >= 3

    def normal(img: Image.Image) -> Image.Image:
        ink = img.point(lambda v: 255 if v < 128 else 0)
        box = ink.getbbox()
        assert box is not None
        return ink.crop(box).resize((48, 48))

    def from_font(char: str) -> Image.Image:
        font = ImageFont.truetype(str(_ipamj()), 200)
        canvas = Image.new("L", (300, 300), 255)
        ImageDraw.Draw(canvas).text((50, 20), char, font=font, fill=0)
        return canvas

    def distance(a: Image.Image, b: Image.Image) -> int:
        histogram = ImageChops.difference(a, b).histogram()
        return sum(histogram) - histogram[0]  # pixels that differ

    real = normal(from_font(YOSHI))
    notdef = normal(from_font("东"))  # IPAmj has no 东: FreeType draws its .notdef
    assert distance(real, notdef) > 800
    for left, bottom, right, top in boxes:
        crop = image.crop((int(left * scale), int((height - top) * scale),
                           int(right * scale), int((height - bottom) * scale)))
        printed = normal(crop)
        assert distance(printed, real) < distance(printed, notdef) / 2, (
            distance(printed, real), distance(printed, notdef))


def test_a_variation_sequence_the_font_has_prints_its_own_glyph(merged: Merged) -> None:
    out, _result, rows = merged
    piece = out / rows["10-3002-00"]["piece_file"]
    with TTFont(fonts_dir() / "BIZUDPGothic-Regular.ttf", lazy=True) as font:
        base = font.getGlyphID(font.getBestCmap()[0x845B])
        [variant] = [font.getGlyphID(g) for sel, pairs in next(
            t for t in font["cmap"].tables if t.format == 14).uvsDict.items()
            for b, g in pairs if b == 0x845B and sel == 0xE0100]
    assert variant != base
    shown = _glyphs(piece)
    gothic = {g for f, g in shown if f == "BIZ-UDPGothic"}
    assert variant in gothic and base not in gothic
    text = "".join(page.extract_text() for page in PdfReader(piece).pages)
    assert "葛" in text and "西 花子" in re.sub("\u3000", " ", text)


def test_fallback_glyphs_leave_the_fast_path_for_the_full_layout(merged: Merged) -> None:
    """The overlay draws a value only when one font sets all of it (slots.drawable and
    draw.value_problem): 𠮷 and a selector send the letter to the full layout, counted."""
    _out, result, _rows = merged
    assert result.fast_path
    assert sum(result.full_layout.values()) >= 2, result.full_layout


def test_every_face_is_vendored_and_the_text_faces_share_one_coverage() -> None:
    """The chain is answered with BIZ UDPGothic's cmap for Mincho and bold text too
    (kenpo_docs.fonts.CHAIN): that holds only while the three BIZ UD files agree."""
    from kenpo_docs.fonts import _coverage, font_faces

    faces = font_faces()
    assert all(f.path.parent == fonts_dir() and f.path.is_file() for f in faces)
    assert (fonts_dir() / "IPA_Font_License_Agreement_v1.0.txt").is_file()
    text = {_coverage(f.path) for f in faces if f.family != "IPAmjMincho"}
    assert len(text) == 1
