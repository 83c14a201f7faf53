"""The manifest (``manifest.csv``, a contract): one line per roster data row, with its fate,
its piece and its page count; :func:`write_manifest_xlsx` / :func:`manifest_xlsx_bytes`
give a finished batch's manifest as an Excel workbook with typed columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from pypdf import PdfReader

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import FORMULA_START, write_csv_atomic
from kenpo_docs.mailing.plan import BatchPlan, PageCounts
from kenpo_docs.mailing.printfiles import INDEX_COLUMNS, INSERTER_COLUMNS
from kenpo_docs.spreadsheets import (
    DATE,
    INT,
    TEXT,
    Column,
    require_xlsx,
    write_xlsx,
    xlsx_bytes,
)

MANIFEST_COLUMNS = (
    "row",
    "member_key",
    "status",
    "reason",
    "piece_id",
    "piece_file",
    "route",
    "certificate_expiry",
    "batch_id",
    "pages",
    "print_file",
)


def page_counts(plan: BatchPlan, pieces_dir: Path) -> PageCounts:
    """Pages per piece: as the workers recorded them (:meth:`BatchPlan.set_pages`), or read
    from pieces done by an earlier run."""
    counts = plan.page_counts()
    found = []
    for piece in plan.index():
        path = pieces_dir / f"{piece.piece_id}.pdf"
        if not path.exists():
            raise ManifestError(f"piece {piece.piece_id} was not written", file=path)
        if piece.piece_id not in counts:
            found.append((piece.piece_id, len(PdfReader(path).pages)))
    plan.set_pages(found)
    return counts


def read_page_counts(out: Path) -> dict[str, int]:
    """Pages per piece as a finished batch's ``manifest.csv`` lists them.

    Raises:
        ManifestError: there is no readable manifest (the batch is not finished).
    """
    path = out / "manifest.csv"
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        return {r["piece_id"]: int(r["pages"]) for r in rows if r["piece_id"]}
    except (OSError, UnicodeDecodeError, KeyError, ValueError) as exc:
        raise ManifestError(f"cannot read the batch's manifest: {exc}", file=path) from exc


def write_manifest(plan: BatchPlan, out: Path, page_counts: Mapping[str, int]) -> None:
    """Write ``manifest.csv``: the plan's outcomes in row order with their pieces' print
    files (joined in the plan's store), written as they are read."""
    def rows() -> Iterator[tuple[object, ...]]:
        for o, print_file in plan.manifest_rows():
            yield (
                o.row,
                o.member_key,
                o.status,
                o.reason,
                o.piece_id,
                f"pieces/{o.piece_id}.pdf" if o.piece_id else "",
                o.route,
                o.certificate_expiry.isoformat() if o.certificate_expiry else "",
                plan.batch_id,
                page_counts.get(o.piece_id, "") if o.piece_id else "",
                f"print/{print_file}.pdf" if o.piece_id else "",
            )

    write_csv_atomic(out / "manifest.csv", MANIFEST_COLUMNS, rows())


#: The manifest's columns typed for Excel (:mod:`kenpo_docs.spreadsheets`): keys and ids text,
#: row and pages numbers, the certificate's expiry a date cell.
MANIFEST_TABLE = tuple(
    Column(name, INT if name in ("row", "pages") else DATE if name == "certificate_expiry"
           else TEXT)
    for name in MANIFEST_COLUMNS
)


def _manifest_rows(out: Path) -> list[list[str]]:
    """The rows of the batch's ``manifest.csv`` as written (see :func:`_csv_rows`)."""
    return _csv_rows(out / "manifest.csv", MANIFEST_COLUMNS, what="manifest")


def _csv_rows(path: Path, header: tuple[str, ...], *, what: str) -> list[list[str]]:
    """The rows of one of the batch's CSV files as written, a text cell's formula guard
    (the apostrophe :func:`kenpo_docs.files.csv_cell` adds) taken off again: the workbook
    keeps such a cell as text by itself."""
    try:
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"),
                                           newline="")))
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read the batch's {what}: {exc}", file=path) from exc
    if not rows or tuple(rows[0]) != header:
        raise ManifestError(f"not a {what} of kenpo-docs (its header differs)", file=path)
    return [[c[1:] if c.startswith("'") and c[1:].startswith(FORMULA_START) else c
             for c in row] for row in rows[1:]]


_COUNTS = ("first_page", "pages", "sheets_simplex", "sheets_duplex", "sheets", "pieces")
#: The print files' control CSVs typed for Excel: counts numbers, ids and codes text.
INSERTER_TABLE = tuple(Column(n, INT if n in _COUNTS else TEXT) for n in INSERTER_COLUMNS)
INDEX_TABLE = tuple(Column(n, INT if n in _COUNTS else TEXT) for n in INDEX_COLUMNS)


def table_xlsx_bytes(out: Path, name: str) -> bytes:
    """A CSV table of the finished batch ``out`` as an Excel workbook (a web download):
    ``manifest.csv``, ``print/index.csv`` or ``print/<file>.inserter.csv``.

    Raises:
        ManifestError: not such a table of the batch, or not readable.
    """
    if name == "manifest.csv":
        return manifest_xlsx_bytes(out)
    if name == "print/index.csv":
        return xlsx_bytes(INDEX_TABLE, _csv_rows(out / name, INDEX_COLUMNS, what="index"),
                          sheet="index")
    if name.startswith("print/") and name.endswith(".inserter.csv") and "/" not in name[6:]:
        return xlsx_bytes(INSERTER_TABLE, _csv_rows(out / name, INSERTER_COLUMNS,
                                                    what="inserter file"), sheet="inserter")
    raise ManifestError(f"not a table of the batch: {name}", file=out)


def manifest_xlsx_bytes(out: Path) -> bytes:
    """The finished batch ``out``'s manifest as an Excel workbook (a web download).

    Raises:
        ManifestError: the batch folder has no readable manifest (not finished).
    """
    return xlsx_bytes(MANIFEST_TABLE, _manifest_rows(out), sheet="manifest")


def write_manifest_xlsx(out: Path, path: Path | None = None) -> Path:
    """Write the finished batch ``out``'s manifest as an Excel workbook, 0600: ``path``, by
    default ``out/manifest.xlsx``. Returns the path written.

    Raises:
        ManifestError: the batch folder has no readable manifest (not finished).
    """
    target = path if path is not None else out / "manifest.xlsx"
    require_xlsx(target, option="manifest")
    return write_xlsx(target, MANIFEST_TABLE, _manifest_rows(out), sheet="manifest")
