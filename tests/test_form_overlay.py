"""Prefilled forms in the merge printed as a shared background plus an overlay of the values.

Every form the merge prints this way is compared with the same household's form laid out in
full (``build_form``, the path the ``form`` command takes): the same text read back and the
same picture at 100 dpi. Forms the overlay cannot print safely (a long address, 9+ members,
a character the font lacks) must come out of the full layout, which the test sees in the
PDF: an overlaid page draws a ``/KenpoStatic (form-…)`` background, a full one does not.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from kenpo_docs.documents.forms import form_context
from kenpo_docs.input.roster import Household, Member, read_roster
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.pdf.compose import add_overlay_page
from kenpo_docs.publish.forms import build_form
from kenpo_docs.render import RenderOptions
from kenpo_docs.shapes import backgrounds, overlay
from kenpo_docs.shapes import forms as formoverlay

AS_OF = date(2026, 12, 1)
DPI = 100
HEADER = ["記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "加入区分",
          "郵便番号", "住所1", "住所2", "就労先コード", "就労先名", "資格確認書交付日"]
#: Certificates issued a year before the as-of date expire within the letter's window.
ISSUED = "2025-12-01"
KIDS = ["一郎", "花子", "健太", "美咲", "誠", "由美", "大輔", "幸子", "翔", "葵", "蓮"]


TOKYO = ("東京都千代田区霞が関1丁目3番2号", "")


def _household(number: str, surname: str, kana: str, size: int, *, home: bool = False,
               address: tuple[str, str] = TOKYO) -> list[list[str]]:
    rows = []
    for branch in range(size):
        insured = branch == 0
        rows.append([
            "0012", number, f"{branch:02d}", f"{surname} {KIDS[branch]}", f"{kana} コ",
            f"{1960 + 3 * branch}-0{1 + branch % 9}-1{branch}", "2010-04-01",
            ("任意継続" if home else "一般") if insured else "",
            "1000013" if insured else "", address[0] if insured else "",
            address[1] if insured else "",
            "" if home or not insured else "W001", "" if home or not insured else "第1事業所",
            ISSUED,
        ])
    return rows


#: number -> (rows, printed as an overlay?)
CASES = {
    "000101": (_household("000101", "佐藤", "サトウ", 1), True),  # no dependents, workplace
    "000102": (_household("000102", "髙橋", "タカハシ", 4), True),  # 3 dependents, rare kanji
    "000103": (_household("000103", "山﨑", "ヤマザキ", 3, home=True,
                          address=("北海道札幌市中央区北一条西2丁目1-1", "第3ビル1203号")), True),
    "000104": (_household("000104", "草彅", "クサナギ", 7), True),  # compact table
    "000105": (_household("000105", "渡邉", "ワタナベ", 8, home=True), True),  # compact, home
    "000106": (_household("000106", "濵田", "ハマダ", 2, home=True, address=(
        "鹿児島県薩摩川内市東郷町斧渕字二十三番地の一", "東郷グリーンハイツ南棟二〇三号")), False),
    "000107": (_household("000107", "德永", "トクナガ", 10), False),  # two pages
    "000108": (_household("000108", "槇原", "マキハラ", 2, home=True), True),
}


def write_roster(path: Path, cases: dict[str, tuple[list[list[str]], object]] | None = None
                 ) -> Path:
    """A roster (HEADER columns) of the cases' rows; tests/test_letter_overlay.py uses it too."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for rows, _ in (CASES if cases is None else cases).values():
        writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _picture(pdf: pdfium.PdfDocument, index: int) -> Image.Image:
    return pdf[index].render(scale=DPI / 72).to_pil().convert("L")


def _text(pdf: pdfium.PdfDocument, index: int) -> str:
    return pdf[index].get_textpage().get_text_range()


def _chars(text: str) -> Counter[str]:
    return Counter(c for c in text if not c.isspace())


def assert_same_picture(actual: Image.Image, expected: Image.Image, name: str) -> None:
    """Nearly identical pictures: the same glyphs at the same places rasterise the same.

    The mean grey difference must stay under 0.02 (of 255) and at most 20 pixels may differ
    by more than 32 grey levels; one wrong digit of a value (~40 dark pixels at 100 dpi)
    fails both. On failure both pictures are written next to the test run for a human.
    """
    assert actual.size == expected.size
    diff = ImageChops.difference(actual, expected)
    histogram = diff.histogram()
    total = actual.size[0] * actual.size[1]
    mean = sum(level * count for level, count in enumerate(histogram)) / total
    strong = sum(histogram[33:])
    if mean >= 0.02 or strong > 20:
        out = Path(tempfile.gettempdir()) / "form-overlay-failures"
        out.mkdir(exist_ok=True)
        actual.save(out / f"{name}-overlay.png")
        expected.save(out / f"{name}-full.png")
        pytest.fail(f"{name}: pictures differ (mean {mean:.4f}, {strong} pixels > 32, "
                    f"box {diff.getbbox()}); see {out}")


def _overlaid(reader: PdfReader, index: int) -> list[str]:
    """The /KenpoStatic names of the form backgrounds a page draws."""
    resources = reader.pages[index].get("/Resources")
    xobjects = resources.get_object().get("/XObject", {}) if resources else {}
    names = []
    for ref in xobjects.values():
        marker = ref.get_object().get("/KenpoStatic")
        if marker is not None and str(marker).startswith("form-"):
            names.append(str(marker))
    return names


def _stored(path: Path) -> Counter[str]:
    """How many objects of the file carry each form background's /KenpoStatic name."""
    reader = PdfReader(path)
    stored: Counter[str] = Counter()
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if hasattr(obj, "get") and str(obj.get("/KenpoStatic", "")).startswith("form-"):
            stored[str(obj["/KenpoStatic"])] += 1
    return stored


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("overlay")
    roster = write_roster(tmp / "roster.csv")
    options = MergeOptions(letter="kakuninsho", out=tmp / "out", as_of=AS_OF,
                           enclosures=("form:bessou1",), workers=1, stamp_codes=False,
                           sides="simplex")  # the pages are the letter's and the form's
    result = merge(roster, options=options)
    assert result.pieces == len(CASES) and result.rejected == 0
    return tmp


@pytest.fixture(scope="module")
def households(merged: Path) -> dict[str, Household]:
    roster = read_roster(merged / "roster.csv", as_of=AS_OF)
    return {h.insured.number: h for h in roster.households}


def _piece_files(merged: Path) -> dict[str, Path]:
    """Household number -> piece file, from the manifest (one row per member)."""
    with (merged / "out" / "manifest.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return {row["member_key"].split("-")[1]: merged / "out" / row["piece_file"]
            for row in rows if row["piece_file"]}


@pytest.mark.parametrize("number", sorted(CASES))
def test_merged_form_page_is_the_full_layout(merged: Path, households: dict[str, Household],
                                             number: str) -> None:
    household = households[number]
    piece = _piece_files(merged)[number]
    reader = PdfReader(piece)
    letter_pages = len(reader.pages) - (2 if len(household.members) > 8 else 1)
    full = pdfium.PdfDocument(build_form("bessou1", household=household, as_of=AS_OF))
    mine = pdfium.PdfDocument(piece)
    assert len(mine) - letter_pages == len(full)
    overlay_expected = CASES[number][1]
    assert bool(_overlaid(reader, letter_pages)) == overlay_expected
    texts = []
    for i in range(len(full)):
        got, want = _text(mine, letter_pages + i), _text(full, i)
        assert _chars(got) == _chars(want)
        texts.append(got.replace(" ", ""))
        assert_same_picture(_picture(mine, letter_pages + i), _picture(full, i),
                            f"{number}-{i + 1}")
    for member in household.members:  # and the values are really there, not just glyphs
        assert member.name.replace(" ", "") in "".join(texts)
    assert f"0012-{number}" in texts[0]


def test_each_background_is_stored_once_per_print_file(merged: Path) -> None:
    prints = sorted((merged / "out" / "print").glob("*.pdf"))
    assert prints
    seen = 0
    for path in prints:
        reader = PdfReader(path)
        names = {n for i in range(len(reader.pages)) for n in _overlaid(reader, i)}
        stored = _stored(path)
        assert set(stored) == names and set(stored.values()) == {1}
        seen += len(names)
    assert seen


def test_same_shape_pieces_share_one_background(tmp_path: Path) -> None:
    rows = [["0012", f"0002{n:02d}", "00", f"佐藤 {KIDS[n]}", "サトウ イチロウ",
             f"197{n}-01-0{n + 1}", "2010-04-01", "一般", "1000013", TOKYO[0], "", "W001",
             "第1事業所", ISSUED] for n in range(3)]
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER, *rows])
    roster = tmp_path / "roster.csv"
    roster.write_text(buf.getvalue(), encoding="utf-8")
    merge(roster, options=MergeOptions(letter="kakuninsho", out=tmp_path / "out", as_of=AS_OF,
                                       enclosures=("form:bessou1",), workers=1))
    prints = sorted((tmp_path / "out" / "print").glob("*.pdf"))
    assert len(prints) == 1
    reader = PdfReader(prints[0])
    names = [n for i in range(len(reader.pages)) for n in _overlaid(reader, i)]
    assert len(names) == 3 and len(set(names)) == 1  # three forms draw one background
    assert _stored(prints[0]) == {names[0]: 1}
    # and each piece file holds it once too
    pieces = sorted((tmp_path / "out" / "pieces").glob("*.pdf"))
    assert len(pieces) == 3
    for piece in pieces:
        assert _stored(piece) == {names[0]: 1}


def _family(name: str, *, address: str = "東京都千代田区霞が関1丁目3番2号") -> Household:
    def member(branch: str, given: str, membership: str | None) -> Member:
        return Member(
            row=2, symbol="0012", number="000345", branch=branch, name=f"{name} {given}",
            kana="タカハシ", birth_date=date(1980, 4, 1), acquired_on=date(2010, 4, 1),
            lost_on=None, membership=membership, certificate_issued_on=None,
            postal_code="1000013", address1=address, address2=None, workplace_code="1001",
            workplace_name="本部", myna_registered=None, has_mynumber_card=None,
            has_smartphone=None,
        )
    return Household(member("00", "一郎", "一般"), (member("01", "花子", None),))


def _overlay_for(household: Household) -> dict[str, object]:
    ctx = form_context("bessou1", household, as_of=AS_OF, anchor="a")
    return formoverlay.render_overlays("bessou1", [ctx], ["a"], as_of=AS_OF,
                                       options=RenderOptions(as_of=AS_OF, pdf_tags=False))


def test_a_character_the_font_lacks_is_laid_out_in_full() -> None:
    assert _overlay_for(_family("髙橋"))  # the same household with drawable names is overlaid
    assert not _overlay_for(_family("𠮷田"))  # 𠮷 is not in BIZ UDPGothic: another font


def test_fillable_forms_are_never_overlaid() -> None:
    ctx = form_context("bessou1", _family("髙橋"), as_of=AS_OF, anchor="a", fillable=True)
    assert formoverlay.render_overlays("bessou1", [ctx], ["a"], as_of=AS_OF,
                                       options=RenderOptions(as_of=AS_OF)) == {}


def _no_overlay_document(*args: object, **kwargs: object) -> None:
    raise AssertionError("an overlay document was laid out: the values were not drawn directly")


@pytest.mark.parametrize("form", ["bessou1", "bessou2"])
def test_overlay_outside_the_merge_matches_full_layout(form: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Both forms, a workplace and a home household, composed as render_chunk composes; the
    values are drawn straight into the page (kenpo_docs/shapes/draw.py), with no
    overlay document laid out."""
    from pypdf import PdfWriter

    from kenpo_docs.pdf.stream import PdfStreamWriter

    monkeypatch.setattr(overlay, "_laid_out_overlay_pages", _no_overlay_document)

    family = _family("髙橋")
    home = Household(replace(family.insured, membership="任意継続", workplace_code=None,
                             workplace_name=None, address2="第3ビル1203号"))
    households = [family, home]
    anchors = [f"a{i}" for i in range(len(households))]
    contexts = [form_context(form, h, as_of=AS_OF, anchor=a)
                for h, a in zip(households, anchors, strict=True)]
    overlays = formoverlay.render_overlays(form, contexts, anchors, as_of=AS_OF,
                                           options=RenderOptions(as_of=AS_OF, pdf_tags=False))
    assert sorted(overlays) == anchors
    writer = PdfWriter()
    for anchor in anchors:
        page, background = overlays[anchor]
        add_overlay_page(writer, page,
                                     backgrounds.background_xobject(writer, background))
    path = tmp_path / "overlay.pdf"
    with PdfStreamWriter(path) as out:
        for page in writer.pages:
            out.add_page(page)
        out.close()
    mine = pdfium.PdfDocument(path)
    for i, household in enumerate(households):
        full = pdfium.PdfDocument(build_form(form, household=household, as_of=AS_OF))
        assert _chars(_text(mine, i)) == _chars(_text(full, 0))
        assert household.insured.name.replace(" ", "") in _text(mine, i).replace(" ", "")
        assert_same_picture(_picture(mine, i), _picture(full, 0), f"{form}-{i}")


def test_a_key_short_enough_to_stay_on_the_contact_line_is_laid_out_in_full() -> None:
    """The background's key wraps below the 照会先 line; a key that would fit on that line
    (here ``1-2``) is placed there by the full layout, so it must not be overlaid."""
    family = _family("髙橋")
    short = Household(replace(family.insured, symbol="1", number="2"))
    full = pdfium.PdfDocument(build_form("bessou1", household=short, as_of=AS_OF))
    lines = _text(full, 0).splitlines()
    assert any("記号・番号" in line and "1-2" in line for line in lines)  # really on that line
    assert not _overlay_for(short)
    assert _overlay_for(Household(family.insured))


def test_a_tagged_pdf_overlay_is_drawn_with_its_values_marked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A tagged PDF's values are drawn straight into the page too (no overlay document):
    each value is a marked-content sequence of its own, whose MCID the page's structure
    elements take where the background had its placeholder (pdf.tagtree.fill)."""
    monkeypatch.setattr(overlay, "_laid_out_overlay_pages",
                        lambda *a, **k: pytest.fail("laid out as a document"))
    ctx = form_context("bessou1", _family("髙橋"), as_of=AS_OF, anchor="a")
    tagged = formoverlay.render_overlays("bessou1", [ctx], ["a"], as_of=AS_OF,
                                         options=RenderOptions(as_of=AS_OF, pdf_tags=True))
    assert sorted(tagged) == ["a"]
    page, background = tagged["a"]
    assert background.tags is not None and page.marks
    content = page.page.get_contents().get_data()
    assert sorted(int(m) for m in re.findall(rb"/MCID (\d+)", content)) == sorted(
        page.marks.values())
    assert background.tags.slots == set(page.marks)  # each value where its placeholder was


def test_a_shape_laid_out_by_one_process_is_loaded_by_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's processes share the shapes they lay out (the parts folder): a process that
    has not laid a shape out loads it, and prints the same page as the full layout; a torn
    file is laid out again."""
    family = _family("髙橋")
    ctx = form_context("bessou1", family, as_of=AS_OF, anchor="a")
    options = RenderOptions(as_of=AS_OF, pdf_tags=False)
    monkeypatch.setattr(formoverlay, "_BACKGROUNDS", {})
    with backgrounds.shared_shapes(tmp_path):
        laid_out = formoverlay.render_overlays("bessou1", [ctx], ["a"], as_of=AS_OF,
                                               options=options)
    (saved,) = tmp_path.glob("*.shape")
    monkeypatch.setattr(formoverlay, "_BACKGROUNDS", {})  # another process
    monkeypatch.setattr(formoverlay, "_lay_out_background",
                        lambda *a: pytest.fail("laid out again instead of loaded"))
    with backgrounds.shared_shapes(tmp_path):
        loaded = formoverlay.render_overlays("bessou1", [ctx], ["a"], as_of=AS_OF,
                                             options=options)
    assert loaded["a"][1].name == laid_out["a"][1].name  # same background, same bytes
    assert loaded["a"][1].data == laid_out["a"][1].data
    from pypdf import PdfWriter

    from kenpo_docs.pdf.stream import PdfStreamWriter

    writer = PdfWriter()
    page, background = loaded["a"]
    add_overlay_page(writer, page, backgrounds.background_xobject(writer, background))
    path = tmp_path / "loaded.pdf"
    with PdfStreamWriter(path) as out:
        out.add_page(writer.pages[0])
        out.close()
    full = pdfium.PdfDocument(build_form("bessou1", household=family, as_of=AS_OF))
    assert_same_picture(_picture(pdfium.PdfDocument(path), 0), _picture(full, 0), "loaded")

    saved.write_bytes(saved.read_bytes()[:100])  # torn
    monkeypatch.undo()
    monkeypatch.setattr(formoverlay, "_BACKGROUNDS", {})
    with backgrounds.shared_shapes(tmp_path):
        again = formoverlay.render_overlays("bessou1", [ctx], ["a"], as_of=AS_OF,
                                            options=options)
    assert again["a"][1].name == laid_out["a"][1].name


def test_pages_laid_out_in_full_are_cut_into_small_documents() -> None:
    """The odd ones of an overlaid chunk are laid out a few per document (a document's boxes
    stay in memory until it is written); every anchor still gets its own pages."""
    from kenpo_docs.render.pages import render_split

    names = ["髙橋", "山﨑", "渡邉", "草彅", "濵田"]
    anchors = [f"form-{i}" for i in range(len(names))]
    items = [form_context("bessou1", _family(n), as_of=AS_OF, anchor=a)
             for n, a in zip(names, anchors, strict=True)]
    options = RenderOptions(as_of=AS_OF, pdf_tags=False)
    full = render_split("forms/bessou1/form.html", "forms", items, anchors, options,
                         per_document=2)
    assert sorted(full) == sorted(anchors)
    assert len({id(reader) for reader, _, _ in full.values()}) == 3
    for name, anchor in zip(names, anchors, strict=True):
        reader, first, end = full[anchor]
        assert end - first == 1
        assert name in reader.pages[first].extract_text()
    one = render_split("forms/bessou1/form.html", "forms", items, anchors, options)
    assert len({id(reader) for reader, _, _ in one.values()}) == 1
