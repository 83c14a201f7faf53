"""The personalised letters oshirase, koureisha and guidance, through the real merge, and the
DOCX version of every letter.

Expected values are derived by hand from notice 539 (domain-rules.md R3-R5):
- R4 「資格情報のお知らせについて」: acquired up to 令和6年7月30日 -> 令和6年9月; 令和6年7月31日 to
  令和6年12月1日 -> 令和7年1月頃; from 令和6年12月2日 -> 随時.
- R3 「70歳誕生月（誕生日が月の初日の場合は前月）」: born 1956-12-15 -> 令和8年12月; born
  1957-03-01 -> 令和9年2月; born 1957-01-01 -> 令和8年12月 (previous month, previous year).
- R5 flowchart sentences and the three STEPs are quoted from the notice below; the FAQ Q1-Q5 are
  read from notice-539-source.txt itself.
Era dates: 1970 = 昭和45, 1972 = 昭和47, 1956 = 昭和31, 1957 = 昭和32, 2000 = 平成12, 2024 = 令和6.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from kenpo_docs.domain.era import format_wareki
from kenpo_docs.domain.insurer import default_insurer
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.mailing.letter_docx import render_letter_docx
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 12, 1)
INSURER = "日本年金機構健康保険組合"
HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)
WORK = "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局"
HOME = "2630023,千葉県千葉市稲毛区緑町3丁目30-8,郵便ビル403号,,"
NONE = ",,,,"


def _row(key: str, name: str, born: str, acquired: str, *, lost: str = "", membership: str = "",
         address: str = NONE, cert: str = "", myna: str = "", card: str = "",
         phone: str = "") -> str:
    symbol, number, branch = key.split("-")
    return (f"{symbol},{number},{branch},{name},カナ,{born},{acquired},{lost},{membership},"
            f"{cert},{address},{myna},{card},{phone}")


def _write(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("cp932"))
    return path


def _norm(text: str) -> str:
    """NFKC without whitespace: PDF line wraps and ２/2 do not matter, wording does."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _manifest(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    return {r["member_key"]: r for r in csv.DictReader(io.StringIO(text))}


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _merge(tmp: Path, letter: str, rows: list[str], **kw: object) -> tuple[Path, dict]:
    roster = _write(tmp / f"{letter}.csv", rows)
    out = tmp / "out"
    merge(roster, options=MergeOptions(letter=letter, out=out, as_of=AS_OF, workers=1, **kw))
    return roster, _manifest(out)


def _piece_text(out: Path, manifest: dict[str, dict[str, str]], key: str) -> str:
    return _pdf_text(out / manifest[key]["piece_file"])


# ----------------------------------------------------------------------------- oshirase (R4)

OSHIRASE = [
    _row("10-3001-00", "阿部 太郎", "1970-05-05", "2024-07-30", membership="一般", address=WORK),
    _row("10-3001-01", "阿部 花子", "1972-08-08", "2024-07-31"),
    _row("10-3001-02", "阿部 次郎", "2000-01-10", "2024-12-01"),
    _row("10-3001-03", "阿部 さくら", "2024-12-02", "2024-12-02"),
    _row("10-3002-00", "石田 光", "1960-02-29", "2025-04-01", membership="任意継続",
         address=HOME),
    _row("10-3003-00", "内田 修", "1965-06-06", "2010-04-01", lost="2026-10-31",
         membership="一般", address=WORK),
]
# The member table row each one must get: 記号・番号・枝番 氏名 区分 生年月日 資格取得日. The
# notice's issue-timing classes (令和6年9月, 令和7年1月頃, 随時) belong to the notice, not to
# the member's own document (issue 18, section 5).
OSHIRASE_ROWS = {
    "10-3001-00": "10-3001-00 阿部 太郎 被保険者 昭和45年5月5日 令和6年7月30日",
    "10-3001-01": "10-3001-01 阿部 花子 被扶養者 昭和47年8月8日 令和6年7月31日",
    "10-3001-02": "10-3001-02 阿部 次郎 被扶養者 平成12年1月10日 令和6年12月1日",
    "10-3001-03": "10-3001-03 阿部 さくら 被扶養者 令和6年12月2日 令和6年12月2日",
    "10-3002-00": "10-3002-00 石田 光 被保険者 昭和35年2月29日 令和7年4月1日",
}


def _notice_faq() -> list[str]:
    """Q1-A5 from the notice text: each item's sentences joined, its Q/A label dropped."""
    lines = (ROOT / "tests" / "data" / "notice-539-source.txt").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Q1 "))
    items: list[str] = []
    for line in lines[start:]:
        line = line.strip()
        if line.startswith("マイナポータルの資格情報画面のダウンロード方法"):
            break
        if re.match(r"^[QA][1-5１-５]\s", line):
            items.append(line[2:].strip())
        elif line and items:
            items[-1] += line
    return items


@pytest.fixture(scope="module")
def oshirase(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("oshirase")
    return _merge(tmp, "oshirase", OSHIRASE)


def test_oshirase_prints_each_members_row_and_the_insurer_number(
    oshirase: tuple[Path, dict],
) -> None:
    roster, manifest = oshirase
    out = roster.parent / "out"
    number = default_insurer().number
    for key, expected in OSHIRASE_ROWS.items():
        assert manifest[key]["status"] == "ok", key
        text = _piece_text(out, manifest, key)
        lines = text.splitlines()
        assert expected in lines, (key, [line for line in lines if key in line])
        assert f"保険者名　{INSURER}" in text
        # The 保険者番号 clinics need, as the real document prints it; the sample is marked.
        assert f"保険者番号　{number}（見本）" in text
    # The whole household travels in one envelope. The letter says what it is and gives its
    # own issue date; the notice's historical issue-timing table is not the member's fact.
    assert len({manifest[k]["piece_id"] for k in OSHIRASE_ROWS if k.startswith("10-3001")}) == 1
    for key in ("10-3001-00", "10-3002-00"):
        text = _norm(_piece_text(out, manifest, key))
        assert _norm("をお知らせする「資格情報のお知らせ」です") in text
        assert _norm(f"発行日　{format_wareki(AS_OF)}") in text
        for timing in ("令和6年9月", "令和7年1月頃", "随時", "発行時期"):
            assert timing not in text, (key, timing)
    assert "阿部" not in _piece_text(out, manifest, "10-3002-00")


def test_oshirase_quotes_the_notice_on_when_it_is_needed(oshirase: tuple[Path, dict]) -> None:
    roster, manifest = oshirase
    text = _norm(_piece_text(roster.parent / "out", manifest, "10-3002-00"))
    faq = _notice_faq()
    assert len(faq) == 10 and faq[0].startswith("マイナポータルの資格情報画面または")
    # A letter is a new document: the notice's slips are corrected (issue 18, section 5).
    slips = {
        "保健診療": "保険診療",
        "資格情報のお知らせ交付申請書で": "別添２「資格情報のお知らせ再交付申請書」で",
    }
    for sentence in faq:
        for slip, right in slips.items():
            sentence = sentence.replace(slip, right)
        assert _norm(sentence) in text, sentence
    for slip in (*slips, "棄損"):
        assert slip not in text, slip
    assert "紛失・き損した場合" in text
    for quote in (
        "「資格情報のお知らせ」は「マイナンバーカード」と一緒に医療機関受付で提示することにより"
        "受診することが可能となります",
        "別添２「資格情報のお知らせ再交付申請書」を健保組合へ提出してください。",
        "「資格取得日」の変更がある場合のみ、再交付します。",
    ):
        assert _norm(quote) in text, quote


def test_oshirase_skips_a_member_whose_coverage_ended(oshirase: tuple[Path, dict]) -> None:
    _, manifest = oshirase
    row = manifest["10-3003-00"]
    assert row["status"] == "skipped" and row["piece_id"] == ""
    assert "2026-10-31" in row["reason"]


# ----------------------------------------------------------------------------- koureisha (R3)

KOUREISHA = [
    _row("10-4001-00", "加藤 正男", "1956-12-15", "1990-04-01", membership="一般", address=WORK),
    _row("10-4001-01", "加藤 和子", "1957-03-01", "1990-04-01"),
    _row("10-4001-02", "加藤 勝", "1957-03-02", "1990-04-01"),  # 2027-03: after the window
    _row("10-4002-00", "木村 実", "1956-11-30", "1995-04-01", membership="任意継続",
         address=HOME),  # 2026-11: before the window
    _row("10-4003-00", "久保 明", "1980-07-07", "2005-04-01", membership="一般", address=WORK),
    _row("10-4003-01", "久保 トメ", "1957-01-01", "2005-04-01"),  # the 1st: 2026-12
]
R3_QUOTE = "70歳誕生月（誕生日が月の初日の場合は前月）に従来どおり、高齢受給者証を交付します"
KOUREISHA_ROWS = {
    "10-4001-00": "10-4001-00 加藤 正男 被保険者 昭和31年12月15日 令和8年12月",
    "10-4001-01": "10-4001-01 加藤 和子 被扶養者 昭和32年3月1日 令和9年2月",
    "10-4003-01": "10-4003-01 久保 トメ 被扶養者 昭和32年1月1日 令和8年12月",
}


def test_koureisha_issue_month_and_window(tmp_path: Path) -> None:
    roster, manifest = _merge(tmp_path, "koureisha", KOUREISHA, window_months=3)
    out = roster.parent / "out"
    for key, expected in KOUREISHA_ROWS.items():
        assert manifest[key]["status"] == "ok", key
        text = _piece_text(out, manifest, key)
        assert expected in text.splitlines(), key
        assert _norm(R3_QUOTE) in _norm(text)
    for key, month in (("10-4001-02", "2027-03"), ("10-4002-00", "2026-11"),
                       ("10-4003-00", "2050-07")):
        assert manifest[key]["status"] == "skipped", key
        assert month in manifest[key]["reason"], key
    first = _piece_text(out, manifest, "10-4001-00")
    assert "加藤 勝" not in first
    # A dependent's letter goes to the insured person, who is not listed himself.
    third = _piece_text(out, manifest, "10-4003-01")
    assert "久保 明 様" in third and "10-4003-00" not in third


# ----------------------------------------------------------------------------- guidance (R5)

# The flowchart's answer sentences and the STEPs, as the notice words them.
SMARTPHONE = "マイナポータルの資格情報画面をスマホにダウンロードしてください。"
WITH_CARD = "「資格情報のお知らせ」をマイナンバーカードと一緒に携帯してください。"
GET_CARD = "マイナンバーカードの取得にご協力をお願いします。"
FORM_1 = "別添1「資格確認書（再）交付申請書」を提出してください。"
STEPS = (
    "以下の３つのステップが必要です。",
    "マイナンバーカードを申請・作成する",
    "マイナンバーカードを健康保険証として登録する",
    "セブン銀行ATMから行う",
    "顔認証つきカードリーダーにマイナンバーカードを置く",
)
GUIDANCE = [
    # a 4-member household, one member on each path
    _row("10-5001-00", "佐藤 一郎", "1975-01-15", "2015-04-01", membership="一般", address=WORK,
         myna="有", card="有", phone="有"),
    _row("10-5001-01", "佐藤 陽子", "1977-04-20", "2015-04-01", myna="無", card="有", phone="無"),
    _row("10-5001-02", "佐藤 健太", "2005-09-09", "2015-04-01", card="無"),
    _row("10-5001-03", "佐藤 美咲", "2010-11-11", "2015-04-01"),
    # one path per household, all registered except the one without a card
    _row("10-5002-00", "清水 博", "1968-03-03", "2000-04-01", membership="一般", address=WORK,
         myna="有", card="有", phone="有"),
    _row("10-5003-00", "鈴木 恵", "1969-04-04", "2000-04-01", membership="一般", address=WORK,
         myna="有", card="有", phone="無"),
    _row("10-5004-00", "関 進", "1970-05-05", "2000-04-01", membership="任意継続", address=HOME,
         card="無"),
    _row("10-5005-00", "相馬 勇", "1971-06-06", "2000-04-01", membership="一般", address=WORK,
         myna="有", card="有"),
    _row("10-5006-00", "高田 涼", "1972-07-07", "2000-04-01", lost="2026-11-30",
         membership="一般", address=WORK, card="有", phone="有"),
]
# key -> (expected sentences, sentences that must be absent)
GUIDANCE_EXPECT = {
    "10-5002-00": ([SMARTPHONE], [WITH_CARD, GET_CARD, *STEPS]),
    "10-5003-00": ([WITH_CARD], [SMARTPHONE, GET_CARD, *STEPS]),
    "10-5004-00": ([GET_CARD, FORM_1, *STEPS], [SMARTPHONE, WITH_CARD]),
    "10-5005-00": ([SMARTPHONE, WITH_CARD, GET_CARD, FORM_1], list(STEPS)),  # whole chart
    "10-5001-00": ([SMARTPHONE, WITH_CARD, GET_CARD, FORM_1, *STEPS], []),
}


def test_guidance_prints_each_members_path(tmp_path: Path) -> None:
    roster, manifest = _merge(tmp_path, "guidance", GUIDANCE)
    out = roster.parent / "out"
    for key, (present, absent) in GUIDANCE_EXPECT.items():
        assert manifest[key]["status"] == "ok", key
        text = _norm(_piece_text(out, manifest, key))
        for sentence in present:
            assert _norm(sentence) in text, (key, sentence)
        for sentence in absent:
            assert _norm(sentence) not in text, (key, sentence)
    household = _piece_text(out, manifest, "10-5001-00")
    lines = household.splitlines()
    # The answers table: 氏名 区分 カード スマホ 利用登録 (有/無/未回答).
    for expected in ("佐藤 一郎 被保険者 有 有 有", "佐藤 陽子 被扶養者 有 無 無",
                     "佐藤 健太 被扶養者 無 未回答 未回答",
                     "佐藤 美咲 被扶養者 未回答 未回答 未回答"):
        assert expected in lines, expected
    # Each path names its members; the three STEPs go to everyone not known to be registered.
    flat = _norm(household)
    # The headings are polite (issue 18, section 5: 「お持ちの方」, not 「持っている方」).
    assert _norm("マイナンバーカードとスマホをお持ちの方対象：佐藤 一郎 様") in flat
    assert _norm("スマホはお持ちでない方対象：佐藤 陽子 様") in flat
    assert _norm("マイナンバーカードをお持ちでない方対象：佐藤 健太 様") in flat
    assert "持っている方" not in flat and "持っていない方" not in flat
    assert _norm("ご回答が確認できていない方（受診方法の全体をご案内します）"
                 "対象：佐藤 美咲 様") in flat
    assert _norm("利用登録手続きをしていない方へ"
                 "対象：佐藤 陽子 様、佐藤 健太 様、佐藤 美咲 様") in flat
    skipped = manifest["10-5006-00"]
    assert skipped["status"] == "skipped" and "2026-11-30" in skipped["reason"]


# ----------------------------------------------------------------------------- DOCX

LETTER_NAMES = ("kakuninsho", "oshirase", "koureisha", "guidance")


# The DOCX is the twin of the HTML letter (kenpo_docs.render.twin): the same template and
# context, so the same variables by construction; tests/test_word.py compares how it looks.


DOCX_CASES = {
    # letter: (rows, member key, strings the document must hold)
    "kakuninsho": (
        [_row("10-6001-00", "中村 涼子", "1980-02-02", "2024-12-02", membership="一般",
              address=WORK, cert="2024-12-02")],
        "10-6001-00", ["中村 涼子 様", "令和6年12月2日", "令和9年11月30日"],
    ),
    "oshirase": (OSHIRASE, "10-3001-02",
                 ["阿部 太郎 様", "阿部 次郎", "平成12年1月10日", "令和6年12月1日", INSURER,
                  "保険者番号"]),
    "koureisha": (KOUREISHA, "10-4001-01",
                  ["加藤 正男 様", "加藤 和子", "昭和32年3月1日", "令和9年2月", "令和8年12月"]),
    "guidance": (GUIDANCE, "10-5004-00", ["関 進 様", "〒263-0023", GET_CARD, FORM_1]),
}


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]  # the address block's frame included
    parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("name", LETTER_NAMES)
def test_docx_letter_holds_the_members_name_and_era_dates(name: str, tmp_path: Path) -> None:
    rows, key, expected = DOCX_CASES[name]
    roster = _write(tmp_path / "r.csv", rows)
    text = _docx_text(render_letter_docx(roster, letter=name, member_key=key, as_of=AS_OF))
    for value in expected:
        assert value in text, (name, value)
    assert "{{" not in text and "{%" not in text
    assert "令和8年12月1日" in text  # the letter's date (as-of)


def test_docx_refuses_a_member_the_letter_skips(tmp_path: Path) -> None:
    roster = _write(tmp_path / "r.csv", KOUREISHA)
    with pytest.raises(KenpoDocsError, match="skipped") as info:
        render_letter_docx(roster, letter="koureisha", member_key="10-4001-02", as_of=AS_OF)
    assert info.value.member_key == "10-4001-02"
    with pytest.raises(KenpoDocsError, match="not found"):
        render_letter_docx(roster, letter="koureisha", member_key="10-9999-00", as_of=AS_OF)


def test_cli_letter_docx_names_the_file_by_the_piece_id(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`letter docx` writes output/letters/<piece id>.docx (our id, never a roster cell),
    0600, and says the 管理番号 and 文書番号; another batch's folder is refused in one line."""
    import json
    import os
    import stat

    from click.testing import CliRunner

    from kenpo_docs.cli import cli

    roster = Path(__file__).resolve().parent.parent / "samples" / "roster.csv"
    monkeypatch.chdir(tmp_path)
    args = ["letter", "docx", "--letter", "kakuninsho", "--roster", str(roster),
            "--member", "0034-000201-00", "--as-of", "2026-12-01", "--document-number", "12"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    written = list((tmp_path / "output" / "letters").iterdir())
    assert len(written) == 1 and re.fullmatch(r"KKS20261201-[0-9A-F]{6}-\d{5}\.docx",
                                              written[0].name)
    assert stat.S_IMODE(os.stat(written[0]).st_mode) == 0o600
    assert f"管理番号 {written[0].stem}" in result.output and "年けん発第12号" in result.output
    text = _docx_text(written[0].read_bytes())
    assert f"管理番号 {written[0].stem}" in text and "文書番号 年けん発第12号" in text

    other = tmp_path / "other-batch"
    other.mkdir()
    (other / "batch.json").write_text(json.dumps({"batch_id": "X", "fingerprint": "0"}))
    result = CliRunner().invoke(cli, [*args, "--batch-dir", str(other)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "options differ" in result.output
