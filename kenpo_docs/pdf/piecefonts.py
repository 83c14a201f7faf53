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

The font dictionaries themselves (read, merged, written back) are
:mod:`kenpo_docs.pdf.fontdicts`; this module reads the pages' own text and makes each
piece's fonts from the chunk's.
"""

from __future__ import annotations

import binascii
import logging
import re
import struct
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from kenpo_docs.pdf import fontmerge
from kenpo_docs.pdf.fontdicts import (
    Body,
    Face,
    Merged,
    flate_stream,
    font_objects,
    merge_faces,
    read_face,
)
from kenpo_docs.pdf.fontmerge import FontMergeError

logger = logging.getLogger(__name__)

#: A page's text as WeasyPrint writes it: ``/F 12 Tf`` and hex glyph strings in TJ arrays.
_TF = re.compile(rb"/([^\s/\[\]<>(){}%]+)\s+[-+.\d]+\s+Tf")
_HEX = re.compile(rb"(?<!<)<(?!<)([^<>]*)>")  # any <...> but a dictionary's <<...>>
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_INLINE_IMAGE = re.compile(rb"(?:^|\s)BI\s")
_LITTLE = struct.pack("=H", 1) != struct.pack(">H", 1)


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
    out.contents = [(local(r), cast(StreamObject, r.get_object()).get_data()) for r in refs]
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


def _glyphs(parts: list[bytes]) -> array[int]:
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
        self.faces: dict[int, Face] = {}
        for num in sorted(everything):
            try:
                face = read_face(fonts[num], cache=num not in own)
            except (FontMergeError, KeyError, TypeError, ValueError, IndexError) as exc:
                logger.debug("font %d not merged: %s", num, exc)
                continue
            if face is not None:
                self.faces[num] = face
        self.merged: dict[bytes, Merged] = {}
        self.chunk_font: dict[bytes, int] = {}  # the merged font of a face, no glyph appended
        by_name: dict[bytes, tuple[list[Face], list[Face]]] = {}
        for num, face in self.faces.items():
            by_name.setdefault(face.name, ([], []))[num in own].append(face)
        for name, (shared, others) in by_name.items():
            if not shared:
                continue
            try:
                merged = self.merged[name] = merge_faces(shared, others)
            except FontMergeError as exc:
                logger.info("font subsets of %s not merged: %s", name.decode("latin-1"), exc)
                continue
            self.chunk_font[name] = self._append(font_objects(merged))
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
                    appended_as = face_appended.get(key)
                    if appended_as is None:
                        appended_as = face_appended[key] = program.count + len(face_appended)
                        extra.setdefault(face.name, []).append(self._glyph(font, gid))
                    new = appended_as
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
                piece_font[name] = self._append(font_objects(
                    merged, glyphs, lacking_widths, lacking_texts))
        for font in used:
            used_face = self.faces.get(font)
            if used_face is not None:
                target = piece_font.get(used_face.name, self.chunk_font.get(used_face.name))
                if target is not None:
                    aliases[font] = target

        for local, data, found in scans:
            parts, at = [], 0
            for start, end, run_font, run in found:
                run_numbers = renumber.get(run_font)
                if run_numbers:
                    parts += [data[at:start], _renumbered(run, run_numbers)]
                    at = end
            if parts:
                parts.append(data[at:])
                aliases[local] = self._append(
                    [(flate_stream(b"", zlib.compress(b"".join(parts), 6)),)])
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
                merged = merge_faces(faces, ())
                target = self._append(font_objects(merged))
            except FontMergeError as exc:
                logger.info("font subsets of %s not merged: %s", name.decode("latin-1"), exc)
                continue
            for num in nums:
                self._whole[num] = target
        self._keep = len(self.segment.objects)
        return self._whole
