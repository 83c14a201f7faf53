"""Read a CSV or xlsx file into rows of raw cell values: the file layer under the roster.

Rosters come from Excel, so the encodings are Excel's: UTF-8 (with or without BOM) or CP932,
each tried strictly, and anything else (UTF-16, binary data that happens to decode) refused
with the file named. ``.xlsx`` is read with openpyxl in read-only, values-only mode; date
cells arrive as ``datetime``, numbers as ``int``/``float``, so the roster can tell a numeric
cell that lost its leading zeros from text.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

from kenpo_docs.errors import RosterError

Table = list[tuple[int, list[object]]]  # (spreadsheet row number, cells), header row included

# Control characters other than tab/CR/LF, and the private-use characters CP932 bytes 0xA0 and
# 0xFD-0xFF decode to: never in a real roster, always in binary data decoded by luck.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uf8f0-\uf8f3]")


def load_table(path: Path, *, sheet: str | None = None) -> tuple[str, Table]:
    """Return (encoding, rows) with the header row; encoding is "xlsx" for workbooks.

    Raises:
        RosterError: missing file, not a CSV/xlsx, undecodable text, unreadable workbook,
            unknown sheet.
    """
    if not path.is_file():
        raise RosterError("ファイルがありません (file not found)", file=path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise RosterError(f"cannot read the file: {exc.strerror or exc}", file=path) from exc
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return "xlsx", _load_xlsx(path, sheet)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterError(
            "古い Excel 形式 (.xls) は読めません。.xlsx か CSV で保存してください "
            "(old .xls format: save as .xlsx or CSV)",
            file=path,
        )
    if suffix not in (".csv", ".txt", ".tsv"):
        raise RosterError(
            "CSV (.csv) か Excel (.xlsx) ではありません "
            f"(not a CSV or xlsx file: {suffix or 'no suffix'})",
            file=path,
        )
    if sheet is not None:
        raise RosterError("--sheet は .xlsx にだけ使えます (sheet applies to xlsx only)", file=path)
    encoding, text = _decode(path.read_bytes(), path)
    return encoding, _csv_rows(text, path)


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Try UTF-8 with BOM, UTF-8, then CP932, each strictly; refuse anything else."""
    if not data.strip():
        raise RosterError("ファイルが空です (empty file)", file=path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterError(
            "UTF-16 は読めません。UTF-8 か CP932 (Shift_JIS) の CSV で保存してください "
            "(UTF-16 is not supported)",
            file=path,
        )
    candidates = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "cp932")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_likecell_text(text):
            return encoding, text
    raise RosterError(
        "文字コードが UTF-8 でも CP932 (Shift_JIS) でもありません "
        "(not UTF-8 or CP932 text)",
        file=path,
    )


def _looks_likecell_text(text: str) -> bool:
    """Reject decodes that only 'worked' on binary data (NULs, controls, CP932 strays)."""
    return _NOT_TEXT.search(text.rstrip("\x1a")) is None  # 0x1A: old DOS end-of-file mark


def _csv_rows(text: str, path: Path) -> Table:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text.rstrip("\x1a"), newline=""), delimiter=delimiter)
    rows: Table = []
    try:
        for number, cells in enumerate(reader, start=1):
            rows.append((number, list(cells)))
    except csv.Error as exc:
        raise RosterError(f"CSV として読めません: {exc}", file=path, row=len(rows) + 1) from exc
    return rows


def _load_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation extensions, conditional
            # formats); cell values are unaffected, so those warnings are not the user's concern.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise RosterError(f"Excel (.xlsx) として開けません: {exc}", file=path) from exc
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            names = ", ".join(book.sheetnames)
            raise RosterError(f"シート {sheet!r} がありません (sheets: {names})", file=path)
        # Some writers store a wrong <dimension> (e.g. "A1"); read-only mode would trust it and
        # cut rows and columns off. Forget it and read what is there.
        ws.reset_dimensions()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [
                (number, list(cells))
                for number, cells in enumerate(ws.iter_rows(values_only=True), start=1)
            ]
    finally:
        book.close()


def cell_text(value: object) -> str:
    """A cell as text; numbers without a spurious '.0' (Excel stores 12 as 12.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)
