"""The structure tree of a file written by :class:`kenpo_docs.pdf.stream.PdfStreamWriter`
(see docs/accessibility.md): each page's elements written as the page is (from its
:class:`~kenpo_docs.pdf.tagtree.Tagged`), in one compressed object stream per page, and at
the end the ``/Document``, the ``ParentTree``, the ``IDTree`` and the cross-reference stream.

Only numbers stay in memory (the top-level elements, one ParentTree entry and one IDTree leaf
per page), so a print file of 10,000 pieces holds no more than its page list did.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from dataclasses import dataclass
from typing import Any

from kenpo_docs.pdf.tagtree import Compiled, Tagged, XMcid


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
        #: Runs of them: (first number, how many, the stream's number).
        self._packed_runs: list[tuple[int, int, int]] = []

    def _write_tags(self, page: int, tags: Tagged) -> None:
        """Write page ``page``'s structure elements (under the file's ``/Document``), its
        ParentTree array, the arrays of the shared XObjects it is the first to draw, and
        its header ids' leaf of the IDTree. A header cell's id is its object number (the
        same letter twice in a file has its header cells twice)."""
        if self._document is None:
            self._document = self._alloc()
        plan = _plan(tags.compiled)
        count = plan.count
        base = len(self._offsets)
        self._offsets.extend([0] * count)
        xobjects = [self._static.get(name) for name, _ in plan.xobjects]
        marks = tags.marks or {}
        slots = [marks.get(name) for name in plan.slots]
        # (a page draws every XObject its elements' content is in: none is missing)
        values: list[Any] = [page, self._document, *(x or 0 for x in xobjects),
                             *(b"" if m is None else b"%d" % m for m in slots)]
        # the page's elements: one object stream, made by one format (every number has
        # its fixed width, so where each object starts is known beforehand)
        if count:
            data = plan.page % tuple([base + c if c >= 0 else values[-c - 1]
                                      for c in plan.recipe])
            stream = self._alloc()
            compressed = zlib.compress(data, 1)
            self._emit(stream, b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>"
                               b"\nstream\n%s\nendstream" % (count, plan.first,
                                                              len(compressed), compressed))
            self._packed_runs.append((base, count, stream))
        packed: list[tuple[int, bytes]] = []
        own = {mcid: base + i for mcid, i in plan.own}
        for slot, i in plan.slot_owners:
            if slots[slot] is not None:
                own[slots[slot]] = base + i  # type: ignore[index]
        self._tops.extend(base + i for i in plan.tops)
        packed.append(self._parent_array(own))
        self._parents.append((len(self._page_nums), packed[-1][0]))
        for (_, key), xobject, owners in zip(plan.xobjects, xobjects, plan.shared,
                                                strict=True):
            if xobject is not None and key not in self._xobject_keys:
                self._xobject_keys.add(key)
                packed.append(self._parent_array({mcid: base + i for mcid, i in owners}))
                self._parents.append((key, packed[-1][0]))
        if plan.ids:
            ids = [b"(e%010d)" % (base + i) for i in plan.ids]
            leaf = self._alloc()
            packed.append((leaf, b"<</Names[%s]/Limits[%s %s]>>" % (
                b" ".join(b"%s %d 0 R" % (ident, base + i)
                          for ident, i in zip(ids, plan.ids, strict=True)),
                ids[0], ids[-1])))
            self._id_leaves.append((leaf, ids[0], ids[-1]))
        if packed:
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
        data = zlib.compress(head + b"\n".join(body for _, body in objects) + b"\n", 1)
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
        data = zlib.compress(xref_rows(self._offsets, self._packed, self._packed_runs))
        extra = b"/Info %d 0 R" % info if info else b""
        self._fh.write(b"%d 0 obj\n<</Type/XRef/Size %d/W[1 5 2]/Root %d 0 R/ID[<%s><%s>]%s"
                       b"/Filter/FlateDecode/Length %d>>\nstream\n" % (
                           xref, len(self._offsets), root, file_id, file_id, extra, len(data)))
        self._fh.write(data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at)


def xref_rows(offsets: array[int], packed: dict[int, tuple[int, int]],
              runs: list[tuple[int, int, int]]) -> bytes:
    """The rows (``/W[1 5 2]``) of a cross-reference stream: object 0 free, object ``n`` at
    ``offsets[n]`` in the file, or (type 2) in an object stream: ``packed[n]`` = (stream,
    index), or in a run ``(first, count, stream)`` of objects ``first + i`` at index ``i``.

    Made column by column with array and slice operations: a print file has hundreds of
    thousands of objects, and a loop building each row was a third of the time its
    structure elements took to write."""
    n = len(offsets)
    kinds = bytearray(b"\x01") * n
    second = array("q", offsets)  # the offset, or the object stream's number
    third = array("q", bytes(8 * n))  # 0, or the index in the object stream
    for num, (stream, index) in packed.items():
        kinds[num], second[num], third[num] = 2, stream, index
    for first, count, stream in runs:
        kinds[first:first + count] = b"\x02" * count
        second[first:first + count] = array("q", [stream]) * count
        third[first:first + count] = array("q", range(count))
    if n and (max(second) >= 1 << 40 or max(third) > 0xFFFF):
        raise OverflowError("a cross-reference entry does not fit /W[1 5 2]")
    kinds[0], second[0], third[0] = 0, 0, 0xFFFF  # object 0: free
    if sys.byteorder == "little":
        second.byteswap()
        third.byteswap()
    wide, narrow = second.tobytes(), third.tobytes()  # 8 bytes each, big-endian
    rows = bytearray(8 * n)
    rows[0::8] = kinds
    for j in range(5):
        rows[1 + j::8] = wide[3 + j::8]
    rows[6::8] = narrow[6::8]
    rows[7::8] = narrow[7::8]
    return bytes(rows)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A compiled page's elements as the data of an object stream with holes, ``%``
    formatted with its recipe's values (``c >= 0``: the page's first element number plus
    ``c``; ``-1`` the page, ``-2`` the document, then the XObjects' numbers, then the
    slots' MCIDs). Every hole has a fixed width (numbers with leading zeros, an MCID padded
    with spaces), so the objects' places in the stream are known when it is planned."""

    count: int
    page: bytes  # the object stream's data, with holes
    recipe: tuple[int, ...]  # the values of its holes
    first: int  # where its first object starts
    tops: tuple[int, ...]
    own: tuple[tuple[int, int], ...]  # (MCID of the page, element)
    slots: tuple[str, ...]
    slot_owners: tuple[tuple[int, int], ...]  # (slot index, element)
    xobjects: tuple[tuple[str, int], ...]  # (name, /StructParents key)
    shared: tuple[tuple[tuple[int, int], ...], ...]  # per XObject: (MCID, element)
    ids: tuple[int, ...]


_PLANS: dict[int, tuple[Compiled, _Plan]] = {}
#: The same, by value: each chunk's saved segment brings its own copies of the same pages.
_BY_VALUE: dict[Compiled, _Plan] = {}


def _plan(compiled: Compiled) -> _Plan:
    """The :class:`_Plan` of ``compiled``, made once per process."""
    known = _PLANS.get(id(compiled))
    if known is not None and known[0] is compiled:
        return known[1]
    if len(_PLANS) >= 512:
        _PLANS.clear()
        _BY_VALUE.clear()
    plan = _BY_VALUE.get(compiled)
    if plan is None:
        plan = _BY_VALUE[compiled] = _make_plan(compiled)
    _PLANS[id(compiled)] = (compiled, plan)
    return plan


def _make_plan(compiled: Compiled) -> _Plan:
    xobjects: dict[str, int] = {}
    slots: dict[str, int] = {}
    own: list[tuple[int, int]] = []
    slot_owners: list[tuple[int, int]] = []
    shared: dict[str, list[tuple[int, int]]] = {}
    bodies = []
    for i, role in enumerate(compiled.roles):
        recipe: list[int] = [-2 if compiled.parents[i] < 0 else compiled.parents[i], -1]
        kids: list[bytes] = []
        for kid in compiled.kids[i]:
            if type(kid) is int:
                if kid < 0:
                    kids.append(b"%010d 0 R")
                    recipe.append(-kid - 1)
                else:
                    kids.append(b"%d" % kid)
                    own.append((kid, i))
            elif type(kid) is str:
                kids.append(b"%6s")
                index = slots.setdefault(kid, len(slots))
                recipe.append(-1000 - index)
                slot_owners.append((index, i))
            else:
                assert isinstance(kid, XMcid)
                xobjects.setdefault(kid.name, kid.key)
                # (its page is the element's /Pg)
                kids.append(b"<</Type/MCR/Stm %010d 0 R/MCID " + b"%d>>" % kid.mcid)
                recipe.append(-(3 + list(xobjects).index(kid.name)))
                shared.setdefault(kid.name, []).append((kid.mcid, i))
        tail = compiled.extras[i].replace(b"%", b"%%")
        headers = compiled.headers[i]
        attrs = compiled.attrs[i].replace(b"%", b"%%")
        if headers:
            tail += b"/A<<" + attrs + b"/Headers[" + b"(e%010d)" * len(headers) + b"]>>"
            recipe.extend(headers)
        elif attrs:
            tail += b"/A<<" + attrs + b">>"
        if compiled.ids[i]:
            tail += b"/ID(e%010d)"
            recipe.append(i)
        bodies.append((b"<</S" + role + b"/P %010d 0 R/Pg %010d 0 R/K[" + b" ".join(kids)
                       + b"]" + tail + b">>", tuple(recipe)))
    # slots come after the XObjects in the values: their codes are set now
    width = len(xobjects)
    lengths = [len(body % tuple(b"" if c <= -1000 else 0 for c in recipe))
               for body, recipe in bodies]
    bodies = [(body, tuple(-(3 + width + (-1000 - c)) if c <= -1000 else c for c in recipe))
              for body, recipe in bodies]
    header: list[bytes] = []
    recipe_all: list[int] = []
    at = 0
    for i in range(len(bodies)):
        header.append(b"%%010d %d" % at)
        recipe_all.append(i)
        at += lengths[i] + 1
    for _, codes in bodies:
        recipe_all.extend(codes)
    head = b" ".join(header) + b"\n"
    first = len(head % tuple(range(len(bodies))) if bodies else head)
    page = head + b"\n".join(body for body, _ in bodies) + b"\n"
    return _Plan(len(bodies), page, tuple(recipe_all), first,
                 tuple(i for i, p in enumerate(compiled.parents) if p < 0),
                 tuple(own), tuple(slots), tuple(slot_owners), tuple(xobjects.items()),
                 tuple(tuple(shared[name]) for name in xobjects), tuple(
                     i for i, flag in enumerate(compiled.ids) if flag))
