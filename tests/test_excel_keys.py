"""Issue 18 §4: keys that Excel turned into numbers, and other Excel habits.

Written from the issue and the insurer settings (data/insurer.toml [keys]: 記号 4 digits,
番号 6), not from our output: a 記号 typed as 12 and a 番号 typed as 201 are 0012 and 000201;
a longer value or one with non-digits is rejected; a title row and blank rows above the header
are passed over (the header is looked for in the first 10 rows); Excel's 「Unicode テキスト」
(UTF-16, tab-separated) reads like any CSV; every rejection reason is Japanese first, then
English in parentheses, and names the wrong value (never a name, an address, a birth date).
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.input.roster import read_roster

HEADER = ["記号", "番号", "枝番", "氏名", "生年月日", "資格取得日", "加入区分", "資格確認書交付日",
          "郵便番号", "住所1", "就労先コード", "就労先名"]
INSURED = [12, 201, 0, "青木 一郎", date(1975, 6, 1), date(2015, 4, 1), "一般", None,
           1000013, "東京都千代田区霞が関1丁目3番2号", "W01", "本部"]
DEPENDENT = [12, 201, 1, "青木 花子", date(1978, 1, 20), date(2015, 4, 1), None, None,
             None, None, None, None]
AS_OF = date(2026, 12, 1)


def _xlsx(path: Path, rows: list[list[object]], above: list[list[object]] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [*(above or []), HEADER, *rows]:
        sheet.append(row)
    book.save(path)
    return path


def _check(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["check", *args, "--as-of", AS_OF.isoformat()])


def test_numeric_keys_are_padded_and_reported_once(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "r.xlsx", [INSURED, DEPENDENT])
    roster = read_roster(path, as_of=AS_OF)
    assert roster.errors == []
    assert [m.key for m in roster.members] == ["0012-000201-00", "0012-000201-01"]
    [warning] = roster.warnings
    assert warning.column == "記号, 番号" and "4 件" in warning.reason  # 2 rows x 2 cells
    result = _check(str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("numeric cells padded") == 1
    assert "households: 1" in result.stdout


def test_member_option_finds_the_padded_key(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "r.xlsx", [INSURED, DEPENDENT])
    out = tmp_path / "forms"
    result = CliRunner().invoke(cli, [
        "form", "build", "bessou1", "--roster", str(path), "--member", "0012-000201",
        "--out", str(out), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert list(out.glob("*.pdf"))


def test_too_long_or_not_digits_is_rejected_naming_the_value(tmp_path: Path) -> None:
    long_symbol = [12345, *INSURED[1:]]
    letters = [34, "20A1", *INSURED[2:]]
    long_number = [56, 1234567, *INSURED[2:]]
    path = _xlsx(tmp_path / "r.xlsx", [long_symbol, letters, long_number])
    roster = read_roster(path, as_of=AS_OF)
    reasons = {(e.row, e.column): e.reason for e in roster.errors}
    assert reasons[(2, "記号")].startswith("12345: 記号は4桁以内です (")
    assert reasons[(3, "番号")].startswith("20A1: 数字だけで書いてください (")
    assert reasons[(4, "番号")].startswith("1234567: 番号は6桁以内です (")


def test_header_below_a_title_and_blank_rows(tmp_path: Path) -> None:
    above: list[list[object]] = [["令和8年12月 資格確認書 送付名簿"], [], ["作成: 業務課"]]
    path = _xlsx(tmp_path / "r.xlsx", [INSURED, [*DEPENDENT[:4], "1978/02/30", *DEPENDENT[5:]]],
                 above)
    roster = read_roster(path, as_of=AS_OF)
    assert [m.key for m in roster.members] == ["0012-000201-00"]
    header_note = [w for w in roster.warnings if w.row == 4 and w.column is None]
    assert header_note and "4 行目" in header_note[0].reason
    assert "header found on row 4" in header_note[0].reason
    [error] = roster.errors
    assert (error.row, error.column) == (6, "生年月日")  # rows as Excel numbers them
    assert "1978" not in error.reason  # a date of birth is never echoed


def test_header_is_looked_for_in_the_first_ten_rows_only(tmp_path: Path) -> None:
    on_10 = _xlsx(tmp_path / "r10.xlsx", [INSURED], [["title"]] + [[]] * 8)
    result = _check(str(on_10))
    assert result.exit_code == 0, result.output
    assert "row 10  -  -  10 行目を見出しとして使いました" in result.stdout
    on_11 = _xlsx(tmp_path / "r11.xlsx", [INSURED], [["title"]] + [[]] * 9)
    result = _check(str(on_11))
    assert result.exit_code == 2
    assert "missing required column" in result.stderr


def test_unicode_text_from_excel_is_read_like_any_csv(tmp_path: Path) -> None:
    # Excel's 「Unicode テキスト」: UTF-16 with a BOM, tab-separated, CRLF; a title row above.
    lines = ["送付名簿\t\t\t", "\t".join(HEADER),
             "\t".join(["0012", "000201", "00", "青木 一郎", "1975-06-01", "2015-04-01", "一般",
                        "2025-01-10", "100-0013", "東京都千代田区霞が関1丁目3番2号", "W01",
                        "本部"]),
             "\t".join(["0012", "000201", "01", "青木 花子", "1978-01-20", "2015-04-01", "",
                        "2026/02/30", "", "", "", ""])]
    path = tmp_path / "roster.txt"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    report = tmp_path / "rejects.csv"
    result = _check(str(path), "--report", str(report))
    assert result.exit_code == 1, result.output
    assert "(utf-16)" in result.stdout and "households: 1" in result.stdout
    [row] = list(csv.DictReader(report.read_bytes().decode("utf-8-sig").splitlines()))
    assert (row["row"], row["member_key"], row["column"]) == ("4", "0012-000201-01",
                                                              "資格確認書交付日")
    assert row["reason"] == "2026/02/30: 存在しない日付です (no such day)"


JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _japanese_then_english(reason: str) -> bool:
    """Japanese first, then the English in (balanced) parentheses at the end."""
    if not reason.endswith(")"):
        return False
    depth = 0
    for index in range(len(reason) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(reason[index], 0)
        if depth == 0:
            english = reason[index + 1:-1]
            return bool(re.match(r"[A-Za-z]{2}", english)) and bool(
                JAPANESE.search(reason[:index]))
    return False


def test_every_rejection_is_japanese_then_english(tmp_path: Path) -> None:
    long_address = "東京都千代田区霞が関一丁目三番二号" * 6
    rows: list[list[object]] = [
        [*INSURED[:7], date(2024, 12, 1), *INSURED[8:]],  # before the first issue day
        [34, 301, 0, "井上 和子", date(1958, 9, 9), date(2000, 4, 1), "任意継続", None,
         2630023, long_address, None, None],  # too long for the window
        [56, 401, 0, "上田 健", date(1990, 10, 10), date(2018, 4, 1), "一搬", None,
         1100016, "東京都台東区台東5-6-3", "W02", "支所"],  # 加入区分 typo
        [78, 501, 0, "江藤 進", date(1970, 1, 1), date(2010, 4, 1), "一般", None,
         1000013, "東京都千代田区霞が関1丁目3番2号", "W/01", "本部"],  # bad 就労先コード
    ]
    path = _xlsx(tmp_path / "r.xlsx", rows)
    report = tmp_path / "rejects.csv"
    result = _check(str(path), "--report", str(report))
    assert result.exit_code == 1
    found = {r["row"]: r for r in csv.DictReader(
        report.read_bytes().decode("utf-8-sig").splitlines())}
    assert set(found) == {"2", "3", "4", "5"}
    for row in found.values():
        assert _japanese_then_english(row["reason"]), row
        assert "霞が関" not in row["reason"] and "青木" not in row["reason"]
    assert found["2"]["reason"].startswith("2024-12-01: ")
    assert found["4"]["reason"].startswith("一搬: ")
