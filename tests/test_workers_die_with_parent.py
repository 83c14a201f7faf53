"""Killing only the main merge process used to leave its workers running forever, blocked on
the pipe they hold (hardening round 2, item 11). Now they end when it does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "bad"))
import make_bad

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="reads the process table from /proc")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # fields: state, ppid, ...
                found.add(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile (a short-lived helper process)
        return b"resource_tracker"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's reaping is left


def test_killing_the_merge_alone_ends_its_workers(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(make_bad.csv_text([make_bad.row(n) for n in range(1, 401)]),
                      encoding="utf-8")
    merge = subprocess.Popen(
        [sys.executable, "-m", "kenpo_docs", "merge", str(roster), "--letter", "kakuninsho",
         "--as-of", "2026-12-01", "--out", str(tmp_path / "out"),
         "--db", str(tmp_path / "t.sqlite"), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2:
            assert merge.poll() is None, "the merge ended before its workers were seen"
            assert time.monotonic() < deadline
            workers = {pid for pid in _children(merge.pid)
                       if b"resource_tracker" not in _cmdline(pid)}
            time.sleep(0.1)
        time.sleep(1.0)  # the workers are busy with chunks now
        assert all(_alive(pid) for pid in workers)
        merge.send_signal(signal.SIGKILL)
        merge.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "workers outlived the merge"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if merge.poll() is None:
            merge.kill()
