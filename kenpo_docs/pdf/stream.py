"""A small streaming PDF writer: pages copied in, objects written out at once, xref at the end.

pypdf's :class:`~pypdf.PdfWriter` keeps every object in memory until ``write``; a print file of
10,000 pieces would hold the whole batch. Here each copied object goes to disk as soon as it is
reached, and only the numbers (offsets, page references, outline titles) stay in memory, so
memory does not grow with the batch.

Objects are copied by reachability from the pages, with one translation table per source: a
font shared by the 50 letters of a chunk is written once per chunk, not once per piece. A
dictionary carrying ``/KenpoStatic (name)`` (a static enclosure page made a Form XObject,
see :mod:`kenpo_docs.mailing.chunk`) is written once per output file and every later
reference to the same name points at that one copy, whichever source it comes from.

A :class:`Segment` is pages serialized once and kept as bytes with the places of their object
references: a worker records its chunk once, writes each piece file from it and saves it for
the print files, which then copy pages by splicing numbers into bytes instead of parsing the
chunk's PDF again (which was most of the print files' time).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import pickle
import tempfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

from kenpo_docs.errors import AssemblyError
from kenpo_docs.files import FILE_MODE, private_dir, with_path, write_atomic
from kenpo_docs.gates._pypdf import add_object, stored_bytes
from kenpo_docs.pdf.sides import VIEWER_PREFERENCES, Sides
from kenpo_docs.pdf.structure import StructureWriter
from kenpo_docs.pdf.tagtree import Tagged, xobject_key
from kenpo_docs.render import xmp

STATIC_KEY = NameObject("/KenpoStatic")
_SKIP_PAGE_KEYS = frozenset({"/Parent", "/StructParents", "/Annots", "/B"})


def shared_form_xobject(writer: Any, data: bytes, page: Any, name: str,
                        struct_key: int | None = None) -> IndirectObject:
    """``page`` (its decoded content ``data``) as a Form XObject in the pypdf ``writer``,
    marked with :data:`STATIC_KEY` ``name`` so :class:`PdfStreamWriter` stores it once per
    file. Its resources stay references into the page's own reader. ``struct_key``: its
    ``/StructParents`` (its marked content is in the structure tree, see pdf.tagtree)."""
    raw = DecodedStreamObject()
    raw.set_data(data)
    form = raw.flate_encode()
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(page.mediabox)
    resources = page.get(NameObject("/Resources"))
    form[NameObject("/Resources")] = resources if resources is not None else DictionaryObject()
    form[STATIC_KEY] = TextStringObject(name)
    if struct_key is not None:
        form[NameObject("/StructParents")] = NumberObject(struct_key)
    return add_object(writer, form)


@dataclass(frozen=True, slots=True)
class _Renamed:
    """A queued copy of the shared XObject ``old`` (``source`` as queued) named ``new``, with
    the /StructParents key of that name."""

    source: Any
    old: str
    new: str

    def body(self, body: bytes) -> bytes:
        """The copy's body: the XObject's, its dictionary's name and key replaced (never a
        byte of its content stream)."""
        head, stream, content = body.partition(b">>\nstream\n")
        swaps = ((_pdf_string(self.old), _pdf_string(self.new)),
                 (b"/StructParents %d" % xobject_key(self.old),
                  b"/StructParents %d" % xobject_key(self.new)))
        for old, new in swaps:
            if head.count(old) != 1:
                raise AssemblyError(f"internal error: shared XObject {self.old} without {old!r}")
            head = head.replace(old, new)
        return head + stream + content


def _pdf_string(text: str) -> bytes:
    """``text`` as pypdf writes a string (``-`` escaped as ``\\055``)."""
    out = io.BytesIO()
    TextStringObject(text).write_to_stream(out)
    return out.getvalue()


def _has_struct_parents(body: Body) -> bool:
    return any(isinstance(part, bytes) and b"/StructParents" in part for part in body)


class _Serializer:
    """PDF syntax for pypdf objects; subclasses say what an indirect reference becomes."""

    def _ser_ref(self, ref: IndirectObject, out: Any) -> None:
        raise NotImplementedError

    def _ser(self, obj: PdfObject, out: Any) -> None:
        if isinstance(obj, IndirectObject):
            self._ser_ref(obj, out)
        elif isinstance(obj, DictionaryObject):
            out.write(b"<<")
            stream = isinstance(obj, StreamObject)
            for key, value in obj.items():
                if stream and key == "/Length":
                    continue
                key.write_to_stream(out)
                out.write(b" ")
                self._ser(value, out)
                out.write(b"\n")
            if isinstance(obj, StreamObject):
                data = stored_bytes(obj)  # encoded bytes as stored, with the dict's own /Filter
                out.write(b"/Length %d>>\nstream\n" % len(data))
                out.write(data)
                out.write(b"\nendstream")
            else:
                out.write(b">>")
        elif isinstance(obj, ArrayObject):
            out.write(b"[")
            for item in obj:
                self._ser(item, out)
                out.write(b" ")
            out.write(b"]")
        else:
            obj.write_to_stream(out)

    def _ser_page_body(self, page: DictionaryObject, out: Any) -> None:
        """A page dictionary's entries (without ``<<``, ``>>`` and the keys a copy drops)."""
        for key, value in page.items():
            if key in _SKIP_PAGE_KEYS:
                continue
            key.write_to_stream(out)
            out.write(b" ")
            self._ser(value, out)
            out.write(b"\n")


#: A serialized object: bytes with object references (ints, local numbers) between them.
Body = tuple[bytes | int, ...]


@dataclass
class Segment:
    """Pages and everything they use, serialized once (see :class:`SegmentRecorder`).

    ``objects[n]`` is local object ``n``: its :data:`STATIC_KEY` name (or None) and its body;
    ``pages[i]`` the local number of page ``i``, whose body holds only the page's entries.
    """

    objects: list[tuple[str | None, Body]] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    #: ``tags[i]``: page ``i``'s structure elements (None: untagged; see pdf.tagtree).
    tags: list[Tagged | None] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the segment to ``path`` (mode 0600, atomically)."""
        write_atomic(path, pickle.dumps((self.objects, self.pages, self.tags), protocol=5))

    @classmethod
    def load(cls, path: Path) -> Segment:
        """Read a segment saved by :meth:`save` (our own scratch file in a 0700 folder)."""
        with open(path, "rb") as fh:
            data = fh.read()
        # Unpickling makes tens of thousands of small objects (the pages' bodies and
        # structure): with the collector on, they set off collections of the whole heap
        # of the process writing the print files (~85 % of the time a load took). None of
        # them is garbage yet, and none is in a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            saved = pickle.loads(data)
        finally:
            if collecting:
                gc.enable()
        # a part saved before the pieces were tagged (a batch resumed across the upgrade)
        objects, pages, tags = saved if len(saved) == 3 else (*saved, [])
        return cls(objects, pages, tags)


class _Parts:
    """An output that splits at object references."""

    __slots__ = ("buf", "parts")

    def __init__(self) -> None:
        self.parts: list[bytes | int] = []
        self.buf = io.BytesIO()

    def write(self, data: bytes) -> None:
        self.buf.write(data)

    def ref(self, num: int) -> None:
        self.parts.append(self.buf.getvalue())
        self.parts.append(num)
        self.buf = io.BytesIO()

    def body(self) -> Body:
        self.parts.append(self.buf.getvalue())
        return tuple(self.parts)


class SegmentRecorder(_Serializer):
    """Serialize pypdf pages into a :class:`Segment`: each object once, static ones by name."""

    def __init__(self) -> None:
        self.segment = Segment()
        self._maps: dict[int, dict[int, int]] = {}
        self._sources: list[Any] = []
        self._static: dict[str, int] = {}
        self._pending: list[tuple[int, PdfObject]] = []
        #: The Type0 font dictionaries recorded, by local number (for
        #: :class:`kenpo_docs.pdf.piecefonts.ChunkFonts`).
        self.type0_fonts: dict[int, DictionaryObject] = {}

    def _alloc(self, name: str | None) -> int:
        self.segment.objects.append((name, ()))
        return len(self.segment.objects) - 1

    def _ser_ref(self, ref: IndirectObject, out: Any) -> None:
        key = id(ref.pdf)
        table = self._maps.get(key)
        if table is None:
            table = self._maps[key] = {}
            self._sources.append(ref.pdf)
        num = table.get(ref.idnum)
        if num is None:
            obj = ref.get_object()
            marker = obj.get(STATIC_KEY) if isinstance(obj, DictionaryObject) else None
            name = str(marker) if marker is not None else None
            num = self._static.get(name) if name is not None else None
            if num is None:
                num = self._alloc(name)
                if name is not None:
                    self._static[name] = num
                elif isinstance(obj, DictionaryObject) and obj.get("/Subtype") == "/Type0":
                    self.type0_fonts[num] = obj
                self._pending.append((num, obj if obj is not None else NullObject()))
            table[ref.idnum] = num
        out.ref(num)

    def local(self, ref: IndirectObject) -> int:
        """The segment's number for a reference already recorded."""
        return self._maps[id(ref.pdf)][ref.idnum]

    def add_page(self, page: DictionaryObject, tags: Tagged | None = None) -> int:
        """Record one page (and its structure elements); returns its index in the segment."""
        num = self._alloc(None)
        out = _Parts()
        self._ser_page_body(page, out)
        self.segment.objects[num] = (None, out.body())
        while self._pending:
            obj_num, obj = self._pending.pop()
            out = _Parts()
            self._ser(obj, out)
            self.segment.objects[obj_num] = (self.segment.objects[obj_num][0], out.body())
        self.segment.pages.append(num)
        self.segment.tags.append(tags)
        return len(self.segment.pages) - 1


class PdfStreamWriter(_Serializer, StructureWriter):
    """Write a PDF to ``path`` (mode 0600, atomically on :meth:`close`) page by page."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                   dir=self.path.parent)
        os.fchmod(fd, FILE_MODE)
        self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "wb", buffering=1 << 20)
        self._fh.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self._offsets = array("q", [0])  # object number -> file offset (0 = not yet written)
        self._pages_num = self._alloc()
        self._page_nums = array("q")
        self._outline: list[tuple[str, int]] = []
        self._static: dict[str, int] = {}
        self._maps: dict[int, dict[int, int]] = {}
        self._sources: list[Any] = []  # keep sources alive while their id() keys the maps
        self._pending: list[tuple[int, Any]] = []
        self.info: dict[str, str] = {}
        #: How the file is meant to be printed: the catalog's /ViewerPreferences says so to
        #: the print dialog (None: no preference).
        self.sides: Sides | None = None
        #: The file claims PDF/UA-1 in its metadata (pieces; not print files: see render/xmp.py)
        #: and so each page draws its own copy of a shared Form XObject with marked content
        #: (its content has one parent in the structure tree); otherwise one copy a file.
        self.ua = False
        #: This page's shared XObjects: name -> (number, /StructParents key).
        self._page_static: dict[str, tuple[int, int]] = {}
        self._uses: dict[str, int] = {}  # pages that drew each shared XObject
        self._start_structure()

    # -- numbers and raw writing ------------------------------------------------------------

    def _alloc(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def _emit(self, num: int, body: bytes) -> None:
        self._offsets[num] = self._fh.tell()
        self._fh.write(b"%d 0 obj\n" % num)
        self._fh.write(body)
        self._fh.write(b"\nendobj\n")

    @property
    def pages(self) -> int:
        return len(self._page_nums)

    # -- copying ----------------------------------------------------------------------------

    def _map_for(self, source: Any) -> dict[int, int]:
        key = id(source)
        if key not in self._maps:
            self._maps[key] = {}
            self._sources.append(source)
        return self._maps[key]

    def forget(self, source: Any) -> None:
        """Drop the translation table of a source that will not be used again (frees memory)."""
        self._maps.pop(id(source), None)
        self._sources = [s for s in self._sources if s is not source]

    def _ref(self, ref: IndirectObject) -> int:
        """The output number for a source reference, queueing the object on first sight.

        Tables are kept per document the reference points into (``ref.pdf``), so pages may
        mix objects of several readers and writers safely.
        """
        table = self._map_for(ref.pdf)
        num = table.get(ref.idnum)
        if num is not None:
            return num
        obj = ref.get_object()
        marker = obj.get(STATIC_KEY) if isinstance(obj, DictionaryObject) else None
        if marker is not None:
            name = str(marker)
            if self.ua and "/StructParents" in cast(DictionaryObject, obj):
                return self._page_copy(name, obj)  # not kept in the table: a page's own
            num = self._static.get(name)
            if num is None:
                num = self._static[name] = self._alloc()
                self._pending.append((num, obj))
            table[ref.idnum] = num
            return num
        num = table[ref.idnum] = self._alloc()
        self._pending.append((num, obj))
        return num

    def _ser_ref(self, ref: IndirectObject, out: Any) -> None:
        out.write(b"%d 0 R" % self._ref(ref))

    def _seg_ref(self, segment: Segment, table: dict[int, int], local: int) -> int:
        """The output number of a segment's object, queueing it on first sight."""
        num = table.get(local)
        if num is not None:
            return num
        name = segment.objects[local][0]
        if name is not None:
            if self.ua and _has_struct_parents(segment.objects[local][1]):
                return self._page_copy(name, (segment, table, local))
            num = self._static.get(name)
            if num is None:
                num = self._static[name] = self._alloc()
                self._pending.append((num, (segment, table, local)))
            table[local] = num
            return num
        num = table[local] = self._alloc()
        self._pending.append((num, (segment, table, local)))
        return num

    def _page_copy(self, name: str, source: Any) -> int:
        """This page's copy of the shared Form XObject ``name`` (``ua``): the
        file's first page to draw it draws the XObject itself, the n-th a copy named
        ``name#n`` with that name's /StructParents key (a print file made from piece files
        then keeps every copy apart, as it keeps the XObjects of different names)."""
        drawn = self._page_static.get(name)
        if drawn is not None:
            return drawn[0]
        num = self._alloc()
        uses = self._uses[name] = self._uses.get(name, 0) + 1
        if uses == 1:
            key = xobject_key(name)
            self._pending.append((num, source))
        else:
            copy = f"{name}#{uses}"
            key = xobject_key(copy)
            self._pending.append((num, _Renamed(source, name, copy)))
        self._page_static[name] = (num, key)
        return num

    def _xobject(self, name: str, key: int) -> tuple[int | None, int]:
        drawn = self._page_static.get(name)  # (only in a file that claims PDF/UA)
        return drawn if drawn is not None else (self._static.get(name), key)

    def alias(self, segment: Segment, aliases: dict[int, int]) -> None:
        """Write ``segment``'s object ``aliases[n]`` wherever its object ``n`` is referenced
        (a piece's fonts and text replaced, see :mod:`kenpo_docs.pdf.piecefonts`). Call
        before adding the segment's pages."""
        table = self._map_for(segment)
        for old, new in aliases.items():
            table[old] = self._seg_ref(segment, table, new)

    def _splice(self, segment: Segment, table: dict[int, int], body: Body) -> bytes:
        return b"".join(
            part if isinstance(part, bytes) else b"%d 0 R" % self._seg_ref(segment, table, part)
            for part in body
        )

    def _flush(self) -> None:
        while self._pending:
            num, obj = self._pending.pop()
            if isinstance(obj, _Renamed):  # a copy of a shared XObject, a name of its own
                self._emit(num, obj.body(self._object_body(obj.source)))
            else:
                self._emit(num, self._object_body(obj))

    def _object_body(self, obj: Any) -> bytes:
        """A queued object's body: a segment's (segment, table, local number) or pypdf's."""
        if isinstance(obj, tuple):
            segment, table, local = obj
            return self._splice(segment, table, segment.objects[local][1])
        buf = io.BytesIO()
        self._ser(obj, buf)
        return buf.getvalue()

    def add_page(self, page: DictionaryObject, *, bookmark: str | None = None,
                 tags: Tagged | None = None) -> int:
        """Copy one page (and what it uses, once per source document; ``tags``: its
        structure elements); returns its index."""
        self._page_static = {}
        num = self._alloc()
        buf = io.BytesIO()
        buf.write(b"<</Parent %d 0 R" % self._pages_num)
        self._ser_page_body(page, buf)
        if tags is not None:
            buf.write(b"/StructParents %d" % len(self._page_nums))
        buf.write(b">>")
        return self._finish_page(num, buf.getvalue(), bookmark, tags)

    def add_segment_page(
        self, segment: Segment, index: int, *, bookmark: str | None = None
    ) -> int:
        """Copy page ``index`` of a recorded segment (and what it uses, once per segment,
        and its structure elements); returns its index in this file."""
        table = self._map_for(segment)
        self._page_static = {}
        num = self._alloc()
        body = self._splice(segment, table, segment.objects[segment.pages[index]][1])
        tags = segment.tags[index] if index < len(segment.tags) else None
        tail = b"/StructParents %d>>" % len(self._page_nums) if tags is not None else b">>"
        return self._finish_page(
            num, b"<</Parent %d 0 R" % self._pages_num + body + tail, bookmark, tags)

    def _finish_page(self, num: int, body: bytes, bookmark: str | None,
                     tags: Tagged | None = None) -> int:
        self._emit(num, body)
        self._flush()  # the shared XObjects the page draws get their numbers
        if tags is not None:
            self._write_tags(num, tags)
        self._page_nums.append(num)
        if bookmark is not None:
            self._outline.append((bookmark, len(self._page_nums) - 1))
        return len(self._page_nums) - 1

    # -- finishing --------------------------------------------------------------------------

    def _text(self, value: str, prefix: bytes = b"") -> bytes:
        if prefix or (value.isascii() and value.isalnum()):
            # an id: ASCII letters, digits and "-" only
            return b"(" + prefix + value.encode("ascii") + b")"
        buf = io.BytesIO()
        TextStringObject(value).write_to_stream(buf)
        return buf.getvalue()

    def close(self) -> Path:
        """Write page tree, outline, info and xref; rename into place. Returns the path."""
        if not self._page_nums:
            self.abort()
            raise AssemblyError("no pages to write", file=str(self.path))
        kids = b" ".join(b"%d 0 R" % n for n in self._page_nums)
        self._emit(self._pages_num, b"<</Type/Pages/Count %d/Kids[%s]>>" % (
            len(self._page_nums), kids))
        outline_num = None
        if self._outline:
            outline_num = self._alloc()
            nums = [self._alloc() for _ in self._outline]
            for i, (title, page_index) in enumerate(self._outline):
                parts = [b"<</Title ", self._text(title), b"/Parent %d 0 R" % outline_num,
                         b"/Dest[%d 0 R/Fit]" % self._page_nums[page_index]]
                if i:
                    parts.append(b"/Prev %d 0 R" % nums[i - 1])
                if i + 1 < len(nums):
                    parts.append(b"/Next %d 0 R" % nums[i + 1])
                parts.append(b">>")
                self._emit(nums[i], b"".join(parts))
            self._emit(outline_num, b"<</Type/Outlines/First %d 0 R/Last %d 0 R/Count %d>>" % (
                nums[0], nums[-1], len(nums)))
        structure = self._structure()
        root = self._alloc()
        extra = b"/Outlines %d 0 R/PageMode/UseOutlines" % outline_num if outline_num else b""
        # the title a viewer shows is the document's, not the file's name (PDF/UA)
        preferences = b"/DisplayDocTitle true" if "Title" in self.info else b""
        if self.sides is not None:
            preferences += VIEWER_PREFERENCES[self.sides]
        if preferences:
            extra += b"/ViewerPreferences<<%s>>" % preferences
        extra += b"/Lang(ja)" + structure
        if "Title" in self.info:  # the title again as XMP, where PDF/UA reads it
            metadata = self._alloc()
            self._emit(metadata, xmp.stream_object(self.info, ua=self.ua))
            extra += b"/Metadata %d 0 R" % metadata
        self._emit(root, b"<</Type/Catalog/Pages %d 0 R%s>>" % (self._pages_num, extra))
        info = None
        if self.info:
            info = self._alloc()
            body = b"".join(b"/" + k.encode("ascii") + b" " + self._text(v)
                            for k, v in self.info.items())
            self._emit(info, b"<<" + body + b">>")
        if self._packed_runs:
            self._xref_stream(root, info)
        else:
            xref_at = self._fh.tell()
            count = len(self._offsets)
            self._fh.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
            self._fh.write(b"".join(b"%010d 00000 n \n" % off for off in self._offsets[1:]))
            file_id = self._file_id()
            trailer = b"trailer\n<</Size %d/Root %d 0 R/ID[<%s><%s>]" % (
                count, root, file_id, file_id)
            if info:
                trailer += b"/Info %d 0 R" % info
            self._fh.write(trailer + b">>\nstartxref\n%d\n%%%%EOF\n" % xref_at)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self.path)
        self._maps.clear()
        self._sources.clear()
        return self.path

    def _file_id(self) -> bytes:
        """The trailer's /ID (PDF 2.0 14.4: readers and print servers expect one): a digest of
        the file's name, info and object layout, so the same content always gets the same id
        (reproducible output) and different files practically never share one."""
        digest = hashlib.md5(self.path.name.encode(), usedforsecurity=False)
        digest.update(repr(sorted(self.info.items())).encode())
        if self.sides is not None:
            digest.update(self.sides.encode())
        digest.update(self._offsets.tobytes())
        return digest.hexdigest().encode("ascii")

    def abort(self) -> None:
        """Give up: close and remove the temp file (nothing appears at ``path``)."""
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __enter__(self) -> PdfStreamWriter:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, *_: object) -> None:
        if exc_type is not None:
            self.abort()
            if isinstance(exc, OSError) and exc.filename is None:
                # A full disk: the message names the file it stopped at.
                raise with_path(exc, self.path) from exc
