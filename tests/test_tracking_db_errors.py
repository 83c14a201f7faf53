"""The tracking database when the disk is full, another process holds it, or it is not one
(issue 17, items 8 and 10).

Each case is one line naming the database file, saying what is wrong and what to do, exit 2,
never a traceback. A full disk while the merge records its batch leaves nothing half-recorded,
and the same merge run again (with space) records the batch without rendering anything again.
A database that is only busy is called busy ("run again"), never unusable; reading it (a
report) works while another process writes.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import kenpo_docs.tracking.db as tracking_db
from kenpo_docs.cli import cli
from tests.tracking_roster import HEADER, rows

ROWS = rows("20-3001-00", "20-3002-00", "20-3004-00", "20-3005-00")


def _roster(folder: Path, more: int = 0) -> Path:
    """ROWS, and ``more`` home-route households after them."""
    extra = [f"20,{4100 + i},00,試験 太郎,シケン タロウ,1970-01-01,2010-04-01,,任意継続,"
             "2025-11-30,1000013,東京都千代田区霞が関1丁目3番2号,,,,,," for i in range(more)]
    roster = folder / "roster.csv"
    roster.write_text("\n".join([HEADER, *ROWS, *extra]) + "\n", encoding="utf-8")
    return roster


def _merge(roster: Path, out: Path, db: Path) -> Result:
    return CliRunner().invoke(cli, [
        "merge", str(roster), "--letter", "kakuninsho", "--as-of", "2026-12-01",
        "--out", str(out), "--db", str(db), "--batch-id", "FULL-1", "--workers", "1"])


def _one_error_line(result: Result, db: Path) -> str:
    """The run ended with exit 2 and exactly one line on stderr, naming ``db``."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert str(db) in errors[0]
    return errors[0]


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# A full disk


def _small_pages(db: Path) -> None:
    """A migrated database with 512-byte pages: recording even a small batch needs new ones."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size = 512")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    tracking_db.open_db(db).close()


class _CommitFails(sqlite3.Connection):
    """A connection whose COMMIT of the batch's record meets a full disk, as SQLite reports
    it (the merge's claim of its batch id, before the render, still commits)."""

    recording = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if "INSERT INTO batches" in sql:
            self.recording = True
        if sql.strip().upper() == "COMMIT" and self.in_transaction and self.recording:
            super().execute("ROLLBACK")  # SQLite rolls back on SQLITE_FULL at commit
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


@pytest.mark.parametrize("where", ["while writing", "at the commit"])
def test_a_full_disk_while_recording_is_one_line_and_the_merge_can_be_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str,
) -> None:
    # 40 pieces: several kilobytes of rows, more than the free room of any 512-byte page.
    roster, out, db = _roster(tmp_path, more=36), tmp_path / "out", tmp_path / "t.sqlite"
    _small_pages(db)
    real = sqlite3.connect

    def full_disk(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        if Path(str(database)) != db:
            return real(database, *args, **kwargs)  # type: ignore[arg-type]
        if where == "at the commit":
            kwargs["factory"] = _CommitFails
        conn = real(database, *args, **kwargs)  # type: ignore[arg-type]
        if where == "while writing":  # SQLITE_FULL as soon as the file would grow
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(tracking_db.sqlite3, "connect", full_disk)
    first = _merge(roster, out, db)
    line = _one_error_line(first, db)
    assert "ディスクがいっぱい" in line and "もう一度実行" in line
    monkeypatch.undo()
    assert _count(db, "SELECT count(*) FROM batches") == 0  # nothing half-recorded
    assert _count(db, "SELECT count(*) FROM pieces") == 0
    printed = {p.name: p.read_bytes() for p in (out / "print").glob("*.pdf")}
    assert len(printed) == 2

    again = _merge(roster, out, db)  # space again: the same command finishes the batch
    assert again.exit_code == 0, again.output
    assert _count(db, "SELECT count(*) FROM pieces WHERE batch = 'FULL-1'") == 40
    assert _count(db, "SELECT count(*) FROM events") == 40
    assert {p.name: p.read_bytes() for p in (out / "print").glob("*.pdf")} == printed
    assert not (out / "parts").exists()


def test_no_space_to_create_the_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "new.sqlite"

    def no_space(path: Path) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(tracking_db, "_create_private", no_space)
    result = _merge(_roster(tmp_path), tmp_path / "out", db)
    assert "ディスクがいっぱい" in _one_error_line(result, db)


# --------------------------------------------------------------------------------------------
# Busy: another process holds the write lock past the busy timeout


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A database with one batch of four pieces."""
    db = tmp_path / "t.sqlite"
    assert _merge(_roster(tmp_path), tmp_path / "out", db).exit_code == 0
    return db


@pytest.fixture
def held(recorded: Path) -> Iterator[Path]:
    """``recorded``, with another process holding its write lock (BEGIN EXCLUSIVE)."""
    with subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE')\n"
         "print('locked', flush=True)\n"
         "sys.stdin.read()\n"
         "c.execute('ROLLBACK')\n", str(recorded)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert holder.stdout.readline().strip() == "locked"
            yield recorded
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)


def test_a_locked_database_is_busy_not_broken(
    held: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracking_db, "BUSY_TIMEOUT", 0.3, raising=False)
    piece = "FULL-1-00001"
    result = CliRunner().invoke(cli, ["track", "mark", "printed", piece, "--db", str(held)])
    line = _one_error_line(result, held)
    assert "使用中" in line and "もう一度実行" in line and "壊れていません" in line
    for misleading in ("usable", "使えません", "破損"):
        assert misleading not in line


def test_a_report_reads_while_another_process_writes(
    held: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracking_db, "BUSY_TIMEOUT", 0.3, raising=False)
    result = CliRunner().invoke(cli, ["track", "report", "--db", str(held)])
    assert result.exit_code == 0, result.output
    assert "all batches: 4 pieces" in result.stdout


# --------------------------------------------------------------------------------------------
# Not a database, damaged, not ours to read


def test_a_file_that_is_not_a_database_says_so_and_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "notes.sqlite"
    db.write_bytes(b"these are my notes, not a database\n" * 200)
    for command in (["track", "report"], ["track", "mark", "printed", "FULL-1-00001"]):
        result = CliRunner().invoke(cli, [*command, "--db", str(db)])
        line = _one_error_line(result, db)
        assert "SQLite のデータベースではありません" in line and "--db" in line


def test_a_damaged_database_says_so_and_what_to_do(recorded: Path) -> None:
    with recorded.open("r+b") as fh:  # the schema page, after the 100-byte file header
        fh.seek(100)
        fh.write(b"\xff" * 400)
    result = CliRunner().invoke(cli, ["track", "report", "--db", str(recorded)])
    line = _one_error_line(result, recorded)
    assert "破損" in line and "バックアップ" in line


@pytest.fixture
def not_ours(recorded: Path) -> Iterator[Path]:
    """``recorded`` copied into a folder anyone may use, as a file its owner alone may read;
    the test then acts as another user (root: the effective user 'nobody')."""
    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o777)
        db = folder / "t.sqlite"
        db.write_bytes(recorded.read_bytes())
        db.chmod(0o600 if os.geteuid() == 0 else 0o000)
        yield db
    finally:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()


def test_a_database_we_may_not_read_says_so_and_what_to_do(not_ours: Path) -> None:
    CliRunner().invoke(cli, ["track", "report", "--db", "/nonexistent/x.sqlite"])  # imports
    if os.geteuid() == 0:
        os.seteuid(65534)
    try:
        result = CliRunner().invoke(cli, ["track", "report", "--db", str(not_ours)])
    finally:
        if os.getuid() == 0:
            os.seteuid(0)
    line = _one_error_line(result, not_ours)
    assert "権限がありません" in line and "t.sqlite" in line
