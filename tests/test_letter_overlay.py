"""Letters in the merge printed as a shared background plus an overlay of the values.

A small roster covering the letter's shapes is merged twice: as the merge does it, and with
the letter overlay switched off (every letter laid out in full, the old path). Every letter
page of the first run is compared with the same piece of the second: the same characters
read back and the same picture at 100 dpi (the customer barcode included). Which pieces were
overlaid is read from the PDF: an overlaid letter page draws a ``/KenpoStatic (letter-…)``
background; one laid out in full does not.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from test_form_overlay import assert_same_picture, write_roster

from kenpo_docs.barcodes.japanpost import japan_post_barcode_or_none
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.render import make_environment
from kenpo_docs.shapes import letters as letteroverlay

AS_OF = date(2026, 12, 1)
DPI = 100
KIDS = ["一郎", "花子", "健太", "美咲", "誠", "由美", "大輔", "幸子", "翔", "葵", "蓮", "陽"]
TOKYO = ("1000013", "東京都千代田区霞が関1丁目3番2号", "")
#: Issue dates in three issue periods (2024-12-02.., 2025-12-01.., 2026-12-01..).
PERIODS = ["2025-01-15", "2025-12-01", "2026-12-01"]


def _household(number: str, surname: str, size: int, *, home: bool = False,
               address: tuple[str, str, str] = TOKYO, issued: list[str] | None = None,
               given: list[str] | None = None, workplace: str = "W001") -> list[list[str]]:
    rows = []
    for branch in range(size):
        insured = branch == 0
        name = (given or KIDS)[branch]
        rows.append([
            "0012", number, f"{branch:02d}", f"{surname} {name}", "カナ",
            f"{1960 + 3 * branch}-0{1 + branch % 9}-1{branch % 10}", "2010-04-01",
            ("任意継続" if home else "一般") if insured else "",
            address[0] if insured else "", address[1] if insured else "",
            address[2] if insured else "",
            "" if home or not insured else workplace,
            "" if home or not insured else "第1事業所",
            (issued or ["2025-12-01"])[branch % len(issued or ["x"])],
        ])
    return rows


LONG = ("1000013", "東京都千代田区霞が関一丁目三番二号中央合同庁舎第五号館別館", "")
#: number -> (rows, printed as an overlay?). The batch's first chunk (two pieces: the W000
#: households sort first) may be laid out in full to get the first proof out sooner.
CASES: dict[str, tuple[list[list[str]], bool | None]] = {
    "000198": (_household("000198", "伊藤", 1, workplace="W000"), None),
    "000199": (_household("000199", "加藤", 2, workplace="W000"), None),
    "000201": (_household("000201", "佐藤", 1), True),  # workplace, no dependents
    "000202": (_household("000202", "髙橋", 4, issued=PERIODS), True),  # rare kanji, 3 periods
    "000203": (_household("000203", "山﨑", 2, home=True), True),  # home, barcode
    "000204": (_household("000204", "渡邉", 3, home=True, address=(
        "0600001", "北海道札幌市中央区北一条西2丁目1-1", "第3ビル1203号")), True),  # address2
    "000205": (_household("000205", "槇原", 1, home=True,
                          address=("1000000", "東京都千代田区1-1", "")), True),  # no barcode
    "000206": (_household("000206", "鈴木", 4), True),  # same shape as 000202 but 1 period
    "000207": (_household("000207", "濵田", 1, home=True, address=LONG), False),  # wraps
    "000208": (_household("000208", "田中", 2, given=["𠮷男", "花子"]), False),  # no glyph
    "000209": (_household("000209", "中村", 12), False),  # a letter of two pages
}


def _merge(roster: Path, out: Path, *, overlay: bool) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        if not overlay:
            mp.setattr(letteroverlay, "OVERLAY_LETTERS", frozenset())
        result = merge(roster, options=MergeOptions(
            letter="kakuninsho", out=out, as_of=AS_OF, workers=1, stamp_codes=False,
            enclosures=("form:bessou1",)))
    assert result.rejected == 0 and result.pieces == len(CASES)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("letter-overlay")
    roster = write_roster(tmp / "roster.csv", CASES)
    return _merge(roster, tmp / "overlay", overlay=True), _merge(roster, tmp / "full",
                                                                   overlay=False)


def _pieces(out: Path) -> dict[str, Path]:
    """Household number -> piece file, from the manifest (one row per member)."""
    with (out / "manifest.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return {row["member_key"].split("-")[1]: out / row["piece_file"]
            for row in rows if row["piece_file"]}


def _letter_backgrounds(reader: PdfReader, index: int) -> list[str]:
    resources = reader.pages[index].get("/Resources")
    xobjects = resources.get_object().get("/XObject", {}) if resources else {}
    return [str(ref.get_object()["/KenpoStatic"]) for ref in xobjects.values()
            if str(ref.get_object().get("/KenpoStatic", "")).startswith("letter-")]


def _chars(page: pdfium.PdfPage) -> Counter[str]:
    return Counter(c for c in page.get_textpage().get_text_range() if not c.isspace())


def _picture(page: pdfium.PdfPage) -> object:
    return page.render(scale=DPI / 72).to_pil().convert("L")


@pytest.mark.parametrize("number", sorted(CASES))
def test_merged_letter_is_the_full_layout(runs: tuple[Path, Path], number: str) -> None:
    overlay_out, full_out = runs
    mine_path, full_path = _pieces(overlay_out)[number], _pieces(full_out)[number]
    assert mine_path.name == full_path.name
    reader = PdfReader(mine_path)
    if CASES[number][1] is not None:
        assert bool(_letter_backgrounds(reader, 0)) == CASES[number][1]
    assert not _letter_backgrounds(PdfReader(full_path), 0)
    mine, full = pdfium.PdfDocument(mine_path), pdfium.PdfDocument(full_path)
    assert len(mine) == len(full)
    if number == "000209":
        assert len(full) == 4  # two letter pages, two form pages: laid out in full
    for i in range(len(full)):  # the letter, and the form after it
        assert _chars(mine[i]) == _chars(full[i])
        assert_same_picture(_picture(mine[i]), _picture(full[i]), f"letter-{number}-{i + 1}")
    text = "".join(mine[i].get_textpage().get_text_range() for i in range(len(mine)))
    text = text.replace(" ", "")
    rows = CASES[number][0]
    for row in rows:  # the values are really there, not just glyphs
        assert row[3].replace(" ", "") in text
        assert f"{row[0]}-{row[1]}-{row[2]}" in text
    assert f"0012-{number}" in text and mine_path.stem in text


def test_the_roster_covers_the_shapes() -> None:
    """The cases above are what they claim: barcodes where expected, a letter too long for
    its box, periods."""
    def barcode(number: str) -> bool:
        insured = CASES[number][0][0]
        address = " ".join(a for a in (insured[9], insured[10]) if a)
        return japan_post_barcode_or_none(insured[8], address) is not None

    assert barcode("000203") and barcode("000204") and not barcode("000205")
    assert len({row[13] for row in CASES["000202"][0]}) == 3
    assert len(CASES["000209"][0]) == 12  # its letter takes two pages (asserted below)


def test_barcode_is_printed_by_the_overlay(runs: tuple[Path, Path]) -> None:
    """The barcode is not in the background but drawn over it, bar by bar (so the picture
    test above really compared the overlay's barcode with the full layout's)."""
    overlay_out, _ = runs
    reader = PdfReader(_pieces(overlay_out)["000203"])
    (name,) = _letter_backgrounds(reader, 0)
    background = next(ref.get_object() for ref in
                      reader.pages[0]["/Resources"]["/XObject"].values()
                      if str(ref.get_object().get("/KenpoStatic", "")) == name)
    insured = CASES["000203"][0][0]
    rects = japan_post_barcode_or_none(insured[8], insured[9]).svg().count("<rect")
    assert rects > 60
    fills = re.compile(rb"\bre\s+f\b")
    assert len(fills.findall(background.get_data())) < 20  # table rules only
    assert len(fills.findall(reader.pages[0].get_contents().get_data())) == rects


def test_same_shape_shares_one_background_stored_once_per_file(runs: tuple[Path, Path]) -> None:
    overlay_out, _ = runs
    pieces = _pieces(overlay_out)
    same = [_letter_backgrounds(PdfReader(pieces[n]), 0) for n in ("000202", "000206")]
    other = _letter_backgrounds(PdfReader(pieces["000201"]), 0)
    assert len(same[0]) == 1 and same[0] != same[1]  # 3 period rows against 1
    assert other and other != same[0]
    prints = sorted((overlay_out / "print").glob("*.pdf"))
    seen = 0
    for path in prints:
        reader = PdfReader(path)
        names = Counter(n for i in range(len(reader.pages))
                        for n in _letter_backgrounds(reader, i))
        stored: Counter[str] = Counter()
        for num in range(1, int(reader.trailer["/Size"])):
            obj = reader.get_object(num)
            if hasattr(obj, "get") and str(obj.get("/KenpoStatic", "")).startswith("letter-"):
                stored[str(obj["/KenpoStatic"])] += 1
        assert set(stored) == set(names) and set(stored.values()) <= {1}
        seen += sum(names.values())
    overlaid = [n for n, path in pieces.items() if _letter_backgrounds(PdfReader(path), 0)]
    assert seen == len(overlaid) >= sum(1 for _, expected in CASES.values() if expected)


def test_slot_filter_prints_the_value_as_is() -> None:
    """Outside a background the ``slot`` filter changes nothing in the HTML."""
    env = make_environment()
    template = env.from_string('{{ name | slot("name") }}|{{ d | slot("d") }}|{{ x | slot("x") }}')
    assert template.render(name="A&B 様", d=date(2026, 1, 2), x="") == "A&amp;B 様|2026-01-02|"
    recorded: dict[str, str] = {}

    def recorder(slot: str, value: object) -> str:
        recorded[slot] = str(value)
        return "·"

    assert template.render(name="A", d=1, x="", kenpo_slots=recorder) == "·|·|·"
    assert recorded == {"name": "A", "d": "1", "x": ""}
