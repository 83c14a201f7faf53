"""Postal preparation for the home route: pieces by postal code, counts per district, postage.

The post-office form (差出票) asks for the number of pieces and the postage; sorting by postal
code and counting per 3-digit district (郵便区番号, the first three digits) is how the counter
staff check a bulk posting. Weights and rates come from ``data/postage.toml``, which staff
keep current (see the comment at its top).
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import csv_bytes, write_atomic

POSTAL_COLUMNS = (
    "piece_id", "postal_code", "district", "pages", "sheets", "weight_g", "class", "postage_yen",
    "status",
)
TEIKEI = "定形"
TEIKEIGAI = "定形外"


@dataclass(frozen=True)
class PostageTable:
    """Weights in grams and rate bands ``(max_g, yen)``, checked in order."""

    sheet_g: float
    envelope_g: float
    duplex: bool
    teikei: tuple[tuple[float, int], ...]
    teikeigai: tuple[tuple[float, int], ...]

    def rate(self, weight_g: float) -> tuple[str, int]:
        """(class, yen) for a piece of ``weight_g``.

        Raises:
            ManifestError: heavier than the last 定形外 band.
        """
        for cls, bands in ((TEIKEI, self.teikei), (TEIKEIGAI, self.teikeigai)):
            for max_g, yen in bands:
                if weight_g <= max_g:
                    return cls, yen
        raise ManifestError(f"a piece of {weight_g:g} g is beyond the postage table")


def _bands(raw: object, name: str, file: Path) -> tuple[tuple[float, int], ...]:
    try:
        bands = tuple((float(b["max_g"]), int(b["yen"])) for b in raw)  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"postage table [[{name}]] needs max_g and yen: {exc}",
                            file=file) from exc
    if not bands or [b[0] for b in bands] != sorted(b[0] for b in bands):
        raise ManifestError(f"postage table [[{name}]] must list bands by rising max_g",
                            file=file)
    return bands


def load_postage(path: str | Path | None = None) -> PostageTable:
    """The weight/rate table from ``data/postage.toml`` (or ``path``)."""
    from kenpo_docs.paths import data_dir

    file = Path(path) if path else data_dir() / "postage.toml"
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"postage table is not valid TOML: {exc}", file=file) from exc
    unknown = set(raw) - {"paper", "teikei", "teikeigai"}
    if unknown:
        raise ManifestError(f"postage table: unknown section(s) {', '.join(sorted(unknown))}",
                            file=file)
    try:
        paper = raw["paper"]
        return PostageTable(
            float(paper["sheet_g"]), float(paper["envelope_g"]), bool(paper.get("duplex", False)),
            _bands(raw.get("teikei", ()), "teikei", file),
            _bands(raw.get("teikeigai", ()), "teikeigai", file),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"postage table [paper] needs sheet_g and envelope_g: {exc}",
                            file=file) from exc


def sheets_for(pages: int, *, duplex: bool) -> int:
    """Sheets of paper a piece of ``pages`` pages takes."""
    return math.ceil(pages / 2) if duplex else pages


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
) -> PostalReport:
    """Home-route pieces of ``batch`` (default: the latest) sorted by postal code, with
    weight and postage per piece; ``csv`` also writes them (POSTAL_COLUMNS, 0600)."""
    from kenpo_docs.tracking.db import batch_pieces, latest_batch

    table = table or load_postage()
    batch = batch or latest_batch(db)
    pieces = []
    for p in batch_pieces(db, batch, route="home"):
        weight = round(table.envelope_g + p["sheets"] * table.sheet_g, 1)
        cls, yen = table.rate(weight)
        pieces.append(PostalPiece(p["id"], p["postal_code"] or "", p["pages"], p["sheets"],
                                  weight, cls, yen, p["status"]))
    pieces.sort(key=lambda p: (p.postal_code, p.piece_id))
    result = PostalReport(batch, pieces)
    if csv is not None:
        write_atomic(Path(csv), csv_bytes(POSTAL_COLUMNS, [
            (p.piece_id, p.postal_code, p.district, p.pages, p.sheets, f"{p.weight_g:g}",
             p.cls, p.yen, p.status) for p in pieces
        ]))
    return result
