"""A batch id is one batch (hardening round 2, item 5).

Before: ``--batch-id`` reused with another ``--out`` and other options (``--sort postal``) put
two households under one piece id in the tracking database; with another roster the refusal
came only after the whole render. Now the merge claims the id in the database, with its input
and its folder, before it renders anything.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "bad"))
import make_bad

BATCH = "ONE-BATCH"


def _roster(path: Path, names: dict[int, str] | None = None) -> Path:
    rows = [make_bad.row(n, 郵便番号=f"{900 - n:03d}-0013", 加入区分="任意継続",
                         氏名=(names or {}).get(n, f"試験 太郎{n}"))
            for n in range(1, 7)]
    path.write_text(make_bad.csv_text(rows), encoding="utf-8")
    return path


def _merge(roster: Path, out: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kenpo_docs", "merge", str(roster), "--letter", "kakuninsho",
         "--as-of", "2026-12-01", "--out", str(out), "--db", str(db), "--batch-id", BATCH,
         "--workers", "1", *extra], capture_output=True, text=True, timeout=300)


def _members(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT piece, member_key FROM piece_members "
                            "ORDER BY piece, member_key").fetchall()
    finally:
        conn.close()


@pytest.fixture()
def first(tmp_path: Path) -> tuple[Path, Path, Path]:
    roster = _roster(tmp_path / "roster.csv")
    db = tmp_path / "t.sqlite"
    done = _merge(roster, tmp_path / "a", db)
    assert done.returncode == 0, done.stderr
    return roster, db, tmp_path / "a"


@pytest.mark.parametrize("change", ["--sort postal", "another roster", "same input"])
def test_the_id_of_a_batch_is_refused_for_anything_else_before_rendering(
    first: tuple[Path, Path, Path], tmp_path: Path, change: str
) -> None:
    roster, db, _a = first
    before = _members(db)
    extra: list[str] = []
    if change == "--sort postal":
        extra = ["--sort", "postal"]
    elif change == "another roster":
        roster = _roster(tmp_path / "other.csv", names={3: "別人 三郎"})
    done = _merge(roster, tmp_path / "b", db, *extra)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    words = "別のフォルダ" if change == "same input" else "別の名簿・差込状・基準日・オプション"
    assert words in done.stderr and "--batch-id" in done.stderr
    assert not (tmp_path / "b").exists()  # nothing rendered, not even the folder made
    assert _members(db) == before  # one household per piece id


def test_the_same_command_still_finishes_its_batch(first: tuple[Path, Path, Path]) -> None:
    roster, db, a = first
    next(iter(sorted((a / "pieces").glob("*.pdf")))).unlink()
    done = _merge(roster, a, db)
    assert done.returncode == 0, done.stderr
    assert len(list((a / "pieces").glob("*.pdf"))) == 6
