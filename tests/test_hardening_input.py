"""Hostile and broken rosters: every case gets one clear line, never a traceback.

The corpus is ``tests/data/bad/`` (small cases committed, big and binary ones made at test time
by ``make_bad.py``). Whole-file problems exit 2 and write nothing; row-level problems reject
that row only and exit 1. Both commands are run: ``check`` and ``merge``.

My Number test vectors come from two independent implementations: python-stdnum's
``stdnum/jp/in_.py`` doctest (``6214 9832 0257`` valid, ``…0258`` invalid) and the tsubaki gem's
README (``4652-8126-6333`` valid); the formula is 施行令 第八条 (see kenpo_docs/input/mynumber.py).
"""

from __future__ import annotations

import csv
import io
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.domain.era import parse_date
from kenpo_docs.errors import DateError, RosterError
from kenpo_docs.input.mynumber import check_digit, contains_my_number, is_my_number
from kenpo_docs.input.roster import Roster, read_roster

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
sys.path.insert(0, str(BAD))
import make_bad  # noqa: E402

AS_OF = "2026-12-01"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The big and binary cases, made once for the module (200,000 rows: only when asked)."""
    return make_bad.make_generated(tmp_path_factory.mktemp("bad"), big_rows=10)


def corpus(name: str, generated: dict[str, Path]) -> Path:
    return generated[name] if name in generated else BAD / name


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def assert_clean_failure(result, code: int) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), repr(result.exception)


# ------------------------------------------------------- whole-file: exit 2, nothing written

WHOLE_FILE = [
    ("empty.csv", "empty file"),
    ("header_only.csv", "no data rows"),
    ("truncated_quote.csv", "truncated file"),
    ("header_typo.csv", "生年月目 -> 生年月日"),
    ("missing_column.csv", "missing required column): 住所1"),
    ("my_number_column.csv", "column 個人番号"),
    ("my_number_values.csv", "column 備考"),
    ("shift_jis_invalid.csv", "not UTF-8 or CP932"),
    ("encrypted.xlsx", "password-protected"),
    # workbooks with one part broken (cut in half, as a half-written file has it)
    ("xlsx_bad_content_types.xlsx", "broken XML in [Content_Types].xml, line 2"),
    ("xlsx_bad_workbook.xlsx", "broken XML in xl/workbook.xml, line 2"),
    ("xlsx_bad_workbook_rels.xlsx", "broken XML in xl/_rels/workbook.xml.rels, line 2"),
    ("xlsx_bad_styles.xlsx", "broken XML in xl/styles.xml, line 2"),
    ("xlsx_bad_shared_strings.xlsx", "broken XML in xl/sharedStrings.xml, line 2"),
    ("xlsx_bad_sheet.xlsx", "broken XML in xl/worksheets/sheet1.xml, line 2"),
    ("xlsx_entities.xlsx", "DTD in xl/sharedStrings.xml"),
    ("xlsx_bad_crc.xlsx", "damaged data in xl/sharedStrings.xml"),
    ("xlsx_truncated.xlsx", "truncated or damaged zip"),
    ("xlsx_not_a_workbook.xlsx", "not an xlsx workbook"),
    ("xlsx_missing_sheet.xlsx", "no worksheet"),
    ("bomb_shared_strings.xlsx", "xl/sharedStrings.xml: 300 MB from"),
]


@pytest.mark.parametrize(("name", "fragment"), WHOLE_FILE)
def test_whole_file_problems_stop_check_and_merge_in_one_line(
    tmp_path: Path, generated: dict[str, Path], name: str, fragment: str
) -> None:
    path = corpus(name, generated)
    checked = run("check", str(path), "--as-of", AS_OF)
    assert_clean_failure(checked, 2)
    message = checked.output.strip()
    assert message.count("\n") == 0, message
    assert message.startswith(f"Error: {path}") and fragment in message
    assert checked.stdout == "" and checked.stderr.count("\n") == 1  # one line, on stderr
    if name.startswith("my_number"):
        assert "must not be printed" in message

    out = tmp_path / "out"
    merged = run("merge", str(path), "--letter", "kakuninsho", "--as-of", AS_OF,
                 "--out", str(out), "--workers", "1", "--db", str(tmp_path / "track.sqlite"))
    assert_clean_failure(merged, 2)
    errors = [line for line in merged.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and fragment in errors[0], merged.stderr  # after a progress label
    assert not out.exists() or not any(out.iterdir())


# ------------------------------------------------------- row-level: exit 1, that row only

ROW_LEVEL = [
    # (file, rejected row, column, fragment of the reason)
    ("truncated_row.csv", 3, "生年月日", "required"),
    ("short_row.csv", 3, "資格取得日", "required"),
    ("bad_date.csv", 3, "生年月日", "no such day"),
    ("control_characters.csv", 3, "氏名", "U+0007"),
    ("huge_cell.csv", 3, "住所2", "cell too long"),
    ("invisible_characters.csv", 4, "住所1", "combining mark"),
    ("invisible_characters.csv", 5, "住所2", "U+202E"),
    ("my_number_in_field.csv", 3, "住所2", "must not be printed"),
    ("book.xlsx", 4, "氏名", "formula without a saved result"),
    ("book.xlsx", 6, "就労先名", "merged cell"),
]


@pytest.mark.parametrize(("name", "row", "column", "fragment"), ROW_LEVEL)
def test_row_level_problems_reject_that_row_only(
    generated: dict[str, Path], name: str, row: int, column: str, fragment: str
) -> None:
    path = corpus(name, generated)
    started = time.monotonic()
    result = run("check", str(path), "--as-of", AS_OF)
    assert time.monotonic() - started < 20  # a 1 MB cell is refused, not laid out
    assert_clean_failure(result, 1)
    lines = [ln.strip() for ln in result.output.splitlines()
             if ln.strip().startswith(f"row {row} ")]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"row {row}  {column}") and fragment in lines[0]
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert row not in [m.row for m in roster.members]
    assert roster.members, "the other rows are still accepted"


def test_rejected_values_are_never_echoed(generated: dict[str, Path]) -> None:
    for name, secret in [("bad_date.csv", "昭和45年2月30日"), ("bad_date.csv", "2月30日"),
                         ("my_number_in_field.csv", "8126"), ("huge_cell.csv", "あああ")]:
        result = run("check", str(corpus(name, generated)), "--as-of", AS_OF)
        assert secret not in result.output, (name, result.output)


def test_merge_rejects_bad_rows_and_prints_the_rest(tmp_path: Path) -> None:
    rows = [
        make_bad.row(1),
        make_bad.row(2, 氏名="試験\x07太郎"),
        make_bad.row(3, 住所2="あ" * 1_000_000),
        make_bad.row(4, 生年月日="昭和45年2月30日"),
        make_bad.row(5, 住所2=f"番号 {make_bad.MY_NUMBER}"),
        make_bad.row(6, 住所1="\u0301東京都"),
    ]
    path = tmp_path / "mixed.csv"
    path.write_text(make_bad.csv_text(rows), encoding="utf-8")
    out = tmp_path / "out"
    result = run("merge", str(path), "--letter", "kakuninsho", "--as-of", AS_OF,
                 "--out", str(out), "--workers", "1", "--db", str(tmp_path / "track.sqlite"))
    assert_clean_failure(result, 1)
    manifest = list(csv.DictReader(io.StringIO(
        (out / "manifest.csv").read_bytes().decode("utf-8-sig"))))
    status = {int(r["row"]): r["status"] for r in manifest}
    assert status == {2: "ok", 3: "rejected", 4: "rejected", 5: "rejected", 6: "rejected",
                      7: "rejected"}
    assert len(list((out / "pieces").glob("*.pdf"))) == 1
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    assert make_bad.MY_NUMBER not in text and "8126" not in text and "昭和45年2月30日" not in text


# ------------------------------------------------------------------ accepted after normalising


def test_full_width_digits_in_postal_codes_and_dates_are_normalised() -> None:
    result = run("check", str(BAD / "fullwidth_digits.csv"), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    roster = read_roster(BAD / "fullwidth_digits.csv", as_of=date(2026, 12, 1))
    first, second = roster.members
    assert first.postal_code == "1000013" and second.postal_code == "1000013"
    assert first.birth_date == date(1970, 4, 1) and second.birth_date == date(1970, 4, 1)
    assert first.acquired_on == date(2020, 4, 1)  # 令和２年４月１日
    assert first.certificate_issued_on == date(2024, 12, 2)


def test_zero_width_removed_and_combining_marks_composed() -> None:
    roster = read_roster(BAD / "invisible_characters.csv", as_of=date(2026, 12, 1))
    names = {m.row: m.name for m in roster.members}
    assert names == {2: "試験 太郎", 3: "ガク 太郎"}  # U+200B gone; カ + U+3099 -> ガ (NFC)
    assert [(w.row, w.column) for w in roster.warnings] == [(2, "氏名")]


def test_mixed_line_endings_read_every_row(generated: dict[str, Path]) -> None:
    data = generated["mixed_line_endings.csv"].read_bytes()
    assert b"\r\n" in data and b"\r3" in data and b"\n2" not in data.replace(b"\r\n", b"")
    roster = read_roster(generated["mixed_line_endings.csv"], as_of=date(2026, 12, 1))
    assert [m.number for m in roster.members] == ["1", "2", "3"]
    assert roster.errors == []


def test_extra_columns_are_warnings_not_errors() -> None:
    result = run("check", str(BAD / "extra_columns.csv"), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "row 1  備考" in result.output
    assert "row 3  -  30-2-00" in result.output and "beyond the last header" in result.output


def test_header_typo_in_an_optional_column_suggests_the_name(tmp_path: Path) -> None:
    header = [h if h != "資格喪失日" else "資格喪失目" for h in make_bad.HEADER]
    path = tmp_path / "r.csv"
    path.write_text(make_bad.csv_text([make_bad.row(1)], header=header), encoding="utf-8")
    result = run("check", str(path), "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "資格喪失目" in result.output and "did you mean 資格喪失日" in result.output


# ------------------------------------------------------------------ workbooks


def test_workbook_formulas_use_the_saved_result(generated: dict[str, Path]) -> None:
    roster = read_roster(generated["book.xlsx"], as_of=date(2026, 12, 1))
    assert {m.row: m.name for m in roster.members} == {2: "試験 太郎1", 3: "試験 花子",
                                                       5: "試験 太郎4"}


def test_sheet_option_picks_the_sheet_default_first(generated: dict[str, Path]) -> None:
    book = str(generated["book.xlsx"])
    other = run("check", book, "--sheet", "別シート", "--as-of", AS_OF)
    assert other.exit_code == 0, other.output
    assert "rows: 2  members: 2" in other.output
    roster = read_roster(book, as_of=date(2026, 12, 1), sheet="別シート")
    assert [m.key for m in roster.members] == ["30-11-00", "30-12-00"]
    first = run("check", book, "--as-of", AS_OF)
    assert "rows: 5" in first.output
    missing = run("check", book, "--sheet", "なし", "--as-of", AS_OF)
    assert_clean_failure(missing, 2)
    assert "名簿, 別シート, メモ" in missing.output
    memo = run("check", book, "--sheet", "メモ", "--as-of", AS_OF)
    assert_clean_failure(memo, 2)
    assert "missing required column" in memo.output


# ------------------------------------------------------------------ My Number


def test_check_digit_matches_independent_implementations() -> None:
    assert is_my_number("621498320257")  # python-stdnum doctest
    assert not is_my_number("621498320258")  # same, wrong check digit
    assert is_my_number("4652-8126-6333")  # tsubaki README, with dividers
    assert is_my_number("６２１４ ９８３２ ０２５７")  # full-width, as typed in Excel
    # exactly one last digit passes for any 11 digits
    assert sum(is_my_number(f"62149832025{d}") for d in range(10)) == 1
    assert check_digit("62149832025") == 7
    assert not is_my_number("1234567890")  # 10 digits
    assert not is_my_number("6214983202570")  # 13 digits
    assert contains_my_number("住所 4652-8126-6333 号") and not contains_my_number("100-0013")


def test_check_digit_remainder_zero_or_one_gives_zero() -> None:
    # Σ Pn×Qn for 00000000001: P1 = 1, Q1 = 2 -> 2 mod 11 = 2 -> 11 - 2 = 9
    assert check_digit("00000000001") == 9
    # 00000100000: P6 = 1, Q6 = 7 -> 7 -> 4;  00000000000: remainder 0 -> 0
    assert check_digit("00000100000") == 4
    assert check_digit("00000000000") == 0
    # 10000000000: P11 = 1, Q11 = 6 -> 6 -> 5; 50000000000: 30 mod 11 = 8 -> 3
    assert check_digit("10000000000") == 5
    assert check_digit("50000000000") == 3
    # remainder 1: P1 = 6 -> 12 mod 11 = 1 -> 0 (not 10)
    assert check_digit("00000000006") == 0


@pytest.mark.parametrize("header", ["個人番号", "マイナンバー", "my_number", "MyNumber",
                                    "マイナンバー（個人番号）", "ＭＹ ＮＵＭＢＥＲ"])
def test_my_number_headers_stop_the_roster(tmp_path: Path, header: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(make_bad.csv_text([[*make_bad.row(1), ""]],
                                      header=[*make_bad.HEADER, header]), encoding="utf-8")
    with pytest.raises(RosterError, match="must not be printed") as info:
        read_roster(path, as_of=date(2026, 12, 1))
    assert info.value.column == header
    allowed = read_roster(path, as_of=date(2026, 12, 1), allow_columns=[header])
    assert len(allowed.members) == 1


def test_allow_column_exempts_a_column_explicitly() -> None:
    path = str(BAD / "my_number_values.csv")
    assert run("check", path, "--as-of", AS_OF).exit_code == 2
    result = run("check", path, "--allow-column", "備考", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    unknown = run("check", path, "--allow-column", "ない列", "--as-of", AS_OF)
    assert_clean_failure(unknown, 2)
    assert "ない列" in unknown.output


def test_merge_allow_column_prints_the_batch_and_keeps_its_own_batch_id(tmp_path: Path) -> None:
    path = str(BAD / "my_number_values.csv")
    common = ["--letter", "kakuninsho", "--as-of", AS_OF, "--workers", "1",
              "--db", str(tmp_path / "track.sqlite")]
    refused = run("merge", path, "--out", str(tmp_path / "no"), *common)
    assert_clean_failure(refused, 2)
    assert not (tmp_path / "no").exists()
    out = tmp_path / "out"
    allowed = run("merge", path, "--out", str(out), "--allow-column", "備考", *common)
    assert allowed.exit_code == 0, allowed.output
    assert len(list((out / "pieces").glob("*.pdf"))) == 2
    manifest = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    assert make_bad.MY_NUMBER not in manifest and "621498320257" not in manifest
    for piece in (out / "pieces").glob("*.pdf"):  # the exempt column is not printed
        text = "".join(p.extract_text() for p in PdfReader(piece).pages)
        assert "8126" not in text and "62149832" not in text


def test_card_columns_are_not_my_number_columns(tmp_path: Path) -> None:
    # マイナンバーカード (holds the card) is a roster column; 交付日 of the card is not ours but
    # is no My Number either: ignored with a warning, not refused.
    path = tmp_path / "r.csv"
    path.write_text(make_bad.csv_text([[*make_bad.row(1, マイナンバーカード="有"), "2020-01-01"]],
                                      header=[*make_bad.HEADER, "マイナンバーカード交付日"]),
                    encoding="utf-8")
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert roster.members[0].has_mynumber_card is True
    assert [w.column for w in roster.warnings] == ["マイナンバーカード交付日"]


def test_a_few_twelve_digit_values_that_fail_the_check_are_not_my_numbers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.csv"
    path.write_text(make_bad.csv_text([[*make_bad.row(1), "621498320258"]],
                                      header=[*make_bad.HEADER, "備考"]), encoding="utf-8")
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert len(roster.members) == 1 and roster.errors == []


# ------------------------------------------------------------------ big file


@pytest.mark.slow
def test_200000_rows_finish_in_reasonable_time_and_memory(tmp_path: Path) -> None:
    path = make_bad.make_generated(tmp_path, big_rows=200_000)["rows_200k.csv"]
    assert path.stat().st_size > 20_000_000
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "kenpo_docs", "check", str(path), "--as-of", AS_OF],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    seconds = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rows: 200000  members: 200000" in proc.stdout
    print(f"200,000 rows: {seconds:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB")
    assert seconds < 240
    assert max(peak_kib, before) < 1_500_000  # KiB: 1.5 GiB for a 27 MB file


# ------------------------------------------------------------------ fuzzing

_CELL = st.text(alphabet=st.sampled_from(
    [*"0123456789０１２３-－/.,\"'\t\r\n 年月日令和昭平元RSHabc髙橋カ",
     "\u3099", "\u200b", "\u202e", "\x00", "\x07", "\x1f"]
), max_size=20)


def _read_bytes(data: bytes, suffix: str = ".csv") -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"r{suffix}"
        path.write_bytes(data)
        try:
            result = read_roster(path, as_of=date(2026, 12, 1))
        except RosterError as exc:
            assert str(exc)
        else:
            assert isinstance(result, Roster)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes_give_a_roster_or_a_roster_error(data: bytes) -> None:
    _read_bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_named_xlsx(data: bytes) -> None:
    _read_bytes(data, ".xlsx")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CELL, max_size=20), max_size=6),
       st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
def test_fuzz_random_csv_text_gives_a_roster_or_a_roster_error(
    rows: list[list[str]], encoding: str
) -> None:
    text = make_bad.csv_text(rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    _read_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), _CELL, st.integers(-10**6, 10**7),
                 st.floats(allow_nan=True, allow_infinity=True)))
def test_fuzz_parse_date_gives_a_date_or_a_date_error(value: object) -> None:
    try:
        result = parse_date(value, field="生年月日")
    except DateError as exc:
        assert exc.column == "生年月日"
    else:
        assert isinstance(result, date)


def test_committed_corpus_matches_its_script() -> None:
    committed = sorted(p.name for p in BAD.glob("*.csv"))
    assert committed == sorted(make_bad.small_cases())
    for name, data in make_bad.small_cases().items():
        assert (BAD / name).read_bytes() == data, f"{name}: rerun make_bad.py"
