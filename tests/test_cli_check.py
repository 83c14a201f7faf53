"""`kenpo-docs check`: the contract (exit codes 0/1/2, summary, --report CSV), on two levels.

Expected counts come from reading samples/make_samples.py (see samples/README.md).
"""

from __future__ import annotations

import csv
import os
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "samples" / "roster.csv"
SAMPLE_XLSX = ROOT / "samples" / "roster.xlsx"
HEADER = "記号,番号,枝番,氏名,生年月日,資格取得日,加入区分,郵便番号,住所1,就労先コード,就労先名"
GOOD = [
    "0012,000101,00,髙橋 一郎,1970-04-01,2010-04-01,一般,100-0013,"
    "東京都千代田区霞が関1丁目3番2号,1001,本部",
    "0012,000101,01,髙橋 花子,1972-05-05,2010-04-01,,,,,",
    "0034,000201,00,渡邉 大輔,昭和32年1月1日,2025-04-01,任意継続,263-0023,"
    "千葉県千葉市稲毛区緑町3丁目30-8,,",
]


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("\r\n".join([HEADER, *lines, ""]).encode(encoding))
    return path


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["check", *args])


def test_sample_summary_and_exit_1() -> None:
    result = _run(str(SAMPLE_CSV), "--as-of", "2026-12-01")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "(cp932)" in out
    assert "rows: 40  members: 34  households: 14  rejected rows: 6  warnings: 5" in out
    assert "workplace:1001  households: 3  members: 7" in out
    assert "home            households: 4  members: 8" in out
    assert "0012-000105-02" in out.split("no documents (1):")[1].split("rejected rows")[0]
    for row, column in [(36, "生年月日"), (37, "資格確認書交付日"), (39, "枝番"), (40, "郵便番号")]:
        assert any(line.strip().startswith(f"row {row}  {column}") for line in out.splitlines())
    for name in ("髙橋", "渡邉", "霞が関", "加藤 結衣"):  # keys and reasons only, never names
        assert name not in result.output


def test_as_of_accepts_wareki_and_changes_who_gets_nothing() -> None:
    iso = _run(str(SAMPLE_XLSX), "--as-of", "2026-12-01")
    wareki = _run(str(SAMPLE_XLSX), "--as-of", "令和8年12月1日")
    assert iso.stdout == wareki.stdout
    later = _run(str(SAMPLE_XLSX), "--as-of", "R9.3.31")
    assert "no documents (2):" in later.stdout
    assert "0056-000302-01" in later.stdout  # coverage ends 2027-03-31
    earlier = _run(str(SAMPLE_XLSX), "--as-of", "2026-03-31")
    assert "no documents" not in earlier.stdout


def test_clean_roster_exits_0(tmp_path: Path) -> None:
    result = _run(str(_write(tmp_path / "ok.csv", GOOD, "cp932")), "--as-of", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "rows: 3  members: 3  households: 2  rejected rows: 0" in result.stdout
    assert "workplace:1001  households: 1  members: 2" in result.stdout
    assert "rejected rows (" not in result.stdout


def test_report_csv(tmp_path: Path) -> None:
    report = tmp_path / "rejects.csv"
    # An older report of ours (any other file is replaced only with --force, see
    # test_one_path_one_role.py), readable by all: the new one is 0600.
    report.write_bytes("\ufeffrow,member_key,column,reason\r\n1,old,,old\r\n".encode())
    report.chmod(0o644)
    result = _run(str(SAMPLE_CSV), "--as-of", "2026-12-01", "--report", str(report))
    assert result.exit_code == 1
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    data = report.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads it
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == ["row", "member_key", "column", "reason"]
    assert [(r["row"], r["member_key"], r["column"]) for r in rows] == [
        ("36", "0012-000104-03", "生年月日"),
        ("37", "0078-000401-02", "資格確認書交付日"),
        ("38", "0012-000101-01", ""),
        ("39", "0090-000599-01", "枝番"),
        ("40", "0034-000204-00", "郵便番号"),
        ("41", "0034-000204-01", ""),
    ]
    assert "2024-12-02" in rows[1]["reason"]
    assert "3" in rows[2]["reason"]
    assert "被保険者(枝番00)の行がありません" in rows[3]["reason"]


def test_writes_nothing_but_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roster = _write(tmp_path / "r.csv", GOOD)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    result = _run(str(roster))
    assert result.exit_code == 0, result.output
    assert os.listdir(work) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "r.csv"]


def _assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error:")
    for fragment in fragments:
        assert fragment in lines[0]


def test_unusable_files_exit_2_with_one_line(tmp_path: Path) -> None:
    missing_col = tmp_path / "nocol.csv"
    missing_col.write_text(HEADER.replace("生年月日,", "") + "\n" + GOOD[0], encoding="utf-8")
    _assert_one_line_error(_run(str(missing_col)), "生年月日")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _assert_one_line_error(_run(str(empty)), "empty")
    header_only = _write(tmp_path / "h.csv", [])
    _assert_one_line_error(_run(str(header_only)), "no data rows")
    _assert_one_line_error(_run(str(tmp_path / "absent.csv")), "absent.csv")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    _assert_one_line_error(_run(str(pdf)), "not a CSV or xlsx")
    _assert_one_line_error(_run(str(SAMPLE_XLSX), "--sheet", "Sheet9"), "名簿")


def test_bad_as_of_is_a_usage_error() -> None:
    result = _run(str(SAMPLE_CSV), "--as-of", "令和7年2月30日")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "2月30日" in result.stderr


def test_real_subprocess_on_the_sample() -> None:
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "kenpo-docs"), "check", "samples/roster.csv",
         "--as-of", "2026-12-01"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("samples/roster.csv (cp932), as of 2026-12-01")
    assert "rows: 40  members: 34  households: 14  rejected rows: 6" in proc.stdout
    assert "Traceback" not in proc.stderr
