"""A piece file's fonts: one font per face, holding the glyphs this piece draws.

The parts of a piece are laid out separately and each embeds its own subset of the same
fonts (see :mod:`kenpo_docs.pdf.fontmerge` for why and how subsets merge). Per chunk:

* the subsets the pieces reach through Form XObjects (the letters' and forms' shared
  backgrounds, the notice's pages) are merged once per face into a
  :class:`~kenpo_docs.pdf.fontmerge.Program`;
* the fonts a page uses itself (the values drawn over a background, a letter laid out in
  full) are read per piece: its content streams are scanned for the glyphs it shows. Those
  the merged program has keep their number; the others (a name's or an address's rarer
  kanji, ~10-25 a piece) are appended to the program under new numbers, and the page's
  text is rewritten to use them. So a piece carries the glyphs of its own values, not those
  of every household of its chunk (a home chunk's addresses were ~190 glyphs, ~25 KB a piece);
* each piece then gets one font per face (program, widths, ToUnicode map), its Type0 fonts
  and rewritten content streams replacing the originals through
  :meth:`~kenpo_docs.pdf.stream.PdfStreamWriter.alias`.

A font a page uses itself that is also used inside a Form XObject counts as shared (all its
glyphs go into the program; XObjects' text is not read). Anything unexpected (a literal
string or an inline image in a page's text, subsets that disagree) sends that piece, or that
face, back to the plain merge of all the chunk's subsets, and failing that to the subsets as
they were: a larger file, never a wrong one. The print files keep the chunk's subsets.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import re
import struct
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from kenpo_docs.pdf import fontmerge
from kenpo_docs.pdf.fontmerge import FontMergeError, Program

logger = logging.getLogger("kenpo_docs")

#: Glyph widths the fonts leave out of /W: the PDF default /DW, 1000 (every kanji).
_DEFAULT_WIDTH = 1000.0
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")
#: A page's text as WeasyPrint writes it: ``/F 12 Tf`` and hex glyph strings in TJ arrays.
_TF = re.compile(rb"/([^\s/\[\]<>(){}%]+)\s+[-+.\d]+\s+Tf")
_HEX = re.compile(rb"(?<!<)<(?!<)([^<>]*)>")  # any <...> but a dictionary's <<...>>
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_INLINE_IMAGE = re.compile(rb"(?:^|\s)BI\s")
_LITTLE = struct.pack("=H", 1) != struct.pack(">H", 1)

Body = tuple[bytes | int, ...]


# -- reading fonts --------------------------------------------------------------------------

@dataclass
class _Face:
    """One Type0 font dictionary of a segment, read for merging."""

    name: bytes  # the PostScript name without the subset tag
    key: bytes  # a digest of its program, widths and Unicode map
    base_font: bytes
    font_file: fontmerge.FontFile
    widths: dict[int, float]
    to_unicode: dict[int, bytes]
    system_info: bytes
    descriptor: DictionaryObject


def _direct(obj: Any) -> bytes:
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
    """``font`` read for merging, or None if it is not a font we merge: a Type0 font over an
    embedded TrueType CIDFont, /Identity-H, /CIDToGIDMap /Identity, default width 1000."""
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
    program = descriptor["/FontFile2"].get_object()
    key = hashlib.blake2b(repr((program.get("/Filter"), program.get("/DecodeParms"))).encode()
                          + program._data, digest_size=16).digest()  # as stored: no inflating
    to_unicode = font["/ToUnicode"].get_object()
    face_key = hashlib.blake2b(key + to_unicode._data + _direct(cid.get("/W", ArrayObject())),
                               digest_size=16).digest()
    return _Face(
        name=base_font.split(b"+", 1)[-1], key=face_key, base_font=base_font,
        font_file=fontmerge.FontFile(key, program.get_data),
        widths=_widths(cid.get("/W")), to_unicode=_to_unicode(font["/ToUnicode"]),
        system_info=_direct(cid["/CIDSystemInfo"]), descriptor=descriptor)


#: Faces read from font dictionaries that outlive a chunk (the shapes' backgrounds and the
#: static enclosures are kept per process), by the dictionary's identity.
_FACES: dict[int, tuple[DictionaryObject, _Face | None]] = {}


def _read_face(font: DictionaryObject, *, cache: bool) -> _Face | None:
    """:func:`_face`, remembered for a dictionary used again in later chunks (``cache``)."""
    if not cache:
        return _face(font)
    hit = fontmerge.recent(_FACES, id(font), lambda: (font, _face(font)), 64)
    if hit[0] is not font:  # another dictionary that had the same id
        hit = _FACES[id(font)] = (font, _face(font))
    return hit[1]


def _union(maps: Sequence[dict[int, Any]], what: str) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for mapping in maps:
        for key, value in mapping.items():
            if out.setdefault(key, value) != value:
                raise FontMergeError(f"glyph {key}: two different {what}")
    return out


# -- writing fonts --------------------------------------------------------------------------

def _number(value: float) -> bytes:
    if value == int(value):
        return b"%d" % int(value)
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<<%s/Filter/FlateDecode/Length %d>>\nstream\n%s\nendstream" % (
        entries, len(data), data)


def _w_entries(widths: dict[int, float]) -> bytes:
    """/W's entries (no brackets) for ``widths``, leaving out the default width."""
    parts: list[bytes] = []
    run: list[bytes] = []
    previous = None
    for gid in sorted(g for g, w in widths.items() if w != _DEFAULT_WIDTH):
        if previous is None or gid != previous + 1:
            if run:
                parts.append(b"[" + b" ".join(run) + b"]")
            parts.append(b"%d" % gid)
            run = []
        run.append(_number(widths[gid]))
        previous = gid
    if run:
        parts.append(b"[" + b" ".join(run) + b"]")
    return b" ".join(parts)


_CMAP_HEAD = (b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
              b"/CIDSystemInfo\n<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
              b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
              b"1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n")
_CMAP_TAIL = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"


def _bfchar(to_unicode: Sequence[tuple[int, bytes]]) -> bytes:
    """ToUnicode CMap entries, in bfchar blocks of 100 as WeasyPrint writes them."""
    out = []
    for start in range(0, len(to_unicode), 100):
        batch = to_unicode[start:start + 100]
        out.append(b"%d beginbfchar\n" % len(batch))
        out.extend(b"<%04x> <%s>\n" % (gid, text) for gid, text in batch)
        out.append(b"endbfchar\n")
    return b"".join(out)


@dataclass
class _Merged:
    """A face's merged fonts for a chunk: the program and what every piece's font shares."""

    program: Program
    widths: dict[int, float]
    to_unicode: dict[int, bytes]
    head: bytes  # the CIDFont dictionary up to /W
    descriptor: bytes  # the FontDescriptor up to /FontFile2's reference
    base_font: bytes
    w_entries: bytes  # /W's entries for ``widths``
    cmap: fontmerge.Packed  # the ToUnicode CMap up to the end of ``to_unicode``'s entries


#: What :func:`_merged` derives from the shared faces alone, by their content: the same
#: backgrounds (in different shapes, with the same subsets) and notice come back chunk after
#: chunk.
_SHARED: dict[tuple[bytes, ...], dict[str, Any]] = {}


def _shared_parts(shared: Sequence[_Face]) -> dict[str, Any]:
    unique = {f.key: f for f in shared}
    key = tuple(sorted(unique))

    def make() -> dict[str, Any]:
        faces = [unique[k] for k in key]
        first = faces[0]
        widths = _union([f.widths for f in faces], "widths")
        to_unicode = _union([f.to_unicode for f in faces], "Unicode values")
        return {
            "widths": widths, "to_unicode": to_unicode, "w_entries": _w_entries(widths),
            "cmap": fontmerge.Packed.of(_CMAP_HEAD + _bfchar(sorted(to_unicode.items()))),
            "head": (b"<</Type/Font/Subtype/CIDFontType2/BaseFont" + first.base_font
                     + b"/CIDSystemInfo" + first.system_info
                     + b"/CIDToGIDMap/Identity/DW 1000/W"),
            "descriptor": [b"<</Type/FontDescriptor"] + [
                _direct(k) + b" " + _direct(v) for k, v in first.descriptor.items()
                if k not in ("/Type", "/FontFile2", "/FontBBox", "/CIDSet")],
            "base_font": first.base_font,
        }

    return fontmerge.recent(_SHARED, key, make, 16)  # type: ignore[no-any-return]


def _merged(shared: Sequence[_Face], others: Sequence[_Face]) -> _Merged:
    program = fontmerge.prepare([f.font_file for f in shared], [f.font_file for f in others])
    parts = _shared_parts(shared)
    descriptor = list(parts["descriptor"])
    boxes = [[float(v) for v in f.descriptor["/FontBBox"]] for f in (*shared, *others)
             if "/FontBBox" in f.descriptor]
    if boxes:
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes))
        descriptor.append(b"/FontBBox[" + b" ".join(_number(v) for v in box) + b"]")
    descriptor.append(b"/FontFile2 ")
    return _Merged(
        program=program, widths=parts["widths"], to_unicode=parts["to_unicode"],
        w_entries=parts["w_entries"], cmap=parts["cmap"], head=parts["head"],
        descriptor=b"\n".join(descriptor), base_font=parts["base_font"])


def _font_objects(merged: _Merged, extra: Sequence[fontmerge.Extra] = (),
                  widths: dict[int, float] | None = None,
                  to_unicode: dict[int, bytes] | None = None) -> list[Body]:
    """A font's objects as segment bodies, references as indexes into the list:
    [Type0, CIDFont, FontDescriptor, FontFile2, ToUnicode]. ``widths`` and ``to_unicode``
    are added to the merged font's (the piece's appended glyphs, or the rare glyph it shows
    that the merged font has no width or text for)."""
    program, length = merged.program.stream(extra)
    w_entries, cmap = merged.w_entries, [merged.cmap, _CMAP_TAIL]
    if widths or to_unicode:
        widths, to_unicode = widths or {}, to_unicode or {}
        if all(g >= merged.program.count for g in widths) and all(
                g >= merged.program.count for g in to_unicode):
            w_entries += b" " + _w_entries(widths)  # appended: after every merged glyph
            cmap = [merged.cmap, _bfchar(sorted(to_unicode.items())) + _CMAP_TAIL]
        else:
            w_entries = _w_entries({**merged.widths, **widths})
            cmap = [_CMAP_HEAD + _bfchar(sorted({**merged.to_unicode, **to_unicode}.items()))
                    + _CMAP_TAIL]
    cmap_data, _ = fontmerge.splice(cmap)
    return [
        (b"<</Type/Font/Subtype/Type0/BaseFont" + merged.base_font
         + b"/Encoding/Identity-H/ToUnicode ", 4, b"/DescendantFonts[", 1, b"]>>"),
        (merged.head + b"[" + w_entries + b"]/FontDescriptor ", 2, b">>"),
        (merged.descriptor, 3, b">>"),
        (_stream(b"/Length1 %d" % length, program),),
        (_stream(b"", cmap_data),),
    ]


# -- a page's own text ----------------------------------------------------------------------

@dataclass
class PageText:
    """What a page draws itself rather than through a Form XObject: its fonts (resource name
    to segment object), its content streams (object, decoded data), and the objects of its
    other resources (its XObjects: fonts used in them are not the page's own)."""

    fonts: dict[bytes, int] = field(default_factory=dict)
    contents: list[tuple[int, bytes]] = field(default_factory=list)
    others: list[int] = field(default_factory=list)


def _refs(obj: Any, out: list[IndirectObject]) -> None:
    if isinstance(obj, IndirectObject):
        out.append(obj)
    elif isinstance(obj, dict):
        for value in obj.values():
            _refs(value, out)
    elif isinstance(obj, list):
        for value in obj:
            _refs(value, out)


def page_text(local: Any, page: DictionaryObject) -> PageText:
    """Read ``page`` (a pypdf page just recorded into a segment; ``local`` maps its
    references to the segment's object numbers) for :class:`ChunkFonts`."""
    out = PageText()
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    others: list[IndirectObject] = []
    for key, value in resources.items():
        if key != "/Font":
            _refs(value, others)
    out.others = [local(r) for r in others]
    fonts = resources.get("/Font")
    if fonts is None:
        return out
    for name, ref in fonts.get_object().items():
        if isinstance(ref, IndirectObject):
            out.fonts[name[1:].encode("latin-1")] = local(ref)
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else ArrayObject()
    refs = contents if isinstance(contents, list) else [page["/Contents"]]
    out.contents = [(local(r), r.get_object().get_data()) for r in refs]
    return out


#: Where a content stream shows text in one of the page's fonts: (start, end, font, parts),
#: ``parts`` the stretch split at its hex strings (odd items: their digits).
Found = list[tuple[int, int, int, list[bytes]]]


def _scan(data: bytes, fonts: dict[bytes, int], font: int | None = None
          ) -> tuple[Found, int | None] | None:
    """The stretches of a content stream between font changes whose text is in ``fonts``,
    and the font set at its end (``font``: the one set when it starts; a page's streams are
    one content). None if its text is not written the way this module reads: literal
    strings, an inline image, a hex string that is not whole 2-byte glyph ids."""
    if b"(" in data or (b"BI" in data and _INLINE_IMAGE.search(data)):
        return None
    if b"<" not in data and b"Tf" not in data:
        return [], font  # no text here (a piece code, a background's ``Do``)
    runs = []
    at = 0
    for match in _TF.finditer(data):
        if font is not None:
            runs.append((at, match.start(), font))
        font = fonts.get(match.group(1))
        at = match.end()
    if font is not None:
        runs.append((at, len(data), font))
    out = []
    for start, end, run_font in runs:
        parts = _HEX.split(data[start:end])
        strings = parts[1::2]
        if any(len(h) & 3 for h in strings) or b"".join(strings).translate(None, _HEX_DIGITS):
            return None
        out.append((start, end, run_font, parts))
    return out, font


def _glyphs(parts: list[bytes]) -> array:
    """The glyph ids of the hex strings of a stretch split by :func:`_scan`."""
    ids = array("H", binascii.unhexlify(b"".join(parts[1::2])))
    if _LITTLE:
        ids.byteswap()
    return ids


def _renumbered(parts: list[bytes], numbers: dict[int, int]) -> bytes:
    """The stretch with the glyph ids of its hex strings renumbered."""
    ids = _glyphs(parts)
    ids = array("H", map(numbers.get, ids, ids))
    if _LITTLE:
        ids.byteswap()
    digits = binascii.hexlify(ids.tobytes())
    out = list(parts)
    at = 0
    for i in range(1, len(out), 2):
        size = len(out[i])
        out[i] = b"<" + digits[at:at + size] + b">"
        at += size
    return b"".join(out)


def _fonts_of(segment: Any, starts: Sequence[int], fonts: dict[int, Any]) -> frozenset[int]:
    """The fonts (segment object numbers among ``fonts``) reachable from ``starts``."""
    found = set()
    seen: set[int] = set()
    stack = list(starts)
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


# -- per chunk, per piece -------------------------------------------------------------------

class ChunkFonts:
    """The fonts of a chunk's piece files (see the module docstring).

    ``fonts`` maps the segment's Type0 font objects to their dictionaries, ``pages`` has a
    :class:`PageText` per segment page, ``pieces`` the segment pages of each piece. Call
    :meth:`piece` for a piece's aliases, write it, then :meth:`release` its objects."""

    def __init__(self, segment: Any, fonts: dict[int, DictionaryObject],
                 pages: Sequence[PageText], pieces: Sequence[range]) -> None:
        self.segment = segment
        self.pages = pages
        self.pieces = pieces
        self.used = [_fonts_of(segment, [segment.pages[i] for i in p], fonts) for p in pieces]
        everything = frozenset().union(*self.used)
        # The fonts pages use themselves; one also used inside a Form XObject (whose text
        # is not read here) counts as shared: all its glyphs go into the merged program.
        inside = _fonts_of(segment, sorted({n for page in pages for n in page.others}), fonts)
        self.own = own = {n for page in pages for n in page.fonts.values()} & everything - inside
        self.faces: dict[int, _Face] = {}
        for num in sorted(everything):
            try:
                face = _read_face(fonts[num], cache=num not in own)
            except (FontMergeError, KeyError, TypeError, ValueError, IndexError) as exc:
                logger.debug("font %d not merged: %s", num, exc)
                continue
            if face is not None:
                self.faces[num] = face
        self.merged: dict[bytes, _Merged] = {}
        self.chunk_font: dict[bytes, int] = {}  # the merged font of a face, no glyph appended
        by_name: dict[bytes, tuple[list[_Face], list[_Face]]] = {}
        for num, face in self.faces.items():
            by_name.setdefault(face.name, ([], []))[num in own].append(face)
        for name, (shared, others) in by_name.items():
            if not shared:
                continue
            try:
                merged = self.merged[name] = _merged(shared, others)
            except FontMergeError as exc:
                logger.info("font subsets of %s not merged: %s", name.decode("latin-1"), exc)
                continue
            self.chunk_font[name] = self._append(_font_objects(merged))
        self._whole: dict[int, int] | None = None
        self._sources: dict[int, Any] = {}
        self._keep = len(segment.objects)

    def _glyph(self, font: int, gid: int) -> fontmerge.Extra:
        source = self._sources.get(font)
        if source is None:
            source = self._sources[font] = fontmerge.glyph_source(self.faces[font].font_file)
        return source(gid)

    def _append(self, bodies: list[Body]) -> int:
        """Append bodies whose references are indexes into ``bodies``; the first's number."""
        base = len(self.segment.objects)
        for body in bodies:
            self.segment.objects.append((None, tuple(
                base + part if type(part) is int else part for part in body)))
        return base

    def release(self) -> None:
        """Drop the objects made for the last piece."""
        del self.segment.objects[self._keep:]

    def piece(self, index: int) -> dict[int, int]:
        """``{object: replacement}`` for piece ``index``'s file."""
        try:
            aliases = self._piece(index)
        except FontMergeError as exc:
            logger.info("a piece's own glyphs not merged (%s); the chunk's merge is used", exc)
            aliases = None
        if aliases is None:
            whole = self._whole_chunk()
            aliases = {f: whole[f] for f in self.used[index] if f in whole}
        return aliases

    def _piece(self, index: int) -> dict[int, int] | None:
        used = self.used[index]
        own = self.own
        shown: dict[int, set[int]] = {}  # font -> glyphs the piece's pages show in it
        scans: list[tuple[int, bytes, Found]] = []
        for page_index in self.pieces[index]:
            page = self.pages[page_index]
            fonts = {n: f for n, f in page.fonts.items() if f in self.faces and f in own}
            if not fonts:
                continue
            font: int | None = None
            for local, data in page.contents:
                scanned = _scan(data, fonts, font)
                if scanned is None:
                    return None
                found, font = scanned
                if found:
                    scans.append((local, data, found))
                for _, _, run_font, parts in found:
                    shown.setdefault(run_font, set()).update(_glyphs(parts))

        # A glyph keeps its number where the merged program has it with the same width and
        # text; otherwise (not there, or the page maps it to other text) it is appended.
        renumber: dict[int, dict[int, int]] = {}  # font -> {glyph: new number}
        appended: dict[bytes, dict[tuple[int, float | None, bytes | None], int]] = {}
        extra: dict[bytes, list[fontmerge.Extra]] = {}
        widths: dict[bytes, dict[int, float]] = {}
        texts: dict[bytes, dict[int, bytes]] = {}
        for font, gids in shown.items():
            face = self.faces[font]
            merged = self.merged.get(face.name)
            if merged is None:
                return None
            program = merged.program
            numbers = renumber.setdefault(font, {})
            face_widths = widths.setdefault(face.name, {})
            face_texts = texts.setdefault(face.name, {})
            for gid in sorted(gids):
                width, text = face.widths.get(gid), face.to_unicode.get(gid)
                if (gid in program.glyphs or gid in program.metrics) \
                        and merged.widths.get(gid, width) == width \
                        and merged.to_unicode.get(gid, text) == text:
                    new = gid
                else:
                    key = (gid, width, text)
                    face_appended = appended.setdefault(face.name, {})
                    new = face_appended.get(key)  # type: ignore[assignment]
                    if new is None:
                        new = face_appended[key] = program.count + len(face_appended)
                        extra.setdefault(face.name, []).append(self._glyph(font, gid))
                    numbers[gid] = new
                if width is not None:
                    face_widths[new] = width
                if text is not None:
                    face_texts[new] = text

        aliases: dict[int, int] = {}
        piece_font: dict[bytes, int] = {}
        for name, face_widths in widths.items():
            merged = self.merged[name]
            glyphs = extra.get(name, [])
            lacking_widths = {g: w for g, w in face_widths.items() if merged.widths.get(g) != w}
            lacking_texts = {g: t for g, t in texts[name].items()
                             if merged.to_unicode.get(g) != t}
            if glyphs or lacking_widths or lacking_texts:
                piece_font[name] = self._append(_font_objects(
                    merged, glyphs, lacking_widths, lacking_texts))
        for font in used:
            face = self.faces.get(font)
            if face is not None:
                target = piece_font.get(face.name, self.chunk_font.get(face.name))
                if target is not None:
                    aliases[font] = target

        for local, data, found in scans:
            parts, at = [], 0
            for start, end, run_font, run in found:
                numbers = renumber.get(run_font)
                if numbers:
                    parts += [data[at:start], _renumbered(run, numbers)]
                    at = end
            if parts:
                parts.append(data[at:])
                aliases[local] = self._append(
                    [(_stream(b"", zlib.compress(b"".join(parts), 6)),)])
        return aliases

    def _whole_chunk(self) -> dict[int, int]:
        """All the chunk's subsets of each face merged into one font (no piece's own), made
        once when a piece cannot have its own (see :meth:`piece`)."""
        if self._whole is not None:
            return self._whole
        self._whole = {}
        by_name: dict[bytes, list[int]] = {}
        for num, face in self.faces.items():
            by_name.setdefault(face.name, []).append(num)
        for name, nums in by_name.items():
            faces = [self.faces[n] for n in nums]
            try:
                merged = _merged(faces, ())
                target = self._append(_font_objects(merged))
            except FontMergeError as exc:
                logger.info("font subsets of %s not merged: %s", name.decode("latin-1"), exc)
                continue
            for num in nums:
                self._whole[num] = target
        self._keep = len(self.segment.objects)
        return self._whole
