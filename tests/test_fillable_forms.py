"""Fillable forms that every viewer shows (issue 19 §3).

The prefilled values of a fillable form must look as the printed (non-fillable) form prints
them, in pdfium (Chrome, Edge: forms drawn through ``init_forms``) and in poppler
(``pdftoppm``), which before drew them each with a font of its own (pdfium: 氏名 blank,
昭和45年4月1日 as "45 4 1"; poppler: no check mark). The expectation for each value's pixels
is the printed form rendered by the same viewer: an independent drawing of the same value by
WeasyPrint's normal text path, not our appearance stream.

Pixel bound, per field (its widget rectangle at 150 dpi, greyscale): the field's tint
(#eef3fb, grey 242) and white are both read as paper (>= 200 -> 255); then at most 12 % of
the printed value's ink pixels may differ by more than 64 grey levels, and the mean
difference over the rectangle must stay under 3 levels. Why: the glyphs are the same
outlines at the same place, but the appearance is drawn as a form XObject through the
widget's rectangle, so each viewer rasterises it at a slightly different sub-pixel origin:
anti-aliased edge pixels change (measured: at most 7.6 % of the ink pixels by more than 64,
mean at most 2.35, over the forms below). A value 1 pt off, or set at another size,
differs in 100-200 % of its ink pixels (measured on the forms before this change: 氏名 at
14 pt instead of 11.5 pt, dates and names drawn by the viewer).
"""

from __future__ import annotations

import ctypes
import dataclasses
import io
import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from kenpo_docs.input.roster import Household, Member
from kenpo_docs.publish.forms import build_form

AS_OF = date(2025, 1, 10)
DPI = 150
#: The bound explained in the module's docstring.
MAX_INK_DIFFERING = 0.12
MAX_MEAN_DIFFERENCE = 3.0
#: The fillable form before this change was 3.1 MB (the whole BIZ UDPGothic embedded).
MAX_BYTES = 250_000


def member(branch: str, name: str, kana: str, born: date, *, membership: str | None = "一般",
           workplace: str | None = "1001", workplace_name: str | None = "本部") -> Member:
    return Member(
        row=2, symbol="0012", number="000345", branch=branch, name=name, kana=kana,
        birth_date=born, acquired_on=date(2024, 12, 2), lost_on=None, membership=membership,
        certificate_issued_on=None, postal_code="1000013",
        address1="東京都千代田区霞が関1丁目3番2号", address2="郵便プラザ503室",
        workplace_code=workplace, workplace_name=workplace_name if workplace else None,
        myna_registered=None, has_mynumber_card=None, has_smartphone=None,
    )


HOUSEHOLDS = {
    # 一般: 就労先 ticked; 髙 (a BIZ UDPGothic glyph outside JIS level 1)
    "family": Household(
        member("00", "髙橋 一郎", "タカハシ イチロウ", date(1980, 4, 1)),
        (member("01", "髙橋 花子", "タカハシ ハナコ", date(1982, 5, 3), membership=None),
         member("02", "髙橋 健太", "タカハシ ケンタ", date(2010, 1, 8), membership=None)),
    ),
    # 任意継続: 自宅 ticked, 〒 and 住所 printed; 𠮷 is set in IPAmj Mincho (the name font)
    "continuation": Household(
        member("00", "𠮷田 次郎", "ヨシダ ジロウ", date(1960, 2, 29), membership="任意継続",
               workplace=None),
        (),
    ),
}


@pytest.fixture(scope="module", params=[("bessou1", "family"), ("bessou1", "continuation"),
                                        ("bessou2", "family")], ids=lambda p: "-".join(p))
def pair(request: pytest.FixtureRequest) -> tuple[bytes, bytes]:
    """(printed, fillable) of one form for one household."""
    name, key = request.param
    household = HOUSEHOLDS[key]
    return (build_form(name, household=household, as_of=AS_OF),
            build_form(name, household=household, as_of=AS_OF, fillable=True))


def widgets(data: bytes) -> list[Any]:
    page = PdfReader(io.BytesIO(data)).pages[0]
    return [ref.get_object() for ref in page["/Annots"]]


def prefilled(data: bytes) -> list[Any]:
    return [w for w in widgets(data) if w["/FT"] == "/Tx" and w.get("/V")]


def render_pdfium(data: bytes, dpi: int = DPI) -> Image.Image:
    document = pdfium.PdfDocument(data)
    document.init_forms()
    return document[0].render(scale=dpi / 72, may_draw_forms=True).to_pil().convert("L")


def render_poppler(data: bytes, tmp: Path, dpi: int = DPI) -> Image.Image:
    source = tmp / "in.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(source),
                    str(tmp / "out")], check=True)
    with Image.open(tmp / "out.png") as image:
        return image.convert("L")


def paper(image: Image.Image) -> Image.Image:
    """White and the fields' tint (grey 242) both as white paper."""
    return image.point(lambda v: 255 if v >= 200 else v)


def box(widget: Any, height: float, dpi: int = DPI) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    s = dpi / 72
    return (round(min(x1, x2) * s), round((height - max(y1, y2)) * s),
            round(max(x1, x2) * s), round((height - min(y1, y2)) * s))


def compare(printed: Image.Image, fillable: Image.Image, data: bytes,
            out: Path) -> dict[str, tuple[float, float, int]]:
    """Per prefilled field: (share of ink pixels differing by > 64, mean difference, ink)."""
    height = float(PdfReader(io.BytesIO(data)).pages[0].mediabox.height)
    a, b = paper(printed), paper(fillable)
    result = {}
    for widget in prefilled(data):
        area = box(widget, height)
        expected, actual = a.crop(area), b.crop(area)
        hist = ImageChops.difference(expected, actual).histogram()
        ink = sum(expected.histogram()[:128])
        pixels = expected.width * expected.height
        differing = sum(hist[65:]) / max(ink, 1)
        mean = sum(i * n for i, n in enumerate(hist)) / pixels
        result[str(widget["/T"])] = (differing, mean, ink)
        if differing > MAX_INK_DIFFERING or mean > MAX_MEAN_DIFFERENCE:
            side = Image.new("L", (expected.width, expected.height * 2 + 4), 128)
            side.paste(expected, (0, 0))
            side.paste(actual, (0, expected.height + 4))
            side.save(out / f"{widget['/T']}-printed-above-fillable-below.png")
    return result


def assert_same(measured: dict[str, tuple[float, float, int]]) -> None:
    assert measured, "no prefilled field compared"
    for name, (differing, mean, ink) in measured.items():
        assert ink > 100, f"{name}: the printed value has no ink to compare"
        assert differing <= MAX_INK_DIFFERING and mean <= MAX_MEAN_DIFFERENCE, (
            f"{name}: {differing:.1%} of the ink differs, mean {mean:.2f}")


def test_values_look_as_printed_in_pdfium(pair: tuple[bytes, bytes], tmp_path: Path) -> None:
    printed, fillable = pair
    assert_same(compare(render_pdfium(printed), render_pdfium(fillable), fillable, tmp_path))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_values_look_as_printed_in_poppler(pair: tuple[bytes, bytes], tmp_path: Path) -> None:
    printed, fillable = pair
    assert_same(compare(render_poppler(printed, tmp_path), render_poppler(fillable, tmp_path),
                        fillable, tmp_path))


def test_the_comparison_sees_a_misplaced_value(pair: tuple[bytes, bytes],
                                               tmp_path: Path) -> None:
    """The bound is not loose: the same form with every appearance moved by 1 pt fails."""
    _, fillable = pair
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(fillable)))
    for ref in writer.pages[0]["/Annots"]:
        widget = ref.get_object()
        if widget["/FT"] == "/Tx" and widget.get("/V"):
            stream = widget["/AP"]["/N"].get_object()
            stream.set_data(b"1 0 0 1 1 0 cm\n" + stream.get_data())
    buf = io.BytesIO()
    writer.write(buf)
    printed = render_pdfium(pair[0])
    measured = compare(printed, render_pdfium(buf.getvalue()), fillable, tmp_path)
    assert all(d > MAX_INK_DIFFERING for d, _, _ in measured.values()), measured


def test_field_values_read_back(pair: tuple[bytes, bytes]) -> None:
    _, fillable = pair
    fields = PdfReader(io.BytesIO(fillable)).get_fields()
    assert fields is not None
    assert fields["symbol_number"]["/V"] == "0012-000345"
    assert fields["application_date"]["/V"] == ""
    name = fields["name"]["/V"]
    assert name in ("髙橋 一郎", "𠮷田 次郎")
    assert fields["birth_date"]["/V"] in ("昭和55年4月1日", "昭和35年2月29日")


def fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def appearance_text(widget: Any) -> str:
    """The text of a widget's normal appearance, extracted by pypdf from a page that draws
    only it."""
    stream = widget["/AP"]["/N"].get_object()
    writer = PdfWriter()
    page = writer.add_blank_page(1000, 1000)
    page[NameObject("/Resources")] = stream["/Resources"].clone(writer)
    content = DecodedStreamObject()
    content.set_data(stream.get_data())
    page.replace_contents(content)
    buf = io.BytesIO()
    writer.write(buf)
    return PdfReader(buf).pages[0].extract_text()


def test_appearance_text_is_the_value(pair: tuple[bytes, bytes]) -> None:
    """Each appearance stream says its value (fonts with a ToUnicode map), and the value's
    characters are all there: none drawn by a viewer's fallback."""
    _, fillable = pair
    for widget in prefilled(fillable):
        assert fold(appearance_text(widget)) == fold(str(widget["/V"])), widget["/T"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_poppler_reads_the_values(pair: tuple[bytes, bytes], tmp_path: Path) -> None:
    _, fillable = pair
    (tmp_path / "f.pdf").write_bytes(fillable)
    text = fold(subprocess.run(["pdftotext", str(tmp_path / "f.pdf"), "-"], check=True,
                               capture_output=True, text=True).stdout)
    for widget in prefilled(fillable):
        # word by word: poppler orders the words after an ideographic space (住所) apart,
        # in the printed form as well
        for word in str(widget["/V"]).split():
            assert fold(word) in text, widget["/T"]


def test_small_file_with_a_subset_japanese_font(pair: tuple[bytes, bytes]) -> None:
    _, fillable = pair
    assert len(fillable) < MAX_BYTES, len(fillable)
    reader = PdfReader(io.BytesIO(fillable))
    form = reader.trailer["/Root"]["/AcroForm"]
    assert not form.get("/NeedAppearances", False), "viewers would redraw with their own font"
    dr_fonts = form["/DR"]["/Font"]
    for widget in widgets(fillable):
        if widget["/FT"] != "/Tx":
            continue
        assert "/N" in widget["/AP"], widget["/T"]
        da = re.fullmatch(r"(/\S+) ([0-9.]+) Tf 0 g", str(widget["/DA"]))
        assert da, widget["/DA"]
        font = dr_fonts[da.group(1)].get_object()
        assert font["/Subtype"] == "/Type0" and font["/Encoding"] == "/Identity-H"
        assert re.fullmatch(r"/[A-Z]{6}\+BIZ-UDPGothic", font["/BaseFont"])
        cid = font["/DescendantFonts"][0].get_object()
        assert cid["/Subtype"] == "/CIDFontType2"
        program = cid["/FontDescriptor"]["/FontFile2"].get_data()
        assert len(program) < 400_000, len(program)  # the whole font: 4.7 MB
        cmap = font["/ToUnicode"].get_data()
        # what a member types: a date, digits, kana (the repertoire), besides the values
        for ch in "令和7年1月20日03-ｱあア":
            code = f"<{ch.encode('utf-16-be').hex()}>".encode()
            assert code in cmap, ch


def test_a_prefilled_value_is_drawn_at_its_printed_size(pair: tuple[bytes, bytes]) -> None:
    """氏名 prints at 11.5 pt (the printed form's value style), not the field's 14 pt; the
    /DA says so too, so a viewer redrawing it after an edit keeps the size."""
    _, fillable = pair
    name = next(w for w in widgets(fillable) if w["/T"] == "name")
    assert str(name["/DA"]).split()[1] == "11.5"
    assert re.search(rb" 11\.5 Tf|15\.333008 Tf", name["/AP"]["/N"].get_object().get_data())


def interior_ink(image: Image.Image, widget: Any, height: float) -> float:
    x1, y1, x2, y2 = box(widget, height)
    inset = (x2 - x1) // 4
    inner = image.crop((x1 + inset, y1 + inset, x2 - inset, y2 - inset))
    return sum(inner.histogram()[:128]) / (inner.width * inner.height)


@pytest.mark.parametrize("viewer", ["pdfium", "poppler"])
def test_check_boxes_show_their_state(pair: tuple[bytes, bytes], tmp_path: Path,
                                      viewer: str) -> None:
    _, fillable = pair
    if viewer == "poppler" and shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed")
    image = render_pdfium(fillable) if viewer == "pdfium" else render_poppler(fillable, tmp_path)
    height = float(PdfReader(io.BytesIO(fillable)).pages[0].mediabox.height)
    boxes = {str(w["/T"]): w for w in widgets(fillable) if w["/FT"] == "/Btn"}
    for name, widget in boxes.items():
        assert set(widget["/AP"]["/N"]) == {"/Yes", "/Off"}, name
        assert widget["/AS"] == widget["/V"], name
    checked = [n for n, w in boxes.items() if w["/AS"] == "/Yes"]
    assert checked and set(checked) <= {"send_workplace", "send_home"}
    for name, widget in boxes.items():
        ink = interior_ink(image, widget, height)
        if name in checked:
            assert ink > 0.3, (name, ink)
        else:
            assert ink < 0.02, (name, ink)


def test_pypdf_fills_a_field_in_the_forms_font(pair: tuple[bytes, bytes],
                                              tmp_path: Path) -> None:
    """After an edit, pypdf draws the new value with the /DR font (its ToUnicode map gives
    the glyphs): a date, a phone number and kana come out whole in pdfium; the check box
    takes the other state."""
    _, fillable = pair
    values = {"application_date": "令和7年1月20日", "phone": "03-1234-5678",
              "reason_other_text": "ひっこし　テンキョ"}
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(fillable)))
    writer.update_page_form_field_values(writer.pages[0], {**values, "reason_lost": "/Yes"},
                                         auto_regenerate=False)
    buf = io.BytesIO()
    writer.write(buf)
    edited = buf.getvalue()
    reader = PdfReader(io.BytesIO(edited))
    fields = reader.get_fields()
    assert fields is not None and fields["reason_lost"]["/V"] == "/Yes"
    image = render_pdfium(edited)
    height = float(reader.pages[0].mediabox.height)
    for widget in widgets(edited):
        name = str(widget["/T"])
        if name in values:
            assert fields[name]["/V"] == values[name]
            assert fold(appearance_text(widget)) == fold(values[name]), name
            x1, y1, x2, y2 = box(widget, height)
            assert sum(image.crop((x1, y1, x2, y2)).histogram()[:128]) > 150, name
        if name == "reason_lost":
            assert interior_ink(image, widget, height) > 0.3


def _wide(text: str) -> Any:
    data = (text + "\0").encode("utf-16-le")
    return ctypes.cast(ctypes.create_string_buffer(data, len(data)),
                       ctypes.POINTER(pdfium_c.FPDF_WCHAR))


def _field_name(form: Any, annot: Any) -> str:
    size = pdfium_c.FPDFAnnot_GetFormFieldName(form, annot, None, 0)
    buf = ctypes.create_string_buffer(size)
    pdfium_c.FPDFAnnot_GetFormFieldName(form, annot,
                                        ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)),
                                        size)
    return buf.raw[:size - 2].decode("utf-16-le")


def test_pdfium_redraws_an_edited_field_with_the_dr_font(pair: tuple[bytes, bytes],
                                                         tmp_path: Path) -> None:
    """Typing into a field in pdfium (its form API, as Chrome does): the new value's digits
    and Latin letters are drawn with the /DA font from /DR (pdfium takes a system font of the
    script for kana and kanji, whatever the /DR font has: see docs/forms.md)."""
    _, fillable = pair
    document = pdfium.PdfDocument(fillable)
    document.init_forms()
    page = document[0]
    form = document.formenv.raw
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        if _field_name(form, annot) == "phone":
            assert pdfium_c.FORM_SetFocusedAnnot(form, annot)
            pdfium_c.FORM_ReplaceSelection(form, page.raw, _wide("03-1234-5678"))
            pdfium_c.FORM_ForceToKillFocus(form)
        pdfium_c.FPDFPage_CloseAnnot(annot)
    out = tmp_path / "edited.pdf"
    document.save(out)
    page.close()
    document.close()
    phone = next(w for w in widgets(out.read_bytes()) if w["/T"] == "phone")
    assert phone["/V"] == "03-1234-5678"
    stream = phone["/AP"]["/N"].get_object()
    da_font = str(phone["/DA"]).split()[0]
    used = set(re.findall(rb"(/[^\s/]+)\s+[0-9.]+\s+Tf", stream.get_data()))
    assert used == {da_font.encode()}, used
    assert fold(appearance_text(phone)) == "03-1234-5678"


def test_a_value_the_printed_form_wraps_is_shown_whole_on_one_line(tmp_path: Path) -> None:
    """A long address wraps onto two lines in the printed form (its row grows), not in the
    one-line field: the field draws it whole, smaller, inside its box; the 〒 of the same row
    (placed lower in the taller printed row) is drawn inside its own box too."""
    insured = HOUSEHOLDS["continuation"].insured
    address1 = "北海道札幌市中央区北一条西二丁目一番地札幌市役所本庁舎別館東側通用口前"
    address2 = "サンプルマンション北海道札幌中央ビルディング第二別館1203号室"
    long = Household(dataclasses.replace(insured, address1=address1, address2=address2), ())
    fillable = build_form("bessou1", household=long, as_of=AS_OF, fillable=True)
    image = render_pdfium(fillable)
    height = float(PdfReader(io.BytesIO(fillable)).pages[0].mediabox.height)
    for widget in prefilled(fillable):
        assert fold(appearance_text(widget)) == fold(str(widget["/V"])), widget["/T"]
        if widget["/T"] in ("address", "postal_code"):
            x1, y1, x2, y2 = box(widget, height)
            inside = image.crop((x1, y1, x2, y2))
            ink = sum(inside.histogram()[:128])
            # the box's own column of pixels at each end is clear: nothing cut off there
            right = image.crop((x2 - 3, y1 + 2, x2, y2 - 2))
            assert ink > 300 and sum(right.histogram()[:128]) == 0, widget["/T"]
