"""Issue 18 §1: cross-field checks, the same in `check` and in the merge, and what the
資格確認書 letter tells a member about マイナ保険証.

The rosters are written from notice 539 and domain-rules.md, not from our output:
- 有効期限 of a 資格確認書 issued in 交付期間（１回目）令和6年12月2日～令和7年11月30日 is
  令和9年11月30日 (2027-11-30): on a letter dated 2027-12-01 it has expired, and 「有効期限を
  過ぎたものは返却不要…ご自身にて破棄してください」: it is never mailed.
- 高齢受給者証: 「70 歳誕生月（誕生日が月の初日の場合は前月）」: born 1956-12-15 -> 2026-12.
- R6: a 資格確認書 is for those who cannot use マイナ保険証 (no card, not registered); a
  registered member may receive one on application (lost, being renewed, needs support) and is
  never told that they cannot use it.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from docx import Document
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.input.roster import read_roster
from kenpo_docs.mailing.letter_docx import render_letter_docx
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.mailing.window import check_for_mailing

HEADER = ("記号,番号,枝番,氏名,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,郵便番号,"
          "住所1,就労先コード,就労先名,マイナ保険証,マイナンバーカード,交付理由")
ADDRESS = "1000013,東京都千代田区霞が関1丁目3番2号"
W01 = f"{ADDRESS},W01,本部"  # 郵便番号, 住所1, 就労先コード, 就労先名 of a 一般 insured person
LETTER_DATE = date(2026, 12, 1)
ROWS = [
    # row 2: no card, not registered: the notice's own target group
    f"0012,000101,00,青木 一郎,1975-06-01,2015-04-01,,一般,2025-01-10,{ADDRESS},W01,本部,無,無,",
    # row 3: issued before the member joined
    "0012,000101,01,青木 花子,1978-01-20,2025-04-01,,,2025-03-01,,,,,,,",
    # row 4: issued on the day coverage ended (資格喪失日 is the first day without coverage)
    "0012,000101,02,青木 次郎,2005-03-03,2015-04-01,2026-06-30,,2026-06-30,,,,,,,",
    # row 5: issued after the letter date: the letter cannot say 「お送りします」
    "0012,000101,03,青木 三郎,2008-03-03,2015-04-01,,,2026-12-02,,,,,,,",
    # row 6: joins after the letter date
    "0012,000101,04,青木 四郎,2026-11-01,2027-01-01,,,,,,,,,,",
    # row 7: マイナ保険証 有 without a マイナンバーカード: registration needs the card
    "0012,000101,05,青木 五郎,2010-05-05,2015-04-01,,,,,,,,有,無,",
    # row 8: registered, card lost: a certificate on application (warning, not an error)
    "0012,000101,06,青木 六子,2012-06-06,2015-04-01,,,2026-04-01,,,,,有,有,紛失",
    # row 9: 任意継続, registered, given a certificate, no reason given
    f"0012,000102,00,井上 和子,1958-09-09,2000-04-01,,任意継続,2025-11-30,{ADDRESS},,,有,有,",
    # row 10: 交付理由 未登録 contradicts マイナ保険証 有
    f"0012,000103,00,上田 健,1990-10-10,2018-04-01,,一般,2025-01-10,{W01},有,有,未登録",
]
REJECTED = {  # row -> (column, words the reason must have)
    3: ("資格確認書交付日", ["2025-03-01", "資格取得日", "outside coverage"]),
    4: ("資格確認書交付日", ["2026-06-30", "資格喪失日", "outside coverage"]),
    5: ("資格確認書交付日", ["2026-12-02", "お送りします", "already be issued"]),
    6: ("資格取得日", ["2027-01-01", "not yet a member"]),
    7: ("マイナ保険証", ["マイナンバーカード 無", "needs a My Number card"]),
    10: ("交付理由", ["未登録", "マイナ保険証 有"]),
}


def _write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("cp932"))
    return path


def _manifest(out: Path) -> dict[int, dict[str, str]]:
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    return {int(r["row"]): r for r in csv.DictReader(io.StringIO(text))}


def _text(path: Path) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_rejections_are_the_same_in_check_report_and_manifest(tmp_path: Path) -> None:
    roster = _write(tmp_path / "r.csv", ROWS)
    report = tmp_path / "rejects.csv"
    result = CliRunner().invoke(cli, ["check", str(roster), "--as-of", "2026-12-01",
                                      "--report", str(report)])
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(report.read_bytes().decode("utf-8-sig").splitlines()))
    by_row = {int(r["row"]): r for r in rows}
    assert set(by_row) == set(REJECTED)
    for row, (column, words) in REJECTED.items():
        assert by_row[row]["column"] == column, by_row[row]
        for word in words:
            assert word in by_row[row]["reason"], (row, word, by_row[row]["reason"])
        assert "青木" not in by_row[row]["reason"]  # never a name
    # Registered members given a certificate: listed as warnings, one per row.
    warnings = [line for line in result.stdout.splitlines()
                if "資格確認書交付日" in line and "check the reason" in line]
    assert [line.split()[1] for line in warnings] == ["8", "9", "10"]

    out = tmp_path / "out"
    merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=LETTER_DATE,
                                       workers=1, db=None))
    manifest = _manifest(out)
    for row, (column, _) in REJECTED.items():
        assert manifest[row]["status"] == "rejected"
        # The manifest gives check --report's words: 列: 理由.
        assert manifest[row]["reason"] == f"{column}: {by_row[row]['reason']}"
    assert {r for r, m in manifest.items() if m["status"] == "ok"} == {2, 8, 9}


def test_letter_never_tells_a_registered_member_they_cannot_use_myna(tmp_path: Path) -> None:
    roster = _write(tmp_path / "r.csv", [
        *ROWS[:1], ROWS[6], ROWS[7],
        # row 5: a household of members who cannot use マイナ保険証, by reason and by answers
        f"0012,000104,00,江藤 進,1970-01-01,2010-04-01,,一般,2025-01-10,{W01},,,未取得",
        "0012,000104,01,江藤 静,1972-02-02,2010-04-01,,,2025-01-10,,,,,無,有,",
    ])
    out = tmp_path / "out"
    merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=LETTER_DATE,
                                       workers=1, db=None))
    manifest = _manifest(out)
    assert all(m["status"] == "ok" for m in manifest.values()), manifest
    cannot = "マイナ保険証を利用できない方"
    # Household 000101: 青木 一郎 (無/無) and 青木 六子 (registered, card lost) share a letter.
    mixed = _text(out / manifest[2]["piece_file"])
    assert cannot not in mixed
    assert "資格確認書」をお送りします" in mixed
    assert "交付理由：青木六子様マイナンバーカードの紛失" in mixed
    registered = _text(out / manifest[4]["piece_file"])  # 任意継続, 有/有, no reason
    assert cannot not in registered and "利用できない" not in registered
    assert "青木六子" not in registered
    unable = _text(out / manifest[5]["piece_file"])
    assert f"{cannot}に交付する「資格確認書」をお送りします" in unable
    assert "交付理由：江藤進様マイナンバーカードをお持ちでないため" in unable


def test_expired_certificate_is_skipped_in_check_and_merge(tmp_path: Path) -> None:
    roster = _write(tmp_path / "r.csv", [
        # issued in the 1st period: expires 2027-11-30, before the letter of 2027-12-01
        f"0012,000101,00,青木 一郎,1975-06-01,2015-04-01,,一般,2024-12-02,{ADDRESS},W01,本部,,,",
        # issued in the 2nd period: expires 2028-11-30
        "0012,000101,01,青木 花子,1978-01-20,2015-04-01,,,2025-12-01,,,,,,",
    ])
    as_of = date(2027, 12, 1)
    checked = check_for_mailing(roster, as_of=as_of, letter="kakuninsho")
    assert checked.exit_code == 0
    assert [key for key, _ in checked.no_documents] == ["0012-000101-00"]
    reason = checked.no_documents[0][1]
    assert reason.startswith("有効期限切れ: 送付不要") and "2027-11-30" in reason
    out = tmp_path / "out"
    merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=as_of, workers=1,
                                       db=None))
    manifest = _manifest(out)
    assert manifest[2]["status"] == "skipped" and manifest[2]["reason"] == reason
    assert manifest[3]["status"] == "ok"
    text = _text(out / manifest[3]["piece_file"])
    assert "令和10年11月30日" in text and "令和9年11月30日" not in text


def test_koureisha_promises_nothing_for_a_month_after_coverage_ends(tmp_path: Path) -> None:
    roster = _write(tmp_path / "r.csv", [
        # born 1956-12-15: 70 in 2026-12; coverage ends 2026-12-10, in that month
        f"0012,000101,00,青木 一郎,1956-12-15,2015-04-01,2026-12-10,一般,,{ADDRESS},W01,本部,,,",
        # born 1956-12-20, coverage goes on: the certificate is promised
        f"0012,000102,00,井上 和子,1956-12-20,2000-04-01,,一般,,{ADDRESS},W01,本部,,,",
        # a dependent turning 70 in 2026-12 whose insured person's coverage ends 2026-11-30
        f"0012,000103,00,上田 健,1980-01-10,2018-04-01,2026-11-30,一般,,{ADDRESS},W01,本部,,,",
        "0012,000103,01,上田 ゆり,1956-12-02,2018-04-01,,,,,,,,,",
        # coverage ends 2027-01-01, after the issue month 2026-12
        f"0012,000104,00,江藤 進,1956-12-25,2010-04-01,2027-01-01,一般,,{ADDRESS},W01,本部,,,",
    ])
    as_of = date(2026, 11, 1)
    checked = check_for_mailing(roster, as_of=as_of, letter="koureisha")
    skipped = dict(checked.no_documents)
    assert "資格喪失日 2026-12-10" in skipped["0012-000101-00"]
    assert "2026-12" in skipped["0012-000101-00"]
    assert "資格喪失日 2026-11-30" in skipped["0012-000103-01"]
    assert "0012-000102-00" not in skipped and "0012-000104-00" not in skipped
    out = tmp_path / "out"
    merge(roster, options=MergeOptions(letter="koureisha", out=out, as_of=as_of, workers=1,
                                       db=None))
    manifest = _manifest(out)
    assert manifest[2]["status"] == "skipped"
    assert manifest[2]["reason"] == skipped["0012-000101-00"]
    assert manifest[5]["reason"] == skipped["0012-000103-01"]
    assert manifest[3]["status"] == "ok" and manifest[6]["status"] == "ok"


def test_issue_reason_has_an_english_alias_and_known_words(tmp_path: Path) -> None:
    header = HEADER.replace("交付理由", "issue_reason")
    roster = _write(tmp_path / "r.csv", [
        f"0012,000101,00,青木 一郎,1975-06-01,2015-04-01,,一般,2025-01-10,{W01},有,有,更新中",
        f"0012,000102,00,井上 和子,1958-09-09,2000-04-01,,一般,2025-01-10,{W01},,,なくした",
    ], header)
    read = read_roster(roster, as_of=LETTER_DATE)
    assert [m.issue_reason for m in read.members] == ["更新中"]
    (error,) = read.errors
    assert error.column == "交付理由" and "なくした" in error.reason and "紛失" in error.reason


def _docx_text(data: bytes) -> str:
    return "".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_the_word_letter_words_it_the_same(tmp_path: Path) -> None:
    roster = _write(tmp_path / "r.csv", [
        ROWS[0], ROWS[7],
        f"0012,000104,00,江藤 進,1970-01-01,2010-04-01,,一般,2025-01-10,{W01},,,未取得",
    ])
    cannot = "マイナ保険証を利用できない方"
    registered = _docx_text(render_letter_docx(roster, letter="kakuninsho",
                                               member_key="0012-000102-00", as_of=LETTER_DATE))
    assert "「資格確認書」をお送りします" in registered and cannot not in registered
    unable = _docx_text(render_letter_docx(roster, letter="kakuninsho",
                                           member_key="0012-000104-00", as_of=LETTER_DATE))
    assert cannot in unable
    assert "交付理由：江藤 進 様　マイナンバーカードをお持ちでないため" in unable


def test_check_letter_lists_the_merge_s_skips_from_the_command_line(tmp_path: Path) -> None:
    """``kenpo-docs check --letter`` shows the rows that letter's merge skips, with the merge's
    own reason (one implementation: check_for_mailing plans the batch as the merge does)."""
    import sys

    from click.testing import CliRunner

    from kenpo_docs.cli import cli

    sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "bad"))
    import make_bad

    roster = tmp_path / "roster.csv"
    roster.write_text(make_bad.csv_text([make_bad.row(1, 資格確認書交付日="2024-12-02")]),
                      encoding="utf-8")
    args = ["check", str(roster), "--as-of", "2027-12-01"]
    plain = CliRunner().invoke(cli, args)
    assert "有効期限切れ" not in plain.output
    with_letter = CliRunner().invoke(cli, [*args, "--letter", "kakuninsho"])
    assert with_letter.exit_code == 0, with_letter.output
    assert "有効期限切れ: 送付不要" in with_letter.output


def test_dependent_certificate_after_the_insured_persons_loss_is_rejected(
        tmp_path: Path) -> None:
    # A dependent's coverage ends with the insured person's (「健康保険の資格を喪失した場合は、
    # その時までとなります」): a certificate issued to 枝番01 on or after 被保険者's
    # 資格喪失日 2026-06-30 is outside coverage, though the dependent's own 喪失日 is empty.
    roster = _write(tmp_path / "r.csv", [
        f"0012,000101,00,青木 一郎,1975-06-01,2015-04-01,2026-06-30,一般,2025-01-10,{W01},無,無,",
        "0012,000101,01,青木 花子,1978-01-20,2015-04-01,,,2026-07-01,,,,,無,無,",
        "0012,000101,02,青木 次郎,2005-03-03,2015-04-01,,,2026-06-29,,,,,無,無,",
    ])
    report = tmp_path / "rejects.csv"
    result = CliRunner().invoke(cli, ["check", str(roster), "--as-of", "2026-12-01",
                                      "--report", str(report)])
    rows = list(csv.DictReader(report.read_bytes().decode("utf-8-sig").splitlines()))
    assert [(r["row"], r["column"]) for r in rows] == [("3", "資格確認書交付日")], result.output
    assert "2026-07-01" in rows[0]["reason"]
    assert "被保険者の資格喪失日 2026-06-30" in rows[0]["reason"]
    assert "outside coverage" in rows[0]["reason"]
