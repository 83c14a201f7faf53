"""The batch folder is ours only when we made it (hardening round 2, items 2 and 6).

Before: a non-empty ``--out`` was taken, its ``parts/`` and ``*.tmp`` files deleted; a
``pieces/`` or ``parts/`` that was a symlink was followed (pieces written into, files deleted
from, the link's target, chmodded 0700); two merges into one folder raced.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "bad"))
import make_bad

AS_OF = "2026-12-01"


def _roster(folder: Path, households: int = 3) -> Path:
    path = folder / "roster.csv"
    rows = [make_bad.row(n, **({"加入区分": "任意継続"} if n % 2 else {}))
            for n in range(1, households + 1)]
    path.write_text(make_bad.csv_text(rows), encoding="utf-8")
    return path


def _merge(roster: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kenpo_docs", "merge", str(roster), "--letter", "kakuninsho",
            "--as-of", AS_OF, "--out", str(out), "--db", str(out.parent / "t.sqlite"),
            "--workers", "1", *extra]


def _run(roster: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_merge(roster, out), capture_output=True, text=True, timeout=300)


def _tree(folder: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every entry under ``folder`` (links not followed): mode and content or link target."""
    found: dict[str, tuple[int, bytes | str]] = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            found[str(path.relative_to(folder))] = (st.st_mode, os.readlink(path))
        elif path.is_file():
            found[str(path.relative_to(folder))] = (st.st_mode, path.read_bytes())
        else:
            found[str(path.relative_to(folder))] = (st.st_mode, "")
    found["."] = (folder.lstat().st_mode, "")
    return found


def _refused(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(lines) == 1 and words in lines[0], done.stderr


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished batch to copy from."""
    folder = tmp_path_factory.mktemp("done")
    out = folder / "out"
    result = _run(_roster(folder), out)
    assert result.returncode == 0, result.stderr
    return out


def test_a_folder_that_is_not_ours_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "parts").mkdir(parents=True)
    (out / "notes.txt").write_text("the user's")
    (out / "parts" / "keep.json").write_text("{}")
    (out / ".draft.abcdefgh.tmp").write_text("looks like ours, is not")
    os.chmod(out / "parts", 0o755)
    before = _tree(out)
    _refused(_run(_roster(tmp_path), out), "空でなく")
    assert _tree(out) == before


def test_an_empty_folder_is_taken_and_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    os.chmod(out, 0o2775)
    assert _run(_roster(tmp_path), out).returncode == 0
    assert (out / "manifest.csv").exists()
    assert out.stat().st_mode & 0o7777 == 0o2775


@pytest.mark.parametrize("name", ["pieces", "parts", "print", "static", "batch.json",
                                  "piece"])
def test_a_link_inside_the_batch_folder_is_never_followed(
    tmp_path: Path, done: Path, name: str
) -> None:
    out = tmp_path / "out"
    shutil.copytree(done, out, symlinks=True)
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o755)
    (victim / "keep.txt").write_text("not yours")
    (victim / "a.pdf").write_bytes(b"%PDF-1.7 not yours")
    if name == "piece":
        piece = sorted((out / "pieces").glob("*.pdf"))[0]
        piece.unlink()
        piece.symlink_to(victim / "a.pdf")
    elif name == "batch.json":
        (victim / "batch.json").write_bytes((out / name).read_bytes())
        (out / name).unlink()
        (out / name).symlink_to(victim / "batch.json")
    else:
        if (out / name).exists():
            shutil.rmtree(out / name)
        (out / name).symlink_to(victim, target_is_directory=True)
    before = _tree(victim)
    _refused(_run(_roster(tmp_path), out), "シンボリックリンク")
    assert _tree(victim) == before


def test_only_the_batch_s_own_scratch_files_are_deleted(tmp_path: Path, done: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(done, out)
    (out / "parts").mkdir(mode=0o700)
    (out / "parts" / "notes.txt").write_text("the user's")
    (out / "print" / ".mine.tmp").write_text("the user's")
    (out / "parts" / ".x.abcdefgh.tmp").write_text("ours: a temp file of a killed run")
    sorted((out / "pieces").glob("*.pdf"))[0].unlink()  # a resume renders again
    assert _run(_roster(tmp_path), out).returncode == 0
    assert (out / "parts" / "notes.txt").read_text() == "the user's"
    assert (out / "print" / ".mine.tmp").read_text() == "the user's"
    assert sorted(p.name for p in (out / "parts").iterdir()) == ["notes.txt"]
    assert len(list((out / "pieces").glob("*.pdf"))) == len(list((done / "pieces").glob("*.pdf")))


def _locked(folder: Path) -> bool:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we got
    return False


def test_a_second_merge_into_a_folder_being_written_stops_at_once(tmp_path: Path) -> None:
    roster = _roster(tmp_path, households=120)
    out = tmp_path / "out"
    first = subprocess.Popen(_merge(roster, out), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _locked(out):
            assert first.poll() is None, "the first merge ended before it was seen writing"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        started = time.monotonic()
        second = _run(roster, out)
        assert time.monotonic() - started < 30
        _refused(second, "別の merge")
        assert first.poll() is None, "the second merge was refused while the first still wrote"
        _out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
    finally:
        with contextlib.suppress(ProcessLookupError):
            first.kill()
    # The first batch is whole: 120 pieces, and a third run (the lock is free again) finds
    # nothing to do.
    assert len(list((out / "pieces").glob("*.pdf"))) == 120
    before = _tree(out)
    third = _run(roster, out)
    assert third.returncode == 0, third.stderr
    assert "120 pieces" in third.stdout
    assert _tree(out) == before
