"""Issue 19 §4: one text layer, the same in every reader.

A whole merged batch, not one sample: households whose names, addresses and workplaces carry
markup characters (< > & " '), a non-BMP kanji only IPAmj Mincho has (𠮷 U+20BB7), an
Ideographic Variation Sequence (葛󠄀 U+845B U+E0100, BIZ UD's glyph: fonts/README.md),
half-width kana, full-width digits and a long address, merged in small chunks by two workers
so that pages drawn by the fast path (values over a shared background) and pages laid out in
full sit side by side in one chunk. Every page of every piece file and print file is read by
pypdf, pypdfium2 and poppler's pdftotext.

What "the same" means: the page's characters after NFKC with all white space removed, as a
multiset. Not the sequence: the readers order a page differently by design (pdftotext by
position on the page; pypdf and pdfium by the order of the content stream, where a value
drawn over a background comes after the background's text), so a sequence comparison would
fail on correct pages; a reader that drops, adds or garbles a character (mojibake, a value
left out of the text, a variation selector lost) changes the multiset. Then, per household,
each member's name, key and dates from the roster must appear as one run in all three
readers' text of its piece (and in the print file), so a value split or reordered inside
itself also fails.

The expected dates are written here by hand from the roster (era years: 令和 1 = 2019,
昭和 1 = 1926), not taken from our output. Needs poppler-utils (pdftotext).
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

HEADER = ("記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
          "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン")
LONG_ADDRESS = "東京都千代田区霞が関一丁目三番二号中央合同庁舎第五号館別館"
#: (記号-番号-枝番, 氏名, フリガナ, 生年月日 and its era form, 交付日 and its era form, the rest)
MEMBERS = [
    ("0012-000001-00", "佐藤 一郎", "サトウ イチロウ", "1956-12-15", "昭和31年12月15日",
     "2024-12-02", "令和6年12月2日",
     "一般,1000013,東京都千代田区霞が関1丁目3番2号,郵便プラザ503室,1001,本部"),
    ("0012-000002-00", "<b>田中</b> 花子", "ﾀﾅｶ ﾊﾅｺ", "昭和45年4月1日", "昭和45年4月1日",
     "2025-06-16", "令和7年6月16日",
     "一般,2630023,千葉県千葉市稲毛区緑町３丁目３０－８,<ビル> & 403号,2002,<営業部> & 開発"),
    ("0012-000002-01", "<b>田中</b> 大輔", "タナカ ダイスケ", "1959-06-10", "昭和34年6月10日",
     "2025-11-30", "令和7年11月30日", ",,,,,"),
    ("0012-000003-00", "O'Brien \"誠\"", "オブライエン マコト", "１９８０－１１－０３",
     "昭和55年11月3日",
     "2026-04-01", "令和8年4月1日",
     f"任意継続,1000013,{LONG_ADDRESS},厚生労働省保険局保険課内 気付,,"),
    ("0012-000004-00", "\U00020BB7田 幸子", "ヨシダ サチコ", "1990/02/14", "平成2年2月14日",
     "2025-11-30", "令和7年11月30日",
     "一般,2730102,千葉県鎌ケ谷市右京塚 東3丁目-20-5,"
     "\U00020BB7野ハイツ１０１号,5005,\U00020BB7岡 事業所"),
    ("0012-000005-00", "葛\U000E0100城 大輔", "カツラギ ダイスケ", "1957-02-10", "昭和32年2月10日",
     "2024-12-02", "令和6年12月2日",
     "一般,1100016,東京都台東区台東5-6-3,\"ABC\" ビル10F,3003,\"東京\" 支店"),
    ("0012-000005-01", "葛\U000E0100城 花子", "カツラギ ハナコ", "2005-08-20", "平成17年8月20日",
     "2025-06-16", "令和7年6月16日", ",,,,,"),
    ("0012-000006-00", "山田 & 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "2000-01-01", "平成12年1月1日",
     "2025-11-30", "令和7年11月30日",
     "一般,0140113,秋田県大仙市堀見内 南田茂木 添60-1,O'Neil荘 2F,4004,O'Hara 工場"),
    ("0012-000007-00", "髙橋 美咲", "タカハシ ミサキ", "1975-06-01", "昭和50年6月1日",
     "2024-12-02", "令和6年12月2日",
     "一般,1000013,東京都千代田区霞が関1丁目3番2号,,1001,本部"),
    ("0012-000008-00", "鈴木 <script> 蓮", "スズキ レン", "1978-01-20", "昭和53年1月20日",
     "2025-06-16", "令和7年6月16日",
     "一般,1000013,東京都千代田区霞が関1丁目3番2号,,2002,<営業部> & 開発"),
    ("0012-000008-01", "鈴木 &amp; 結衣", "スズキ ユイ", "2012-06-06", "平成24年6月6日",
     "2026-04-01", "令和8年4月1日", ",,,,,"),
]


def fold(text: str | None) -> str:
    """NFKC, all white space removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def read_pages(path: Path) -> list[dict[str, str]]:
    """Each page's text as the three readers give it, folded."""
    poppler = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"],
                             capture_output=True, check=True).stdout.decode().split("\f")
    reader = PdfReader(path)
    document = pdfium.PdfDocument(path)
    try:
        pages = []
        for i, page in enumerate(reader.pages):
            textpage = document[i].get_textpage()
            pages.append({"pypdf": fold(page.extract_text()),
                          "pdfium": fold(textpage.get_text_range()),
                          "pdftotext": fold(poppler[i])})
            textpage.close()
        return pages
    finally:
        document.close()


def disagreements(path: Path) -> list[str]:
    """The pages of ``path`` whose readers disagree (see the module docstring), described."""
    out = []
    for number, texts in enumerate(read_pages(path), 1):
        base = collections.Counter(texts["pdftotext"])
        for reader in ("pypdf", "pdfium"):
            got = collections.Counter(texts[reader])
            if got != base:
                out.append(f"{path.name} p{number}: {reader} has {dict(got - base)!r}, "
                           f"lacks {dict(base - got)!r} of pdftotext's")
    return out


def _roster(path: Path) -> Path:
    rows = [HEADER]
    for key, name, kana, born, _, issued, _, rest in MEMBERS:
        symbol, number, branch = key.split("-")
        kubun, postal, address1, address2, code, workplace = rest.split(",")
        rows.append(",".join(_csv(v) for v in (
            symbol, number, branch, name, kana, born, "2010-04-01", "", kubun, issued, postal,
            address1, address2, code, workplace, "無", "無", "")))
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig")
    return path


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if re.search(r'[",]', value) else value


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    root = tmp_path_factory.mktemp("text-layer")
    roster = _roster(root / "roster.csv")
    out = {}
    for letter, enclosures in (("kakuninsho", ("form:bessou1",)),
                               ("guidance", ("form:bessou2",))):
        result = merge(roster, options=MergeOptions(
            letter=letter, out=root / letter, as_of=date(2026, 12, 1), enclosures=enclosures,
            workers=2, chunk_size=3))
        assert result.rejected == 0 and result.pieces == 8
        # Both ways of printing a page met in this batch: drawn over a background, and laid
        # out in full (a value the fast path cannot take: IPAmj, a variation sequence, ...).
        full = sum(result.full_layout.values())
        assert 0 < full < 2 * result.pieces, result.full_layout
        out[letter] = root / letter
    return out


def test_every_page_reads_the_same_in_three_readers(batches: dict[str, Path]) -> None:
    files = sorted(p for b in batches.values() for p in b.rglob("*.pdf"))
    assert {p.parent.name for p in files} >= {"pieces", "print"}
    problems = [d for path in files for d in disagreements(path)]
    assert problems == []


def test_every_member_reads_back_in_every_reader(batches: dict[str, Path]) -> None:
    out = batches["kakuninsho"]
    pieces = {p: read_pages(p) for p in sorted((out / "pieces").glob("*.pdf"))}
    prints = [read_pages(p) for p in sorted((out / "print").glob("*.pdf"))]
    print_text = {r: "".join(page[r] for pages in prints for page in pages)
                  for r in ("pypdf", "pdfium", "pdftotext")}
    households = collections.defaultdict(list)
    for member in MEMBERS:
        households[member[0][:11]].append(member)
    for household, members in households.items():
        # The piece whose letter names the household's insured person with the key.
        [piece] = [p for p, pages in pieces.items()
                   if f"{household}-00" in "".join(page["pdftotext"] for page in pages)]
        for reader in ("pypdf", "pdfium", "pdftotext"):
            text = "".join(page[reader] for page in pieces[piece])
            for key, name, _, _, born, _, issued, _ in members:
                for value in (fold(name), key, issued, born):
                    assert value in text, (piece.name, reader, value)
                    assert value in print_text[reader], ("print", reader, value)
