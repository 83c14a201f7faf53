"""The terminal, for those who keep it: merge's progress (a bar on a terminal, a line per 10 %
in a log, "batch already complete" on a rerun), times in Japan time, the data folder set once
(KENPO_DOCS_DATA or the config file) and --xlsx tables read back with openpyxl.

Expected values come from the sample roster (its keys start 0012, its 資格確認書 dates are
hand-checked in docs/cards.md) and from the calendar (15:30 UTC is 00:30 the next day in
Tokyo, UTC+9 without summer time), never from our output read back against itself.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kenpo_docs import paths
from kenpo_docs.cli import cli
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.mailing.manifest import manifest_xlsx_bytes, write_manifest_xlsx
from kenpo_docs.progress import ProgressMeter, format_seconds
from kenpo_docs.tracking.events import mark

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
AS_OF = "2026-12-01"
BATCH = "TERM-1"
RETURNED_AT = dt.datetime(2026, 12, 5, 15, 30, tzinfo=dt.UTC)
RETURNED_JST = "2026-12-06 00:30"  # the same instant in Tokyo


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------------------------
# The progress meter


def test_a_log_gets_one_line_per_ten_percent() -> None:
    clock, written = _Clock(), []
    meter = ProgressMeter(written.append, tty=False, clock=clock)
    for done in range(0, 201):  # 200 pieces, one a tenth of a second: 10 pieces/s
        meter(done, 200)
        clock.now += 0.1
    lines = "".join(written).splitlines()
    assert len(lines) == 10 and "\r" not in "".join(written)
    assert [line.split()[2] for line in lines] == [f"{p}%" for p in range(10, 101, 10)]
    assert lines[0].startswith("Rendering:  20/200")
    assert "10.0 pieces/s" in lines[0] and "残り 0:18" in lines[0]  # 180 pieces at 10/s
    assert lines[-1].startswith("Rendering: 200/200  100%")


def test_big_steps_say_each_ten_percent_once() -> None:
    written: list[str] = []
    meter = ProgressMeter(written.append, tty=False, clock=_Clock())
    for done in (0, 35, 35, 80, 100):
        meter(done, 100)
    assert [line.split()[1] for line in "".join(written).splitlines()] == [
        "35/100", "80/100", "100/100"]


def test_a_terminal_gets_one_bar_redrawn_in_place() -> None:
    clock, written = _Clock(), []
    meter = ProgressMeter(written.append, tty=True, clock=clock)
    for done in range(0, 51, 5):
        meter(done, 50)
        clock.now += 1
    text = "".join(written)
    assert text.endswith("\n") and text.count("\n") == 1
    bars = [b.rstrip() for b in text.strip("\n").split("\r") if b]
    assert bars[0].startswith("Rendering [....................]   0/50    0%  - pieces/s")
    assert bars[-1].startswith("Rendering [####################]  50/50  100%  5.0 pieces/s")
    assert "残り 0:05" in bars[5]  # 25 left at 5 pieces/s
    meter.finish()
    assert "".join(written) == text  # finishing twice ends the line once


def test_a_resumed_batch_counts_only_this_runs_pieces() -> None:
    clock, written = _Clock(), []
    meter = ProgressMeter(written.append, tty=False, clock=clock)
    for done in range(50, 101):  # half was done before: 50 pieces in 25 s now
        meter(done, 100)
        clock.now += 0.5
    lines = "".join(written).splitlines()
    assert [line.split()[2] for line in lines] == ["60%", "70%", "80%", "90%", "100%"]
    assert "2.0 pieces/s" in lines[0] and "残り 0:20" in lines[0]  # 40 left at 2/s


def test_a_finished_batch_shows_no_rate() -> None:
    written: list[str] = []
    for tty in (True, False):
        meter = ProgressMeter(written.append, tty=tty)
        meter(8, 8)
        meter.finish()
        assert meter.already_done and meter.rate is None
    assert written == []


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (59.6, "1:00"), (75, "1:15"),
                                               (3723, "1:02:03")])
def test_time_left_reads_like_a_clock(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def test_merge_in_a_log_prints_a_line_per_ten_percent(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """The CLI's wiring: CliRunner is no terminal, so the merge's calls become lines."""
    from kenpo_docs.mailing import run
    from kenpo_docs.mailing.options import MergeResult

    def fake_merge(roster: object, *, options: object, progress: object,
                   proof_progress: object) -> MergeResult:
        for done in range(21):
            progress(done, 20)  # type: ignore[operator]
        return MergeResult(tmp_path, "B", pieces=20, seconds=2.0)

    monkeypatch.setattr(run, "merge", fake_merge)
    res = CliRunner().invoke(cli, ["merge", str(ROSTER), "--letter", "kakuninsho",
                                   "--out", str(tmp_path / "o"), "--db", str(tmp_path / "t")])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stderr.splitlines() if x.startswith("Rendering:")]
    assert [x.split()[2] for x in lines] == [f"{p}%" for p in range(10, 101, 10)]


# --------------------------------------------------------------------------------------------
# A real batch in a data folder set by KENPO_DOCS_DATA


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding one merged batch (CLI defaults only: --out and --db follow
    KENPO_DOCS_DATA) and one piece returned at a known UTC time."""
    folder = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KENPO_DOCS_DATA", str(folder))
        res = CliRunner().invoke(cli, ["merge", str(ROSTER), "--letter", "kakuninsho",
                                       "--as-of", AS_OF, "--batch-id", BATCH, "--workers", "1"])
    assert res.exit_code == 1, res.output  # the sample roster has rejected rows
    assert (folder / "merge" / "manifest.csv").exists()
    assert (folder / "tracking.sqlite").exists()
    assert "pieces/s" in res.output  # a first run says its rate
    assert "Rendering: 8/8  100%" in res.stderr
    first = f"{BATCH}-00001"
    mark(folder / "tracking.sqlite", "returned", [first], reason="宛所不明", force=True,
         clock=lambda: RETURNED_AT)
    return folder


def test_rerun_of_a_finished_batch_says_so_instead_of_a_rate(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENPO_DOCS_DATA", str(data))
    res = CliRunner().invoke(cli, ["merge", str(ROSTER), "--letter", "kakuninsho",
                                   "--as-of", AS_OF, "--batch-id", BATCH, "--workers", "1"])
    assert res.exit_code == 1, res.output
    assert "この一括処理は完了済みです" in res.stdout and "batch already complete" in res.stdout
    assert "pieces/s" not in res.stdout + res.stderr
    assert "Rendering" not in res.stderr


def _cli(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}  # conftest unset KENPO_DOCS_DATA
    return subprocess.run([sys.executable, "-m", "kenpo_docs", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120, check=False)


def test_track_report_from_another_folder_finds_the_data_folder(data: Path,
                                                                  tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _cli(["track", "report"], cwd=elsewhere, env={"KENPO_DOCS_DATA": str(data)})
    assert done.returncode == 0, done.stderr
    assert "8 pieces" in done.stdout and "returned 1" in done.stdout
    # Japan time, not the database's UTC
    assert RETURNED_JST in done.stdout and "15:30" not in done.stdout
    assert not (elsewhere / "output").exists()
    # the same through the config file, its data relative to the file's folder
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'data = "{os.path.relpath(data, config.parent)}"\n', "utf-8")
    done = _cli(["track", "report"], cwd=elsewhere, env={"KENPO_DOCS_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    assert "8 pieces" in done.stdout
    # without either: output/ here, which holds no database: one line, exit 2
    done = _cli(["track", "report"], cwd=elsewhere,
                env={"KENPO_DOCS_CONFIG": str(tmp_path / "none.toml")})
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_track_show_gives_japan_time(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENPO_DOCS_DATA", str(data))
    res = CliRunner().invoke(cli, ["track", "show", f"{BATCH}-00001"])
    assert res.exit_code == 0, res.output
    assert f"{RETURNED_JST}  returned   宛所不明" in res.output


def test_the_data_folder_is_set_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.data_folder() == Path("output")  # neither set (conftest hides the user's)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("KENPO_DOCS_CONFIG", str(config))
    config.write_text('data = "~/kenpo"\n', "utf-8")
    assert paths.data_folder() == Path.home() / "kenpo"
    assert paths.tracking_db() == Path.home() / "kenpo" / "tracking.sqlite"
    monkeypatch.setenv("KENPO_DOCS_DATA", str(tmp_path / "env"))
    assert paths.data_folder() == tmp_path / "env"  # the variable wins over the file
    monkeypatch.delenv("KENPO_DOCS_DATA")
    for bad in ('data = 3\n', 'data = "x"\ndb = "y"\n', 'data = "unclosed\n'):
        config.write_text(bad, "utf-8")
        with pytest.raises(KenpoDocsError, match=r"config|設定"):
            paths.data_folder()
    res = CliRunner().invoke(cli, ["track", "report"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert str(config) in res.output


# --------------------------------------------------------------------------------------------
# Excel tables


def _table(path: Path) -> tuple[list[str], list[dict[str, openpyxl.cell.Cell]]]:
    rows = list(openpyxl.load_workbook(path).active.iter_rows())
    header = [str(c.value) for c in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_check_writes_rejects_as_xlsx_by_extension_and_option(tmp_path: Path) -> None:
    report, xlsx = tmp_path / "rejects.xlsx", tmp_path / "also.xlsx"
    res = CliRunner().invoke(cli, ["check", str(ROSTER), "--as-of", AS_OF,
                                   "--report", str(report), "--xlsx", str(xlsx)])
    assert res.exit_code == 1, res.output
    for path in (report, xlsx):
        assert path.stat().st_mode & 0o777 == 0o600
        header, rows = _table(path)
        assert header == ["row", "member_key", "column", "reason"]
        assert len(rows) == 6  # the summary says "rejected rows: 6"
        assert all(r["row"].data_type == "n" and isinstance(r["row"].value, int) for r in rows)
        keyed = [r["member_key"].value for r in rows if r["member_key"].value]
        assert keyed and all(isinstance(k, str) for k in keyed)
        assert any(k.startswith("00") for k in keyed)  # 記号 0012: the zeros survive
    again = CliRunner().invoke(cli, ["check", str(ROSTER), "--as-of", AS_OF,
                                     "--xlsx", str(xlsx)])
    assert again.exit_code == 1  # our own workbook is replaced
    wrong = CliRunner().invoke(cli, ["check", str(ROSTER), "--xlsx", str(tmp_path / "r.csv")])
    assert wrong.exit_code == 2 and ".xlsx" in wrong.output
    refused = CliRunner().invoke(cli, ["check", str(ROSTER), "--report",
                                       str(ROOT / "samples" / "roster.xlsx")])
    assert refused.exit_code == 2 and "--force" in refused.output


def test_track_report_and_postal_write_typed_xlsx(data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENPO_DOCS_DATA", str(data))
    path = tmp_path / "report.xlsx"
    res = CliRunner().invoke(cli, ["track", "report", "--xlsx", str(path)])
    assert res.exit_code == 0, res.output
    header, rows = _table(path)
    assert header[:3] == ["piece_id", "batch_id", "seq"] and len(rows) == 8
    assert [r["seq"].value for r in rows] == list(range(1, 9))
    assert rows[0]["piece_id"].value == f"{BATCH}-00001"
    updated = rows[0]["updated (日本時間)"]
    assert updated.is_date and updated.value == dt.datetime(2026, 12, 6, 0, 30)
    assert all(isinstance(r["member_keys"].value, str) for r in rows)
    assert any(r["member_keys"].value.startswith("0012-") for r in rows)
    postal = tmp_path / "postal.xlsx"
    res = CliRunner().invoke(cli, ["track", "postal", "--xlsx", str(postal)])
    assert res.exit_code == 0, res.output
    header, rows = _table(postal)
    assert len(rows) == 4  # 4 home pieces, as the summary says
    assert all(isinstance(r["postal_code"].value, str) and len(r["postal_code"].value) == 7
               for r in rows)
    assert all(r["postage_yen"].value == 110 and r["weight_g"].data_type == "n" for r in rows)
    same = CliRunner().invoke(cli, ["track", "postal", "--xlsx", str(data / "tracking.sqlite")])
    assert same.exit_code == 2 and "Traceback" not in same.output


def test_manifest_as_xlsx(data: Path, tmp_path: Path) -> None:
    out = data / "merge"
    path = write_manifest_xlsx(out, tmp_path / "manifest.xlsx")
    assert path.stat().st_mode & 0o777 == 0o600
    header, rows = _table(path)
    assert header[:2] == ["row", "member_key"]
    first = rows[0]
    assert first["row"].value == 2 and first["member_key"].value == "0012-000101-00"
    expiring = [r for r in rows if r["certificate_expiry"].value is not None]
    assert expiring and all(r["certificate_expiry"].is_date for r in expiring)
    assert all(isinstance(r["pages"].value, int) for r in rows if r["piece_id"].value)
    assert manifest_xlsx_bytes(out)[:2] == b"PK"
    with pytest.raises(KenpoDocsError, match="manifest"):
        write_manifest_xlsx(tmp_path, tmp_path / "m.xlsx")  # no batch there


def test_an_encrypted_batch_run_again_is_complete_too(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENPO_DOCS_DATA", str(tmp_path))
    monkeypatch.setenv("KENPO_DOCS_PASSWORD", "correct horse battery")
    args = ["merge", str(ROSTER), "--letter", "kakuninsho", "--as-of", AS_OF, "--workers",
            "1", "--encrypt", "--no-cards"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1, first.output
    assert "files encrypted" in first.stdout and "pieces/s" in first.stdout
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1, again.output
    assert ": 0 files encrypted" in again.stdout
    assert "この一括処理は完了済みです" in again.stdout and "pieces/s" not in again.stdout
