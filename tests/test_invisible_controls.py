"""Line breaks, invisible and bidi characters in roster cells, through ``kenpo-docs check``.

A line break in an address or a name starts a new line in the envelope window and pushes the
name out of it: every Unicode mandatory break (UAX #14 BK, CR, LF, NL: U+000A-U+000D, U+0085,
U+2028, U+2029) becomes one space, with a warning naming the row, the column and the code
point. Invisible and bidi controls (category Cc and Cf, and the other Default_Ignorable code
points) reject the row, named the same way; the zero-width ones that only join or break
(U+200B-U+200D, U+2060, U+FEFF) are removed with a warning, as before. Variation selectors
stay: Japanese names need ideographic variation sequences (異体字, U+E0100-U+E01EF).
Messages never echo the cell.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.input import cells
from kenpo_docs.input.roster import read_roster

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
import make_bad  # noqa: E402

AS_OF = "2026-12-01"
ADDRESS = "東京都千代田区{}霞が関1丁目3番2号"

# Every character the issue lists, and the other format and control characters.
REJECTED = [
    0x200E, 0x200F,                                  # LRM, RLM
    *range(0x202A, 0x202F),                          # embeddings and overrides
    *range(0x2066, 0x206A),                          # isolates
    0x061C,                                          # Arabic letter mark
    0x00AD,                                          # soft hyphen
    0x180E,                                          # Mongolian vowel separator
    *range(0x2061, 0x2065),                          # invisible operators (U+2061 ...)
    *range(0x206A, 0x2070),                          # deprecated format characters
    *range(0xE0000, 0xE0080),                        # tag characters
    0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0,          # invisible fillers, grapheme joiner
    *range(0xFFF9, 0xFFFC),                          # interlinear annotation (ruby) marks
    0x0600, 0x06DD, 0x070F, 0x08E2, 0x110BD, 0x1BCA0, 0x1D173,
    0x0001, 0x0007, 0x001B, 0x007F, 0x0080, 0x009F,  # C0 and C1 controls (NUL: binary file)
]
REMOVED = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
BREAKS = [0x000A, 0x000B, 0x000C, 0x000D, 0x0085, 0x2028, 0x2029]


def _roster(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "r.csv"
    path.write_text(make_bad.csv_text(rows), encoding="utf-8")
    return path


def _check(path: Path) -> tuple[int, dict[int, str]]:
    result = CliRunner().invoke(cli, ["check", str(path), "--as-of", AS_OF])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    for secret in ("千代田", "霞が関", "試験"):  # the cells are never echoed
        assert secret not in result.output
    lines: dict[int, str] = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] == "row" and parts[1].isdigit():
            lines.setdefault(int(parts[1]), "")
            lines[int(parts[1])] += line.strip() + "\n"
    return result.exit_code, lines


def test_every_invisible_or_bidi_control_rejects_its_row(tmp_path: Path) -> None:
    rows = [make_bad.row(1)]
    rows += [make_bad.row(i, 住所1=ADDRESS.format(chr(cp))) for i, cp in enumerate(REJECTED, 2)]
    code, lines = _check(_roster(tmp_path, rows))
    assert code == 1
    assert 2 not in lines  # the clean row (spreadsheet row 2) is accepted
    for i, cp in enumerate(REJECTED, 2):
        line = lines.get(i + 1, "")
        assert line.startswith(f"row {i + 1}  住所1  30-{i}-00"), (hex(cp), line)
        assert f"U+{cp:04X}" in line and "control, invisible or bidi" in line, (hex(cp), line)


def test_a_control_in_the_name_is_named_by_its_column(tmp_path: Path) -> None:
    path = _roster(tmp_path, [make_bad.row(1), make_bad.row(2, 氏名="試験\u200f太郎")])
    code, lines = _check(path)
    assert code == 1 and lines[3].startswith("row 3  氏名  30-2-00") and "U+200F" in lines[3]


@pytest.mark.parametrize("cp", BREAKS)
def test_line_breaks_become_one_space_with_a_warning(tmp_path: Path, cp: int) -> None:
    rows = [make_bad.row(1, 住所1=ADDRESS.format(chr(cp))),
            make_bad.row(2, 氏名=f"試験{chr(cp)}太郎", 住所2=f"{chr(cp)}3号室{chr(cp)}")]
    path = _roster(tmp_path, rows)
    code, lines = _check(path)
    assert code == 0, lines
    assert lines[2].startswith("row 2  住所1  30-1-00") and f"U+{cp:04X}" in lines[2]
    assert "row 3  氏名  30-2-00" in lines[3] and f"U+{cp:04X}" in lines[3]
    assert "住所2" not in lines[3]  # breaks at the ends only: stripped, nothing to say
    roster = read_roster(path, as_of=date(2026, 12, 1))
    first, second = roster.members
    assert first.address1 == "東京都千代田区 霞が関1丁目3番2号"
    assert second.name == "試験 太郎" and second.address2 == "3号室"


def test_a_run_of_breaks_and_spaces_is_one_space(tmp_path: Path) -> None:
    path = _roster(tmp_path, [make_bad.row(1, 住所1=ADDRESS.format(" \r\n\u2028 \n"))])
    member = read_roster(path, as_of=date(2026, 12, 1)).members[0]
    assert member.address1 == "東京都千代田区 霞が関1丁目3番2号"


@pytest.mark.parametrize("cp", REMOVED)
def test_zero_width_characters_are_removed_with_their_code_point(tmp_path: Path,
                                                                 cp: int) -> None:
    path = _roster(tmp_path, [make_bad.row(1, 住所1=ADDRESS.format(chr(cp)))])
    code, lines = _check(path)
    assert code == 0 and lines[2].startswith("row 2  住所1") and f"U+{cp:04X}" in lines[2]
    member = read_roster(path, as_of=date(2026, 12, 1)).members[0]
    assert member.address1 == ADDRESS.format("")


def test_variation_selectors_stay(tmp_path: Path) -> None:
    ivs = "葛\U000E0100飾区"  # an ideographic variation sequence (Adobe-Japan1 葛)
    path = _roster(tmp_path, [make_bad.row(1, 住所1=ivs, 氏名=f"{ivs[:2]} 太郎")])
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert roster.errors == []
    assert roster.members[0].address1 == ivs and roster.members[0].name == f"{ivs[:2]} 太郎"


def test_a_sequence_no_font_prints_is_refused_as_unprintable_not_as_invisible(
    tmp_path: Path,
) -> None:
    """A selector is never stripped as an invisible character; a sequence the fonts lack
    (辻 + U+FE00, a standardized variation sequence) is refused as unprintable, naming both
    code points (see tests/test_name_fonts.py)."""
    path = _roster(tmp_path, [make_bad.row(1, 氏名="辻\ufe00 太郎")])
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert [e.column for e in roster.errors] == ["氏名"]
    assert "U+8FBB U+FE00" in roster.errors[0].reason


def test_a_variation_selector_without_a_base_character_is_refused(tmp_path: Path) -> None:
    path = _roster(tmp_path, [make_bad.row(1), make_bad.row(2, 住所1="\U000E0100葛飾区")])
    code, lines = _check(path)
    assert code == 1 and lines[3].startswith("row 3  住所1") and "combining mark" in lines[3]


def _kind(ch: str) -> str:
    if cells._LINE_BREAK.fullmatch(ch):
        return "fold"
    if cells._ZERO_WIDTH.fullmatch(ch):
        return "remove"
    if cells._BAD_CHARS.fullmatch(ch):
        return "reject"
    return "keep"


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt) outside Cf: unicodedata
# does not expose the property, so these are listed.
_IGNORABLE = {0x034F, 0x115F, 0x1160, *range(0x17B4, 0x17B6), *range(0x180B, 0x1810), 0x2065,
              0x3164, *range(0xFE00, 0xFE10), 0xFFA0, *range(0xFFF0, 0xFFF9),
              *range(0xE0000, 0xE1000)}
_VARIATION_SELECTORS = {*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}


def test_every_control_format_and_separator_character_is_handled() -> None:
    """By category, for the Unicode version of this Python: every Cc, Cf, Zl, Zp and
    Default_Ignorable code point is folded, removed or rejected, except tab and the variation
    selectors; and the one-look fast path of scan_cells sees every one of them."""
    kept = []
    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or cp in _IGNORABLE:
            kind = _kind(ch)
            if kind == "keep":
                kept.append(cp)
            else:
                assert cells._SUSPECT.search(ch), hex(cp)
    assert kept == [0x09, *sorted(_VARIATION_SELECTORS)]
    assert all(_kind(chr(cp)) == "keep" for cp in _VARIATION_SELECTORS)
    for ch in " 　\u00a0あ髙-ー":  # spaces and ordinary text are left alone
        assert _kind(ch) == "keep"
