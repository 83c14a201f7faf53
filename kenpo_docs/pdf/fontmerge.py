"""TrueType subsets of one font file merged into one program, with room to append glyphs.

A piece is made of parts laid out separately (the letter's and the form's shared backgrounds,
the values drawn over them, the notice enclosure), and each part embeds its own subset of the
same fonts: a piece of the standard packet carried 8 subsets of BIZ UDPGothic and its bold,
180 of its ~250 KB, and the glyphs the parts share (kana, common kanji, digits) were in it up
to four times. :mod:`kenpo_docs.pdf.piecefonts` gives each piece one font per face; this
module does the font files.

WeasyPrint subsets with *retained glyph ids* (``HB_SUBSET_FLAGS_RETAIN_GIDS``), so glyph 1274
is the same glyph in every subset of a font file and pages drawn with any of them can use the
merged program unchanged. What is merged is checked, not assumed: every glyph and metric two
subsets share must be equal, and the fonts must agree on what tells font files apart
(revision, units per em, creation date, weight class, names); any disagreement raises
:class:`FontMergeError` (the caller then keeps the subsets as they were: correct, only larger).

Only what a PDF reader uses is kept: the glyph outlines, ``head``, ``hhea``, ``hmtx``,
``maxp``, ``OS/2``, ``name``, ``post`` (without glyph names) and any hinting tables. The fonts
are used with ``/Identity-H`` and ``/CIDToGIDMap /Identity``, so a reader picks glyphs by id
and takes their widths from the font dictionary's ``/W``: the ``cmap`` and the vertical
metrics (``vhea``/``vmtx``) are dropped, as iText does for its CIDFontType2 subsets
(``TrueTypeFontSubSet`` without ``cmap``).

A :class:`Program` is compressed once per chunk; each piece's copy, with the glyphs only that
piece draws appended, splices those precompressed runs with a few kilobytes compressed for
the piece (:meth:`Program.stream`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import operator
import struct
import zlib
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

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


def _big_endian(typecode: str, data: bytes) -> array[int]:
    values = array(typecode, data[:len(data) - len(data) % array(typecode).itemsize])
    if values.itemsize > 1 and _LITTLE:
        values.byteswap()
    return values


_LITTLE = struct.pack("=H", 1) != struct.pack(">H", 1)
#: Parsed subsets by digest: the notice's and the backgrounds' subsets recur in every chunk.
_PARSED: dict[bytes, _Subset] = {}


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass(frozen=True)
class FontFile:
    """A subset's TrueType program, read only when needed; ``key`` identifies its bytes (a
    digest of them, or of their compressed form: parsing and merging are cached by it)."""

    key: bytes
    read: Callable[[], bytes]

    @classmethod
    def of(cls, data: bytes) -> FontFile:
        return cls(_digest(data), lambda: data)


_K = TypeVar("_K")
_V = TypeVar("_V")


def recent(cache: dict[_K, _V], key: _K, make: Callable[[], _V], size: int) -> _V:
    """``cache[key]``, made by ``make()`` if missing; ``cache`` keeps the ``size`` most
    recently used (a dict in use order: the least recently used comes first)."""
    found = cache.pop(key, _MISSING)
    if found is _MISSING:
        value = make()
        if len(cache) >= size:
            del cache[next(iter(cache))]
    else:
        value = cast(_V, found)  # not the marker: a value the cache held
    cache[key] = value
    return value


_MISSING = object()


def _parse(font: FontFile) -> _Subset:
    return recent(_PARSED, font.key, lambda: _parse_font(font.read()), 32)


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
    drawn = itertools.compress(range(count), map(operator.lt, offsets[:count],
                                                  offsets[1:count + 1]))
    glyphs = {gid: glyf[offsets[gid]:offsets[gid + 1]] for gid in drawn}
    (long_metrics,) = struct.unpack_from(">H", tables[b"hhea"], 34)
    hmtx = _big_endian("h", tables[b"hmtx"])
    if not 0 < long_metrics <= count or len(hmtx) < long_metrics + count:
        raise FontMergeError("hmtx does not cover the glyphs")
    advances = _big_endian("H", tables[b"hmtx"][:4 * long_metrics])[0::2]
    bearings = hmtx[1:2 * long_metrics:2] + hmtx[2 * long_metrics:long_metrics + count]
    last = advances[-1]
    advances.extend(array("H", [last]) * (count - long_metrics))
    wide = itertools.compress(range(count), advances)  # every glyph with an advance
    metrics = {gid: (advances[gid], bearings[gid]) for gid in itertools.chain(glyphs, wide)}
    return _Subset(tables, count, glyphs, metrics)


def _same(a: bytes, b: bytes) -> bool:
    """Two copies of a glyph, allowing for different padding after it."""
    return a == b or a.rstrip(b"\0") == b.rstrip(b"\0")


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(_big_endian("I", padded)) & 0xFFFFFFFF


def _deflate(data: bytes, *, final: bool) -> bytes:
    """``data`` as raw deflate blocks on their own (no reference to what comes before), ending
    byte-aligned: such pieces concatenate into one deflate stream (see :meth:`Program.stream`)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from theirs (zlib's adler32_combine)."""
    base = 65521
    rem = second_length % base
    sum1 = first & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 += (second & 0xFFFF) + base - 1
    sum2 += ((first >> 16) & 0xFFFF) + ((second >> 16) & 0xFFFF) + base - rem
    sum1 -= base if sum1 >= base else 0
    sum1 -= base if sum1 >= base else 0
    sum2 -= (base << 1) if sum2 >= (base << 1) else 0
    sum2 -= base if sum2 >= base else 0
    return sum1 | (sum2 << 16)


@dataclass(frozen=True)
class Packed:
    """Bytes compressed once, to be spliced into zlib streams by :func:`splice`."""

    run: bytes  # independent raw deflate blocks, byte-aligned, not final
    adler: int
    length: int

    @classmethod
    def of(cls, data: bytes) -> Packed:
        return cls(_deflate(data, final=False), zlib.adler32(data), len(data))


class Stored(bytes):
    """Bytes :func:`splice` stores without compressing (a few hundred bytes, where starting
    a compressor would cost more than it saves)."""


def _stored(data: bytes, *, final: bool) -> bytes:
    """``data`` as stored deflate blocks (RFC 1951 3.2.4), after a byte-aligned run."""
    out = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start:start + 0xFFFF]
        last = final and start + 0xFFFF >= len(data)
        out.append(struct.pack("<BHH", 1 if last else 0, len(chunk), len(chunk) ^ 0xFFFF))
        out.append(chunk)
    if final and not data:
        out.append(b"\x01\x00\x00\xff\xff")
    return b"".join(out)


def splice(parts: Sequence[bytes | Packed]) -> tuple[bytes, int]:
    """A zlib stream (a PDF /FlateDecode stream's data) of ``parts`` joined, those given as
    :class:`Packed` not compressed again, those given as :class:`Stored` not compressed at
    all; and its uncompressed length."""
    out, adler, length = [b"\x78\x9c"], 1, 0
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if isinstance(part, Stored):
            out.append(_stored(part, final=i == last))
            adler = zlib.adler32(part, adler)
            length += len(part)
            continue
        if isinstance(part, Packed):
            if i == last:
                packed, part = part, b""  # a stream must end with a final block
                out.append(packed.run)
                adler = _adler32_combine(adler, packed.adler, packed.length)
                length += packed.length
            else:
                out.append(part.run)
                adler = _adler32_combine(adler, part.adler, part.length)
                length += part.length
                continue
        out.append(_deflate(part, final=i == last))
        adler = zlib.adler32(part, adler)
        length += len(part)
    out.append(struct.pack(">I", adler))
    return b"".join(out), length


#: The small tables that change with the glyphs appended; the others are compressed once.
_VARYING = (b"head", b"hhea", b"maxp")


def _fixed_tags(small: dict[bytes, bytes]) -> list[bytes]:
    return sorted(t for t in small if t not in _VARYING)


#: A glyph a piece appends to a program: its outline (may be empty) and (advance, bearing).
Extra = tuple[bytes, tuple[int, int]]


@dataclass
class Program:
    """A merged TrueType program, ready to be written with glyphs appended after its own
    (a piece's values the shared parts lack, see :mod:`kenpo_docs.pdf.piecefonts`).

    After the table directory come the three big tables (``glyf``, ``loca``, ``hmtx``), then
    the small tables that do not change, each run compressed once, and last ``head``,
    ``hhea`` and ``maxp``. A piece's program splices those runs with its own bytes between
    them (the directory, the appended glyphs, loca and hmtx entries, the last three tables):
    a few kilobytes per piece instead of compressing the whole font."""

    count: int  # glyph ids of the merged subsets; appended glyphs get count, count + 1, ...
    glyphs: dict[int, bytes]
    metrics: dict[int, tuple[int, int]]
    small: dict[bytes, bytes]  # every table but glyf, loca and hmtx (maxp, hhea: templates)
    big: tuple[bytes, bytes, bytes]  # glyf, loca (count + 1 entries), hmtx: raw
    packed: tuple[Packed, Packed, Packed]  # the same, compressed
    sums: tuple[int, int, int]  # their checksums
    fixed: Packed  # the small tables but head, hhea and maxp, in _fixed_tags order, padded

    def _parts(self, extra: Sequence[Extra]) -> list[tuple[bytes, bytes | Packed]]:
        """The file in order, as (raw bytes, what :func:`splice` gets for them: the run
        compressed once, :class:`Stored` bytes, or bytes to compress)."""
        count = self.count + len(extra)
        glyf, loca, hmtx = self.big
        add_glyf = b"".join(g + b"\0" * (-len(g) % 4) for g, _ in extra)
        ends, at = array("I"), len(glyf)
        for g, _ in extra:
            at += len(g) + (-len(g) % 4)
            ends.append(at)
        add_hmtx = array("H")
        for _, (advance, bearing) in extra:
            add_hmtx.extend((advance, bearing & 0xFFFF))
        if _LITTLE:
            ends.byteswap()
            add_hmtx.byteswap()
        add_loca, add_hmtx_bytes = ends.tobytes(), add_hmtx.tobytes()

        small = dict(self.small)
        maxp, hhea = bytearray(small[b"maxp"]), bytearray(small[b"hhea"])
        struct.pack_into(">H", maxp, 4, count)
        struct.pack_into(">H", hhea, 34, count)
        small[b"maxp"], small[b"hhea"] = bytes(maxp), bytes(hhea)

        lengths = {b"glyf": len(glyf) + len(add_glyf), b"loca": 4 * (count + 1),
                   b"hmtx": 4 * count, **{t: len(d) for t, d in small.items()}}
        sums = {b"glyf": self.sums[0] + _checksum(add_glyf),
                b"loca": self.sums[1] + _checksum(add_loca),
                b"hmtx": self.sums[2] + _checksum(add_hmtx_bytes),
                **{t: _checksum(d) for t, d in small.items()}}
        fixed = _fixed_tags(small)
        order = [b"glyf", b"loca", b"hmtx", *fixed, *_VARYING]  # the data's order in the file
        tags = sorted(lengths)  # the directory's order
        number = len(tags)
        power = 1 << (number.bit_length() - 1)
        offsets, at = {}, 12 + 16 * number
        for tag in order:
            offsets[tag] = at
            at += lengths[tag] + (-lengths[tag] % 4)
        directory = struct.pack(">4sHHHH", b"\x00\x01\x00\x00", number, power * 16,
                                power.bit_length() - 1, number * 16 - power * 16) + b"".join(
            struct.pack(">4sIII", t, sums[t] & 0xFFFFFFFF, offsets[t], lengths[t]) for t in tags)
        total = _checksum(directory) + sum(sums.values())
        head = bytearray(small[b"head"])
        struct.pack_into(">I", head, 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)
        small[b"head"] = bytes(head)
        varying = b"".join(small[t] + b"\0" * (-len(small[t]) % 4) for t in _VARYING)
        packed_glyf, packed_loca, packed_hmtx = self.packed
        return [(directory, Stored(directory)), (glyf, packed_glyf), (add_glyf, add_glyf),
                (loca, packed_loca), (add_loca, Stored(add_loca)), (hmtx, packed_hmtx),
                (add_hmtx_bytes, Stored(add_hmtx_bytes)), (self.fixed_raw, self.fixed),
                (varying, Stored(varying))]

    @functools.cached_property
    def fixed_raw(self) -> bytes:
        return b"".join(self.small[t] + b"\0" * (-len(self.small[t]) % 4)
                        for t in _fixed_tags(self.small))

    def font_bytes(self, extra: Sequence[Extra] = ()) -> bytes:
        """The TrueType file, with ``extra`` glyphs appended."""
        return b"".join(raw for raw, _ in self._parts(extra))

    def stream(self, extra: Sequence[Extra] = ()) -> tuple[bytes, int]:
        """The file zlib-compressed (a PDF /FlateDecode stream) and its length: the big
        tables' precompressed runs spliced between the pieces compressed now."""
        return splice([part for _, part in self._parts(extra)])


#: Programs by the digests of the subsets they were made of: a chunk's backgrounds and
#: notice are often the same as an earlier chunk's. (Only the same subsets give the same
#: program: a piece's bytes must not depend on which chunks its process rendered before.)
_PROGRAMS: dict[tuple[bytes, ...], Program] = {}


def prepare(fonts: Sequence[FontFile], others: Sequence[FontFile] = ()) -> Program:
    """One program with every glyph of ``fonts`` (subsets of one font file made with retained
    glyph ids), sized for glyphs appended from ``others`` (more subsets of the same file).
    Raises :class:`FontMergeError` where they disagree."""
    by_key = {f.key: f for f in fonts}
    key = tuple(sorted(by_key))
    program = recent(_PROGRAMS, key, lambda: _prepare([_parse(by_key[k]) for k in key]), 16)
    if not others:
        return program
    return dataclasses.replace(program, small=_widened(
        program.small, [_parse(f) for f in others]))


def _identity(tables: dict[bytes, bytes]) -> bytes:
    """What tells font files apart (a family's regular and bold may share their header)."""
    head = tables[b"head"]
    return head[4:8] + head[18:28] + tables.get(b"OS/2", b"")[:6] + tables.get(b"name", b"")


def _same_file(first: dict[bytes, bytes], other: dict[bytes, bytes]) -> None:
    if _identity(first) != _identity(other):
        raise FontMergeError("the subsets come from different font files")


def _widened(small: dict[bytes, bytes], subsets: Sequence[_Subset]) -> dict[bytes, bytes]:
    """``small`` with head, hhea and maxp covering the glyphs of ``subsets`` too."""
    for subset in subsets:
        _same_file(small, subset.tables)
    heads = [small[b"head"], *(s.tables[b"head"] for s in subsets)]
    boxes = [struct.unpack_from(">hhhh", h, 36) for h in heads]
    head = bytearray(small[b"head"])
    struct.pack_into(">hhhh", head, 36, min(b[0] for b in boxes), min(b[1] for b in boxes),
                     max(b[2] for b in boxes), max(b[3] for b in boxes))
    hheas = [small[b"hhea"], *(s.tables[b"hhea"] for s in subsets)]
    hhea = bytearray(small[b"hhea"])
    struct.pack_into(">H", hhea, 10, max(struct.unpack_from(">H", h, 10)[0] for h in hheas))
    for at, pick in ((12, min), (14, min), (16, max)):
        struct.pack_into(">h", hhea, at, pick(struct.unpack_from(">h", h, at)[0] for h in hheas))
    maxps = [small[b"maxp"], *(s.tables[b"maxp"] for s in subsets)]
    maxp = bytearray(small[b"maxp"])
    for at in range(6, min(len(maxp), 32), 2):
        struct.pack_into(">H", maxp, at, max(struct.unpack_from(">H", m, at)[0] for m in maxps))
    return {**small, b"head": bytes(head), b"hhea": bytes(hhea), b"maxp": bytes(maxp)}


def _prepare(subsets: Sequence[_Subset]) -> Program:
    first = subsets[0].tables
    for other in subsets[1:]:
        _same_file(first, other.tables)
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

    head = bytearray(first[b"head"])
    struct.pack_into(">I", head, 8, 0)
    struct.pack_into(">h", head, 50, 1)
    small = {tag: data for tag, data in first.items() if tag in _KEEP}
    small.update({b"head": bytes(head), b"hhea": first[b"hhea"], b"maxp": first[b"maxp"]})
    if b"post" in first:  # version 3: no glyph names (a version 2 name list would be wrong)
        small[b"post"] = b"\x00\x03\x00\x00" + first[b"post"][4:32]
    small = _widened(small, subsets[1:])
    big = (bytes(glyf), loca.tobytes(), hmtx.tobytes())
    return Program(
        count=count, glyphs=glyphs, metrics=metrics, small=small, big=big,
        packed=(Packed.of(big[0]), Packed.of(big[1]), Packed.of(big[2])),
        sums=(_checksum(big[0]), _checksum(big[1]), _checksum(big[2])),
        fixed=Packed.of(b"".join(small[t] + b"\0" * (-len(small[t]) % 4)
                                 for t in _fixed_tags(small))))


def merge_truetype(fonts: Sequence[bytes]) -> bytes:
    """One TrueType program with every glyph of ``fonts``, subsets of one font file made with
    retained glyph ids. Raises :class:`FontMergeError` where they disagree."""
    return _prepare([_parse(FontFile.of(f)) for f in fonts]).font_bytes()


def glyph_source(font: FontFile) -> Callable[[int], Extra]:
    """A subset's glyphs by id: (outline, b"" if none; metrics), for :meth:`Program.stream`."""
    subset = _parse(font)
    return lambda gid: (subset.glyphs.get(gid, b""), subset.metrics.get(gid, (0, 0)))
