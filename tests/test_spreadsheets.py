"""The typed Excel tables (kenpo_docs.spreadsheets), read back with openpyxl: keys stay text
with their leading zeros, dates are date cells, stamps are in Japan time, a formula-looking
text stays text, files are 0600 and only our own tables are replaced."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.japantime import to_japan_time
from kenpo_docs.spreadsheets import (
    DATE,
    DATETIME,
    INT,
    NUMBER,
    WAREKI_FORMAT,
    Column,
    refuse_foreign_table,
    write_table,
    write_xlsx,
    xlsx_bytes,
)

COLUMNS = (Column("row", INT), Column("記号"), Column("番号"), Column("piece_id"),
           Column("as_of", DATE), Column("updated", DATETIME), Column("weight_g", NUMBER))


def _sheet(path: Path) -> list[list[openpyxl.cell.Cell]]:
    return [list(r) for r in openpyxl.load_workbook(path).active.iter_rows()]


def test_keys_stay_text_dates_are_dates_stamps_are_japan_time(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", COLUMNS, [
        (2, "0012", "000101", "B-20261201-0001", "2026-12-01", "2026-12-05T15:30:00+00:00",
         12.5),
        ("3", "0100", "007", "x", dt.date(2027, 1, 4), None, ""),
    ])
    assert path.stat().st_mode & 0o777 == 0o600
    head, first, second = _sheet(path)
    assert [c.value for c in head] == [c.name for c in COLUMNS]
    assert all(c.font.b for c in head)
    row, kigo, bango, piece, as_of, updated, weight = first
    assert (row.value, row.data_type) == (2, "n")
    assert (kigo.value, kigo.data_type) == ("0012", "s")
    assert (bango.value, bango.data_type) == ("000101", "s")
    assert piece.value == "B-20261201-0001"
    assert as_of.is_date and as_of.value.date() == dt.date(2026, 12, 1)
    assert as_of.number_format == "yyyy-mm-dd"
    # 2026-12-05 15:30 UTC is 2026-12-06 00:30 in Tokyo (UTC+9, no summer time)
    assert updated.is_date and updated.value == dt.datetime(2026, 12, 6, 0, 30)
    assert weight.value == 12.5
    assert second[0].value == 3 and second[1].value == "0100"
    assert second[4].value.date() == dt.date(2027, 1, 4)
    assert second[5].value is None and second[6].value is None


def test_header_frozen_filtered_and_widths_fit(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", (Column("reason"), Column("n", INT)),
                      [("資格喪失日が基準日以前", 1)])
    ws = openpyxl.load_workbook(path).active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B1"
    assert ws.column_dimensions["A"].width >= 22  # eleven full-width characters count two


@pytest.mark.parametrize("value", ["=1+1", "+81-3-5216", "-2+3", "@SUM(A1)", "\t=1",
                                   '=HYPERLINK("http://example.invalid","x")'])
def test_a_formula_looking_text_stays_text(tmp_path: Path, value: str) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", (Column(value), Column("n", INT)), [(value, 1)])
    head, row = _sheet(path)
    assert (head[0].value, head[0].data_type) == (value, "s")
    assert (row[0].value, row[0].data_type) == (value, "s")
    assert row[0].quotePrefix
    assert b"<f>" not in _xml(path)


def _xml(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_control_characters_and_odd_cells_do_not_fail(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", (Column("t"), Column("d", DATE), Column("n", INT)),
                      [("a\x01b", "not a date", "n/a")])
    _, row = _sheet(path)
    assert [c.value for c in row] == ["a\ufffdb", "not a date", "n/a"]


def test_wareki_format_is_a_date_cell(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "t.xlsx", (Column("d", DATE, number_format=WAREKI_FORMAT),),
                      [(dt.date(2026, 12, 1),)])
    _, row = _sheet(path)
    assert row[0].is_date and row[0].number_format == WAREKI_FORMAT


def test_bytes_and_big_tables(tmp_path: Path) -> None:
    rows = ((i, f"{i:06d}") for i in range(5000))  # a generator: streamed, not listed
    data = xlsx_bytes((Column("n", INT), Column("key")), rows)
    (tmp_path / "b.xlsx").write_bytes(data)
    table = _sheet(tmp_path / "b.xlsx")
    assert len(table) == 5001 and table[-1][1].value == "004999"


def test_write_table_by_suffix(tmp_path: Path) -> None:
    cols = (Column("key"), Column("n", INT))
    csv_path = write_table(tmp_path / "t.csv", cols, [("0012", 1)])
    assert csv_path.read_bytes() == "\ufeffkey,n\r\n0012,1\r\n".encode()
    xlsx_path = write_table(tmp_path / "t.XLSX", cols, [("0012", 1)])
    assert _sheet(xlsx_path)[1][0].value == "0012"
    assert oct(os.stat(csv_path).st_mode & 0o777) == oct(0o600)


def test_only_our_own_table_is_replaced(tmp_path: Path) -> None:
    cols = (Column("key"), Column("n", INT))
    ours = write_xlsx(tmp_path / "ours.xlsx", cols, [("1", 1)])
    refuse_foreign_table(ours, cols, option="--xlsx")  # a rerun replaces its own table
    with pytest.raises(KenpoDocsError, match="--xlsx"):
        refuse_foreign_table(ours, (Column("other"),), option="--xlsx")  # another kind
    book = openpyxl.Workbook()
    book.save(tmp_path / "theirs.xlsx")
    with pytest.raises(KenpoDocsError, match="--force"):
        refuse_foreign_table(tmp_path / "theirs.xlsx", cols, option="--xlsx")
    refuse_foreign_table(tmp_path / "theirs.xlsx", cols, option="--xlsx", force=True)
    (tmp_path / "roster.csv").write_text("a,b\n")
    with pytest.raises(KenpoDocsError):
        refuse_foreign_table(tmp_path / "roster.csv", cols, option="--report")
    refuse_foreign_table(tmp_path / "new.xlsx", cols, option="--xlsx")


def test_japan_time_of_a_known_utc_time() -> None:
    # Independent golden: 15:30 UTC is 00:30 the next day in Tokyo (UTC+9).
    assert to_japan_time("2026-12-05T15:30:00+00:00") == "2026-12-06 00:30"
    assert to_japan_time("2026-12-05T15:30:00Z", seconds=True) == "2026-12-06 00:30:00"
    assert to_japan_time("2026-12-05 15:30:00") == "2026-12-06 00:30"  # no offset: UTC
    assert to_japan_time("") == "" and to_japan_time(None) == ""
    assert to_japan_time("unknown") == "unknown"
