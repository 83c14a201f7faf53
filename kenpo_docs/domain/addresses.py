"""How an address is written on what we print: the numbers as Japan Post writes them.

Members type 住所 as they like: 「１丁目２－３」, 「２ー３」, 「１〇２号室」, 「三丁目」. The roster
keeps what they typed (the manifest, the tracking database and every check see that); the
address block of a piece prints it in one notation (:func:`address_notation`):

* **Arabic numerals** for the 丁目・番地・号 numbers, as Japan Post writes addresses in
  horizontal writing (its envelope guide 「封筒の表書き・裏書きの書き方」,
  https://www.post.japanpost.jp/navi/mame_envelope.html: 「1-3-2」), and as the customer
  barcode reads them (郵便番号・バーコードマニュアル p19: the 住所表示番号 is Arabic digits
  and hyphens; kanji numerals before 丁目, 番地, 号 … become Arabic).
* **half-width** digits and the hyphen-minus ``-`` between them: Japan Post gives no width for
  the address numbers, and half-width is what the rosters, the insurer settings
  (「東京都杉並区高井戸西3-5-24」) and the postal line already print, so a piece never mixes two
  notations. (The manual asks for *full-width* digits for a postal code printed outside the
  red frame; that is the postal line's concern, not the address's.)

Only numbers change: 全角 digits and Latin letters become half-width, a dash of any kind
(－ − ‐ ― ー ｰ …) between two digits becomes ``-``, 〇 written among digits becomes 0, and a
kanji numeral right before 丁目, 番地 or 号 becomes Arabic. Place names keep their kanji
(八丁堀, 一番町, 一ノ瀬, 四谷: no 丁目/番地/号 after the numeral), and nothing else is touched
(a compatibility ideograph stays itself: unlike NFKC, which the barcode may use).

The customer barcode (:mod:`kenpo_docs.barcodes.japanpost`) reads kanji numerals with the same
:func:`kanji_to_number` and :func:`arabic_before`, with the manual's longer list of suffixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "PRINT_SUFFIXES",
    "address_notation",
    "arabic_before",
    "kanji_to_number",
]

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                 "九": 9}  # fmt: skip
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMERAL = "〇一二三四五六七八九十百千"

#: Suffixes before which a kanji numeral is printed in Arabic: those that always follow an
#: address number. (丁, 番, 線, の, ノ, which the barcode manual also lists, start place names
#: too: 八丁堀, 一番町, 一ノ瀬.)
PRINT_SUFFIXES = ("丁目", "番地", "号")

#: Full-width digits and Latin letters (U+FF10-FF19, FF21-FF3A, FF41-FF5A) to ASCII.
_HALF_WIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
     for c in range(r[0], r[1] + 1)}
)
#: Dashes people type between two address numbers: full-width hyphen-minus, minus sign,
#: hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, katakana
#: prolonged sound mark (full- and half-width), box-drawing line, small hyphen-minus.
_DASHES = "－−‐‑‒–—―ーｰ─﹣"
_DASH_BETWEEN_DIGITS = re.compile(f"(?<=[0-9])[{_DASHES}](?=[0-9])")
_ZERO_AMONG_DIGITS = re.compile(r"(?<=[0-9])〇|〇(?=[0-9])")


def kanji_to_number(kanji: str) -> int:
    """Read a kanji numeral, positional (二十三) or digit by digit (二〇三)."""
    if not any(ch in _KANJI_UNITS for ch in kanji):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in kanji))
    total, current = 0, 0
    for ch in kanji:
        if ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch]
        else:
            total += (current or 1) * _KANJI_UNITS[ch]
            current = 0
    return total + current


def _before(suffixes: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(suffixes, key=len, reverse=True))
    return re.compile(f"([{_KANJI_NUMERAL}]+)(?={alternatives})")


_PRINT_BEFORE = _before(PRINT_SUFFIXES)


def arabic_before(text: str, suffixes: Iterable[str] | None = None) -> str:
    """十一丁目 -> 11丁目: kanji numerals become Arabic only right before one of ``suffixes``
    (:data:`PRINT_SUFFIXES` by default)."""
    pattern = _PRINT_BEFORE if suffixes is None else _before(suffixes)
    return pattern.sub(lambda m: str(kanji_to_number(m.group(1))), text)


def address_notation(text: str) -> str:
    """An address line as the address block prints it (see the module's docstring).

    >>> address_notation("東京都千代田区霞が関１丁目３－２")
    '東京都千代田区霞が関1丁目3-2'
    >>> address_notation("緑町三丁目３０ー８　ＡＢＣビル１〇２号室")
    '緑町3丁目30-8　ABCビル102号室'
    """
    text = text.translate(_HALF_WIDTH)
    while True:  # 1〇〇: a 〇 counts as among digits once its neighbour has become 0
        again = _ZERO_AMONG_DIGITS.sub("0", text)
        if again == text:
            break
        text = again
    text = arabic_before(text)
    return _DASH_BETWEEN_DIGITS.sub("-", text)
