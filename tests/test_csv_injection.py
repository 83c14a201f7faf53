"""Every CSV we write is safe to open in Excel: a text cell that starts like a formula is
written with a leading apostrophe (OWASP's CSV injection rule), numbers stay numbers, and
the manifest's machine-read columns stay parseable."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from kenpo_docs.files import csv_bytes
from kenpo_docs.input.check import write_report
from kenpo_docs.input.roster import RowError

PACKAGE = Path(__file__).resolve().parent.parent / "kenpo_docs"


def _read(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("value", ["=1+1", "+81-3-5216", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                   '=HYPERLINK("http://example.invalid","x")'])
def test_a_text_starting_like_a_formula_is_written_as_text(value: str) -> None:
    header, row = _read(csv_bytes(("a", value), [(value, "ok")]))
    assert header == ["a", "'" + value]  # column names echoed from a roster too
    assert row == ["'" + value, "ok"]


def test_numbers_dates_and_ordinary_text_are_left_alone() -> None:
    rows = [(-1, 2.5, "0012-000101-00", "workplace:1001", "", None, "令和9年11月30日")]
    (_, row) = _read(csv_bytes(("n", "f", "key", "route", "e", "none", "date"), rows))
    assert row == ["-1", "2.5", "0012-000101-00", "workplace:1001", "", "", "令和9年11月30日"]


def test_the_rejects_report_neutralises_what_a_roster_put_in_it(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    write_report([RowError(row=2, column="=cmd|' /C calc'!A0", reason="@SUM(1+1)",
                           member_key="-1-2-00")], path)
    (_, row) = _read(path.read_bytes())
    assert row == ["2", "'-1-2-00", "'=cmd|' /C calc'!A0", "'@SUM(1+1)"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_every_csv_we_write_goes_through_csv_bytes() -> None:
    """No module writes CSV on its own (that is where the neutralising is)."""
    writers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter") \
                    and isinstance(node.value, ast.Name) and node.value.id == "csv":
                writers.append(path.relative_to(PACKAGE).as_posix())
    assert writers == ["files.py"]
