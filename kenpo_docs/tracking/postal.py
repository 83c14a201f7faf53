"""Postal preparation for the home route: pieces by postal code, counts per district, postage.

The post-office form (差出票) asks for the number of pieces and the postage; sorting by postal
code and counting per 3-digit district (郵便区番号, the first three digits) is how the counter
staff check a bulk posting. The pieces come from the database (``reports``), weights and
rates from the postage table (``postage``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.files import csv_bytes, refuse_foreign_file, refuse_same_file, write_atomic
from kenpo_docs.spreadsheets import (
    INT,
    NUMBER,
    Column,
    refuse_foreign_table,
    require_xlsx,
    write_xlsx,
)
from kenpo_docs.tracking.postage import PostageTable, load_postage
from kenpo_docs.tracking.reports import batch_pieces, latest_batch

POSTAL_COLUMNS = (
    "piece_id", "postal_code", "district", "pages", "sheets", "weight_g", "class", "postage_yen",
    "status",
)
#: The same columns typed for Excel: postal codes and districts text (leading zeros kept).
POSTAL_TABLE = (
    Column("piece_id"), Column("postal_code"), Column("district"), Column("pages", INT),
    Column("sheets", INT), Column("weight_g", NUMBER), Column("class"),
    Column("postage_yen", INT, number_format="#,##0"), Column("status"),
)


@dataclass(frozen=True)
class PostalPiece:
    piece_id: str
    postal_code: str
    pages: int
    sheets: int
    weight_g: float
    cls: str
    yen: int
    status: str

    @property
    def district(self) -> str:
        return self.postal_code[:3] if self.postal_code else "???"


@dataclass
class PostalReport:
    """The home-route pieces of one batch in postal-code order, with the form's totals."""

    batch: str
    pieces: list[PostalPiece]

    @property
    def districts(self) -> dict[str, int]:
        return dict(sorted(Counter(p.district for p in self.pieces).items()))

    @property
    def by_rate(self) -> dict[tuple[str, int], int]:
        return dict(sorted(Counter((p.cls, p.yen) for p in self.pieces).items()))

    @property
    def total_yen(self) -> int:
        return sum(p.yen for p in self.pieces)

    def lines(self) -> list[str]:
        out = [f"batch {self.batch}: {len(self.pieces)} home pieces, "
               f"postage {self.total_yen:,} yen"]
        for (cls, yen), n in self.by_rate.items():
            out.append(f"  {cls} {yen} yen x {n} = {yen * n:,} yen")
        out.append("by district (first 3 digits of the postal code):")
        out.extend(f"  {d}: {n}" for d, n in self.districts.items())
        return out


def postal_report(
    db: str | Path,
    *,
    batch: str | None = None,
    table: PostageTable | None = None,
    csv: str | Path | None = None,
    xlsx: str | Path | None = None,
    force: bool = False,
) -> PostalReport:
    """Home-route pieces of ``batch`` (default: the latest) sorted by postal code, with
    weight and postage per piece; ``csv`` also writes them (POSTAL_COLUMNS, 0600), ``xlsx``
    as an Excel workbook (POSTAL_TABLE, typed columns)."""
    if csv is not None:
        refuse_same_file(csv, "--csv", tracking_database=db)
        refuse_foreign_file(csv, POSTAL_COLUMNS, option="--csv", force=force)
    if xlsx is not None:
        require_xlsx(xlsx, option="--xlsx")
        refuse_same_file(xlsx, "--xlsx", tracking_database=db, csv=csv)
        refuse_foreign_table(xlsx, POSTAL_TABLE, option="--xlsx", force=force)
    table = table or load_postage()
    batch = batch or latest_batch(db)
    pieces = []
    for p in batch_pieces(db, batch, route="home"):
        weight, cls, yen = table.piece(p["sheets"])
        pieces.append(PostalPiece(p["id"], p["postal_code"] or "", p["pages"], p["sheets"],
                                  weight, cls, yen, p["status"]))
    pieces.sort(key=lambda p: (p.postal_code, p.piece_id))
    result = PostalReport(batch, pieces)
    if csv is not None:
        write_atomic(Path(csv), csv_bytes(POSTAL_COLUMNS, [
            (p.piece_id, p.postal_code, p.district, p.pages, p.sheets, f"{p.weight_g:g}",
             p.cls, p.yen, p.status) for p in pieces
        ]))
    if xlsx is not None:
        write_xlsx(xlsx, POSTAL_TABLE, [
            (p.piece_id, p.postal_code, p.district, p.pages, p.sheets, p.weight_g, p.cls,
             p.yen, p.status) for p in pieces])
    return result
