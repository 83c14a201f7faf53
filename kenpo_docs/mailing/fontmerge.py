"""One font subset per face in a piece: the subsets its parts bring are merged.

A piece is made of parts laid out separately (the letter's and the form's shared backgrounds,
the values drawn over them, the notice enclosure), and each part embeds its own subset of the
same fonts: a piece of the standard packet carried 8 subsets of BIZ UDPGothic and its bold,
180 of its ~250 KB, and the glyphs the parts share (kana, common kanji, digits) were in it up
to four times.

WeasyPrint subsets with *retained glyph ids* (``HB_SUBSET_FLAGS_RETAIN_GIDS``), so glyph 1274
is the same glyph in every subset of a font file, and the page descriptions need not change:
the subsets of one face are merged into one TrueType program holding each used glyph once,
with one width array and one ToUnicode map, and the piece's font resources point at that one
font. What is merged is checked, not assumed: every glyph, width and Unicode mapping two
subsets share must be equal, and the fonts must agree on their header (units per em, revision,
creation date); any disagreement leaves that face's subsets as they were (correct, only
larger).

Only what a PDF reader uses is kept: the glyph outlines, ``head``, ``hhea``, ``hmtx``,
``maxp``, ``OS/2``, ``name``, ``post`` (without glyph names) and any hinting tables. The fonts
are used with ``/Identity-H`` and ``/CIDToGIDMap /Identity``, so a reader picks glyphs by id
and takes their widths from the font dictionary's ``/W``: the ``cmap`` and the vertical
metrics (``vhea``/``vmtx``) are dropped, as iText does for its CIDFontType2 subsets
(``TrueTypeFontSubSet`` without ``cmap``).

The piece writer applies the merge through a substitution of font dictionaries (see
:func:`piece_substitutes` and :class:`kenpo_docs.mailing.pdfstream.PdfStreamWriter`); the
print files keep the chunk's subsets, which they store once per chunk or once per file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pypdf.generic import DictionaryObject, NameObject

logger = logging.getLogger("kenpo_docs")

_TRUETYPE = (b"\x00\x01\x00\x00", b"true")
#: Tables copied from the first subset into a merged font, besides the rebuilt ones (head,
#: hhea, hmtx, maxp, loca, glyf, post): hinting tables and the font's names.
_KEEP = frozenset({b"cvt ", b"fpgm", b"prep", b"gasp", b"OS/2", b"name"})


class FontMergeError(ValueError):
    """The subsets cannot be merged safely (they differ where they should agree)."""


@dataclass
class _Subset:
    tables: dict[bytes, bytes]
    count: int  # glyph ids the subset covers
    glyphs: dict[int, bytes]  # the glyphs it has an outline for
    metrics: dict[int, tuple[int, int]]  # (advance, left side bearing) of its glyphs


def _tables(font: bytes) -> dict[bytes, bytes]:
    if font[:4] not in _TRUETYPE:
        raise FontMergeError("not a TrueType font program")
    (count,) = struct.unpack_from(">H", font, 4)
    out = {}
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", font, 12 + 16 * i)
        out[tag] = font[offset:offset + length]
    for tag in (b"head", b"hhea", b"hmtx", b"maxp", b"loca", b"glyf"):
        if tag not in out:
            raise FontMergeError(f"no {tag.decode()} table")
    return out


def _big_endian(typecode: str, data: bytes) -> array:
    values = array(typecode, data[:len(data) - len(data) % array(typecode).itemsize])
    if values.itemsize > 1 and _LITTLE:
        values.byteswap()
    return values


_LITTLE = struct.pack("=H", 1) != struct.pack(">H", 1)
#: Parsed subsets by digest: the notice's and the backgrounds' subsets recur in every chunk.
_PARSED: dict[bytes, _Subset] = {}


def _parse(font: bytes) -> _Subset:
    key = hashlib.blake2b(font, digest_size=16).digest()
    subset = _PARSED.pop(key, None)
    if subset is None:
        subset = _parse_font(font)
        if len(_PARSED) >= 32:
            del _PARSED[next(iter(_PARSED))]  # the least recently used
    _PARSED[key] = subset
    return subset


def _parse_font(font: bytes) -> _Subset:
    tables = _tables(font)
    head, maxp = tables[b"head"], tables[b"maxp"]
    if struct.unpack_from(">I", maxp, 0)[0] != 0x00010000:
        raise FontMergeError("maxp is not version 1.0 (not TrueType outlines)")
    (count,) = struct.unpack_from(">H", maxp, 4)
    (loca_format,) = struct.unpack_from(">h", head, 50)
    if loca_format == 0:
        offsets = array("I", (2 * o for o in _big_endian("H", tables[b"loca"])))
    else:
        offsets = _big_endian("I", tables[b"loca"])
    if len(offsets) < count + 1:
        raise FontMergeError("loca is shorter than the glyph count")
    glyf = tables[b"glyf"]
    glyphs = {gid: glyf[start:end] for gid, (start, end)
              in enumerate(zip(offsets[:count], offsets[1:count + 1])) if end > start}
    (long_metrics,) = struct.unpack_from(">H", tables[b"hhea"], 34)
    hmtx = _big_endian("h", tables[b"hmtx"])
    if not 0 < long_metrics <= count or len(hmtx) < long_metrics + count:
        raise FontMergeError("hmtx does not cover the glyphs")
    advances = _big_endian("H", tables[b"hmtx"][:4 * long_metrics])[0::2]
    bearings = hmtx[1:2 * long_metrics:2] + hmtx[2 * long_metrics:long_metrics + count]
    last = advances[-1]
    metrics = {gid: (advances[gid] if gid < long_metrics else last, bearings[gid])
               for gid in range(count)
               if gid in glyphs or (advances[gid] if gid < long_metrics else last)}
    return _Subset(tables, count, glyphs, metrics)


def _same(a: bytes, b: bytes) -> bool:
    """Two copies of a glyph, allowing for different padding after it."""
    return a == b or a.rstrip(b"\0") == b.rstrip(b"\0")


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(_big_endian("I", padded)) & 0xFFFFFFFF


def _font_bytes(tables: dict[bytes, bytes]) -> bytes:
    """A TrueType file from its tables (sorted directory, 4-byte aligned, checksums set)."""
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">4sHHHH", b"\x00\x01\x00\x00", count, power * 16,
                         power.bit_length() - 1, count * 16 - power * 16)
    offset = 12 + 16 * count
    directory, body = [], []
    for tag in tags:
        data = tables[tag]
        directory.append(struct.pack(">4sIII", tag, _checksum(data), offset, len(data)))
        padded = data + b"\0" * (-len(data) % 4)
        body.append(padded)
        offset += len(padded)
    font = header + b"".join(directory) + b"".join(body)
    adjustment = (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF
    at = 12 + 16 * count + sum(len(b) for t, b in zip(tags, body, strict=True) if t < b"head")
    return font[:at + 8] + struct.pack(">I", adjustment) + font[at + 12:]


def merge_truetype(fonts: Sequence[bytes]) -> bytes:
    """One TrueType program with every glyph of ``fonts``, subsets of one font file made with
    retained glyph ids. Raises :class:`FontMergeError` where they disagree."""
    subsets = [_parse(f) for f in fonts]
    first = subsets[0].tables
    for other in subsets[1:]:
        for start, end in ((4, 8), (18, 28)):  # revision; units per em, created
            if first[b"head"][start:end] != other.tables[b"head"][start:end]:
                raise FontMergeError("the subsets come from different font files")
    count = max(s.count for s in subsets)
    glyphs: dict[int, bytes] = {}
    metrics: dict[int, tuple[int, int]] = {}
    for subset in subsets:
        for gid, glyph in subset.glyphs.items():
            kept = glyphs.setdefault(gid, glyph)
            if kept is not glyph and not _same(kept, glyph):
                raise FontMergeError(f"glyph {gid} differs between the subsets")
        for gid, metric in subset.metrics.items():
            if metrics.setdefault(gid, metric) != metric:
                raise FontMergeError(f"glyph {gid} has two different metrics")

    glyf = bytearray()
    loca = array("I", [0]) * (count + 1)
    previous = 0
    for gid in sorted(glyphs):
        loca[previous + 1:gid + 1] = array("I", [len(glyf)]) * (gid - previous)
        glyph = glyphs[gid]
        glyf += glyph
        glyf += b"\0" * (-len(glyph) % 4)
        previous = gid
    loca[previous + 1:] = array("I", [len(glyf)]) * (count - previous)
    if _LITTLE:
        loca.byteswap()

    hmtx = array("H", [0]) * (2 * count)
    for gid, (advance, bearing) in metrics.items():
        hmtx[2 * gid] = advance
        hmtx[2 * gid + 1] = bearing & 0xFFFF
    if _LITTLE:
        hmtx.byteswap()

    heads = [s.tables[b"head"] for s in subsets]
    boxes = [struct.unpack_from(">hhhh", h, 36) for h in heads]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
           max(b[2] for b in boxes), max(b[3] for b in boxes))
    head = bytearray(first[b"head"])
    struct.pack_into(">I", head, 8, 0)
    struct.pack_into(">hhhh", head, 36, *box)
    struct.pack_into(">h", head, 50, 1)

    hheas = [s.tables[b"hhea"] for s in subsets]
    hhea = bytearray(first[b"hhea"])
    struct.pack_into(">H", hhea, 10, max(struct.unpack_from(">H", h, 10)[0] for h in hheas))
    for at, pick in ((12, min), (14, min), (16, max)):
        struct.pack_into(">h", hhea, at, pick(struct.unpack_from(">h", h, at)[0] for h in hheas))
    struct.pack_into(">H", hhea, 34, count)

    maxp = bytearray(first[b"maxp"])
    struct.pack_into(">H", maxp, 4, count)
    for at in range(6, min(len(maxp), 32), 2):
        struct.pack_into(">H", maxp, at, max(
            struct.unpack_from(">H", s.tables[b"maxp"], at)[0] for s in subsets))

    tables = {tag: data for tag, data in first.items() if tag in _KEEP}
    tables.update({b"head": bytes(head), b"hhea": bytes(hhea), b"maxp": bytes(maxp),
                   b"hmtx": hmtx.tobytes(), b"loca": loca.tobytes(), b"glyf": bytes(glyf)})
    if b"post" in first:  # version 3: no glyph names (a version 2 name list would be wrong)
        tables[b"post"] = b"\x00\x03\x00\x00" + first[b"post"][4:32]
    return _font_bytes(tables)


# -- the piece's font dictionaries ----------------------------------------------------------

#: A glyph width the merged fonts leave out of /W (the PDF default /DW, 1000: every kanji).
_DEFAULT_WIDTH = 1000.0
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")


@dataclass
class _Face:
    """One Type0 font dictionary of a segment, read for merging."""

    name: bytes  # the PostScript name without the subset tag
    base_font: bytes
    font_file: bytes
    widths: dict[int, float]
    to_unicode: dict[int, bytes]
    system_info: bytes
    descriptor: DictionaryObject


def _direct(obj: Any) -> bytes:
    from pypdf.generic import IndirectObject

    if isinstance(obj, IndirectObject):
        raise FontMergeError("an indirect value where a direct one was expected")
    buf = BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def _widths(array_obj: Any) -> dict[int, float]:
    items = list(array_obj.get_object()) if array_obj is not None else []
    out: dict[int, float] = {}
    i = 0
    while i < len(items):
        first = int(items[i])
        nxt = items[i + 1].get_object()
        if isinstance(nxt, list):
            for k, w in enumerate(nxt):
                out[first + k] = float(w)
            i += 2
        else:
            for cid in range(first, int(nxt) + 1):
                out[cid] = float(items[i + 2])
            i += 3
    return out


def _to_unicode(stream: Any) -> dict[int, bytes]:
    data = stream.get_object().get_data()
    if b"bfrange" in data:
        raise FontMergeError("ToUnicode uses ranges")
    out: dict[int, bytes] = {}
    for block in _BFCHAR.findall(data):
        for code, text in _PAIR.findall(block):
            out[int(code, 16)] = text.lower()
    return out


def _face(font: DictionaryObject) -> _Face | None:
    """``font`` read for merging, or None if it is not a font this module merges: a Type0
    font over an embedded TrueType CIDFont, /Identity-H, /CIDToGIDMap /Identity, default
    width 1000."""
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
        return None
    descendants = font.get("/DescendantFonts")
    if descendants is None or len(descendants.get_object()) != 1:
        return None
    cid = descendants.get_object()[0].get_object()
    if cid.get("/Subtype") != "/CIDFontType2" or "/W2" in cid:
        return None
    if cid.get("/CIDToGIDMap", NameObject("/Identity")) != "/Identity":
        return None
    if float(cid.get("/DW", _DEFAULT_WIDTH)) != _DEFAULT_WIDTH:
        return None
    descriptor = cid.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else None
    if descriptor is None or "/FontFile2" not in descriptor or "/ToUnicode" not in font:
        return None
    base_font = _direct(font["/BaseFont"])
    return _Face(
        name=base_font.split(b"+", 1)[-1], base_font=base_font,
        font_file=descriptor["/FontFile2"].get_object().get_data(),
        widths=_widths(cid.get("/W")), to_unicode=_to_unicode(font["/ToUnicode"]),
        system_info=_direct(cid["/CIDSystemInfo"]), descriptor=descriptor)


def _number(value: float) -> bytes:
    if value == int(value):
        return b"%d" % int(value)
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


def _union(maps: Sequence[dict[int, Any]], what: str) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for mapping in maps:
        for key, value in mapping.items():
            if out.setdefault(key, value) != value:
                raise FontMergeError(f"glyph {key}: two different {what}")
    return out


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<<%s/Filter/FlateDecode/Length %d>>\nstream\n%s\nendstream" % (
        entries, len(data), data)


def merged_objects(faces: Sequence[_Face]) -> list[tuple[bytes | int, ...]]:
    """The objects of one merged font as segment bodies, references given as indexes into
    the returned list: [Type0, CIDFont, FontDescriptor, FontFile2, ToUnicode]."""
    program = merge_truetype([f.font_file for f in faces])
    widths = _union([f.widths for f in faces], "widths")
    to_unicode = _union([f.to_unicode for f in faces], "Unicode values")

    w_parts: list[bytes] = []
    run: list[bytes] = []
    previous = None
    for gid in sorted(g for g, w in widths.items() if w != _DEFAULT_WIDTH):
        if previous is None or gid != previous + 1:
            if run:
                w_parts.append(b"[" + b" ".join(run) + b"]")
            w_parts.append(b"%d" % gid)
            run = []
        run.append(_number(widths[gid]))
        previous = gid
    if run:
        w_parts.append(b"[" + b" ".join(run) + b"]")

    cmap = [b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            b"/CIDSystemInfo\n<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
            b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            b"1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"]
    items = sorted(to_unicode.items())
    for start in range(0, len(items), 100):
        batch = items[start:start + 100]
        cmap.append(b"%d beginbfchar\n" % len(batch))
        cmap.extend(b"<%04x> <%s>\n" % (gid, text) for gid, text in batch)
        cmap.append(b"endbfchar\n")
    cmap.append(b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")

    first = faces[0]
    boxes = [[float(v) for v in f.descriptor["/FontBBox"]] for f in faces
             if "/FontBBox" in f.descriptor]
    descriptor = [b"<</Type/FontDescriptor"]
    for key, value in first.descriptor.items():
        if key in ("/Type", "/FontFile2", "/FontBBox", "/CIDSet"):
            continue
        descriptor.append(_direct(key) + b" " + _direct(value))
    if boxes:
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes))
        descriptor.append(b"/FontBBox[" + b" ".join(_number(v) for v in box) + b"]")
    descriptor.append(b"/FontFile2 ")
    return [
        (b"<</Type/Font/Subtype/Type0/BaseFont" + first.base_font
         + b"/Encoding/Identity-H/ToUnicode ", 4, b"/DescendantFonts[", 1, b"]>>"),
        (b"<</Type/Font/Subtype/CIDFontType2/BaseFont" + first.base_font + b"/CIDSystemInfo"
         + first.system_info + b"/CIDToGIDMap/Identity/DW 1000/W[" + b" ".join(w_parts)
         + b"]/FontDescriptor ", 2, b">>"),
        (b"\n".join(descriptor), 3, b">>"),
        (_stream(b"/Length1 %d" % len(program), zlib.compress(program, 6)),),
        (_stream(b"", zlib.compress(b"".join(cmap), 6)),),
    ]


def _fonts_of(segment: Any, pages: range, fonts: dict[int, Any]) -> frozenset[int]:
    """The Type0 fonts (segment local numbers among ``fonts``) the pages use."""
    found = set()
    seen: set[int] = set()
    stack = [segment.pages[i] for i in pages]
    objects = segment.objects
    while stack:
        num = stack.pop()
        if num in seen:
            continue
        seen.add(num)
        if num in fonts:
            found.add(num)
            continue
        stack.extend(part for part in objects[num][1] if type(part) is int)
    return frozenset(found)


def piece_aliases(segment: Any, fonts: dict[int, DictionaryObject],
                  pieces: Sequence[range]) -> list[dict[int, int]]:
    """For each piece (a range of the segment's pages), ``{font: merged font}``: the Type0
    fonts it uses (local numbers, ``fonts`` maps them to their dictionaries) replaced by one
    merged font per face. The merged fonts' objects are appended to ``segment.objects``.

    One merged font per face serves the whole chunk: its pieces differ in which backgrounds
    they use (a shape per route and household size, each with its own subset), but those
    subsets hold nearly the same glyphs, so one merge per chunk costs a piece a few glyphs it
    does not use instead of a merge for each combination (6-14 a chunk).

    A face whose subsets cannot be merged keeps them (logged; the piece is only larger)."""
    used = [_fonts_of(segment, pages, fonts) for pages in pieces]
    merged = _merge_group(segment, frozenset().union(*used), fonts)
    return [{font: merged[font] for font in piece if font in merged} for piece in used]


def _merge_group(segment: Any, used: frozenset[int], fonts: dict[int, DictionaryObject]
                 ) -> dict[int, int]:
    faces: dict[int, _Face] = {}
    by_name: dict[bytes, list[int]] = {}
    for num in sorted(used):
        try:
            face = _face(fonts[num])
        except (FontMergeError, KeyError, TypeError, ValueError, IndexError) as exc:
            logger.debug("font %d not merged: %s", num, exc)
            continue
        if face is not None:
            faces[num] = face
            by_name.setdefault(face.name, []).append(num)
    aliases: dict[int, int] = {}
    for name, nums in by_name.items():
        if len(nums) < 2:
            continue
        try:
            bodies = merged_objects([faces[n] for n in nums])
        except FontMergeError as exc:
            logger.info("font subsets of %s not merged: %s", name.decode("latin-1"), exc)
            continue
        base = len(segment.objects)
        for body in bodies:
            segment.objects.append((None, tuple(
                base + part if type(part) is int else part for part in body)))
        for num in nums:
            aliases[num] = base
    return aliases
