"""The postage table: paper and envelope weights and Japan Post's rate bands.

Kept apart from the postal report because the merge needs it too: it records each piece's
sheet count (``sheets_for``, simplex or duplex as the batch's ``merge --sides`` says; until
``--sides`` existed the table said it, with ``duplex`` under ``[paper]``, now ignored).
Weights and rates come from ``data/postage.toml``, which staff keep current (see the
comment at its top).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.paths import data_dir

TEIKEI = "定形"
TEIKEIGAI = "定形外"


@dataclass(frozen=True)
class PostageTable:
    """Weights in grams and rate bands ``(max_g, yen)``, checked in order."""

    sheet_g: float
    envelope_g: float
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

    def piece(self, sheets: int) -> tuple[float, str, int]:
        """(weight in g, class, yen) of a piece of ``sheets`` sheets in its envelope."""
        weight = round(self.envelope_g + sheets * self.sheet_g, 1)
        return (weight, *self.rate(weight))


def _bands(raw: object, name: str, file: Path) -> tuple[tuple[float, int], ...]:
    try:
        # ``raw`` is TOML as read: whatever is wrong with it raises an error caught below.
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
            float(paper["sheet_g"]), float(paper["envelope_g"]),
            _bands(raw.get("teikei", ()), "teikei", file),
            _bands(raw.get("teikeigai", ()), "teikeigai", file),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"postage table [paper] needs sheet_g and envelope_g: {exc}",
                            file=file) from exc


def sheets_for(pages: int, *, duplex: bool) -> int:
    """Sheets of paper a piece of ``pages`` pages takes."""
    return math.ceil(pages / 2) if duplex else pages
