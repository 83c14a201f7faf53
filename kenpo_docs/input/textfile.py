"""A CSV or tab-separated roster read as a stream: the text layer under :mod:`.tables`.

The file is read twice, a block at a time, and never held whole: the first pass decides the
encoding (UTF-8 with or without BOM, CP932, UTF-16 with its BOM; each tried strictly) and
checks that the text is text (no NUL, few stray control characters), the second hands the
records to :mod:`csv` one by one. Both give the same answers, and the same messages, as
decoding the whole file at once (what this module did before a million-row roster had to fit
in a flat amount of memory): an incremental decoder keeps a character cut by a block's end
for the next block, and reports a character cut by the file's end as the whole-file decode
does ("unexpected end of data").
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path

from kenpo_docs.errors import RosterError

#: One table row: (record number as Excel shows it, cells).
Record = tuple[int, list[object]]

# Control characters other than tab and the line breaks (LF, CR, VT, FF, NEL: a roster folds
# them, see input/cells.py), and the private-use characters CP932 bytes 0xA0 and 0xFD-0xFF
# decode to: never in a real roster, always in binary data decoded by luck.
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\uf8f0-\uf8f3]")
# A few stray control characters in a cell are a bad row (the row is rejected); NUL bytes or
# many of them mean the file is binary data, not a roster.
_BINARY_SHARE = 200  # more than one control character per 200 characters: binary
# A CSV field may be far longer than csv's default limit (128 KiB) so that a huge cell becomes
# a rejected row instead of a "CSV cannot be read" for the whole file.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_BLOCK = 1024 * 1024
_EOF_MARK = "\x1a"  # old DOS end-of-file mark, dropped at the end of the text
_ASCII_SPACE = b" \t\n\r\x0b\x0c"


class _Scan:
    """What the first pass learns of the text in one encoding."""

    def __init__(self) -> None:
        self.chars = 0
        self.strays = 0
        self.nul = False
        self.trailing_eof = 0  # EOF marks at the (current) end of the text
        self.quotes = 0

    def add(self, text: str) -> None:
        if not text:
            return
        self.chars += len(text)
        self.nul = self.nul or "\x00" in text
        self.strays += sum(1 for _ in _NOT_TEXT.finditer(text))
        self.quotes += text.count('"')
        kept = len(text.rstrip(_EOF_MARK))
        if kept:
            self.trailing_eof = len(text) - kept
        else:
            self.trailing_eof += len(text)

    @property
    def kept(self) -> int:
        """Characters of the text without the EOF marks at its end."""
        return self.chars - self.trailing_eof

    def looks_like_text(self) -> bool:
        """Reject decodes that only 'worked' on binary data (NULs, many controls, CP932
        strays). A few control characters in an otherwise textual file are left to the row
        check, which rejects just those rows."""
        if self.nul:
            return False
        return self.strays - self.trailing_eof <= max(2, self.kept // _BINARY_SHARE)


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            yield block


def _scan(path: Path, encoding: str) -> _Scan:
    """Decode the whole file in ``encoding``, strictly, block by block.

    Raises:
        UnicodeDecodeError: as ``bytes.decode`` of the whole file would.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    scan = _Scan()
    for block in _blocks(path):
        scan.add(decoder.decode(block))
    scan.add(decoder.decode(b"", final=True))
    return scan


def decode(path: Path) -> tuple[str, _Scan]:
    """The file's encoding: UTF-8 with BOM, UTF-8, then CP932, each strictly (UTF-16 when it
    starts with its BOM); anything else is refused in one line."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if not any(block.strip(_ASCII_SPACE) for block in _blocks(path)):
        raise RosterError("ファイルが空です (empty file)", file=path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's 「Unicode テキスト」: UTF-16 with its BOM, tab-separated.
        candidates: tuple[str, ...] = ("utf-16",)
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "cp932")
    cut = False
    for encoding in candidates:
        try:
            scan = _scan(path, encoding)
        except UnicodeDecodeError as exc:
            # Valid UTF-8 up to a character cut in half at the very end: a truncated copy.
            cut = cut or (encoding.startswith("utf-8") and exc.reason == "unexpected end of data")
            continue
        if scan.looks_like_text():
            return encoding, scan
    if cut:
        raise RosterError(
            "ファイルが途中で切れています (truncated file: it ends inside a character)", file=path
        )
    raise RosterError(
        "文字コードが UTF-8、CP932 (Shift_JIS)、UTF-16 のどれでもありません "
        "(not UTF-8 or CP932 text, nor UTF-16 with its BOM)",
        file=path,
    )


def _text(path: Path, encoding: str, keep: int) -> Iterator[str]:
    """The file's text, as lines (line ends kept, as ``newline=""`` splits them), without
    the characters after the first ``keep`` (the EOF marks at its end)."""
    with path.open("r", encoding=encoding, errors="strict", newline="") as fh:
        for line in fh:
            if len(line) >= keep:
                if keep:
                    yield line[:keep]
                return
            keep -= len(line)
            yield line


def _delimiter(path: Path, encoding: str, lines: int) -> str:
    # Tab-separated (Excel's テキスト and Unicode テキスト) when the first line with either
    # separator has tabs and no comma; title rows above the header may have neither.
    head = ""
    with path.open("r", encoding=encoding, errors="strict", newline="") as fh:
        while head.count("\n") < lines and (block := fh.read(64 * 1024)):
            head += block
    for line in head.split("\n", lines)[:lines]:
        if "\t" in line or "," in line:
            return "\t" if "," not in line else ","
    return ","


def csv_records(path: Path, *, header_lines: int) -> tuple[str, Iterator[Record]]:
    """(encoding, records) of a CSV or tab-separated file; the encoding and the text are
    checked before this returns, the records are read as they are asked for.

    Raises:
        RosterError: empty, undecodable or binary file now; a record csv cannot read, or a
            quoted cell that never ends (a truncated file), when the records get there.
    """
    encoding, scan = decode(path)
    delimiter = _delimiter(path, encoding, header_lines)
    return encoding, _records(path, encoding, scan, delimiter)


def _records(path: Path, encoding: str, scan: _Scan, delimiter: str) -> Iterator[Record]:
    count = 0
    previous = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        reader = csv.reader(_text(path, encoding, scan.kept), delimiter=delimiter)
        try:
            for cells in reader:
                count += 1
                row: list[object] = list(cells)
                yield count, row  # numbered by record, as Excel shows them
        except csv.Error as exc:
            raise RosterError(f"CSV として読めません (cannot read as CSV): {exc}", file=path,
                              row=count + 1) from exc
    finally:
        csv.field_size_limit(previous)
    if scan.quotes % 2 == 1:  # the text ends inside a quoted field
        raise RosterError(
            "ファイルが途中で切れています: 引用符 \" が閉じていません "
            "(truncated file: a quoted cell never ends)",
            file=path,
            row=count,
        )
