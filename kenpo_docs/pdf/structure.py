"""The structure tree of a file written by :class:`kenpo_docs.pdf.stream.PdfStreamWriter`
(see docs/accessibility.md): each page's elements written as the page is (from its
:class:`~kenpo_docs.pdf.tagtree.Tagged`), in one compressed object stream per page, and at
the end the ``/Document``, the ``ParentTree``, the ``IDTree`` and the cross-reference stream.

Only numbers stay in memory (the top-level elements, one ParentTree entry and one IDTree leaf
per page), so a print file of 10,000 pieces holds no more than its page list did.
"""

from __future__ import annotations

import zlib
from array import array
from typing import Any

from kenpo_docs.pdf.tagtree import Tagged, XMcid


class StructureWriter:
    """The structure-tree half of :class:`~kenpo_docs.pdf.stream.PdfStreamWriter`."""

    _offsets: array[int]
    _page_nums: array[int]
    _static: dict[str, int]
    _fh: Any

    def _alloc(self) -> int:
        raise NotImplementedError

    def _emit(self, num: int, body: bytes) -> None:
        raise NotImplementedError

    def _file_id(self) -> bytes:
        raise NotImplementedError

    def _start_structure(self) -> None:
        self._document: int | None = None
        self._tops = array("q")
        self._parents: list[tuple[int, int]] = []  # (ParentTree key, its array's object)
        self._xobject_keys: set[int] = set()
        self._id_leaves: list[tuple[int, bytes, bytes]] = []  # (object, first id, last id)
        #: Objects written inside an object stream: number -> (the stream's number, index).
        self._packed: dict[int, tuple[int, int]] = {}

    def _write_tags(self, page: int, tags: Tagged) -> None:
        """Write page ``page``'s structure elements (under the file's ``/Document``), its
        ParentTree array, the arrays of the shared XObjects it is the first to draw, and
        its header ids' leaf of the IDTree. A header cell's id is its object number (the
        same letter twice in a file has its header cells twice)."""
        if self._document is None:
            self._document = self._alloc()
        compiled, marks = tags.compiled, tags.marks or {}
        count = len(compiled.roles)
        base = len(self._offsets)
        self._offsets.extend([0] * count)
        own: dict[int, int] = {}
        shared: dict[int, dict[int, int]] = {}
        ids: list[bytes] = []
        packed: list[tuple[int, bytes]] = []
        static = self._static
        document = self._document
        for i in range(count):
            num = base + i
            kids = []
            for kid in compiled.kids[i]:
                if type(kid) is int:
                    if kid < 0:
                        kids.append(b"%d 0 R" % (base - kid - 1))
                    else:
                        kids.append(b"%d" % kid)
                        own[kid] = num
                elif type(kid) is str:
                    mcid = marks.get(kid)
                    if mcid is not None:
                        kids.append(b"%d" % mcid)
                        own[mcid] = num
                else:
                    assert isinstance(kid, XMcid)
                    xobject = static.get(kid.name)
                    if xobject is not None:
                        # (its page is the element's /Pg)
                        kids.append(b"<</Type/MCR/Stm %d 0 R/MCID %d>>" % (
                            xobject, kid.mcid))
                        shared.setdefault(kid.key, {})[kid.mcid] = num
            parent = compiled.parents[i]
            tail = compiled.extras[i]
            headers = compiled.headers[i]
            if headers:
                tail += b"/A<<%s/Headers[%s]>>" % (compiled.attrs[i], b"".join(
                    b"(e%010d)" % (base + h) for h in headers))
            elif compiled.attrs[i]:
                tail += b"/A<<%s>>" % compiled.attrs[i]
            if compiled.ids[i]:
                ids.append(b"(e%010d)" % num)
                tail += b"/ID" + ids[-1]
            packed.append((num, b"<</S%s/P %d 0 R/Pg %d 0 R/K[%s]%s>>" % (
                compiled.roles[i], document if parent < 0 else base + parent, page,
                b" ".join(kids), tail)))
        self._tops.extend(base + i for i in range(count) if compiled.parents[i] < 0)
        packed.append(self._parent_array(own))
        self._parents.append((len(self._page_nums), packed[-1][0]))
        for key, mcids in shared.items():
            if key not in self._xobject_keys:
                self._xobject_keys.add(key)
                packed.append(self._parent_array(mcids))
                self._parents.append((key, packed[-1][0]))
        if ids:
            leaf = self._alloc()
            packed.append((leaf, b"<</Names[%s]/Limits[%s %s]>>" % (
                b" ".join(b"%s %d 0 R" % (ident, int(ident[2:-1])) for ident in ids),
                ids[0], ids[-1])))
            self._id_leaves.append((leaf, ids[0], ids[-1]))
        self._emit_packed(packed)

    def _emit_packed(self, objects: list[tuple[int, bytes]]) -> None:
        """Write ``objects`` (no streams) in one compressed object stream (PDF 2.0 7.5.7): a
        page's structure elements are hundreds of small dictionaries, five times smaller
        compressed; the file then ends with a cross-reference stream."""
        stream = self._alloc()
        header = []
        at = 0
        for index, (num, body) in enumerate(objects):
            header.append(b"%d %d" % (num, at))
            at += len(body) + 1
            self._packed[num] = (stream, index)
        head = b" ".join(header) + b"\n"
        data = zlib.compress(head + b"\n".join(body for _, body in objects) + b"\n")
        self._emit(stream, b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>\n"
                           b"stream\n%s\nendstream" % (len(objects), len(head), len(data), data))

    def _parent_array(self, mcids: dict[int, int]) -> tuple[int, bytes]:
        """A ParentTree array (MCID -> element), numbered, to be written."""
        top = max(mcids, default=-1)
        return self._alloc(), b"[" + b" ".join(
            b"%d 0 R" % mcids[i] if i in mcids else b"null" for i in range(top + 1)) + b"]"

    def _structure(self) -> bytes:
        """The structure tree root (and ``/Document``): the catalog's entries for it."""
        if self._document is None:
            return b""
        root = self._alloc()
        self._emit(self._document, b"<</Type/StructElem/S/Document/P %d 0 R/K[%s]>>" % (
            root, b" ".join(b"%d 0 R" % n for n in self._tops)))
        tree = self._alloc()
        self._parents.sort()
        self._emit(tree, b"<</Nums[%s]>>" % b" ".join(
            b"%d %d 0 R" % pair for pair in self._parents))
        extra = b""
        if self._id_leaves:
            ids = self._alloc()
            self._emit(ids, b"<</Kids[%s]>>" % b" ".join(
                b"%d 0 R" % leaf for leaf, _, _ in self._id_leaves))
            extra = b"/IDTree %d 0 R" % ids
        self._emit(root, b"<</Type/StructTreeRoot/K %d 0 R/ParentTree %d 0 R"
                         b"/ParentTreeNextKey %d%s>>" % (
                             self._document, tree, self._parents[-1][0] + 1, extra))
        return b"/StructTreeRoot %d 0 R/MarkInfo<</Marked true>>" % root

    def _xref_stream(self, root: int, info: int | None) -> None:
        """The cross-reference stream (PDF 2.0 7.5.8) of a file with object streams, and the
        end of the file: it holds the trailer's entries."""
        xref = self._alloc()
        file_id = self._file_id()
        at = self._fh.tell()
        self._offsets[xref] = at
        rows = bytearray(b"\x00\x00\x00\x00\x00\x00\xff\xff")  # object 0: free
        packed = self._packed
        for num in range(1, len(self._offsets)):
            inside = packed.get(num)
            if inside is None:
                rows += b"\x01" + self._offsets[num].to_bytes(5, "big") + b"\x00\x00"
            else:
                rows += b"\x02" + inside[0].to_bytes(5, "big") + inside[1].to_bytes(2, "big")
        data = zlib.compress(bytes(rows))
        extra = b"/Info %d 0 R" % info if info else b""
        self._fh.write(b"%d 0 obj\n<</Type/XRef/Size %d/W[1 5 2]/Root %d 0 R/ID[<%s><%s>]%s"
                       b"/Filter/FlateDecode/Length %d>>\nstream\n" % (
                           xref, len(self._offsets), root, file_id, file_id, extra, len(data)))
        self._fh.write(data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at)
