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
# A few stray control characters in a cell are a bad row (the row is rejected); NUL bytes or
# many of them mean the file is binary data, not a roster.
_BINARY_SHARE = 200  # more than one control character per 200 characters: binary

# Cells longer than this are refused (the row is rejected): no name or address is this long,
# and a megabyte cell must not reach the layout engine.
MAX_CELL_CHARS = 500
# A CSV field may be far longer than csv's default limit (128 KiB) so that a huge cell becomes
# a rejected row instead of a "CSV cannot be read" for the whole file.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
# Encrypted Office documents are OLE containers with these stream names (MS-OFFCRYPTO 2.3.4).
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
# Excel error values, as openpyxl returns them for a formula whose cached result is an error.
_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                           "#GETTING_DATA", "#SPILL!", "#CALC!"})


class Unreadable:
    """A cell whose value cannot be used; ``reason`` says why (the row is rejected)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unreadable({self.reason!r})"

    def __str__(self) -> str:
        return ""


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
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE container: old .xls or encrypted .xlsx
        if _is_encrypted_office(path):
            raise RosterError(
                "パスワードで保護されています。保護を外して保存し直してください "
                "(password-protected workbook: remove the password and save again)",
                file=path,
            )
        raise RosterError(
            "古い Excel 形式 (.xls) は読めません。.xlsx か CSV で保存してください "
            "(old .xls format: save as .xlsx or CSV)",
            file=path,
        )
    if head.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return "xlsx", _load_xlsx(path, sheet)
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


def _is_encrypted_office(path: Path) -> bool:
    """An OLE file holding an ``EncryptedPackage`` stream: a password-protected xlsx/docx."""
    try:
        with path.open("rb") as fh:
            return _ENCRYPTED_STREAM in fh.read(4 * 1024 * 1024)
    except OSError:
        return False


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
    cut = False
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            # Valid UTF-8 up to a character cut in half at the very end: a truncated copy.
            cut = cut or (encoding.startswith("utf-8") and exc.reason == "unexpected end of data")
            continue
        if _looks_likecell_text(text):
            return encoding, text
    if cut:
        raise RosterError(
            "ファイルが途中で切れています (truncated file: it ends inside a character)", file=path
        )
    raise RosterError(
        "文字コードが UTF-8 でも CP932 (Shift_JIS) でもありません "
        "(not UTF-8 or CP932 text)",
        file=path,
    )


def _looks_likecell_text(text: str) -> bool:
    """Reject decodes that only 'worked' on binary data (NULs, many controls, CP932 strays).

    A few control characters in an otherwise textual file are left to the row check, which
    rejects just those rows.
    """
    text = text.rstrip("\x1a")  # 0x1A: old DOS end-of-file mark
    if "\x00" in text:
        return False
    strays = 0
    for _ in _NOT_TEXT.finditer(text):
        strays += 1
        if strays > max(2, len(text) // _BINARY_SHARE):
            return False
    return True


def _csv_rows(text: str, path: Path) -> Table:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text.rstrip("\x1a"), newline=""), delimiter=delimiter)
    rows: Table = []
    previous = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        for cells in reader:
            row: list[object] = list(cells)
            rows.append((len(rows) + 1, row))  # numbered by record, as Excel shows them
    except csv.Error as exc:
        raise RosterError(f"CSV として読めません (cannot read as CSV): {exc}", file=path,
                          row=len(rows) + 1) from exc
    finally:
        csv.field_size_limit(previous)
    if _open_quote(text):
        raise RosterError(
            "ファイルが途中で切れています: 引用符 \" が閉じていません "
            "(truncated file: a quoted cell never ends)",
            file=path,
            row=len(rows),
        )
    return rows


def _open_quote(text: str) -> bool:
    """True when the text ends inside a quoted field (an odd number of quote characters)."""
    return text.count('"') % 2 == 1


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
            table: Table = [
                (number, [_excel_value(v) for v in cells])
                for number, cells in enumerate(ws.iter_rows(values_only=True), start=1)
            ]
        title = ws.title
    finally:
        book.close()
    if _has_formulas_or_merges(path):
        _mark_formulas_and_merges(path, title, table)
    return table


def _excel_value(value: object) -> object:
    """An Excel error result (#REF!, #N/A ...) becomes an :class:`Unreadable` cell."""
    if isinstance(value, str) and value in _EXCEL_ERRORS:
        return Unreadable(f"数式の結果がエラー {value} です (formula error {value})")
    return value


def _has_formulas_or_merges(path: Path) -> bool:
    """Cheap look into the sheets' XML, so plain workbooks are read only once."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    data = archive.read(name)
                    if b"<f>" in data or b"<f " in data or b"<mergeCell " in data:
                        return True
    except (zipfile.BadZipFile, OSError, KeyError):
        return False
    return False


def _mark_formulas_and_merges(path: Path, title: str, table: Table) -> None:
    """Formulas without a saved result and merged cells become :class:`Unreadable` cells.

    openpyxl's values-only read gives a formula's cached result, which Excel saves; a file
    written by a program that never calculated it has none, and a blank would silently stand
    for the value. A merged range keeps its value in the top-left cell only; guessing which
    rows it was meant for is not ours to do, so the other cells say "merged".
    """
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=False, data_only=False)
    try:
        ws = book[title]
        by_row = {number: cells for number, cells in table}

        def mark(r: int, c: int, reason: str) -> None:
            cells = by_row.get(r)
            if cells is None:
                return
            while len(cells) < c:
                cells.append(None)
            if cells[c - 1] is None or reason.startswith("結合"):
                cells[c - 1] = Unreadable(reason)

        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str)
                                             and cell.value.startswith("=")):
                    mark(cell.row, cell.column,
                         "数式の結果が保存されていません。Excel で開いて保存し直してください "
                         "(formula without a saved result: open and save the file in Excel)")
        for merged in ws.merged_cells.ranges:
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    if (r, c) != (merged.min_row, merged.min_col):
                        mark(r, c, "結合セルです。結合を解除して各行に値を入れてください "
                                   "(merged cell: unmerge and fill in every row)")
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
    if isinstance(value, Unreadable):
        return ""
    return str(value)
