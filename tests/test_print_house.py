"""What a print house expects of a batch (issue 19 §5), from one real merge:

* the workplace cover sheet reads as a 送付状 to the workplace's ご担当者様 (read back with
  pypdf from the print file);
* ``merge --proof N`` writes 150 dpi PNG proofs with the envelope window outlined (pixels);
* an address typed with full-width digits and dashes prints in Japan Post's notation
  (Arabic numerals, 「1丁目3-2」), the roster value unchanged.

Expected values come from outside our code: the insurer settings file read with tomllib, the
envelope profile read with tomllib, the addresses rewritten by hand.
"""

from __future__ import annotations

import csv
import io
import tomllib
import unicodedata
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import Image, ImageChops
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.domain.addresses import address_notation
from kenpo_docs.input.roster import read_roster
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)
# Home addresses as members typed them: full-width digits, a katakana long vowel mark and a
# full-width hyphen-minus as dashes, 〇 for zero among digits, full-width Latin letters.
TYPED_C = ("千葉県千葉市稲毛区緑町３丁目３０ー８", "郵便ビル４〇３号")
TYPED_D = ("東京都千代田区霞が関１丁目３－２", "ＡＢＣビル１０Ｆ")
# ... and as Japan Post writes them in horizontal writing (by hand).
PRINTED_C = ("千葉県千葉市稲毛区緑町3丁目30-8", "郵便ビル403号")
PRINTED_D = ("東京都千代田区霞が関1丁目3-2", "ABCビル10F")
ROWS = [
    "30,4001,00,青木 一郎,アオキ イチロウ,1975-06-01,2015-04-01,,一般,2025-11-30,"
    "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局,,,",
    "30,4001,01,青木 花子,アオキ ハナコ,1978-01-20,2015-04-01,,,2025-11-30,,,,,,,,",
    "30,4002,00,石田 二郎,イシダ ジロウ,1980-02-02,2016-04-01,,一般,2025-11-30,"
    "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局,,,",
    "30,4003,00,井上 和子,イノウエ カズコ,1958-09-09,2000-04-01,,任意継続,2025-11-30,"
    f"2630023,{TYPED_C[0]},{TYPED_C[1]},,,,,",
    "30,4004,00,大野 聡,オオノ サトシ,1972-03-03,2011-04-01,,任意継続,2025-11-30,"
    f"1000013,{TYPED_D[0]},{TYPED_D[1]},,,,,",
]
AS_OF = date(2026, 12, 1)
DPI = 150


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(roster, batch folder) of one merge with --document-number 7 and --proof 3."""
    tmp = tmp_path_factory.mktemp("print-house")
    roster = tmp / "roster.csv"
    roster.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("cp932"))
    out = tmp / "out"
    merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, workers=1,
                                       document_number=7, proof=3))
    return roster, out


def _manifest(out: Path) -> list[dict[str, str]]:
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _pieces(out: Path) -> list[dict[str, str]]:
    """One manifest row per piece, in the batch's order (its sequence number)."""
    seen: dict[str, dict[str, str]] = {}
    for row in _manifest(out):
        if row["piece_id"] and row["piece_id"] not in seen:
            seen[row["piece_id"]] = row
    return sorted(seen.values(), key=lambda r: r["piece_id"])


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _settings() -> dict[str, dict[str, object]]:
    with (ROOT / "kenpo_docs" / "data" / "insurer.toml").open("rb") as fh:
        return tomllib.load(fh)


# -- the 送付状 ----------------------------------------------------------------------------------

def test_the_workplace_cover_is_a_covering_letter_to_its_staff(batch: tuple[Path, Path]) -> None:
    _, out = batch
    reader = PdfReader(out / "print" / "workplace-001.pdf")
    first = reader.pages[0].extract_text()
    text = _fold(first)
    ins = _settings()["insurer"]
    # addressed to the workplace's staff, as a letter with its 文書番号 and date
    assert "本部事務局" in text and "ご担当者様" in text
    assert "送付状" in text and "拝啓" in text and "敬具" in text
    assert _fold("年けん発第7号") in text and _fold("令和8年12月1日") in text
    # the request: hand each envelope, unopened, to the member it is addressed to
    assert "開封せずに" in text and "ご本人へお渡しください" in text
    # the count: two households of W01 (the dependent travels with her insured person); the
    # value is drawn over the sheet's background, so it reads back after the sheet's text
    assert "件数" in text and "2通" in text
    # the kenpo's contact, as the insurer settings give it
    for value in (ins["name"], ins["department"], ins["phone"], ins["hours"], ins["address"],
                  ins["postal_code"]):
        assert _fold(str(value)) in text, value
    # the list of envelopes follows, with both pieces
    work = [p["piece_id"] for p in _pieces(out) if p["route"] == "workplace:W01"]
    assert len(work) == 2 and all(_fold(pid) in text for pid in work)


def test_a_batch_without_a_document_number_prints_none_on_the_cover(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(("\n".join([HEADER, *ROWS[:3]]) + "\n").encode("cp932"))
    out = tmp_path / "out"
    merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, workers=1))
    text = _fold(PdfReader(out / "print" / "workplace-001.pdf").pages[0].extract_text())
    assert "送付状" in text and "年けん発" not in text and "2通" in text


# -- addresses in Japan Post's notation ---------------------------------------------------------

@pytest.mark.parametrize(("typed", "printed"), [
    ("東京都千代田区霞が関１丁目２－３", "東京都千代田区霞が関1丁目2-3"),
    ("緑町２ー３", "緑町2-3"),
    ("本町１−２‐３", "本町1-2-3"),  # minus sign, hyphen
    ("栄町５―６", "栄町5-6"),  # horizontal bar
    ("中央１〇〇番地", "中央100番地"),
    ("〇１号室", "01号室"),
    ("三丁目十一番地二〇三号", "3丁目11番地203号"),
    ("ＡＢＣビル１０Ｆ", "ABCビル10F"),
    # place names keep their kanji; a dash not between numbers stays
    ("中央区八丁堀四丁目", "中央区八丁堀4丁目"),
    ("千代田区一番町", "千代田区一番町"),
    ("一ノ瀬ハイツ", "一ノ瀬ハイツ"),
    ("コーポ・サンライズ　二〇一", "コーポ・サンライズ　二〇一"),
    ("1丁目3番2号", "1丁目3番2号"),
])
def test_address_notation(typed: str, printed: str) -> None:
    assert address_notation(typed) == printed


def test_full_width_addresses_print_normalised_and_the_roster_keeps_them(
        batch: tuple[Path, Path]) -> None:
    roster, out = batch
    home = [p for p in _pieces(out) if p["route"] == "home"]
    texts = {p["member_key"]: PdfReader(out / p["piece_file"]).pages[0].extract_text()
             for p in home}
    for key, printed, typed in (("30-4003-00", PRINTED_C, TYPED_C),
                                ("30-4004-00", PRINTED_D, TYPED_D)):
        lines = [line.strip() for line in texts[key].splitlines()]
        for want, was in zip(printed, typed, strict=True):
            assert want in lines, (key, want, lines[:8])
            assert was not in texts[key]
    # The roster value is what the member typed (the manifest and tracking keep no address).
    members = {m.key: m for m in read_roster(roster, as_of=AS_OF).members}
    assert (members["30-4003-00"].address1, members["30-4003-00"].address2) == TYPED_C
    assert (members["30-4004-00"].address1, members["30-4004-00"].address2) == TYPED_D


def test_a_prefilled_form_prints_the_address_normalised(batch: tuple[Path, Path]) -> None:
    from kenpo_docs.documents.forms import form_context

    roster, _ = batch
    household = next(h for h in read_roster(roster, as_of=AS_OF).households
                     if h.key == "30-4003")
    context = form_context("bessou1", household, as_of=AS_OF)
    assert context["send"]["address"] == "　".join(PRINTED_C)


# -- proofs ------------------------------------------------------------------------------------

def _window_px() -> tuple[float, float, float, float, float]:
    """The window (left, top, right, bottom) and the sheet shift, in 150 dpi pixels, from the
    envelope profile file."""
    with (ROOT / "kenpo_docs" / "data" / "envelopes.toml").open("rb") as fh:
        env = tomllib.load(fh)["naga3"]
    px = DPI / 25.4
    left, top = env["window_left"] * px, env["window_top"] * px
    return (left, top, left + env["window_width"] * px, top + env["window_height"] * px,
            env["shift"] * px)


def _is_outline(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 180 and rgb[1] < 80 and rgb[2] < 80


def test_proofs_of_the_first_pieces_at_150_dpi(batch: tuple[Path, Path]) -> None:
    _, out = batch
    pieces = _pieces(out)
    assert len(pieces) == 4
    expected = [f"{p['piece_id']}-p{n}.png" for p in pieces[:3]
                for n in range(1, int(p["pages"]) + 1)]
    assert sorted(p.name for p in (out / "proof").iterdir()) == sorted(expected)
    for name in expected:
        path = out / "proof" / name
        assert path.stat().st_mode & 0o777 == 0o600
        with Image.open(path) as image:
            assert image.size == (1240, 1754)  # A4 at 150 dpi
            assert round(image.info["dpi"][0]) == DPI


def test_the_proof_outlines_the_window_round_the_address(batch: tuple[Path, Path]) -> None:
    _, out = batch
    home = next(p for p in _pieces(out)[:3] if p["route"] == "home")
    left, top, right, bottom, shift = _window_px()
    with Image.open(out / "proof" / f"{home['piece_id']}-p1.png") as opened:
        proof = opened.convert("RGB")
    # The outline: on each edge of the window, and nowhere else.
    mid_x, mid_y = int((left + right) / 2), int((top + bottom) / 2)
    for x, y in ((left, mid_y), (right, mid_y), (mid_x, top), (mid_x, bottom)):
        assert _is_outline(proof.getpixel((round(x), round(y)))), (x, y)
    for x, y in ((left + shift / 2, mid_y), (right - shift / 2, mid_y),  # inside, in the margin
                 (left - 2 * shift, mid_y), (mid_x, bottom + 2 * shift)):  # outside
        assert not _is_outline(proof.getpixel((round(x), round(y)))), (x, y)
    # The page itself, rendered on its own: the proof is that picture plus the outline...
    pdf = pdfium.PdfDocument(out / home["piece_file"])
    page = pdf[0].render(scale=DPI / 72).to_pil().convert("RGB").crop((0, 0, 1240, 1754))
    pdf.close()
    diff = ImageChops.difference(page, proof).convert("L").point(lambda v: 255 if v else 0)
    changed = diff.getbbox()
    assert changed is not None
    assert abs(changed[0] - left) <= 3 and abs(changed[2] - right) <= 3
    assert abs(changed[1] - top) <= 3 and abs(changed[3] - bottom) <= 3
    inner = diff.crop((round(left) + 3, round(top) + 3, round(right) - 3, round(bottom) - 3))
    assert inner.getbbox() is None  # nothing inside the outline is covered
    # ... and the address block's ink lies inside the outline: nothing of the page within 1 mm
    # of what can show through the window (the window grown by the sheet's shift) is outside.
    grey = page.convert("L")
    area = (round(left - shift - 6), round(top - shift - 6), round(right + shift + 6),
            round(bottom + shift + 6))
    ink = grey.crop(area).point(lambda v: 255 if v < 160 else 0).getbbox()
    assert ink is not None
    x0, y0, x1, y1 = ink[0] + area[0], ink[1] + area[1], ink[2] + area[0], ink[3] + area[1]
    assert left + 2 < x0 and x1 < right - 2 and top + 2 < y0 and y1 < bottom - 2
    assert (x1 - x0) > (right - left) / 2  # the address and the barcode, not a speck


def test_cli_merge_proof_and_its_refusal_with_encrypt(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(("\n".join([HEADER, *ROWS[3:]]) + "\n").encode("cp932"))
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(cli, ["merge", str(roster), "--letter", "kakuninsho", "--as-of",
                              "2026-12-01", "--out", str(out), "--workers", "1", "--proof", "1",
                              "--db", str(tmp_path / "t.sqlite")])
    assert res.exit_code == 0, res.output
    # every page of the first piece: its letter and, in duplex (the default), the blank back
    first = next(csv.DictReader(io.StringIO(
        (out / "manifest.csv").read_bytes().decode("utf-8-sig"))))
    assert f"{first['pages']} proof pages" in res.output
    assert len(list((out / "proof").glob("*.png"))) == int(first["pages"])
    assert len(list((out / "proof").glob("*-p1.png"))) == 1
    bad = runner.invoke(cli, ["merge", str(roster), "--letter", "kakuninsho", "--as-of",
                              "2026-12-01", "--out", str(tmp_path / "enc"), "--proof", "1",
                              "--encrypt", "--db", str(tmp_path / "t.sqlite")],
                        env={"KENPO_DOCS_PASSWORD": "correct horse battery staple"})
    assert bad.exit_code == 2 and "--encrypt" in bad.output
    assert not (tmp_path / "enc").exists()
