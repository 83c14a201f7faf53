"""The vendored fonts, by path, and a preflight for characters they cannot draw.

The renderer uses these files through ``@font-face`` and never whatever fonts the machine
happens to have, so a letter looks the same on every machine. IPAmj Mincho (``ipamjm.ttf``,
IPA licence, not vendored) is used as a fallback for rare name kanji when it is present in
``fonts/`` or in a system font folder.
"""

from __future__ import annotations

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
FALLBACK = "IPAmjMincho"

_VENDORED = (
    (GOTHIC, "BIZUDPGothic-Regular.ttf", 400),
    (GOTHIC, "BIZUDPGothic-Bold.ttf", 700),
    (MINCHO, "BIZUDMincho-Regular.ttf", 400),
)
_SYSTEM_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
)


@cache
def ipamj_path() -> Path | None:
    """The IPAmj Mincho file if present in ``fonts/`` or a system font folder."""
    local = fonts_dir() / "ipamjm.ttf"
    if local.is_file():
        return local
    for base in _SYSTEM_FONT_DIRS:
        if base.is_dir():
            for hit in base.rglob("ipamjm.ttf"):
                return hit
    return None


def font_faces() -> list[FontFace]:
    """Every face the renderer declares, vendored ones first."""
    faces = [FontFace(fam, fonts_dir() / name, weight) for fam, name, weight in _VENDORED]
    extra = ipamj_path()
    if extra is not None:
        faces.append(FontFace(FALLBACK, extra))
    return faces


@cache
def _codepoints(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` that no available face can draw (would print as tofu).

    Whitespace and control characters are ignored: they draw nothing either way.
    """
    wanted = {ch for ch in text if not ch.isspace() and ch.isprintable()}
    if not wanted:
        return set()
    for face in font_faces():
        wanted = {ch for ch in wanted if ord(ch) not in _codepoints(face.path)}
        if not wanted:
            break
    return wanted
