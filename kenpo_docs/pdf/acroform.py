"""Fillable forms that every viewer shows: appearance streams, a small /DR font, check boxes.

WeasyPrint 70 writes an AcroForm field for each ``<input>`` with its value (/V) and a default
appearance (/DA) but no appearance stream (/AP) for text fields, sets /NeedAppearances and
embeds the whole font the fields use (no subset: 3 MB for BIZ UDPGothic). Each viewer then
draws the values itself, with a font of its own choosing: pdfium (Chrome, Edge) left
氏名 and フリガナ blank and printed 昭和45年4月1日 as "45 4 1" (only the glyphs its Latin
font has), poppler drew no check mark. :func:`add_appearances` makes the file say how it
looks:

* every prefilled text field gets an appearance stream that draws its value exactly as the
  printed (non-fillable) form does: the value's text operators are taken from the same form
  laid out with only its values visible (:func:`text_blocks`), so font, size and place are
  the printed form's by construction. A value that the printed form sets elsewhere than in
  its field's box (a long address wraps, and its row grows) is drawn on one line at the
  field's left edge instead, smaller if it must be to show whole;
* empty text fields get an empty appearance (nothing for a viewer to guess);
* check boxes get both states, /Yes (WeasyPrint's check mark) and /Off (empty), and their
  /AS and /V name the state;
* the fields' font becomes a subset (same glyph ids): the page's glyphs, the values', and a
  repertoire for typing (:data:`REPERTOIRE`: ASCII, kana, full-width forms, era, date and
  address kanji), with its widths and ToUnicode map cut to match: 3.1 MB became ~130 KB.
  It stays the fields' /DA font in /DR, so a viewer redrawing an edited field finds a
  Japanese font there: pypdf encodes through its ToUnicode map (a character outside the
  subset is lost); pdfium draws digits and Latin letters with it but kana and kanji with a
  system font of the script, whatever /DR holds (``CPDF_BAFontMap`` treats an embedded
  font as Latin);
* /NeedAppearances is removed: the appearances are given, and a viewer that regenerated them
  would use its own font again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from kenpo_docs.gates._pypdf import add_object
from kenpo_docs.gates._weasyprint import subset_font
from kenpo_docs.pdf.fontdicts import cid_widths

logger = logging.getLogger(__name__)

#: The check box's on state, as Acrobat names it (WeasyPrint names it /on).
ON = "/Yes"
OFF = "/Off"


def _chars(*ranges: tuple[int, int]) -> str:
    return "".join(chr(c) for lo, hi in ranges for c in range(lo, hi + 1))


#: What the fields' font keeps besides the page's and the values' glyphs, so that a date, a
#: phone number, a postcode or a kana name typed into a field can be drawn in the form's font
#: (by pypdf, or any viewer that encodes through the /DR font's ToUnicode map): ASCII,
#: full-width ASCII, hiragana, katakana (full and half width), CJK punctuation, the era
#: names and date kanji, and the kanji of prefecture names and address words. Common kanji
#: (JIS level 1, 2,965) would add 555 KB; pdfium does not use an embedded /DR font for
#: kana or kanji anyway (it takes a system font of the script, see docs/forms.md).
REPERTOIRE = (
    _chars((0x20, 0x7E), (0xFF01, 0xFF5E), (0xFF61, 0xFF9F), (0x3000, 0x3015), (0x301C, 0x301C),
           (0x3041, 0x3096), (0x309B, 0x309E), (0x30A1, 0x30FE))
    + "〒※・ー－―‐年月日明治大正昭和平成令和丁目番地号様方階室"
    + "北海道青森岩手宮城秋田山形福島茨栃木群馬埼玉千葉東京都神奈川新潟富石井梨長野岐阜静岡"
    + "愛知三重滋賀大阪府兵庫奈良歌鳥取根広口徳香媛高佐熊本分崎鹿児沖縄県市区町村郡"
)


# -- reading fonts and text ---------------------------------------------------------------

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _utf16(hexdigits: bytes) -> str:
    return bytes.fromhex(hexdigits.decode()).decode("utf-16-be", "replace")


def to_unicode_map(font: DictionaryObject) -> dict[int, str]:
    """A Type0 font's ToUnicode map (bfchar and simple bfrange entries): glyph id -> text."""
    stream = font.get("/ToUnicode")
    if stream is None:
        return {}
    data = stream.get_object().get_data()
    out: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        for code, text in _PAIR.findall(block):
            out[int(code, 16)] = _utf16(text)
    for block in _BFRANGE.findall(data):
        for lo, hi, start in _RANGE.findall(block):
            first = _utf16(start)
            for n, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = first[:-1] + chr(ord(first[-1]) + n) if first else ""
    return out


def _cid_font(font: DictionaryObject) -> Any:
    return cast(Any, font["/DescendantFonts"])[0].get_object()


def _widths(font: DictionaryObject) -> tuple[dict[int, float], float]:
    cid = _cid_font(font)
    return cid_widths(cid.get("/W")), float(cid.get("/DW", 1000))


def _base_name(font: DictionaryObject) -> str:
    """The PostScript name without its subset tag."""
    return str(font.get("/BaseFont", "")).lstrip("/").split("+")[-1]


def _is_type0(font: Any) -> bool:
    return isinstance(font, DictionaryObject) and font.get("/Subtype") == "/Type0"


def _glyphs(operands: list[Any], op: bytes) -> list[bytes]:
    if op == b"TJ":
        return [_raw(s) for s in operands[0]
                if not isinstance(s, (int, float, FloatObject, NumberObject))]
    if op in (b"Tj", b"'"):
        return [_raw(operands[0])]
    if op == b'"':
        return [_raw(operands[2])]
    return []


def _raw(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if hasattr(value, "original_bytes"):
        return bytes(value.original_bytes)
    return str(value).encode("latin-1")


def _codes(strings: Iterable[bytes]) -> list[int]:
    """Two-byte codes (Identity-H) of the strings."""
    return [(s[i] << 8) | s[i + 1] for s in strings for i in range(0, len(s) - 1, 2)]


Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF order: a point p maps to p·m·n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _num(value: float) -> bytes:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0").encode()


def _operands(operands: list[Any]) -> bytes:
    buf = BytesIO()
    for item in operands:
        item.write_to_stream(buf)
        buf.write(b" ")
    return buf.getvalue()


@dataclass
class TextBlock:
    """One BT…ET of a page: where its first glyph sits (page coordinates), what it says, how
    large, and its operators with the graphics state they need."""

    x: float
    y: float
    size: float  # points on the page
    text: str
    ops: bytes  # "q <ctm> cm <colour, gs> BT … ET Q"
    fonts: set[str] = field(default_factory=set)  # resource names of the fonts it uses
    states: set[str] = field(default_factory=set)  # resource names of its ExtGStates


_STATE_OPS = {b"rg", b"g", b"k", b"cs", b"sc", b"scn", b"gs"}


_SHOW_OPS = {b"TJ", b"Tj", b"'", b'"'}


def text_blocks(reader: PdfReader, page: Any) -> Iterator[TextBlock]:
    """The text runs of a page's content (not of its form XObjects): each text matrix set
    (``Tm``) starts one, as WeasyPrint starts each line of text; each comes with the text
    and graphics state it is drawn in, as a text object of its own."""
    fonts = page["/Resources"].get("/Font", DictionaryObject()).get_object()
    maps = {name: to_unicode_map(f.get_object()) for name, f in fonts.items()}
    ctm: Matrix = _IDENTITY
    state: list[bytes] = []  # colour and gs operators in force
    stack: list[tuple[Matrix, list[bytes]]] = []
    in_text = False
    text_state: list[bytes] = []  # Tf, Tc, colour… set in this text object so far
    snapshot: list[bytes] = []  # the text state when the current run started
    run: list[bytes] = []
    tm: Matrix = _IDENTITY
    font, size, start_size = "", 0.0, 0.0
    used: set[str] = set()
    text: list[str] = []

    def flush() -> TextBlock | None:
        if not used:
            return None
        m = _mul(tm, ctm)
        scale = abs(_mul((start_size, 0, 0, start_size, 0, 0), m)[3])
        head = b"q " + b" ".join(_num(v) for v in ctm) + b" cm " + b" ".join(state)
        body = b"\n".join([b"BT", *snapshot, *run, b"ET"])
        named = {op.split(b" ")[0].decode() for op in (*snapshot, *run) if op.endswith(b"Tf")}
        return TextBlock(m[4], m[5], scale, "".join(text), head + b"\n" + body + b"\nQ",
                         used | named, {s.split(b" ")[0].decode() for s in state
                                     if s.endswith(b"gs")})

    for operands, op in ContentStream(page.get_contents(), reader).operations:
        if in_text:
            encoded = _operands(operands) + op
            if op in (b"Tm", b"ET"):
                block = flush()
                if block is not None:
                    yield block
                run, text, used = [], [], set()
                if op == b"ET":
                    in_text = False
                    continue
                tm = tuple(float(v) for v in operands)  # type: ignore[assignment]
                snapshot, start_size = list(text_state), size
                run.append(encoded)
            elif op in _SHOW_OPS or op in (b"Td", b"TD", b"T*"):
                run.append(encoded)
                codes = _codes(_glyphs(operands, op))
                if codes:
                    used.add(font)
                text.extend(maps.get(font, {}).get(code, "") for code in codes)
            else:
                if op == b"Tf":
                    font, size = str(operands[0]), float(operands[1])
                    if not run:
                        start_size = size
                text_state.append(encoded)
                run.append(encoded)
            continue
        if op == b"q":
            stack.append((ctm, list(state)))
        elif op == b"Q" and stack:
            ctm, state = stack.pop()
        elif op == b"cm":
            ctm = _mul(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
        elif op in _STATE_OPS:
            state.append(_operands(operands) + op)
        elif op == b"BT":
            in_text, text_state, snapshot, run, text, used = True, [], [], [], [], set()
            tm = _IDENTITY


#: The em box of the form's fonts around the baseline (BIZ UDPGothic: ascent 880, descent
#: 120) and how far it may reach out of a field's box (points): the field's box is the
#: input's, a little lower than the printed line where the printed row is taller.
_ASCENT, _DESCENT, _SLACK = 0.88, 0.12, 0.75


def _fits(block: TextBlock, bottom: float, top: float) -> bool:
    """Whether a printed run's em box lies inside a field's box (vertically)."""
    return (block.y - _DESCENT * block.size >= bottom - _SLACK
            and block.y + _ASCENT * block.size <= top + _SLACK)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# -- the fields' font, subset ------------------------------------------------------------

def _page_codes(reader: PdfReader | PdfWriter, page: Any, names: set[str]) -> set[int]:
    """Glyph ids the page's content draws with the fonts called ``names``."""
    codes: set[int] = set()
    font = ""
    for operands, op in ContentStream(page.get_contents(), reader).operations:
        if op == b"Tf":
            font = str(operands[0])
        elif font in names:
            codes.update(_codes(_glyphs(operands, op)))
    return codes


def _tag(glyphs: Iterable[int]) -> str:
    digest = hashlib.sha256(b",".join(b"%d" % g for g in sorted(glyphs))).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _w_array(widths: dict[int, float]) -> ArrayObject:
    out = ArrayObject()
    run: list[float] = []
    start = previous = -2
    for gid in sorted(widths):
        if gid != previous + 1:
            if run:
                out.extend([NumberObject(start), ArrayObject(FloatObject(w) for w in run)])
            start, run = gid, []
        run.append(round(widths[gid], 4))
        previous = gid
    if run:
        out.extend([NumberObject(start), ArrayObject(FloatObject(w) for w in run)])
    return out


_CMAP_HEAD = (b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
              b"/CIDSystemInfo\n<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
              b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
              b"1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n")
_CMAP_TAIL = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"


def _cmap(entries: dict[int, str]) -> bytes:
    items = sorted(entries.items())
    out = [_CMAP_HEAD]
    for start in range(0, len(items), 100):
        batch = items[start:start + 100]
        out.append(b"%d beginbfchar\n" % len(batch))
        out.extend(b"<%04x> <%s>\n" % (gid, text.encode("utf-16-be").hex().encode())
                   for gid, text in batch)
        out.append(b"endbfchar\n")
    out.append(_CMAP_TAIL)
    return b"".join(out)


def _set_stream(stream: StreamObject, data: bytes) -> None:
    """Replace a stream's data (WeasyPrint's streams are deflated: pypdf deflates it)."""
    if stream.get("/Filter") != "/FlateDecode":
        raise ValueError("expected a deflated stream")
    stream.set_data(data)


@dataclass
class _FieldFont:
    """A font the fields use, to be cut to ``keep``."""

    font: DictionaryObject
    unicode: dict[int, str]  # glyph id -> text, from its (whole-font) ToUnicode map
    widths: dict[int, float]
    default_width: float
    keep: set[int] = field(default_factory=lambda: {0})

    by_text: dict[str, int] = field(default_factory=dict)  # the lowest glyph id of a text

    def glyph(self, ch: str) -> int | None:
        if not self.by_text:
            for gid, text in sorted(self.unicode.items(), reverse=True):
                self.by_text[text] = gid
        return self.by_text.get(ch)

    def cut(self) -> None:
        """Subset the program to ``keep`` (glyph ids retained), and its widths, ToUnicode
        map and names with it."""
        cid = _cid_font(self.font)
        descriptor: Any = cid["/FontDescriptor"].get_object()
        file = descriptor["/FontFile2"].get_object()
        program = subset_font(file.get_data(), 0, self.keep, hinting=False,
                              notdef_outline=False)
        _set_stream(file, program)
        file[NameObject("/Length1")] = NumberObject(len(program))
        cid[NameObject("/W")] = _w_array({g: self.widths.get(g, self.default_width)
                                          for g in self.keep})
        cid[NameObject("/DW")] = NumberObject(int(self.default_width))
        _set_stream(cast(Any, self.font["/ToUnicode"]).get_object(),
                    _cmap({g: t for g, t in self.unicode.items() if g in self.keep and t}))
        name = NameObject(f"/{_tag(self.keep)}+{_base_name(self.font)}")
        for obj in (self.font, cid):
            obj[NameObject("/BaseFont")] = name
        descriptor[NameObject("/FontName")] = name


# -- appearance streams ---------------------------------------------------------------------

def _rect(annot: DictionaryObject) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in cast(Any, annot["/Rect"]))
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _form_xobject(writer: PdfWriter, bbox: tuple[float, float], data: bytes,
                  resources: DictionaryObject) -> Any:
    stream = DecodedStreamObject()
    stream.set_data(data)
    stream.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0),
                                          FloatObject(round(bbox[0], 4)),
                                          FloatObject(round(bbox[1], 4))]),
        NameObject("/Resources"): resources,
    })
    return add_object(writer, stream.flate_encode(level=9))


_DA_FONT = re.compile(r"/(\S+)\s+([0-9.]+)\s+Tf")


def _da_font(annot: DictionaryObject) -> tuple[str, float] | None:
    found = _DA_FONT.search(str(annot.get("/DA", "")))
    return ("/" + found.group(1), float(found.group(2))) if found else None


def _one_line(font_name: str, font: _FieldFont, text: str, size: float,
              box: tuple[float, float]) -> bytes:
    """The value on one line at the box's left, centred vertically (no shaping: each
    character's glyph from the font's map), for a value the printed form sets elsewhere
    (a long address the printed form wraps): smaller than ``size`` if that is what it takes
    to show it whole. A character the font lacks is left out."""
    gids = [g for g in (font.glyph(ch) for ch in text) if g is not None]
    codes = b"".join(b"%04x" % g for g in gids)
    font.keep.update(gids)
    advance = sum(font.widths.get(g, font.default_width) for g in gids) / 1000
    if advance * size > box[0] - 2:
        size = max((box[0] - 2) / advance, 4.0)
    baseline = (box[1] - size) / 2 + size * 0.12  # the em box centred (descent 0.12 em)
    return (b"q 0 g BT " + font_name.encode() + b" " + _num(size) + b" Tf 0 "
            + _num(baseline) + b" Td <" + codes + b"> Tj ET Q")


def add_appearances(fillable: bytes, values: bytes) -> bytes:
    """``fillable`` (WeasyPrint's PDF with form fields) with appearance streams, the
    prefilled values drawn as ``values`` (the same form printed with only its values
    visible, page for page) draws them, a subset font and both states of every check box.

    Raises:
        ValueError: the two documents do not have the same number of pages.
    """
    reader = PdfReader(BytesIO(fillable))
    writer = PdfWriter(clone_from=reader)
    # the version of the PDF WeasyPrint wrote (pypdf would say 1.3): PDF/UA-1 is PDF 1.7, and
    # the catalog's XMP metadata stream needs 1.4
    writer.pdf_header = reader.pdf_header.encode("ascii")
    values_reader = PdfReader(BytesIO(values))
    if len(values_reader.pages) != len(writer.pages):
        raise ValueError("the values-only form has another number of pages than the "
                         "fillable one")
    form: Any = writer.root_object["/AcroForm"]
    field_fonts: dict[int, _FieldFont] = {}  # by id of the font dictionary

    def field_font(page: Any, name: str) -> _FieldFont | None:
        fonts = page["/Resources"].get("/Font", DictionaryObject()).get_object()
        ref = fonts.get(name)
        if ref is None or not _is_type0(ref.get_object()):
            return None
        font = ref.get_object()
        if id(font) not in field_fonts:
            widths, default = _widths(font)
            field_fonts[id(font)] = _FieldFont(font, to_unicode_map(font), widths, default)
        return field_fonts[id(font)]

    for page, values_page in zip(writer.pages, values_reader.pages, strict=True):
        blocks = list(text_blocks(values_reader, values_page))
        values_resources: Any = values_page["/Resources"]
        values_fonts = values_resources.get("/Font", DictionaryObject()).get_object()
        values_states = values_resources.get("/ExtGState", DictionaryObject())
        page_fonts = cast(Any, page["/Resources"])["/Font"].get_object()
        by_base = {_base_name(f.get_object()): n for n, f in page_fonts.items()
                   if _is_type0(f.get_object())}
        da_names: set[str] = set()
        for ref in page.get("/Annots", ArrayObject()):
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Widget":
                continue
            x1, y1, x2, y2 = _rect(annot)
            annot[NameObject("/Rect")] = ArrayObject(FloatObject(round(v, 4))
                                                     for v in (x1, y1, x2, y2))
            box = (x2 - x1, y2 - y1)
            kind = annot.get("/FT")
            if kind == "/Btn":
                _check_box(writer, annot, box)
                continue
            if kind != "/Tx":
                continue
            da = _da_font(annot)
            value = str(annot.get("/V", ""))
            font = field_font(page, da[0]) if da else None
            if da is None or font is None:
                continue
            da_names.add(da[0])
            mine = [b for b in blocks if x1 <= b.x <= x2 and y1 <= b.y <= y2]
            if not all(_fits(b, y1, y2) for b in mine):
                mine = []  # the printed row is another height: set apart from the box
            size = da[1]
            resources = DictionaryObject()
            if not value:
                content = b"/Tx BMC EMC"
            elif mine and _fold("".join(b.text for b in mine)) == _fold(value):
                size = round(mine[0].size, 2)
                content, resources = _drawn(writer, mine, (x1, y1), values_fonts,
                                            values_states, page_fonts, by_base, field_fonts,
                                            field_font, page)
            else:
                logger.debug("field %s: the printed value is not in its box; drawn on one "
                             "line", annot.get("/T"))
                content = b"/Tx BMC " + _one_line(da[0], font, value, size, box) + b" EMC"
                resources = DictionaryObject({NameObject("/Font"): DictionaryObject(
                    {NameObject(da[0]): page_fonts.raw_get(da[0])})})
            annot[NameObject("/AP")] = DictionaryObject(
                {NameObject("/N"): _form_xobject(writer, box, content, resources)})
            annot[NameObject("/DA")] = TextStringObject(f"{da[0]} {_num(size).decode()} Tf 0 g")
        for name in da_names:
            ff = field_font(page, name)
            assert ff is not None
            ff.keep.update(_page_codes(writer, page, {name}))
            ff.keep.update(g for g in (ff.glyph(ch) for ch in REPERTOIRE) if g is not None)
    for ff in field_fonts.values():
        ff.cut()
    if "/NeedAppearances" in form:
        del form["/NeedAppearances"]
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _drawn(writer: PdfWriter, blocks: list[TextBlock], origin: tuple[float, float],
           values_fonts: DictionaryObject, values_states: Any, page_fonts: DictionaryObject,
           by_base: dict[str, str], field_fonts: dict[int, _FieldFont], field_font: Any,
           page: Any) -> tuple[bytes, DictionaryObject]:
    """An appearance's content and resources: ``blocks`` (of the values-only page) moved
    into the field's box, each font the fillable page has replaced by that one (same glyph
    ids: both are subsets of one file with retained ids), any other copied over."""
    fonts = DictionaryObject()
    states = DictionaryObject()
    for block in blocks:
        for name in block.fonts:
            source: Any = values_fonts[name].get_object()
            base = _base_name(source)
            if base in by_base:
                target = by_base[base]
                ff = field_font(page, target)
                codes = _codes_of(block.ops)
                if ff is not None:
                    ff.keep.update(codes)
                fonts[NameObject(name)] = page_fonts.raw_get(target)
            else:
                fonts[NameObject(name)] = values_fonts.raw_get(name).clone(writer)
        for name in block.states:
            states[NameObject(name)] = values_states.get_object()[name].get_object().clone(
                writer)
    moved = b"1 0 0 1 " + _num(-origin[0]) + b" " + _num(-origin[1]) + b" cm\n"
    content = b"/Tx BMC q " + moved + b"\n".join(b.ops for b in blocks) + b" Q EMC"
    resources = DictionaryObject({NameObject("/Font"): fonts})
    if states:
        resources[NameObject("/ExtGState")] = states
    return content, resources


def _codes_of(ops: bytes) -> set[int]:
    stream = ContentStream(None, None)
    stream.set_data(ops)
    return set(_codes(s for operands, op in stream.operations for s in _glyphs(operands, op)))


def _check_box(writer: PdfWriter, annot: DictionaryObject, box: tuple[float, float]) -> None:
    """Both states of a check box, /Yes and /Off, and the state it is in (/AS, /V)."""
    normal = annot.get("/AP", DictionaryObject()).get("/N", DictionaryObject())
    on = [k for k in normal if k != OFF]
    if len(on) != 1:
        return
    checked = annot.get("/AS") == on[0]
    states = DictionaryObject({
        NameObject(ON): normal.raw_get(on[0]),
        NameObject(OFF): _form_xobject(writer, box, b"", DictionaryObject()),
    })
    annot[NameObject("/AP")] = DictionaryObject({NameObject("/N"): states})
    state = NameObject(ON if checked else OFF)
    annot[NameObject("/AS")] = state
    annot[NameObject("/V")] = state
