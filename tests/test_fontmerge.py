"""One font subset per face in a piece (kenpo_docs.pdf.fontmerge).

Independent expectations: the subsets merged in the unit tests are made by fontTools'
subsetter (not by HarfBuzz, which WeasyPrint uses, nor by our code), and the merged font is
checked against the vendored font file itself, read by fontTools. In a real merge, a piece
with merged fonts must render (pypdfium2) and read exactly as the same piece with its parts'
own subsets.
"""

from __future__ import annotations

import io
import zlib
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.pdf import fontmerge, piecefonts

ROOT = Path(__file__).resolve().parent.parent
REGULAR = ROOT / "fonts" / "BIZUDPGothic-Regular.ttf"
BOLD = ROOT / "fonts" / "BIZUDPGothic-Bold.ttf"
TEXTS = ("資格確認書の送付について", "有効期限は令和9年11月30日です", "健康保険組合 青木 太郎")


def _subset(path: Path, text: str) -> bytes:
    """A subset of ``path`` for ``text`` with retained glyph ids and no hinting, made by
    fontTools (as WeasyPrint asks HarfBuzz for)."""
    font = TTFont(path)
    options = ft_subset.Options()
    options.retain_gids = True
    options.hinting = False
    options.notdef_outline = True
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _outline(font: TTFont, gid: int) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    glyf = font["glyf"]
    glyph = glyf[font.getGlyphOrder()[gid]]
    if glyph.numberOfContours == 0:
        return [], [], []
    coords, ends, flags = glyph.getCoordinates(glyf)
    return list(coords), list(ends), [f & 1 for f in flags]


def _drawn(font: TTFont) -> set[int]:
    """The glyph ids ``font`` has an outline for."""
    return {gid for gid in range(font["maxp"].numGlyphs) if _outline(font, gid)[0]}


def test_merged_subsets_hold_each_glyph_of_the_font_file() -> None:
    original = TTFont(REGULAR)
    subsets = [_subset(REGULAR, t) for t in TEXTS]
    merged_bytes = fontmerge.merge_truetype(subsets)
    merged = TTFont(io.BytesIO(merged_bytes), checkChecksums=2)  # raises on a bad checksum
    expected = set().union(*(_drawn(TTFont(io.BytesIO(s))) for s in subsets))
    cmap = original.getBestCmap()
    assert {original.getGlyphID(cmap[ord(c)]) for c in "".join(TEXTS) if c != " "} <= expected
    assert _drawn(merged) == expected
    for gid in expected:
        assert _outline(merged, gid) == _outline(original, gid), gid
        name = original.getGlyphOrder()[gid]
        assert merged["hmtx"][merged.getGlyphOrder()[gid]] == original["hmtx"][name]
    assert merged["maxp"].numGlyphs == max(TTFont(io.BytesIO(s))["maxp"].numGlyphs
                                           for s in subsets)
    # each glyph once: the same size as one subset of all the texts at once
    together = fontmerge.merge_truetype([_subset(REGULAR, "".join(TEXTS))])
    assert len(merged_bytes) == len(together)


def test_subsets_of_different_font_files_are_not_merged() -> None:
    with pytest.raises(fontmerge.FontMergeError):
        fontmerge.merge_truetype([_subset(REGULAR, TEXTS[0]), _subset(BOLD, TEXTS[0])])


def test_a_glyph_that_differs_between_subsets_stops_the_merge() -> None:
    a = bytearray(_subset(REGULAR, TEXTS[0]))
    b = _subset(REGULAR, TEXTS[0])
    tables = fontmerge._tables(bytes(a))
    glyf_at = bytes(a).index(tables[b"glyf"])
    a[glyf_at + 20] ^= 0xFF  # inside the first outline's data
    with pytest.raises(fontmerge.FontMergeError):
        fontmerge.merge_truetype([bytes(a), b])


HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)


def _rows() -> list[str]:
    """Five households: three via a workplace, two to the home address (任意継続)."""
    rows = []
    for i, surname in enumerate(["青木", "井上", "上田", "江藤", "小野"]):
        if i < 3:
            tail = "1000013,東京都千代田区霞が関1丁目3番2号,,W01,第1事業所"
            kind = "一般"
        else:
            tail = f"263002{i},千葉県千葉市稲毛区緑町{i}丁目30-8,,,"
            kind = "任意継続"
        rows.append(f"20,{4001 + i},00,{surname} 太郎,カナ タロウ,1970-01-0{i + 1},2015-04-01,,"
                    f"{kind},2024-12-02,{tail},,,")
        rows.append(f"20,{4001 + i},01,{surname} 花子,カナ ハナコ,1972-02-02,2015-04-01,,,"
                    "2025-12-01,,,,,,,,")
    return rows


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The standard packet merged as shipped, and again with the font merge turned off."""
    base = tmp_path_factory.mktemp("fontmerge")
    roster = base / "roster.csv"
    roster.write_bytes(("\n".join([HEADER, *_rows()]) + "\n").encode("utf-8"))
    out = {}
    for label in ("merged", "parts"):
        options = MergeOptions(letter="kakuninsho", out=base / label, as_of=date(2026, 12, 1),
                               notice="539", enclosures=("form:bessou1", "notice:539"),
                               chunk_size=5)
        if label == "parts":
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(piecefonts.ChunkFonts, "piece", lambda self, index: {})
                merge(roster, options=options)
        else:
            merge(roster, options=options)
        out[label] = base / label / "pieces"
    return out


def _font_programs(path: Path) -> list[str]:
    """The embedded font programs of a PDF, by PostScript name (subset tag dropped)."""
    reader = PdfReader(path)
    names = []
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if isinstance(obj, dict) and obj.get("/Type") == "/FontDescriptor" \
                and "/FontFile2" in obj:
            names.append(str(obj["/FontName"]).split("+")[-1])
    return sorted(names)


def test_a_piece_embeds_one_program_per_face(batches: dict[str, Path]) -> None:
    pieces = sorted(batches["merged"].glob("*.pdf"))
    assert len(pieces) == 5
    for piece in pieces:
        assert _font_programs(piece) == ["BIZ-UDPGothic", "BIZ-UDPGothic-Bold"], piece.name
        parts = _font_programs(batches["parts"] / piece.name)
        assert len(parts) >= 6, parts  # letter, form and notice each brought their own
        assert piece.stat().st_size < 0.75 * (batches["parts"] / piece.name).stat().st_size


def test_merged_pieces_print_and_read_as_the_parts_did(batches: dict[str, Path]) -> None:
    for piece in sorted(batches["merged"].glob("*.pdf")):
        merged = pdfium.PdfDocument(piece)
        parts = pdfium.PdfDocument(batches["parts"] / piece.name)
        # letter, form, five pages of notice 539, and (duplex, the default) a blank back page
        assert len(merged) == len(parts) == 8
        for i in range(len(merged)):
            a = merged[i].render(scale=100 / 72).to_pil()
            b = parts[i].render(scale=100 / 72).to_pil()
            assert a.tobytes() == b.tobytes(), f"{piece.name} page {i + 1} prints differently"
            text = merged[i].get_textpage().get_text_range()
            assert text == parts[i].get_textpage().get_text_range()
            assert bool(text.strip()) == (i < 7), f"{piece.name} page {i + 1}: text or not"


def test_a_program_with_appended_glyphs_is_one_valid_font() -> None:
    original = TTFont(REGULAR)
    shared, values = _subset(REGULAR, TEXTS[0]), _subset(REGULAR, TEXTS[2])
    program = fontmerge.prepare([fontmerge.FontFile.of(shared)], [fontmerge.FontFile.of(values)])
    cmap = original.getBestCmap()
    wanted = [original.getGlyphID(cmap[ord(c)]) for c in "健康保険組合"]
    source = fontmerge.glyph_source(fontmerge.FontFile.of(values))
    extra = [source(gid) for gid in wanted]
    data, length = program.stream(extra)
    raw = zlib.decompress(data)  # the spliced runs make one zlib stream with a right Adler-32
    assert raw == program.font_bytes(extra) and len(raw) == length
    font = TTFont(io.BytesIO(raw), checkChecksums=2)
    assert font["maxp"].numGlyphs == program.count + len(wanted)
    for k, gid in enumerate(wanted):
        new = program.count + k
        assert _outline(font, new) == _outline(original, gid) != ([], [], [])
        assert font["hmtx"][font.getGlyphOrder()[new]] == \
            original["hmtx"][original.getGlyphOrder()[gid]]


def test_text_the_scanner_cannot_read_is_refused() -> None:
    fonts = {b"F1": 7}
    text = b"BT /F1 12 Tf [<00c604fd>-24<0502>] TJ /F2 9 Tf <0001> Tj ET"
    found, font = piecefonts._scan(text, fonts)
    assert font is None  # /F2 is not one of ``fonts``
    assert [(text[start:end], shown) for start, end, shown, _ in found] == [
        (b" [<00c604fd>-24<0502>] TJ ", 7)]
    parts = found[0][3]
    assert list(piecefonts._glyphs(parts)) == [0x00C6, 0x04FD, 0x0502]
    assert piecefonts._renumbered(parts, {0x04FD: 0x3000}) == b" [<00c63000>-24<0502>] TJ "
    assert piecefonts._scan(b"BT /F1 12 Tf (abc) Tj ET", fonts) is None  # a literal string
    assert piecefonts._scan(b"BT /F1 12 Tf <00c> Tj ET", fonts) is None  # half a glyph id
    assert piecefonts._scan(b"BT /F1 12 Tf <00c6 04fd> Tj ET", fonts) is None  # spaced
    inline_image = b"BT /F1 12 Tf [<0001>] TJ ET q BI /W 1 /H 1 ID <x EI Q"
    assert piecefonts._scan(inline_image, fonts) is None
    # the font set in one stream of a page holds in the next
    found, font = piecefonts._scan(b"BT [<0001>] TJ ET", fonts, 7)
    assert [(start, end, shown) for start, end, shown, _ in found] == [(0, 17, 7)]
    assert font == 7


def _has_glyph_of(piece: Path, char: str, face: str = "BIZ-UDPGothic") -> bool:
    """Whether ``piece`` embeds the outline of ``char`` (any glyph number) in ``face``."""
    original = TTFont(REGULAR)
    target = _outline(original, original.getGlyphID(original.getBestCmap()[ord(char)]))
    reader = PdfReader(piece)
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if isinstance(obj, dict) and obj.get("/Type") == "/FontDescriptor" \
                and str(obj["/FontName"]).endswith("+" + face):
            font = TTFont(io.BytesIO(obj["/FontFile2"].get_object().get_data()))
            if any(_outline(font, gid) == target for gid in range(font["maxp"].numGlyphs)):
                return True
    return False


def test_a_piece_carries_its_own_values_glyphs_not_its_chunks(
        batches: dict[str, Path]) -> None:
    """上田's piece (workplace) shares its chunk with 江藤's (home): with the parts' own
    subsets it carries 藤, a glyph only 江藤's values use; with its own fonts it does not."""
    by_name = {}
    for piece in batches["merged"].glob("*.pdf"):
        text = pdfium.PdfDocument(piece)[0].get_textpage().get_text_range()
        by_name[next(n for n in ("青木", "井上", "上田", "江藤", "小野") if n in text)] = piece
    ueda = by_name["上田"]
    assert _has_glyph_of(batches["parts"] / ueda.name, "藤")  # the same chunk's values
    assert not _has_glyph_of(ueda, "藤")
    assert _has_glyph_of(by_name["江藤"], "藤")
    assert _has_glyph_of(ueda, "上")
