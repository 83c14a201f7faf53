"""``track verify FILE`` checks a print file against the tracking database (issue 17, item 17).

The merge records which print file holds each piece (and each print file's cover sheet), so
verify knows, without a manifest, which envelopes a print file must hold: a piece recorded for
it but missing, and a piece of another print file or another batch, are problems (exit 1). A
file the database does not know is one line, exit 2, pointing at ``--manifest``. Databases
made before the print files were recorded are migrated (the names the merge used then).

Expected values come from the inserter files the merge wrote beside each print file (a
contract of their own), never from the database read back against itself.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader, PdfWriter

from kenpo_docs.cli import cli
from kenpo_docs.tracking.db import MIGRATIONS
from tests.tracking_roster import HEADER, rows

ROWS = rows("20-3001-00", "20-3002-00", "20-3003-00", "20-3004-00", "20-3005-00")


def _merge(roster: Path, out: Path, db: Path, batch: str) -> None:
    result = CliRunner().invoke(cli, [
        "merge", str(roster), "--letter", "kakuninsho", "--as-of", "2026-12-01",
        "--out", str(out), "--db", str(db), "--batch-id", batch, "--workers", "1",
        # one page a piece, no blank back pages: the page numbers below are the letters'
        # (duplex print files are verified in tests/test_duplex.py)
        "--sides", "simplex"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(out of batch A, out of batch B, the one db both are recorded in)."""
    base = tmp_path_factory.mktemp("verifydb")
    roster = base / "roster.csv"
    roster.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    db = base / "t.sqlite"
    _merge(roster, base / "a", db, "VERIFY-A")
    _merge(roster, base / "b", db, "VERIFY-B")
    return base / "a", base / "b", db


def _inserter(out: Path, stem: str) -> list[dict[str, str]]:
    text = (out / "print" / f"{stem}.inserter.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _pages(out: Path, stem: str, piece_id: str) -> list[int]:
    """0-based page indexes of ``piece_id`` in print file ``stem`` (from its inserter file)."""
    row = next(r for r in _inserter(out, stem) if r["piece_id"] == piece_id)
    first = int(row["first_page"]) - 1
    return list(range(first, first + int(row["pages"])))


def _build(path: Path, parts: list[tuple[Path, list[int]]]) -> Path:
    """A PDF of the given pages (source, page indexes), in order."""
    writer = PdfWriter()
    for source, pages in parts:
        reader = PdfReader(source)
        for i in pages:
            writer.add_page(reader.pages[i])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def _verify(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["track", "verify", *args], input=input)


def _rows(result: Result) -> list[list[str]]:
    return [line.split(maxsplit=3) for line in result.stdout.splitlines()[1:-1]]


def test_a_print_file_as_written_verifies_against_the_database(
    batches: tuple[Path, Path, Path],
) -> None:
    a, _b, db = batches
    for pdf in sorted((a / "print").glob("*.pdf")):
        result = _verify(str(pdf), "--db", str(db))
        assert result.exit_code == 0, result.output
        pieces = len(_inserter(a, pdf.stem))  # the cover sheet of a workplace file counts too
        assert f"{pieces} pieces, OK" in result.stdout
        assert f"VERIFY-A の印刷ファイル {pdf.name}（封筒 {pieces} 通）" in result.stderr


def test_a_piece_recorded_for_the_file_but_missing_is_a_problem(
    batches: tuple[Path, Path, Path], tmp_path: Path,
) -> None:
    a, _b, db = batches
    source = a / "print" / "workplace-001.pdf"
    rows = _inserter(a, "workplace-001")
    dropped = rows[-1]["piece_id"]  # the last envelope of the bundle
    keep = [i for r in rows[:-1] for i in _pages(a, "workplace-001", r["piece_id"])]
    tampered = _build(tmp_path / "copy" / "workplace-001.pdf", [(source, keep)])
    result = _verify(str(tampered), "--db", str(db))
    assert result.exit_code == 1, result.output
    assert _rows(result) == [["missing_page", "-", dropped, "piece not in the file (1 pages)"]]
    assert "1 problem(s)" in result.stdout.splitlines()[-1]


def test_a_piece_of_another_batch_or_print_file_is_foreign(
    batches: tuple[Path, Path, Path], tmp_path: Path,
) -> None:
    a, b, db = batches
    source = a / "print" / "home.pdf"
    home = [r["piece_id"] for r in _inserter(a, "home")]
    other_batch = _inserter(b, "home")[0]["piece_id"]
    other_file = _inserter(a, "workplace-002")[1]["piece_id"]  # [0] is the cover
    assert other_batch.startswith("VERIFY-B-") and home[0].startswith("VERIFY-A-")
    parts = [(source, _pages(a, "home", home[0])),
             (b / "print" / "home.pdf", _pages(b, "home", other_batch)),
             (a / "print" / "workplace-002.pdf", _pages(a, "workplace-002", other_file)),
             (source, _pages(a, "home", home[1]))]
    tampered = _build(tmp_path / "home.pdf", parts)
    result = _verify(str(tampered), "--db", str(db))
    assert result.exit_code == 1, result.output
    rows = _rows(result)
    assert [r[:3] for r in rows] == [["foreign_page", "2", other_batch],
                                      ["foreign_page", "3", other_file]]
    assert "別のバッチ VERIFY-B の封筒（印刷ファイル home.pdf）" in rows[0][3]
    assert "同じバッチの別の印刷ファイル workplace-002.pdf の封筒" in rows[1][3]
    # Found by its name in the batch most of its pieces are from (home.pdf is in both).
    assert result.stderr.strip() == ("追跡データベースと照合: バッチ VERIFY-A の印刷ファイル "
                                     "home.pdf（封筒 2 通）")


def test_a_renamed_copy_is_found_by_its_pieces(
    batches: tuple[Path, Path, Path], tmp_path: Path,
) -> None:
    a, _b, db = batches
    copy = tmp_path / "to-the-printer.pdf"
    shutil.copyfile(a / "print" / "workplace-001.pdf", copy)
    result = _verify(str(copy), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "印刷ファイル workplace-001.pdf" in result.stderr
    assert "to-the-printer.pdf という印刷ファイルは記録になく" in result.stderr


def test_a_file_the_database_does_not_know_is_one_line_exit_2(
    batches: tuple[Path, Path, Path], tmp_path: Path,
) -> None:
    a, _b, _db = batches
    empty = tmp_path / "other.sqlite"
    sqlite3.connect(empty).close()
    result = _verify(str(a / "print" / "home.pdf"), "--db", str(empty))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "home.pdf" in line and "--manifest" in line and "Traceback" not in result.output
    missing = _verify(str(a / "print" / "home.pdf"), "--db", str(tmp_path / "none.sqlite"))
    assert missing.exit_code == 2 and "--manifest" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none.sqlite").exists()  # verify never creates a database


def test_manifest_is_for_files_from_elsewhere_and_not_with_db(
    batches: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, _b, db = batches
    monkeypatch.chdir(tmp_path)  # the default --db (output/tracking.sqlite) does not exist here
    pdf, inserter = a / "print" / "home.pdf", a / "print" / "home.inserter.csv"
    alone = _verify(str(pdf), "--manifest", str(inserter))
    assert alone.exit_code == 0, alone.output
    assert not (tmp_path / "output").exists()
    both = _verify(str(pdf), "--manifest", str(inserter), "--db", str(db))
    assert both.exit_code == 2
    (line,) = both.output.strip().splitlines()
    assert "--manifest" in line and "--db" in line


def test_a_database_from_before_print_files_were_recorded_is_migrated(
    batches: tuple[Path, Path, Path], tmp_path: Path,
) -> None:
    a, _b, db = batches
    old = tmp_path / "old.sqlite"
    src, dst = sqlite3.connect(db), sqlite3.connect(old)
    src.backup(dst)
    src.close()
    # Back to schema 1, as kenpo-docs before this change left it.
    dst.executescript("""
        DROP INDEX pieces_by_print_file; DROP INDEX print_files_by_cover;
        DROP TABLE print_files; ALTER TABLE pieces DROP COLUMN print_file;
        DROP TABLE batch_claims;
        PRAGMA user_version = 1;""")
    dst.close()
    assert len(MIGRATIONS) >= 2
    for pdf in sorted((a / "print").glob("*.pdf")):
        result = _verify(str(pdf), "--db", str(old))
        assert result.exit_code == 0, result.output
    conn = sqlite3.connect(old)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        covers = dict(conn.execute(
            "SELECT name, cover FROM print_files WHERE batch = 'VERIFY-A'").fetchall())
    finally:
        conn.close()
    # The names the merge gave print files before they were numbered (workplace-<code>).
    assert covers == {"workplace-W01.pdf": "VERIFY-A-C001", "workplace-W02.pdf": "VERIFY-A-C002",
                      "home.pdf": None}


def test_a_rerun_records_the_same_print_files_once(
    batches: tuple[Path, Path, Path], tmp_path: Path,
) -> None:
    a, _b, db = batches
    copy = tmp_path / "again.sqlite"
    shutil.copyfile(db, copy)

    def held() -> list[tuple[object, ...]]:
        conn = sqlite3.connect(copy)
        try:
            return conn.execute("""SELECT f.name, f.cover, count(p.id) FROM print_files f
                                   LEFT JOIN pieces p ON p.batch = f.batch
                                        AND p.print_file = f.name
                                   WHERE f.batch = 'VERIFY-A' GROUP BY f.name
                                   ORDER BY f.name""").fetchall()
        finally:
            conn.close()

    before = held()
    assert before == [("home.pdf", None, 2), ("workplace-001.pdf", "VERIFY-A-C001", 2),
                      ("workplace-002.pdf", "VERIFY-A-C002", 1)]
    roster = a.parent / "roster.csv"
    # The same command again (a batch id is made in one folder: the rerun is a resume there;
    # the finished batch renders nothing and records itself again).
    _merge(roster, a, copy, "VERIFY-A")
    assert held() == before
