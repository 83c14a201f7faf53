"""The vendored fonts, by path, the fallback chain, and what no font of the chain can print.

The renderer uses these files through ``@font-face`` and never whatever fonts the machine
happens to have, so a letter looks the same on every machine. Two families set the text
(BIZ UDPGothic, BIZ UDMincho) and one more, IPAmj Mincho (``ipamjm.ttf``, IPA licence,
vendored), prints the rare name kanji they lack (𠮷 U+20BB7 and the other 文字情報基盤 MJ
characters): every stylesheet names it after the text family (``templates/base/print.css``).
What no face of :data:`CHAIN` covers would fall through to a system font or a .notdef box,
so the roster rejects it (:func:`missing_glyphs`); ``fonts/README.md`` says which font covers
what and under which licence.

Ideographic variation sequences (a base character and a selector, U+FE00-FE0F or
U+E0100-E01EF: 葛󠄀 is U+845B U+E0100) print the selected glyph only when the font that sets the
base character has the sequence in its format-14 cmap: Pango chooses a font by the base
character alone (the first face of the chain that has it) and HarfBuzz drops a selector that
font does not know, so the base glyph would print instead. Such a sequence is reported
as missing, whole.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kenpo_docs.paths import fonts_dir


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    weight: int = 400


GOTHIC = "BIZ UDPGothic"
MINCHO = "BIZ UDMincho"
NAMES = "IPAmjMincho"

_VENDORED = (
    (GOTHIC, "BIZUDPGothic-Regular.ttf", 400),
    (GOTHIC, "BIZUDPGothic-Bold.ttf", 700),
    (MINCHO, "BIZUDMincho-Regular.ttf", 400),
    (NAMES, "ipamjm.ttf", 400),
)

#: The families in the order every stylesheet names them for text that may hold a name:
#: the text family first, then the name font (``font-family: "BIZ UDPGothic", "IPAmjMincho"``).
#: BIZ UDMincho and the bold BIZ UDPGothic have the same cmap and variation sequences as
#: BIZ UDPGothic, so this one chain answers for ``.mincho`` and bold text too.
CHAIN = (GOTHIC, NAMES)


def font_faces() -> list[FontFace]:
    """Every face the renderer declares (all vendored, in ``fonts/``)."""
    return [FontFace(fam, fonts_dir() / name, weight) for fam, name, weight in _VENDORED]


def _chain_paths(families: tuple[str, ...]) -> list[Path]:
    faces = font_faces()
    return [f.path for fam in families for f in faces if f.family == fam and f.weight == 400]


@dataclass(frozen=True)
class _Coverage:
    codepoints: frozenset[int]
    sequences: frozenset[tuple[int, int]]  # (base, selector) pairs of the format-14 cmap


@cache
def _coverage(path: Path) -> _Coverage:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        sequences: set[tuple[int, int]] = set()
        for table in font["cmap"].tables:
            if table.format == 14:
                for selector, pairs in table.uvsDict.items():
                    sequences.update((base, selector) for base, _glyph in pairs)
        return _Coverage(frozenset(font.getBestCmap()), frozenset(sequences))


def is_selector(ch: str) -> bool:
    """A variation selector (VS1-16, U+FE00-FE0F, or VS17-256, U+E0100-E01EF)."""
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def units(text: str) -> list[str]:
    """``text`` cut into what a font must draw: characters, a base with its selector whole."""
    units: list[str] = []
    for ch in text:
        if is_selector(ch) and units and not is_selector(units[-1][-1]):
            units[-1] += ch
        else:
            units.append(ch)
    return units


def _printable(unit: str, paths: list[Path]) -> bool:
    base = ord(unit[0])
    if is_selector(unit[0]):
        return False  # a selector with no base character
    for path in paths:
        coverage = _coverage(path)
        if base in coverage.codepoints:  # Pango sets the base in the first face that has it
            return len(unit) == 1 or (base, ord(unit[1])) in coverage.sequences
    return False


def missing_glyphs(text: str, families: tuple[str, ...] = CHAIN) -> set[str]:
    """What of ``text`` no face of the chain prints: single characters, or a base character
    with its variation selector (both in one string) when the face that sets the base lacks
    the sequence.

    Whitespace, control and format characters are ignored: they draw nothing either way.
    Private-use characters (外字) and code points with no character are missing even where a
    font maps them: what such a glyph shows is that font's choice, not the member's name.
    """
    paths = _chain_paths(families)
    missing = set()
    for unit in units(text):
        kind = unicodedata.category(unit[0])
        if unit[0].isspace() or kind in ("Cc", "Cf"):
            continue
        if kind in ("Co", "Cn", "Cs") or not _printable(unit, paths):
            missing.add(unit)
    return missing
