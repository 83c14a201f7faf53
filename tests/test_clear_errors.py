"""Clear words instead of tracebacks (hardening round 2, item 10): a full disk names the file
it stopped at and says what to do; a reader that goes away (``| head``) ends us quietly."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import EXIT_BROKEN_PIPE, cli

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "bad"))
import make_bad

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "roster.csv"


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    read, write = os.pipe()
    os.close(read)  # `| head` that has already read its line and left
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kenpo_docs", "check", str(SAMPLE), "--as-of", "2026-12-01"],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == EXIT_BROKEN_PIPE
    assert done.stderr == "", done.stderr  # no "Error: Broken pipe", no traceback


def test_a_failed_write_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write or fsync that fails names no file; the message must."""
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("kenpo_docs.files.os.fsync", full)
    report = tmp_path / "rejects.csv"
    result = CliRunner().invoke(cli, ["check", str(SAMPLE), "--as-of", "2026-12-01",
                                      "--report", str(report)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(report) in lines[0] and "ディスクがいっぱい" in lines[0]
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # the temp file is gone too


@contextlib.contextmanager
def _small_disk(tmp_path: Path, size: str) -> Iterator[Path]:
    where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("a small disk needs `mount -t tmpfs` (root, as in CI); the in-process "
                    "test above covers the message")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_merge_on_a_full_disk_says_which_file_and_what_to_do(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(make_bad.csv_text([make_bad.row(n) for n in range(1, 41)]),
                      encoding="utf-8")
    with _small_disk(tmp_path, "600k") as disk:
        out = disk / "out"
        done = subprocess.run(
            [sys.executable, "-m", "kenpo_docs", "merge", str(roster), "--letter",
             "kakuninsho", "--as-of", "2026-12-01", "--out", str(out),
             "--db", str(tmp_path / "t.sqlite"), "--workers", "1"],
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, done.stderr
        assert f"Error: {out}/" in errors[0] and "ディスクがいっぱい" in errors[0], errors
        temps = [p for p in out.rglob("*.tmp")]
        assert temps == [], temps  # nothing half-written is left


def test_a_refused_merge_says_one_line_and_nothing_else(tmp_path: Path) -> None:
    """The progress bar comes with the first piece: a roster refused as a whole used to print
    a "Rendering" bar above its error line."""
    done = subprocess.run(
        [sys.executable, "-m", "kenpo_docs", "merge", str(tmp_path / "missing.csv"),
         "--letter", "kakuninsho", "--out", str(tmp_path / "out"),
         "--db", str(tmp_path / "t.sqlite")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Error:"), done.stderr
    assert not (tmp_path / "out").exists()
