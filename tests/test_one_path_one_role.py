"""An output never replaces an input: ``check R --report R`` kept the report and lost the
roster; ``track report --db D --csv D`` turned the tracking database into a CSV."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

ROSTER = Path(__file__).resolve().parent.parent / "samples" / "roster.csv"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("db")
    merge(ROSTER, options=MergeOptions(letter="kakuninsho", out=folder / "m", workers=1,
                                       as_of=date(2026, 12, 1), db=folder / "t.sqlite"))
    return folder / "t.sqlite"


def test_check_refuses_a_report_over_its_roster(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    shutil.copy(ROSTER, roster)
    link = tmp_path / "link.csv"
    link.symlink_to(roster)
    for report in (roster, link, tmp_path / "." / "roster.csv"):
        result = CliRunner().invoke(cli, ["check", str(roster), "--as-of", "2026-12-01",
                                          "--report", str(report)])
        assert result.exit_code == 2, result.output
        assert "--report names the roster itself" in result.stderr
        assert "Traceback" not in result.output
        assert roster.read_bytes() == ROSTER.read_bytes()


@pytest.mark.parametrize("command", ["report", "postal"])
def test_track_refuses_a_csv_over_its_database(db: Path, command: str) -> None:
    before = db.read_bytes()
    result = CliRunner().invoke(cli, ["track", command, "--db", str(db), "--csv", str(db)])
    assert result.exit_code == 2, result.output
    assert "--csv names the tracking database itself" in result.stderr
    assert db.read_bytes() == before
    ok = CliRunner().invoke(cli, ["track", command, "--db", str(db), "--csv",
                                  str(db.with_name(f"{command}.csv"))])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("kind", ["xlsx", "pdf", "other csv", "link"])
def test_check_never_replaces_a_file_that_is_not_its_report(tmp_path: Path, kind: str) -> None:
    report = tmp_path / ("report.xlsx" if kind == "xlsx" else "report.csv")
    keep = tmp_path / "keep.csv"
    keep.write_bytes("\ufeffname,amount\r\n山田,100\r\n".encode())
    if kind == "xlsx":
        report.write_bytes(b"PK\x03\x04 a workbook")
    elif kind == "pdf":
        report.write_bytes(b"%PDF-1.7 a letter")
    elif kind == "other csv":
        report.write_bytes(keep.read_bytes())
    else:
        report.symlink_to(keep)
    before = report.read_bytes()
    args = ["check", str(ROSTER), "--as-of", "2026-12-01", "--report", str(report)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2, refused.output
    assert "--force" in refused.stderr and "Traceback" not in refused.output
    assert report.read_bytes() == before and keep.read_bytes().startswith(b"\xef\xbb\xbfname")
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code in (0, 1), forced.output
    if kind == "xlsx":  # a .xlsx --report is written as an Excel workbook
        import openpyxl

        header = next(openpyxl.load_workbook(report).active.iter_rows(values_only=True))
        assert header == ("row", "member_key", "column", "reason")
    else:
        assert report.read_bytes().decode("utf-8-sig").startswith("row,member_key,column,reason")
    assert not report.is_symlink() and keep.read_bytes().startswith(b"\xef\xbb\xbfname")


def test_check_replaces_its_own_report_without_force(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    args = ["check", str(ROSTER), "--as-of", "2026-12-01", "--report", str(report)]
    assert CliRunner().invoke(cli, args).exit_code in (0, 1)
    first = report.read_bytes()
    assert CliRunner().invoke(cli, args).exit_code in (0, 1)
    assert report.read_bytes() == first


@pytest.mark.parametrize("command", ["report", "postal"])
def test_track_never_replaces_a_file_that_is_not_its_csv(
    db: Path, tmp_path: Path, command: str
) -> None:
    target = tmp_path / "totals.csv"
    target.write_bytes("\ufeff部署,金額\r\n総務,100\r\n".encode())
    before = target.read_bytes()
    args = ["track", command, "--db", str(db), "--csv", str(target)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2, refused.output
    assert "--force" in refused.stderr and target.read_bytes() == before
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    again = CliRunner().invoke(cli, args)  # now a CSV of ours: replaced without --force
    assert again.exit_code == 0, again.output
