"""Tables for staff's spreadsheets: typed Excel workbooks (.xlsx), and CSV by the same call.

A CSV opened in Excel loses what the columns mean: 記号 ``0012`` becomes the number 12, a
piece id ``…-0001`` may turn into a date, a date stays text that does not sort. An .xlsx
written here says each column's type, so keys stay text with their leading zeros, dates are
real date cells, counts are numbers and times are in Japan time.

API (stable: the CLI's ``--xlsx`` options and the web page's downloads call it)::

    COLUMNS = (Column("row", INT), Column("member_key"), Column("as_of", DATE),
               Column("updated", DATETIME))
    write_xlsx(path, COLUMNS, rows)             # .xlsx, atomic, 0600
    write_table(path, COLUMNS, rows)            # .xlsx or CSV, by the file name's suffix
    data = xlsx_bytes(COLUMNS, rows)            # the workbook in memory (a web download)
    refuse_foreign_table(path, COLUMNS, option="--xlsx", force=False)
    require_xlsx(path, option="--xlsx")         # an Excel output named .xlsx

* :class:`Column` ``(name, kind=TEXT, *, width=None, number_format=None)``. Kinds:

  - ``TEXT``: the cell is text whatever it looks like (``0012``, ``=1+1``); a text that
    starts like a formula (:data:`kenpo_docs.files.FORMULA_START`) is kept as it is, as a
    text cell with Excel's quote prefix, so a spreadsheet never runs it (the CSV writer's
    apostrophe rule, without changing the value). Characters XML cannot hold (control
    characters from a roster cell) become U+FFFD.
  - ``INT`` and ``NUMBER``: numbers (``""`` and None are empty cells; text that is no
    number stays text).
  - ``DATE``: a real date cell, shown ``yyyy-mm-dd`` (:data:`DATE_FORMAT`; pass
    ``number_format=WAREKI_FORMAT`` for 令和8年12月1日); takes a ``date``, a ``datetime``
    or ISO text; text that is no date stays text (never an error over one odd cell).
  - ``DATETIME``: a database stamp (UTC text or an aware datetime; naive is UTC) as a date
    and time cell in Japan time (:mod:`kenpo_docs.japantime`), ``yyyy-mm-dd hh:mm``.
* The header row is bold and frozen with a filter on it; widths follow the header and the
  first :data:`WIDTH_SAMPLE` rows (a full-width character counts two), at most
  :data:`MAX_WIDTH`.
* Rows are streamed to the file (openpyxl's write-only mode, :func:`write_xlsx`): memory
  does not grow with the table (:func:`xlsx_bytes` holds the finished file, of course).
* The workbook says it is ours (creator ``kenpo-docs``, the column names as keywords), so
  :func:`refuse_foreign_table` lets a rerun replace its own table and refuses anything else
  unless ``force``, as :func:`kenpo_docs.files.refuse_foreign_file` does for CSV.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.files import (
    FORMULA_START,
    atomic_output,
    csv_bytes,
    refuse_foreign_file,
    write_atomic,
)
from kenpo_docs.japantime import in_japan

TEXT = "text"
INT = "int"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
KINDS = (TEXT, INT, NUMBER, DATE, DATETIME)

DATE_FORMAT = "yyyy-mm-dd"
#: Japanese era dates (令和8年12月1日): Excel's era codes (g, e) under the Japanese locale, the
#: form reported to show 令和3年3月4日 in Excel (andersnm/ExcelNumberFormat issue 39). Not
#: used by our tables yet and not checked in a spreadsheet program here (no LibreOffice Calc
#: on the build machine): the tests check the date cell underneath.
WAREKI_FORMAT = '[$-ja-JP]ggge"年"m"月"d"日";@'
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_FORMATS = {TEXT: "@", INT: "0", NUMBER: "General", DATE: DATE_FORMAT,
            DATETIME: DATETIME_FORMAT}

WIDTH_SAMPLE = 200
MAX_WIDTH = 60
CREATOR = "kenpo-docs"
#: Characters an XML 1.0 document cannot hold (openpyxl refuses them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, its kind (:data:`KINDS`), optionally a fixed width
    (characters) and an Excel number format replacing the kind's."""

    name: str
    kind: str = TEXT
    _: KW_ONLY
    width: float | None = None
    number_format: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")

    @property
    def format(self) -> str:
        return self.number_format or _FORMATS[self.kind]


def is_xlsx(path: str | Path) -> bool:
    """Whether ``path`` names an Excel workbook (by its suffix, as staff name files)."""
    return Path(path).suffix.lower() == ".xlsx"


def require_xlsx(path: str | Path, *, option: str) -> None:
    """Refuse an Excel output whose name does not end in .xlsx (Excel would not open it).

    Raises:
        KenpoDocsError: naming the option and the file.
    """
    if not is_xlsx(path):
        raise KenpoDocsError(f"{option}: Excel のファイル名は .xlsx で終えてください "
                             "(the file name must end in .xlsx)", file=str(path))


def _text(value: object) -> str:
    return _ILLEGAL.sub("\ufffd", value if isinstance(value, str) else str(value))


def _typed(column: Column, value: object) -> object:
    """``value`` as the cell ``column`` declares; None for an empty cell."""
    if value is None or value == "":
        return None
    kind = column.kind
    if kind == TEXT:
        return _text(value)
    if kind in (INT, NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                number = float(str(value))
            except ValueError:
                return _text(value)
            value = int(number) if kind == INT and number.is_integer() else number
        return int(value) if kind == INT and float(value).is_integer() else value
    if kind == DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            return _text(value)
    try:  # DATETIME: Excel has no time zones; the cell is the Japan time, as staff read it
        return in_japan(value if isinstance(value, dt.datetime) else str(value)).replace(
            tzinfo=None)
    except ValueError:
        return _text(value)


def _width(value: object) -> int:
    text = value if isinstance(value, str) else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _write(target: IO[bytes], columns: Sequence[Column], rows: Iterable[Sequence[object]],
           sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if not columns:
        raise ValueError("a table needs at least one column")
    book = Workbook(write_only=True)
    book.properties.creator = CREATOR
    book.properties.keywords = _marker(columns)
    ws: Any = book.create_sheet(sheet[:31])
    rows = iter(rows)
    head = [[_typed(c, v) for c, v in zip(columns, row, strict=True)]
            for row in itertools.islice(rows, WIDTH_SAMPLE)]
    for index, column in enumerate(columns, start=1):
        width = column.width
        if width is None:
            sample = [_width(r[index - 1]) for r in head if r[index - 1] is not None]
            if column.kind == DATETIME:
                sample.append(16)
            elif column.kind == DATE:
                sample.append(10 if column.number_format is None else 16)
            width = min(MAX_WIDTH, max([_width(column.name), *sample]) + 2)
        ws.column_dimensions[_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{_column_letter(len(columns))}1"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=_text(column.name))
        cell.data_type = "s"  # a column name echoed from a roster is never a formula
        cell.font = bold
        header.append(cell)
    ws.append(header)

    def cells(values: list[object]) -> list[object]:
        out: list[object] = []
        for column, value in zip(columns, values, strict=True):
            if value is None:
                out.append(None)
                continue
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl reads "=…" as a formula: never ours
                if value.startswith(FORMULA_START):
                    cell.quotePrefix = True
            cell.number_format = column.format if not isinstance(value, str) else "@"
            out.append(cell)
        return out

    for values in head:
        ws.append(cells(values))
    for row in rows:
        ws.append(cells([_typed(c, v) for c, v in zip(columns, row, strict=True)]))
    book.save(target)


def _marker(columns: Sequence[Column]) -> str:
    return _text("\t".join(c.name for c in columns))


def xlsx_bytes(columns: Sequence[Column], rows: Iterable[Sequence[object]], *,
               sheet: str = "kenpo-docs") -> bytes:
    """The workbook as bytes (for a download); ``rows`` line up with ``columns``."""
    buffer = BytesIO()
    _write(buffer, columns, rows, sheet)
    return buffer.getvalue()


def write_xlsx(path: str | Path, columns: Sequence[Column], rows: Iterable[Sequence[object]],
               *, sheet: str = "kenpo-docs") -> Path:
    """Write the workbook to ``path``: streamed through a temp file, fsync, rename, 0600
    (:func:`kenpo_docs.files.atomic_output`). Returns ``path``."""
    path = Path(path)
    with atomic_output(path) as fh:
        _write(fh, columns, rows, sheet)
    return path


def write_table(path: str | Path, columns: Sequence[Column], rows: Iterable[Sequence[object]],
                *, sheet: str = "kenpo-docs") -> Path:
    """An .xlsx when ``path`` ends in .xlsx (:func:`write_xlsx`), else CSV in UTF-8 with BOM
    (:func:`kenpo_docs.files.csv_bytes`, the values as given). Returns ``path``."""
    path = Path(path)
    if is_xlsx(path):
        return write_xlsx(path, columns, rows, sheet=sheet)
    write_atomic(path, csv_bytes([c.name for c in columns], rows))
    return path


def is_our_xlsx(path: str | Path, columns: Sequence[Column]) -> bool:
    """Whether ``path`` is a workbook we wrote with these columns (its document properties)."""
    try:
        with zipfile.ZipFile(path) as zf:
            root = ElementTree.fromstring(zf.read("docProps/core.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return False
    found = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root}
    return found.get("creator") == CREATOR and found.get("keywords") == _marker(columns)


def refuse_foreign_table(path: str | Path, columns: Sequence[Column], *, option: str,
                         force: bool = False) -> None:
    """Refuse to replace an existing file at ``path`` that is not a table of this kind we
    wrote (an .xlsx by its properties, a CSV by its header), unless ``force``.

    Raises:
        KenpoDocsError: naming the option, the file and ``--force``.
    """
    if not is_xlsx(path):
        refuse_foreign_file(path, [c.name for c in columns], option=option, force=force)
        return
    target = Path(path)
    if force or not (target.exists() or target.is_symlink()):
        return
    if not target.is_symlink() and target.is_file() and is_our_xlsx(target, columns):
        return
    raise KenpoDocsError(
        f"{option}: このファイルは既にあり、kenpo-docs が書いた同じ種類の Excel ファイルでは"
        "ありません (exists and is not a workbook of ours): 別のファイル名を指定するか、"
        "上書きしてよければ --force を付けてください",
        file=str(path))
