"""A face's font objects in a PDF: read from Type0 font dictionaries, merged, written back.

:mod:`kenpo_docs.pdf.piecefonts` decides which of a chunk's subsets merge and which glyphs
each piece appends; this module does the PDF side of one face. It reads a Type0 font over an
embedded TrueType CIDFont (program, widths, ToUnicode map) into a :class:`Face`, merges faces
into a :class:`Merged` font (a :class:`~kenpo_docs.pdf.fontmerge.Program` and what every
piece's copy shares), and writes such a font's five objects as segment bodies
(:func:`font_objects`). The TrueType programs themselves are :mod:`kenpo_docs.pdf.fontmerge`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, cast

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from kenpo_docs.gates._pypdf import stored_bytes
from kenpo_docs.pdf import fontmerge
from kenpo_docs.pdf.fontmerge import FontMergeError, Program

#: Glyph widths the fonts leave out of /W: the PDF default /DW, 1000 (every kanji).
_DEFAULT_WIDTH = 1000.0
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")

Body = tuple[bytes | int, ...]


# -- reading fonts --------------------------------------------------------------------------

@dataclass
class Face:
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


def cid_widths(array_obj: Any) -> dict[int, float]:
    """A CIDFont's /W array (both forms: ``c [w…]`` and ``c_first c_last w``): cid -> width."""
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


def _face(font: DictionaryObject) -> Face | None:
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
    stored = stored_bytes(program)  # as stored: no inflating
    key = hashlib.blake2b(repr((program.get("/Filter"), program.get("/DecodeParms"))).encode()
                          + stored, digest_size=16).digest()
    to_unicode = cast(StreamObject, font["/ToUnicode"].get_object())
    widths = _direct(cid.get("/W", ArrayObject()))
    face_key = hashlib.blake2b(key + stored_bytes(to_unicode) + widths, digest_size=16).digest()
    return Face(
        name=base_font.split(b"+", 1)[-1], key=face_key, base_font=base_font,
        font_file=fontmerge.FontFile(key, program.get_data),
        widths=cid_widths(cid.get("/W")), to_unicode=_to_unicode(font["/ToUnicode"]),
        system_info=_direct(cid["/CIDSystemInfo"]), descriptor=descriptor)


#: Faces read from font dictionaries that outlive a chunk (the shapes' backgrounds and the
#: static enclosures are kept per process), by the dictionary's identity.
_FACES: dict[int, tuple[DictionaryObject, Face | None]] = {}


def read_face(font: DictionaryObject, *, cache: bool) -> Face | None:
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


def flate_stream(entries: bytes, data: bytes) -> bytes:
    """A stream object's body: ``entries`` (besides /Filter and /Length) over ``data``,
    already deflated."""
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
class Merged:
    """A face's merged fonts for a chunk: the program and what every piece's font shares."""

    program: Program
    widths: dict[int, float]
    to_unicode: dict[int, bytes]
    head: bytes  # the CIDFont dictionary up to /W
    descriptor: bytes  # the FontDescriptor up to /FontFile2's reference
    base_font: bytes
    w_entries: bytes  # /W's entries for ``widths``
    cmap: fontmerge.Packed  # the ToUnicode CMap up to the end of ``to_unicode``'s entries


#: What :func:`merge_faces` derives from the shared faces alone, by their content: the same
#: backgrounds (in different shapes, with the same subsets) and notice come back chunk after
#: chunk.
_SHARED: dict[tuple[bytes, ...], dict[str, Any]] = {}


def _shared_parts(shared: Sequence[Face]) -> dict[str, Any]:
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

    return fontmerge.recent(_SHARED, key, make, 16)


def merge_faces(shared: Sequence[Face], others: Sequence[Face]) -> Merged:
    """One font with every glyph of ``shared`` (subsets of one face), with room for glyphs
    appended from ``others``. Raises :class:`FontMergeError` where they disagree."""
    program = fontmerge.prepare([f.font_file for f in shared], [f.font_file for f in others])
    parts = _shared_parts(shared)
    descriptor = list(parts["descriptor"])
    boxes = [[float(v) for v in cast(ArrayObject, f.descriptor["/FontBBox"])]
             for f in (*shared, *others) if "/FontBBox" in f.descriptor]
    if boxes:
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes))
        descriptor.append(b"/FontBBox[" + b" ".join(_number(v) for v in box) + b"]")
    descriptor.append(b"/FontFile2 ")
    return Merged(
        program=program, widths=parts["widths"], to_unicode=parts["to_unicode"],
        w_entries=parts["w_entries"], cmap=parts["cmap"], head=parts["head"],
        descriptor=b"\n".join(descriptor), base_font=parts["base_font"])


def font_objects(merged: Merged, extra: Sequence[fontmerge.Extra] = (),
                  widths: dict[int, float] | None = None,
                  to_unicode: dict[int, bytes] | None = None) -> list[Body]:
    """A font's objects as segment bodies, references as indexes into the list:
    [Type0, CIDFont, FontDescriptor, FontFile2, ToUnicode]. ``widths`` and ``to_unicode``
    are added to the merged font's (the piece's appended glyphs, or the rare glyph it shows
    that the merged font has no width or text for)."""
    program, length = merged.program.stream(extra)
    w_entries = merged.w_entries
    cmap: list[bytes | fontmerge.Packed] = [merged.cmap, _CMAP_TAIL]
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
        (flate_stream(b"/Length1 %d" % length, program),),
        (flate_stream(b"", cmap_data),),
    ]
