"""Issue 19 §1: the 資格確認書 and 資格情報のお知らせ cards, printed by the merge.

A roster written by hand from notice 539's own cases (several households: 一般 with
dependents, 任意継続 at home, a member 70 or over with 負担割合 and 発効期日) is merged; every
card is read back field by field with pypdf and with pypdfium2 and compared with its roster
row. Expected values are written here from the sources, not from our output:

* 有効期限 from the notice's table 「資格確認書の有効期限について」: 交付期間（１回目）
  令和6年12月2日～令和7年11月30日 -> 令和9年11月30日; （２回目）令和7年12月1日～令和8年11月30日
  -> 令和10年11月30日 (domain-rules.md R2);
* 和暦 of the dates by hand (昭和 from 1926-12-25, 平成 from 1989-01-08, 令和 from 2019-05-01);
* the card size 85.6 x 54 mm of ISO/IEC 7810 ID-1 in points (x 72 / 25.4).
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner
from pypdf import PdfReader

from kenpo_docs.barcodes.verify import verify_pdf
from kenpo_docs.cli import cli
from kenpo_docs.input.roster import read_roster
from kenpo_docs.mailing.options import MergeOptions, MergeResult
from kenpo_docs.mailing.run import merge

AS_OF = date(2026, 12, 1)
PT = 72 / 25.4
HEADER = ("記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
          "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン,"
          "性別,負担割合,発効期日")
WORK = "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局"
HOME = "2630023,千葉県千葉市稲毛区緑町3丁目30-8,郵便ビル403号,,"
ROWS = [
    # household 1 (一般, workplace): insured + two dependents in the 1st and 2nd issue periods
    f"20,3001,00,青木 一郎,アオキ イチロウ,1975-06-01,2015-04-01,,一般,2024-12-02,{WORK},"
    "無,無,無,男,,",
    "20,3001,01,青木 花子,アオキ ハナコ,1978-01-20,2015-04-01,,,2025-11-30,,,,,,無,無,無,女,,",
    "20,3001,02,青木 三郎,アオキ サブロウ,2010-03-03,2015-04-01,,,令和7年12月1日,,,,,,"
    "無,無,無,1,,",
    # household 2 (任意継続, home): insured 70 or over (born 1955-03-03: 70 on 2025-03-03) with
    # 一部負担金の割合 and 発効期日; a dependent issued at the end of the 2nd period
    f"20,3002,00,井上 和子,イノウエ カズコ,1955-03-03,2000-04-01,,任意継続,R7.4.1,{HOME},"
    "無,無,無,女性,2割,2025-04-01",
    "20,3002,01,井上 誠,イノウエ マコト,1953-02-02,2000-04-01,,,2026-11-30,,,,,,"
    "無,無,無,男性,3割,R5.3.1",
    # household 3 (一般): insured without a 交付日 (no card), dependent with one (性別 code 2)
    f"20,3003,00,上田 健,ウエダ ケン,1990-10-10,2018-04-01,,一般,,{WORK},有,有,有,男,,",
    "20,3003,01,上田 ゆり,ウエダ ユリ,1992-12-12,2018-04-01,,,2025-06-16,,,,,,無,無,無,2,,",
    # household 4: a name with 𠮷 (U+20BB7), which only IPAmj Mincho prints: its card page is
    # laid out in full instead of drawn over the shared background
    f"20,3005,00,𠮷田 太郎,ヨシダ タロウ,1988-08-08,2019-05-01,,一般,2025-06-16,{WORK},"
    "無,無,無,男,,",
]
# member key -> (氏名, 区分, 生年月日, 性別, 交付年月日, 有効期限, 被保険者氏名, 割合, 発効期日)
CARDS = {
    "20-3001-00": ("青木 一郎", "被保険者", "昭和50年6月1日", "男", "令和6年12月2日",
                   "令和9年11月30日", None, None, None),
    "20-3001-01": ("青木 花子", "被扶養者", "昭和53年1月20日", "女", "令和7年11月30日",
                   "令和9年11月30日", "青木 一郎", None, None),
    "20-3001-02": ("青木 三郎", "被扶養者", "平成22年3月3日", "男", "令和7年12月1日",
                   "令和10年11月30日", "青木 一郎", None, None),
    "20-3002-00": ("井上 和子", "被保険者", "昭和30年3月3日", "女", "令和7年4月1日",
                   "令和9年11月30日", None, "2割", "令和7年4月1日"),
    "20-3002-01": ("井上 誠", "被扶養者", "昭和28年2月2日", "男", "令和8年11月30日",
                   "令和10年11月30日", "井上 和子", "3割", "令和5年3月1日"),
    "20-3003-01": ("上田 ゆり", "被扶養者", "平成4年12月12日", "女", "令和7年6月16日",
                   "令和9年11月30日", "上田 健", None, None),
    "20-3005-00": ("𠮷田 太郎", "被保険者", "昭和63年8月8日", "男", "令和7年6月16日",
                   "令和9年11月30日", None, None, None),
}
# The お知らせ is for every covered member: (key, 氏名, 生年月日)
OSHIRASE = [(k, v[0], v[2]) for k, v in CARDS.items()] + [
    ("20-3003-00", "上田 健", "平成2年10月10日")]
# 資格取得年月日 (the お知らせ card) by member key
ACQUIRED = {"20-3001-00": "平成27年4月1日", "20-3001-01": "平成27年4月1日",
            "20-3001-02": "平成27年4月1日", "20-3002-00": "平成12年4月1日",
            "20-3002-01": "平成12年4月1日", "20-3003-00": "平成30年4月1日",
            "20-3003-01": "平成30年4月1日", "20-3005-00": "令和元年5月1日"}

# Where each field is on a card (mm from the card's top-left: left, top, width, height), as
# templates/cards/cards.html places them; a field's box holds its label and its value.
FIELDS = {
    "role": (63.5, 2.0, 19.0, 5.0),
    "expiry": (2.5, 8.2, 80.0, 4.6),
    "symbol": (2.5, 13.2, 25.0, 5.0),
    "number": (27.5, 13.2, 31.0, 5.0),
    "branch": (58.5, 13.2, 24.0, 5.0),
    "name": (2.5, 18.7, 62.5, 6.0),
    "sex": (65.5, 19.7, 17.0, 4.6),
    "birth": (2.5, 25.2, 40.0, 4.2),
    "acquired": (42.5, 25.2, 41.0, 4.2),
    "insured_name": (2.5, 29.7, 80.0, 4.2),
    "copay": (2.5, 34.2, 27.0, 4.2),
    "effective": (29.5, 34.2, 38.0, 4.2),
    "issued": (2.5, 38.7, 64.5, 4.2),
    "insurer_number": (2.5, 43.3, 64.5, 2.9),
}
CARD_W, CARD_H = 85.6, 54.0
GRID_X, GRID_Y = 10.0, 12.0  # the A4 sheet's first card


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


#: Each field's label as the card prints it (the role box has none).
LABELS = {"role": "", "expiry": "有効期限", "symbol": "記号", "number": "番号",
          "branch": "(枝番)", "name": "氏名", "sex": "性別", "birth": "生年月日",
          "acquired": "資格取得年月日", "insured_name": "被保険者氏名", "copay": "一部負担金の割合",
          "effective": "発効期日", "issued": "交付年月日", "insurer_number": "保険者番号"}


def _expected_values(key: str, kind: str) -> dict[str, str | None]:
    """Each field's value on the card of ``key`` (None: the field is not on this card)."""
    name, role, birth, sex, issued, expiry, insured, ratio, effective = CARDS.get(
        key, (None,) * 9)
    symbol, number, branch = key.split("-")
    values: dict[str, str | None] = {
        "role": role, "symbol": symbol, "number": number, "branch": branch, "name": name,
        "birth": birth, "insured_name": insured, "copay": ratio, "effective": effective,
        "insurer_number": "06139992(見本)",
    }
    if kind == "kakuninsho":
        values.update(expiry=expiry, sex=sex, issued=issued, acquired=None)
    else:
        name, role, birth = next((n, "被保険者" if key.endswith("-00") else "被扶養者", b)
                                 for k, n, b in OSHIRASE if k == key)
        values.update(name=name, role=role, birth=birth, expiry=None, sex=None,
                      issued="令和8年12月1日", acquired=ACQUIRED[key],
                      insured_name=None if key.endswith("-00") else values["insured_name"])
    return {k: (_fold(v) if v else None) for k, v in values.items()}


def _expected_fields(key: str, kind: str) -> dict[str, str]:
    """Each field's box text: label and value ("" where the card has no such field); where
    the 資格確認書 has its 有効期限, the お知らせ says it goes with the My Number card."""
    fields = {f: (_fold(LABELS[f]) + v if v else "")
              for f, v in _expected_values(key, kind).items()}
    if kind == "oshirase":
        fields["expiry"] = "マイナンバーカードと一緒に医療機関等の窓口で提示してください"
    return fields


def _pdfium_fields(page: pdfium.PdfPage, origin: tuple[float, float]) -> dict[str, str]:
    """Each field's text as pdfium reads it inside the field's box."""
    _, height = page.get_size()
    text = page.get_textpage()
    out = {}
    for field, (x, y, w, h) in FIELDS.items():
        left = (origin[0] + x) * PT
        top = height - (origin[1] + y) * PT
        out[field] = _fold(text.get_text_bounded(left, top - h * PT, left + w * PT, top))
    return out


def _pypdf_card_text(page: object, origin: tuple[float, float], height: float) -> str:
    """The card's text as pypdf reads it: the text runs that start inside the card, top to
    bottom (pypdf joins the runs of one line into one, so fields are checked by value)."""
    runs: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        runs.append((x / PT, (height - y) / PT, text))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    left, top = origin
    inside = sorted((round(ry, 1), rx, t) for rx, ry, t in runs
                    if left <= rx < left + CARD_W and top <= ry < top + CARD_H)
    return "|".join(_fold(t) for _, _, t in inside)


def _check_card(found: dict[str, str], key: str, kind: str, reader: str) -> None:
    for field, want in _expected_fields(key, kind).items():
        assert found[field] == want, (reader, key, field, found[field])


def _check_pypdf_card(text: str, key: str, kind: str) -> None:
    """Every label and value of the card in its text; no label of a field it lacks."""
    runs = text.split("|")
    joined = "".join(runs)
    for field, value in _expected_values(key, kind).items():
        label = _fold(LABELS[field])
        if value:
            assert value in joined, ("pypdf", key, field, value, text)
            assert label in joined, ("pypdf", key, field, label, text)
        elif label and field != "role":
            assert label not in joined, ("pypdf", key, field, text)


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cards") / "roster.csv"
    path.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("utf-8"))
    return path


def _merge(roster: Path, out: Path, letter: str = "kakuninsho", **kw: object) -> MergeResult:
    return merge(roster, options=MergeOptions(letter=letter, out=out, as_of=AS_OF, workers=1,
                                       batch_id=f"CARD-{letter[:3]}", **kw))  # type: ignore[arg-type]


def _manifest(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(
        (out / "manifest.csv").read_bytes().decode("utf-8-sig"))))


def _pieces(out: Path) -> dict[str, list[str]]:
    """piece id -> the member keys it holds, in member order."""
    pieces: dict[str, list[str]] = {}
    for row in _manifest(out):
        if row["status"] == "ok":
            pieces.setdefault(row["piece_id"], []).append(row["member_key"])
    return {p: sorted(keys) for p, keys in pieces.items()}


@pytest.fixture(scope="module")
def sheets(roster: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sheets") / "out"
    result = _merge(roster, out)
    # the 𠮷 household's letter and card sheet are laid out in full (BIZ UD lacks 𠮷), every
    # other letter and card sheet is drawn over its background
    assert sum(result.full_layout.values()) == 2, result.full_layout
    return out


@pytest.mark.parametrize("letter", ["kakuninsho", "oshirase"])
def test_each_card_reads_back_as_its_roster_row(
    letter: str, roster: Path, sheets: Path, tmp_path: Path
) -> None:
    out = sheets if letter == "kakuninsho" else tmp_path / "out"
    if letter != "kakuninsho":
        _merge(roster, out, letter)
    pieces = _pieces(out)
    # kakuninsho: a card for each member with a 交付日 (上田 健 has none: no letter part)
    expected = set(CARDS) if letter == "kakuninsho" else set(ACQUIRED)
    assert {k for keys in pieces.values() for k in keys} == expected
    for piece_id, keys in pieces.items():
        path = out / "pieces" / f"{piece_id}.pdf"
        doc = pdfium.PdfDocument(path)
        reader = PdfReader(path)
        # the cards follow the cover letter (its pages come first): the card sheet is the
        # one page with a （枝番） label for every member
        card_pages = [i for i in range(len(doc))
                      if doc[i].get_textpage().get_text_range().count("（枝番）") == len(keys)]
        assert len(card_pages) == 1, (piece_id, card_pages)
        index = card_pages[0]
        assert index >= 1  # after the letter
        width, height = doc[index].get_size()
        assert (round(width / PT), round(height / PT)) == (210, 297)
        for n, key in enumerate(keys):
            origin = (GRID_X + (n % 2) * CARD_W, GRID_Y + (n // 2) * CARD_H)
            _check_card(_pdfium_fields(doc[index], origin), key, letter, "pdfium")
            _check_pypdf_card(_pypdf_card_text(reader.pages[index], origin, height), key,
                              letter)


def test_card_sheet_pages_carry_their_piece_code(sheets: Path) -> None:
    for piece_id in _pieces(sheets):
        path = sheets / "pieces" / f"{piece_id}.pdf"
        doc = pdfium.PdfDocument(path)
        for i in range(len(doc)):
            image = doc[i].render(scale=200 / 72, grayscale=True).to_pil()
            texts = {b.text for b in zxingcpp.read_barcodes(image)
                     if b.format == zxingcpp.BarcodeFormat.QRCode}
            assert texts == {f"{piece_id}|{i + 1}/{len(doc)}"}
    for pdf in (sheets / "print").glob("*.pdf"):
        assert verify_pdf(pdf).ok, pdf


def test_card_stock_prints_one_card_a_page_of_the_card_size(roster: Path, tmp_path: Path
                                                            ) -> None:
    out = tmp_path / "stock"
    _merge(roster, out, card_stock=True)
    pieces = _pieces(out)
    card_pages = 0
    for piece_id, keys in pieces.items():
        path = out / "pieces" / f"{piece_id}.pdf"
        reader = PdfReader(path)
        doc = pdfium.PdfDocument(path)
        small = [i for i, page in enumerate(reader.pages)
                 if float(page.mediabox.width) < 300]
        # duplex (the default): each card on a front side, its back a blank card-size page
        cards = small[::2]
        assert len(cards) == len(keys)
        assert small == list(range(small[0], small[0] + 2 * len(keys)))  # after the letter
        assert all(i % 2 == 0 for i in cards)  # 0-based: a front side
        assert not any(reader.pages[i + 1].extract_text().strip() for i in cards)
        for i, key in zip(cards, keys, strict=True):
            box = [float(v) for v in reader.pages[i].mediabox]
            assert box == pytest.approx([0, 0, 85.6 * PT, 54 * PT], abs=0.01)
            _check_card(_pdfium_fields(doc[i], (0.0, 0.0)), key, "kakuninsho", "pdfium")
            _check_pypdf_card(_pypdf_card_text(reader.pages[i], (0.0, 0.0), 54 * PT), key,
                              "kakuninsho")
            image = doc[i].render(scale=200 / 72, grayscale=True).to_pil()
            codes = [b.text for b in zxingcpp.read_barcodes(image)]
            assert codes == [f"{piece_id}|{i + 1}/{len(doc)}"], (key, codes)
            # the code sits in the corner the card leaves free (right of and below the text)
            found = zxingcpp.read_barcodes(image)[0].position
            assert found.top_left.x / (200 / 25.4) > 68 and found.top_left.y / (200 / 25.4) > 36
            card_pages += 1
    assert card_pages == len(CARDS)
    for pdf in (out / "print").glob("*.pdf"):
        assert verify_pdf(pdf).ok, pdf


MISSING_SEX = ("20,3004,00,遠藤 実,エンドウ ミノル,1980-01-01,2015-04-01,,一般,2024-12-02,"
               f"{WORK},無,無,無,,,")


def test_a_card_member_without_sex_is_rejected_with_the_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(("\n".join([HEADER, *ROWS, MISSING_SEX]) + "\n").encode("utf-8"))
    report = tmp_path / "report.csv"
    result = CliRunner().invoke(cli, ["check", str(path), "--as-of", AS_OF.isoformat(),
                                      "--report", str(report)])
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(report.read_bytes().decode("utf-8-sig"))))
    assert [(r["row"], r["member_key"], r["column"]) for r in rows] == \
        [("10", "20-3004-00", "性別")]
    assert "(required with a 資格確認書交付日" in rows[0]["reason"]
    out = tmp_path / "out"
    _merge(path, out)
    rejected = [r for r in _manifest(out) if r["status"] == "rejected"]
    assert [(r["member_key"], r["reason"].split(":")[0]) for r in rejected] == \
        [("20-3004-00", "性別")]
    # a member whose card does not print (no 交付日) needs no 性別
    no_card = MISSING_SEX.replace("2024-12-02", "").replace("3004", "3005")
    path.write_bytes(("\n".join([HEADER, no_card]) + "\n").encode("utf-8"))
    assert not read_roster(path, as_of=AS_OF).errors


def test_roster_values_of_the_new_columns_are_checked(tmp_path: Path) -> None:
    bad = [
        ("男女", "", ""),  # not a 性別
        ("男", "1割", "2025-04-01"),  # not a ratio of 70-74
        ("男", "2割", ""),  # ratio without its 発効期日
        ("男", "", "2025-04-01"),  # 発効期日 without a ratio
        ("男", "2割", "2019-04-01"),  # born 1955-03-03: 64 on that day
    ]
    lines = [HEADER] + [
        f"20,{4000 + i},00,試験 {i},シケン,1955-03-03,2000-04-01,,任意継続,2024-12-02,{HOME},"
        f"無,無,無,{sex},{ratio},{eff}" for i, (sex, ratio, eff) in enumerate(bad)]
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = read_roster(path, as_of=AS_OF).errors
    assert [e.column for e in errors] == ["性別", "負担割合", "発効期日", "負担割合", "負担割合"]


def test_a_roster_without_the_sex_column_warns_once_and_prints_no_cards(
    roster: Path, sheets: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / "old.csv"
    header = HEADER.rsplit(",", 3)[0]
    rows = [r.rsplit(",", 3)[0] for r in ROWS]
    old.write_bytes(("\n".join([header, *rows]) + "\n").encode("utf-8"))
    result = CliRunner().invoke(cli, ["check", str(old), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0  # no row rejected for the missing column
    notes = [line for line in result.output.splitlines() if "性別の列がない" in line]
    assert len(notes) == 1
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="kenpo_docs"):
        _merge(old, out)
    assert len([r for r in caplog.records if "性別の列がない" in r.getMessage()]) == 1
    with_cards = {r["piece_id"]: int(r["pages"]) for r in _manifest(sheets) if r["piece_id"]}
    without = {r["piece_id"]: int(r["pages"]) for r in _manifest(out) if r["piece_id"]}
    assert sorted(without) == sorted(with_cards)  # same pieces, same ids
    # one card sheet fewer: in duplex (the default) a card sheet is a sheet of its own
    assert all(-(-without[p] // 2) == -(-with_cards[p] // 2) - 1 for p in without)
    for piece in (out / "pieces").glob("*.pdf"):
        assert "健康保険　資格確認書" not in "".join(
            p.extract_text() for p in PdfReader(piece).pages)


def test_no_cards_and_card_stock_options(roster: Path, tmp_path: Path) -> None:
    out = tmp_path / "none"
    _merge(roster, out, cards=False)
    for piece in (out / "pieces").glob("*.pdf"):
        assert "健康保険　資格確認書" not in "".join(
            p.extract_text() for p in PdfReader(piece).pages)
    result = CliRunner().invoke(cli, ["merge", str(roster), "--letter", "koureisha",
                                      "--card-stock", "--as-of", AS_OF.isoformat(),
                                      "--out", str(tmp_path / "k"), "--db",
                                      str(tmp_path / "t.sqlite")])
    assert result.exit_code != 0
    assert "--card-stock" in result.output + str(result.exception)


def test_in_duplex_a_card_sheet_starts_on_a_front_side_and_its_back_is_blank(
        roster: Path, sheets: Path, tmp_path: Path) -> None:
    # A card is cut out of its sheet: in duplex (the default) the sheet is a front side and
    # nothing is printed on its back, whatever the letter's page count; in simplex no blank.
    simplex = tmp_path / "simplex"
    _merge(roster, simplex, sides="simplex")
    for out, duplex in ((sheets, True), (simplex, False)):
        for piece in sorted((out / "pieces").glob("*.pdf")):
            pages = [p.extract_text() for p in PdfReader(piece).pages]
            at = [i for i, text in enumerate(pages) if "資格確認書" in text and "有効期限" in text]
            assert at, piece
            for i in at:
                if duplex:
                    assert i % 2 == 0, (piece.name, i)  # 0-based: a front side
                    assert not pages[i + 1].strip(), (piece.name, i)  # its back: blank
                else:
                    assert all(text.strip() for text in pages), piece.name
