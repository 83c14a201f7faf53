"""Issue 18, sections 2 and 5: the letters read back (pypdf text) with the insurer's settings
and without the wording problems. Rosters are written from notice 539, the expected sentences
from the notice or the issue, never from our output."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from kenpo_docs.domain.insurer import default_insurer
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

AS_OF = date(2026, 12, 1)
HEADER = ("記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
          "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン")
WORK = "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局"
HOME = "2630023,千葉県千葉市稲毛区緑町3丁目30-8,郵便ビル403号,,"
NONE = ",,,,"
# 「有効期限内に退職・扶養削除等が生じた場合は、事業主経由での返却が必要となります。」
WORKPLACE_RETURN = ("有効期限内に退職・扶養削除等が生じた場合は、"
                    "事業主経由での返却が必要となります。")
DEPENDENTS = "被扶養者の方の資格確認書も、被保険者の就労先へ送付しています。"


def _row(key: str, name: str, born: str, acquired: str, *, membership: str = "",
         address: str = NONE, cert: str = "", myna: str = "", card: str = "",
         phone: str = "") -> str:
    symbol, number, branch = key.split("-")
    return (f"{symbol},{number},{branch},{name},カナ,{born},{acquired},,{membership},"
            f"{cert},{address},{myna},{card},{phone}")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _merge(tmp: Path, letter: str, rows: list[str], *, whole: bool = False,
           **kw: object) -> dict[str, str]:
    roster = tmp / f"{letter}.csv"
    roster.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    out = tmp / "out"
    merge(roster, options=MergeOptions(letter=letter, out=out, as_of=AS_OF, workers=1, **kw))
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    texts = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["status"] == "ok":
            reader = PdfReader(out / row["piece_file"])
            text = "\n".join(p.extract_text() for p in reader.pages)
            # The letter only: it ends with its contact block's 所在地 line; the enclosures
            # (notice 539) follow in the same piece.
            head, _, tail = text.partition("所在地")
            texts[row["member_key"]] = text if whole else head + tail.split("\n", 1)[0]
    return texts


KAKUNINSHO = [
    # 任意継続, alone: home route, no employer
    _row("20-1001-00", "青木 一", "1970-01-01", "2025-04-01", membership="任意継続",
         address=HOME, cert="2025-04-10", card="無"),
    # 一般 with a dependent: workplace route
    _row("20-1002-00", "井上 二郎", "1971-02-02", "2025-04-01", membership="一般",
         address=WORK, cert="2025-04-10", card="無"),
    _row("20-1002-01", "井上 花", "1973-03-03", "2025-04-01", cert="2025-04-10", card="無"),
    # 一般, alone
    _row("20-1003-00", "上田 三郎", "1972-04-04", "2025-04-01", membership="一般",
         address=WORK, cert="2025-04-10", card="無"),
]


@pytest.fixture(scope="module")
def kakuninsho(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _merge(tmp_path_factory.mktemp("kks"), "kakuninsho", KAKUNINSHO,
                  enclosures=("notice:539",), notice="539")


def test_continuation_member_returns_the_certificate_to_the_kenpo(
    kakuninsho: dict[str, str],
) -> None:
    ins = default_insurer()
    home = _norm(kakuninsho["20-1001-00"])
    assert "事業主" not in home  # a 任継 member has no employer
    assert _norm(f"{ins.name}（〒{ins.postal_code} {ins.address}）へ直接ご返却ください") in home
    for key in ("20-1002-00", "20-1003-00"):
        assert _norm(WORKPLACE_RETURN) in _norm(kakuninsho[key])


def test_dependents_sentence_only_with_dependents(kakuninsho: dict[str, str]) -> None:
    assert _norm(DEPENDENTS) in _norm(kakuninsho["20-1002-00"])
    assert _norm(DEPENDENTS) not in _norm(kakuninsho["20-1003-00"])


def test_kakuninsho_says_what_is_enclosed(kakuninsho: dict[str, str]) -> None:
    text = _norm(kakuninsho["20-1003-00"])
    assert _norm("同封物：資格確認書、年金機構けんぽからのお知らせ（第539号）") in text
    assert "別添1" not in text and "別添１" not in text  # not enclosed, so not listed


def test_series_title_and_contact_from_the_settings(kakuninsho: dict[str, str]) -> None:
    ins = default_insurer()
    text = _norm(kakuninsho["20-1003-00"])
    # The notice's masthead: 「年金機構けんぽからのお知らせ （第539号）6.11.19」
    assert _norm("（年金機構けんぽからのお知らせ 第539号 関連）") in text
    assert "（けんぽからのお知らせ" not in text
    assert _norm(f"電話番号 {ins.phone}") in text
    assert _norm(f"〒{ins.postal_code} {ins.address}") in text


def test_koureisha_says_gaitou_shimasu(tmp_path: Path) -> None:
    texts = _merge(tmp_path, "koureisha", [
        _row("20-2001-00", "江藤 正", "1956-12-15", "1990-04-01", membership="一般",
             address=WORK)])
    text = _norm(texts["20-2001-00"])
    assert _norm("高齢受給者に該当しますので") in text
    assert "該当されます" not in text


GUIDANCE = [
    # a member since 2015 without a smartphone: gets the 令和6年9月9日付 reference
    _row("20-3001-00", "小野 一", "1975-01-15", "2015-04-01", membership="一般", address=WORK,
         myna="有", card="有", phone="無"),
    # joined after 2024-09-09: never received that notice
    _row("20-3002-00", "加納 二", "1980-01-15", "2025-04-01", membership="一般", address=WORK,
         myna="有", card="有", phone="無"),
    # no answer at all
    _row("20-3003-00", "木下 三", "1985-01-15", "2015-04-01", membership="一般", address=WORK),
]


@pytest.fixture(scope="module")
def guidance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _merge(tmp_path_factory.mktemp("gui"), "guidance", GUIDANCE)


def test_guidance_september_notice_only_for_members_then(guidance: dict[str, str]) -> None:
    then = _norm(guidance["20-3001-00"])
    assert _norm("けんぽからのお知らせ（令和6年9月9日付）をご参照ください。") in then
    assert "を参照ください" not in then.replace("をご参照ください", "")
    assert "令和6年9月9日付" not in _norm(guidance["20-3002-00"])


def test_guidance_answers_sentence_only_with_an_answer(guidance: dict[str, str]) -> None:
    assert "ご回答いただいた内容にもとづき" in _norm(guidance["20-3001-00"])
    none = _norm(guidance["20-3003-00"])
    assert "ご回答いただいた内容にもとづき" not in none
    assert _norm("医療機関等での受診方法をご案内します。") in none


def test_guidance_headings_are_polite_and_kison(guidance: dict[str, str]) -> None:
    text = _norm(guidance["20-3001-00"])
    assert _norm("マイナンバーカードはお持ちで、スマホはお持ちでない方") in text
    assert "持っている方" not in text and "もっていない方" not in text
    assert "紛失・き損した場合" in text and "棄損" not in text


# ----------------------------------------------------------------------------- forms


def test_continuation_form_names_the_kenpos_address_and_no_employer(tmp_path: Path) -> None:
    from kenpo_docs.input.roster import read_roster
    from kenpo_docs.publish.forms import build_form

    ins = default_insurer()
    roster = tmp_path / "r.csv"
    roster.write_text("\n".join([HEADER, KAKUNINSHO[0], KAKUNINSHO[3]]) + "\n",
                      encoding="utf-8")
    households = {h.key: h for h in read_roster(roster, as_of=AS_OF).households}
    address = _norm(f"〒{ins.postal_code} {ins.address}")
    for name in ("bessou1", "bessou2"):
        home = _norm("".join(p.extract_text() for p in PdfReader(io.BytesIO(
            build_form(name, household=households["20-1001"], as_of=AS_OF))).pages))
        work = _norm("".join(p.extract_text() for p in PdfReader(io.BytesIO(
            build_form(name, household=households["20-1003"], as_of=AS_OF))).pages))
        assert address in home, name  # 任継: send forms to the kenpo, at its address
        assert address not in work, name
        if name == "bessou1":
            assert "事業主" not in home
            assert _norm("直接ご返却ください") in home
            assert _norm(WORKPLACE_RETURN) in work


def test_document_number_per_batch_in_the_settings_format(tmp_path: Path) -> None:
    ins = default_insurer()
    texts = _merge(tmp_path, "kakuninsho", KAKUNINSHO[3:], whole=True, document_number=12)
    text = texts["20-1003-00"]
    # data/insurer.toml [document_number] format = "年けん発第{number}号"
    assert f"文書番号 {ins.document_number(12)}" in text
    assert "文書番号 年けん発第12号" in text
    assert "管理番号" in text and "KKS20261201-" in text  # the piece id, drawn over the page
