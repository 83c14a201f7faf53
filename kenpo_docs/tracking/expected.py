"""What a print file should hold, from the tracking database (``track verify`` without
``--manifest``).

The merge records which print file holds each piece and each print file's cover sheet
(:func:`kenpo_docs.tracking.record.record_batch`). The piece codes read from a file name its
pieces, so its batch; the print file is the one of that batch with the file's name or, for a
renamed copy, the one holding most of the pieces read (said so in :attr:`Expected.found_by`).
Every piece recorded for that print file is expected (a missing one is a problem), and every
other piece read is foreign, with where it belongs: another print file, another batch, or
nowhere in the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.barcodes.verify import Password, VerifyReport, check_reading, read_pdf
from kenpo_docs.errors import ManifestError
from kenpo_docs.tracking.db import connect

#: Ids per query (SQLite's limit on bound parameters is far above; this keeps queries small).
_CHUNK = 500


@dataclass(frozen=True)
class Expected:
    """The print file a file was matched to, and what the checks need from it."""

    batch: str
    name: str  # the print file's name as the merge wrote it (OUT/print/<name>)
    pieces: dict[str, int | None]  # piece id -> pages (None for a cover sheet: not recorded)
    elsewhere: dict[str, str]  # a piece read but not expected -> where it belongs
    found_by: str  # "name", or "pieces" for a file whose name is not the print file's

    def describe(self, file_name: str) -> str:
        """One line for staff: what the file was checked against."""
        how = "" if self.found_by == "name" else (
            f"（{file_name} という印刷ファイルは記録になく、読めた封筒の多くを含む印刷ファイルと"
            "照合）")
        return (f"追跡データベースと照合: バッチ {self.batch} の印刷ファイル {self.name}"
                f"（封筒 {len(self.pieces)} 通）{how}")


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def expected_for(db: str | Path, file_name: str, piece_ids: Sequence[str]) -> Expected:
    """The pieces the print file ``file_name`` should hold, given the pieces read from it.

    Raises:
        ManifestError: no database at ``db``, no piece code read, or none of the pieces read
            is recorded (a file from elsewhere: check it with ``--manifest``); and, from the
            database, busy, unreadable or damaged (one line each).
    """
    db = Path(db)
    if not db.exists():
        raise ManifestError("追跡データベースがありません。merge で使った --db を指定するか、"
                            "よそで作られたファイルなら --manifest CSV で照合してください",
                            file=db)
    if not piece_ids:
        raise ManifestError(f"{file_name}: どのページからも封筒コードを読めず、追跡データベース"
                            "と照合できません（--dpi 300 を試すか、--manifest CSV で照合して"
                            "ください）")
    ids = list(piece_ids)
    with connect(db, create=False) as conn:
        home: dict[str, tuple[str, str | None]] = {}  # piece id -> (batch, print file)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for pid, batch, name in conn.execute(
                f"SELECT id, batch, print_file FROM pieces WHERE id IN ({marks})", chunk
            ):
                home[pid] = (batch, name)
            for pid, batch, name in conn.execute(
                f"SELECT cover, batch, name FROM print_files WHERE cover IN ({marks})", chunk
            ):
                home[pid] = (batch, name)
        if not home:
            raise ManifestError(
                f"{file_name}: 読めた封筒 {len(ids)} 通のどれも追跡データベースにありません"
                "（別のデータベースなら --db、よそで作られたファイルなら --manifest CSV で照合して"
                "ください）", file=db)
        votes = Counter(where for where in home.values() if where[1] is not None)
        batches = sorted({batch for batch, _ in home.values()})
        named = [
            batch for batch in batches
            if conn.execute("SELECT 1 FROM print_files WHERE batch = ? AND name = ?",
                            (batch, file_name)).fetchone() is not None
        ]
        if named:  # the file's name in the batches read: the one most of its pieces are from
            batch = max(named, key=lambda b: votes.get((b, file_name), 0))
            name, found_by = file_name, "name"
        elif votes:
            (batch, name_or_none), _ = votes.most_common(1)[0]
            name, found_by = str(name_or_none), "pieces"
        else:
            raise ManifestError(
                f"{file_name}: バッチ {batches[0]} の印刷ファイルが追跡データベースに記録されて"
                "いません。同じ merge をもう一度実行すると記録されます（描画はやり直しません）。"
                "または --manifest で印刷ファイルの inserter CSV と照合してください", file=db)
        pieces: dict[str, int | None] = {}
        cover = conn.execute("SELECT cover FROM print_files WHERE batch = ? AND name = ?",
                             (batch, name)).fetchone()
        if cover is not None and cover[0]:
            pieces[cover[0]] = None
        for pid, pages in conn.execute(
            "SELECT id, pages FROM pieces WHERE batch = ? AND print_file = ? ORDER BY seq",
            (batch, name),
        ):
            pieces[pid] = int(pages)
    elsewhere: dict[str, str] = {}
    for pid in ids:
        if pid in pieces:
            continue
        if pid not in home:
            elsewhere[pid] = "追跡データベースにない封筒"
            continue
        other_batch, other_name = home[pid]
        file_part = f"印刷ファイル {other_name}" if other_name else "印刷ファイル不明"
        if other_batch != batch:
            elsewhere[pid] = f"別のバッチ {other_batch} の封筒（{file_part}）"
        else:
            elsewhere[pid] = f"同じバッチの別の{file_part} の封筒"
    return Expected(batch, name, pieces, elsewhere, found_by)


def verify_print_file(
    db: str | Path,
    file: str | Path,
    *,
    dpi: int = 200,
    progress: Callable[[int, int], None] | None = None,
    password: Password | None = None,
) -> tuple[Expected, VerifyReport]:
    """``track verify FILE``: read every page's code and check the file against the print
    file the tracking database says it is (what it was matched to, and the problems).

    Raises:
        AssemblyError, ManifestError: an unreadable file; see :func:`expected_for`.
    """
    reading = read_pdf(file, dpi=dpi, progress=progress, password=password)
    found = expected_for(db, Path(file).name, reading.piece_ids)
    return found, check_reading(reading, found.pieces, elsewhere=found.elsewhere)
