"""Read a CSV or xlsx file into rows of raw cell values: the file layer under the roster.

Rosters come from Excel, so the encodings are Excel's: UTF-8 (with or without BOM) or CP932,
each tried strictly, and anything else (UTF-16, binary data that happens to decode) refused
with the file named. ``.xlsx`` is read with openpyxl in read-only, values-only mode; date
cells arrive as ``datetime``, numbers as ``int``/``float``, so the roster can tell a numeric
cell that lost its leading zeros from text.

An ``.xlsx`` is a zip of XML parts, and nothing in it is decompressed before its zip directory
has been checked against the bounds below (a zip bomb is a small file that expands to
gigabytes). The directory can be trusted for that: Python's zipfile never returns more bytes
for a member than its directory entry declares (CPython ``Lib/zipfile.py``,
``ZipExtFile._read1``: ``data = data[:self._left]``, where ``_left`` starts at the entry's
``file_size``), reads no more compressed bytes than ``compress_size`` (``_read2``), and raises
``BadZipFile`` when the CRC does not match at that end (``_update_crc``); openpyxl reads every
part through zipfile. A workbook that openpyxl cannot read (broken XML in any part, damaged
data, not a workbook at all) is refused in one line that names the part, never the cell
values (:func:`_broken`).
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO
from xml.parsers import expat

from kenpo_docs.errors import RosterError
from kenpo_docs.input.textfile import Record, csv_records

Table = list[tuple[int, list[object]]]  # (spreadsheet row number, cells), header row included


# Cells longer than this are refused (the row is rejected): no name or address is this long,
# and a megabyte cell must not reach the layout engine.
MAX_CELL_CHARS = 500
#: Rows at the top of a sheet where the header is looked for (a title row, a date, blank
#: rows above the header are Excel habits); see columns.find_header.
HEADER_LINES = 10
# Encrypted Office documents are OLE containers with these stream names (MS-OFFCRYPTO 2.3.4).
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
# Bounds on an .xlsx, checked on its zip directory before any part is decompressed. A roster
# of 200,000 rows saved with inline strings (openpyxl) unpacks to 220 MB (15 MB file, read in
# about 50 s with a peak of 0.8 GB); Excel's shared strings make it smaller.
MAX_XLSX_UNCOMPRESSED = 256 * 1024 * 1024  # all parts together, as the directory declares them
# Deflate of real sheets: 11-31:1 (a roster of near-identical rows 17:1, a million formatted
# empty rows 31:1); 300 MB of one repeated letter compresses 1,000:1.
MAX_XLSX_RATIO = 100  # uncompressed : compressed, for each part bigger than ...
XLSX_RATIO_FLOOR = 1024 * 1024  # ... this (small parts cannot hurt, whatever their ratio)
# zipfile builds an object per directory entry (about 600 bytes each): a file of millions of
# empty entries would take gigabytes before any bound above is looked at. 1 MiB of directory
# is some 20,000 entries; a workbook has tens.
MAX_XLSX_DIRECTORY = 1024 * 1024
_MIB = 1024 * 1024
# The parts a workbook is read from, in the order openpyxl reads them: when it fails, the first
# of these that is damaged or not well-formed is named (then the sheets, then the rest).
_XLSX_PART_ORDER = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                    "xl/_rels/workbook.xml.rels", "docProps/core.xml", "xl/styles.xml",
                    "xl/sharedStrings.xml")
_UNREADABLE_XLSX = "Excel ファイルとして読めません"

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

    The whole table in memory: :func:`iter_table` reads it row by row.
    """
    encoding, rows = iter_table(path, sheet=sheet)
    return encoding, list(rows)


def iter_table(path: Path, *, sheet: str | None = None) -> tuple[str, Iterator[Record]]:
    """Return (encoding, rows) with the header row, the rows read as they are asked for (a
    roster of a million rows is never held whole); encoding is "xlsx" for workbooks. What
    can be checked before the first row (the file's kind, its encoding, a workbook's zip
    directory) is checked before this returns.

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
    return csv_records(path, header_lines=HEADER_LINES)


def _is_encrypted_office(path: Path) -> bool:
    """An OLE file holding an ``EncryptedPackage`` stream: a password-protected xlsx/docx."""
    try:
        with path.open("rb") as fh:
            return _ENCRYPTED_STREAM in fh.read(4 * 1024 * 1024)
    except OSError:
        return False


def _load_xlsx(path: Path, sheet: str | None) -> Iterator[Record]:
    """Read a workbook's sheet, within the bounds, or refuse it in one line (RosterError).

    The file is opened once: the bytes checked are the bytes openpyxl reads. The zip
    directory is checked now; the rows are read as they are asked for (openpyxl's read-only
    mode streams the sheet's XML), except in a workbook with formulas or merged cells, whose
    sheet is read whole to mark them (:func:`_mark_formulas_and_merges`).
    """
    fh = path.open("rb")
    try:
        directory = _directory_size(fh)
        if directory is not None and directory > MAX_XLSX_DIRECTORY:
            raise RosterError(
                f"{_UNREADABLE_XLSX}: zip の目次が大きすぎます (部品が多すぎます) "
                f"(not a usable xlsx: the zip directory is {_size(directory)}, over the limit "
                f"of {_size(MAX_XLSX_DIRECTORY)}: far more parts than a workbook has)",
                file=path,
            )
        try:
            archive = zipfile.ZipFile(fh)
        except Exception as exc:  # BadZipFile, or whatever a damaged directory leads to
            raise RosterError(
                f"{_UNREADABLE_XLSX}: 途中で切れているか壊れています。元のファイルから保存し直して"
                "ください (not a readable xlsx: truncated or damaged zip)",
                file=path,
            ) from exc
        try:
            _check_bounds(archive, path)
        except BaseException:
            archive.close()
            raise
    except BaseException:
        fh.close()
        raise
    return _xlsx_rows(fh, archive, sheet, path)


def _xlsx_rows(fh: IO[bytes], archive: zipfile.ZipFile, sheet: str | None,
               path: Path) -> Iterator[Record]:
    with fh, archive:
        try:
            yield from _read_workbook(fh, archive, sheet, path)
        except RosterError:
            raise
        except OSError as exc:
            raise RosterError(f"cannot read the file: {exc.strerror or exc}",
                              file=path) from exc
        except Exception as exc:
            # openpyxl has no error type of its own: broken XML raises lxml's or
            # ElementTree's syntax errors, a damaged part zipfile's or zlib's errors, and
            # parts that are well-formed but not what a workbook holds whatever its
            # descriptors raise (TypeError, ValueError, KeyError, IndexError...). All of
            # them are this file's problem; _broken finds the part to name.
            raise _broken(archive, path, exc) from exc


def _directory_size(fh: IO[bytes]) -> int | None:
    """The size of the zip's central directory as its end record declares it (a ZIP64 record
    included), found the way zipfile finds it (``_EndRecData``), or None without an end record
    (zipfile then says the file is no zip)."""
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    if size < 22:
        return None
    fh.seek(size - 22)
    end = fh.read(22)
    at = size - 22
    if not (end[:4] == b"PK\x05\x06" and end[-2:] == b"\x00\x00"):  # no comment: the usual
        start = max(0, size - 22 - (1 << 16))
        fh.seek(start)
        tail = fh.read()
        found = tail.rfind(b"PK\x05\x06")
        if found < 0 or len(tail) - found < 22:
            return None
        at = start + found
        end = tail[found:found + 22]
    (declared,) = struct.unpack_from("<I", end, 12)
    if at >= 20 + 56:  # ZIP64: a locator just before the end record, its record before that
        fh.seek(at - 20 - 56)
        zip64 = fh.read(56 + 20)
        if zip64[56:60] == b"PK\x06\x07" and zip64[:4] == b"PK\x06\x06":
            (declared,) = struct.unpack_from("<Q", zip64, 40)
    return int(declared)


def _check_bounds(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse a zip bomb, and a zip that is no workbook, from the directory alone."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if (info.file_size > XLSX_RATIO_FLOOR
                and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1)):
            ratio = info.file_size // max(info.compress_size, 1)
            name = _shown(info.filename)
            raise RosterError(
                f"{_UNREADABLE_XLSX}: {name} は展開すると {_size(info.file_size)} になります "
                f"(圧縮率 {ratio}:1)。ZIP 爆弾の疑いがあります (not a usable xlsx: {name}: "
                f"{_size(info.file_size)} from {_size(info.compress_size)}, a ratio of "
                f"{ratio}:1, over the {MAX_XLSX_RATIO}:1 limit; possibly a zip bomb)",
                file=path,
            )
    if total > MAX_XLSX_UNCOMPRESSED:
        raise RosterError(
            f"{_UNREADABLE_XLSX}: 展開すると {_size(total)} になり、上限の "
            f"{_size(MAX_XLSX_UNCOMPRESSED)} を超えます。名簿を分けてください (not a usable "
            f"xlsx: it unpacks to {_size(total)}, over the limit of "
            f"{_size(MAX_XLSX_UNCOMPRESSED)}; split the roster)",
            file=path,
        )
    if "[Content_Types].xml" not in archive.namelist():
        raise RosterError(
            "Excel (.xlsx) のブックではありません (zip ファイルです) "
            "(not an xlsx workbook: a zip archive without [Content_Types].xml)",
            file=path,
        )


def _size(n: int) -> str:
    mb = n / _MIB
    if mb >= 10:
        return f"{mb:.0f} MB"
    if mb >= 0.1:
        return f"{mb:.1f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def _shown(name: str) -> str:
    """A part's name as it may appear in a one-line message: printable, at most 80 characters
    (names come from the file, which may be hostile)."""
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _read_workbook(fh: IO[bytes], archive: zipfile.ZipFile, sheet: str | None,
                   path: Path) -> Iterator[Record]:
    import openpyxl

    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation extensions, conditional
        # formats); cell values are unaffected, so those warnings are not the user's concern.
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    try:
        if not book.worksheets:
            raise RosterError(f"{_UNREADABLE_XLSX}: シートがありません "
                              "(no worksheet in the workbook)", file=path)
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
        title = ws.title
        marked = _has_formulas_or_merges(archive)
        rows = _sheet_rows(ws.iter_rows(values_only=True))
        if not marked:
            yield from rows
            return
        table: Table = list(rows)
    finally:
        book.close()
    _mark_formulas_and_merges(fh, title, table)
    yield from table


def _sheet_rows(cells: Iterator[tuple[object, ...]]) -> Iterator[Record]:
    """The sheet's rows, numbered; openpyxl's warnings are silenced while it reads each row
    only (a filter held across a ``yield`` would silence the caller's warnings too)."""
    number = 0
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = next(cells, None)
        if values is None:
            return
        number += 1
        yield number, [_excel_value(v) for v in values]


def _excel_value(value: object) -> object:
    """An Excel error result (#REF!, #N/A ...) becomes an :class:`Unreadable` cell."""
    if isinstance(value, str) and value in _EXCEL_ERRORS:
        return Unreadable(f"数式の結果がエラー {value} です (formula error {value})")
    return value


class _Doctype(Exception):
    """A part declares a DTD: the Open Packaging Conventions forbid them (ECMA-376 Part 2, XML
    usage), Excel never writes one, and entities are how XML bombs work."""


def _broken(archive: zipfile.ZipFile, path: Path, exc: Exception) -> RosterError:
    """What is wrong with a workbook openpyxl could not read, naming the part.

    Every part is read again (within the bounds already checked): the first whose data is
    damaged, or that is XML and not well-formed, is named with the line and column. When every
    part is sound, the workbook holds something openpyxl does not accept, and the error's type
    is named. Parser messages are not repeated: they can quote the file's text.
    """
    def order(info: zipfile.ZipInfo) -> tuple[int, str]:
        name = info.filename
        if name in _XLSX_PART_ORDER:
            return _XLSX_PART_ORDER.index(name), name
        return len(_XLSX_PART_ORDER) + (not name.startswith("xl/worksheets/")), name

    for info in sorted(archive.infolist(), key=order):
        problem = _part_problem(archive, info)
        if problem is not None:
            return RosterError(f"{_UNREADABLE_XLSX}: {problem}", file=path)
    return RosterError(
        f"{_UNREADABLE_XLSX}: Excel のブックの形式に合いません。Excel で開いて保存し直してください "
        f"(not a valid xlsx workbook: {type(exc).__name__})",
        file=path,
    )


def _part_problem(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """Why one part cannot be read (damaged data, XML not well-formed, a DTD), or None."""
    name = _shown(info.filename)
    parser = None
    if info.filename.endswith((".xml", ".rels")):
        parser = expat.ParserCreate()

        def doctype(*_: object) -> None:
            raise _Doctype

        parser.StartDoctypeDeclHandler = doctype
    try:
        with archive.open(info) as member:
            while chunk := member.read(_MIB):
                if parser is not None:
                    parser.Parse(chunk, False)
            if parser is not None:
                parser.Parse(b"", True)
    except _Doctype:
        return (f"{name} に DTD (実体の宣言) があります。Excel はこれを書きません "
                f"(XML with a DTD in {name}: Excel never writes one)")
    except expat.ExpatError as exc:
        return (f"{name} の XML が壊れています。Excel で開いて保存し直してください "
                f"(broken XML in {name}, line {exc.lineno}, column {exc.offset + 1})")
    except Exception as exc:  # reading the part failed: name it, whatever zipfile raised
        why = ("CRC mismatch" if isinstance(exc, zipfile.BadZipFile)
               else "bad compressed data" if isinstance(exc, zlib.error)
               else "data ends early" if isinstance(exc, EOFError)
               else "unsupported compression" if isinstance(exc, NotImplementedError)
               else "encrypted part" if isinstance(exc, RuntimeError)
               else type(exc).__name__)
        return f"{name} のデータが壊れています (damaged data in {name}: {why})"
    return None


def _has_formulas_or_merges(archive: zipfile.ZipFile) -> bool:
    """Cheap look into the sheets' XML, so plain workbooks are read only once (streamed: a
    sheet is not held in memory)."""
    needles = (b"<f>", b"<f ", b"<mergeCell ")
    for info in archive.infolist():
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            with archive.open(info) as member:
                tail = b""
                while chunk := member.read(_MIB):
                    window = tail + chunk
                    if any(needle in window for needle in needles):
                        return True
                    tail = window[-16:]
    return False


def _mark_formulas_and_merges(fh: IO[bytes], title: str, table: Table) -> None:
    """Formulas without a saved result and merged cells become :class:`Unreadable` cells.

    openpyxl's values-only read gives a formula's cached result, which Excel saves; a file
    written by a program that never calculated it has none, and a blank would silently stand
    for the value. A merged range keeps its value in the top-left cell only; guessing which
    rows it was meant for is not ours to do, so the other cells say "merged".
    """
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(fh, read_only=False, data_only=False)
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
