"""The structure tree of a file written by :class:`kenpo_docs.pdf.stream.PdfStreamWriter`
(see docs/accessibility.md): each page's elements made as the page is written (from its
:class:`~kenpo_docs.pdf.tagtree.Tagged`) and gathered into compressed object streams of
about :data:`OBJSTM_BYTES`, and at the end the ``/Document``, the ``ParentTree``, the
``IDTree`` and the cross-reference stream.

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

#: An object stream of structure elements is written out once it holds this many bytes
#: (uncompressed): a piece file's ~350 elements go into one or two streams, a print file's
#: into one every page or two, so zlib is called a few times a piece, not twice a page.
OBJSTM_BYTES = 1 << 16


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

    def _xobject(self, name: str, key: int) -> tuple[int | None, int]:
        """The number and /StructParents key of the shared XObject ``name`` (key ``key``)
        as the page being written draws it (None: not drawn)."""
        raise NotImplementedError

    def _start_structure(self) -> None:
        self._document: int | None = None
        self._tops = array("q")
        self._parents: list[tuple[int, int]] = []  # (ParentTree key, its array's object)
        self._xobject_keys: set[int] = set()
        self._id_leaves = array("q")  # the IDTree's leaves
        #: Objects written inside object streams, in runs: (first number, how many, the
        #: stream's number, the first one's index in it).
        self._packed_runs: list[tuple[int, int, int, int]] = []
        # the object stream being filled: its header's and data's parts, its runs
        self._open_head: list[bytes] = []
        self._open_data: list[bytes] = []
        self._open_size = 0
        self._open_count = 0
        self._open_runs: list[tuple[int, int, int]] = []  # (first number, how many, index)

    def _write_tags(self, page: int, tags: Tagged) -> None:
        """Write page ``page``'s structure elements (under the file's ``/Document``), its
        ParentTree array, the arrays of the shared XObjects it is the first to draw, and
        its header ids' leaf of the IDTree, into the open object stream. A header cell's id
        is its object number (the same letter twice in a file has its header cells twice)."""
        if self._document is None:
            self._document = self._alloc()
        plan = _plan(tags.compiled)
        count = plan.count  # the elements and the IDTree leaf; then the ParentTree array
        base = len(self._offsets)
        self._offsets.extend(array("q", bytes(8 * (count + 1))))
        drawn = [self._xobject(name, key) for name, key in plan.xobjects]
        xobjects = [num for num, _ in drawn]
        marks = tags.marks or {}
        slots = [marks.get(name) for name in plan.slots]
        # the elements: one format (every number has its fixed width, so where each object
        # starts is known beforehand); most holes are element numbers (base + c)
        if plan.specials:
            # (a page draws every XObject its elements' content is in: none is missing)
            values: list[Any] = [page, self._document, *(x or 0 for x in xobjects),
                                 *(b"" if m is None else b"%d" % m for m in slots)]
            filled: list[Any] = list(map(base.__add__, plan.plain))
            for at, code in plan.specials:
                filled[at] = values[code]
            body = plan.body % tuple(filled)
        else:  # (no elements)
            body = plan.body
        own = {mcid: base + i for mcid, i in plan.own}
        for slot, i in plan.slot_owners:
            mark = slots[slot]
            if mark is not None:
                own[mark] = base + i
        parents = _array(own)
        at = self._open_size
        pairs: list[int] = [0] * (2 * count + 2)
        pairs[0::2] = range(base, base + count + 1)
        pairs[1::2] = map(at.__add__, plan.starts)
        self._open_head.append(plan.head % tuple(pairs))
        self._open_data += (body, parents, b"\n")
        self._open_size = at + plan.size + len(parents) + 1
        self._open_runs.append((base, count + 1, self._open_count))
        self._open_count += count + 1
        self._tops.extend(map(base.__add__, plan.tops))
        self._parents.append((len(self._page_nums), base + count))
        for (xobject, key), owners in zip(drawn, plan.shared, strict=True):
            if xobject is not None and key not in self._xobject_keys:
                self._xobject_keys.add(key)
                num = self._alloc()
                self._pack(num, _array({mcid: base + i for mcid, i in owners}))
                self._parents.append((key, num))
        if plan.leaf >= 0:
            self._id_leaves.append(base + plan.leaf)
        if self._open_size >= OBJSTM_BYTES:
            self._close_objstm()

    def _pack(self, num: int, body: bytes) -> None:
        """Put object ``num`` (no stream) into the open object stream."""
        self._open_head.append(b"%d %d " % (num, self._open_size))
        self._open_data += (body, b"\n")
        self._open_size += len(body) + 1
        self._open_runs.append((num, 1, self._open_count))
        self._open_count += 1

    def _close_objstm(self) -> None:
        """Write the open object stream (PDF 2.0 7.5.7): structure elements are hundreds of
        small dictionaries a piece, five times smaller compressed; a file with them ends
        with a cross-reference stream."""
        if not self._open_count:
            return
        stream = self._alloc()
        head = b"".join(self._open_head)
        data = zlib.compress(head + b"".join(self._open_data), 1)
        self._emit(stream, b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>\n"
                           b"stream\n%s\nendstream" % (self._open_count, len(head),
                                                         len(data), data))
        self._packed_runs.extend((first, count, stream, index)
                                 for first, count, index in self._open_runs)
        self._open_head, self._open_data, self._open_runs = [], [], []
        self._open_size = self._open_count = 0

    def _structure(self) -> bytes:
        """The structure tree root (and ``/Document``): the catalog's entries for it."""
        if self._document is None:
            return b""
        self._close_objstm()
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
                b"%d 0 R" % leaf for leaf in self._id_leaves))
            extra = b"/IDTree %d 0 R" % ids
        self._emit(root, b"<</Type/StructTreeRoot/K %d 0 R/ParentTree %d 0 R"
                         b"/ParentTreeNextKey %d%s>>" % (
                             self._document, tree, self._parents[-1][0] + 1, extra))
        return b"/StructTreeRoot %d 0 R/MarkInfo<</Marked true>>" % root

    def _xref_stream(self, root: int, info: int | None) -> None:
        """The cross-reference stream (PDF 2.0 7.5.8) of a file with object streams, and the
        end of the file: it holds the trailer's entries. Its rows go through the PNG "Up"
        predictor (7.4.4.4), which leaves mostly zeros (a run of objects in one stream
        differs from row to row by its index only): zlib's fastest level then compresses
        them smaller, and ~10 times faster, than its default did the rows themselves."""
        xref = self._alloc()
        file_id = self._file_id()
        at = self._fh.tell()
        self._offsets[xref] = at
        data = zlib.compress(up_predicted(xref_rows(self._offsets, self._packed_runs)), 1)
        extra = b"/Info %d 0 R" % info if info else b""
        self._fh.write(b"%d 0 obj\n<</Type/XRef/Size %d/W[1 5 2]/Root %d 0 R/ID[<%s><%s>]%s"
                       b"/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 8>>"
                       b"/Length %d>>\nstream\n" % (
                           xref, len(self._offsets), root, file_id, file_id, extra, len(data)))
        self._fh.write(data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at)


def _array(mcids: dict[int, int]) -> bytes:
    """A ParentTree array (MCID -> element)."""
    top = max(mcids, default=-1)
    return b"[" + b" ".join(
        b"%d 0 R" % mcids[i] if i in mcids else b"null" for i in range(top + 1)) + b"]"


def xref_rows(offsets: array[int], runs: list[tuple[int, int, int, int]]) -> bytes:
    """The rows (``/W[1 5 2]``) of a cross-reference stream: object 0 free, object ``n`` at
    ``offsets[n]`` in the file, or (type 2) in an object stream: in a run ``(first, count,
    stream, index)`` of objects ``first + i`` at index ``index + i`` of object ``stream``.

    Made column by column with array and slice operations: a print file has hundreds of
    thousands of objects, and a loop building each row was a third of the time its
    structure elements took to write."""
    n = len(offsets)
    kinds = bytearray(b"\x01") * n
    second = array("q", offsets)  # the offset, or the object stream's number
    third = array("q", bytes(8 * n))  # 0, or the index in the object stream
    for first, count, stream, index in runs:
        kinds[first:first + count] = b"\x02" * count
        second[first:first + count] = array("q", [stream]) * count
        third[first:first + count] = array("q", range(index, index + count))
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


def up_predicted(rows: bytes, columns: int = 8) -> bytes:
    """``rows`` (of ``columns`` bytes) through the PNG "Up" predictor (PDF 2.0 7.4.4.4,
    ``/Predictor 12``): each row a filter byte (2) and its bytes minus the row above's,
    modulo 256. The byte-wise subtraction is done on the whole table at once, as one large
    integer with a borrow stop at every byte (its high bit)."""
    n = len(rows) // columns
    if not n:
        return b""
    size = len(rows)
    this = int.from_bytes(rows, "big")
    above = this >> (8 * columns)  # row r - 1 under row r; zeros above the first
    high = int.from_bytes(b"\x80" * size, "big")
    low = high - (high >> 7)  # 0x7f in every byte
    # (every byte of the minuend has its high bit set, so no borrow crosses a byte; the
    # high bits are then put right)
    diff = ((this | high) - (above & low)) ^ ((this ^ above ^ high) & high)
    table = diff.to_bytes(size, "big")
    out = bytearray((columns + 1) * n)
    out[0::columns + 1] = b"\x02" * n
    for j in range(columns):
        out[1 + j::columns + 1] = table[j::columns]
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A compiled page's elements (and its IDTree leaf, last) as objects of an object
    stream with holes: ``body % values`` is their data, where most values are the page's
    first element number plus ``plain[k]`` and the others (``specials``: position, code)
    ``values[code]`` of :meth:`StructureWriter._write_tags` (0 the page, 1 the document,
    then the XObjects' numbers, then the slots' MCIDs). Every hole has a fixed width
    (numbers with leading zeros, an MCID padded with spaces), so where each object starts
    (``starts``, the last one where the page's ParentTree array goes) is known when it is
    planned."""

    count: int  # objects: the elements and the IDTree leaf (if any)
    body: bytes  # their data, with holes
    size: int  # its length once filled
    plain: tuple[int, ...]
    specials: tuple[tuple[int, int], ...]
    starts: tuple[int, ...]  # count + 1
    head: bytes  # the stream's header for count + 1 objects, with holes
    tops: tuple[int, ...]
    own: tuple[tuple[int, int], ...]  # (MCID of the page, element)
    slots: tuple[str, ...]
    slot_owners: tuple[tuple[int, int], ...]  # (slot index, element)
    xobjects: tuple[tuple[str, int], ...]  # (name, /StructParents key)
    shared: tuple[tuple[tuple[int, int], ...], ...]  # per XObject: (MCID, element)
    leaf: int  # the IDTree leaf's index, or -1


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
    # codes of the holes: c >= 0 element c's number, -1 the page, -2 the document, -3 - k
    # XObject k, <= -1000 slot -1000 - c (renumbered once the XObjects are counted)
    bodies: list[tuple[bytes, tuple[int, ...]]] = []
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
    ids = [i for i, flag in enumerate(compiled.ids) if flag]
    if ids:  # the page's leaf of the IDTree (its ids are in order: they are numbers)
        bodies.append((b"<</Names[" + b" ".join([b"(e%010d) %010d 0 R"] * len(ids))
                       + b"]/Limits[(e%010d) (e%010d)]>>",
                       (*(c for i in ids for c in (i, i)), ids[0], ids[-1])))
    # slots come after the XObjects in the values: their codes are set now
    width = len(xobjects)
    plain: list[int] = []
    specials: list[tuple[int, int]] = []
    starts: list[int] = []
    at = 0
    for body, codes in bodies:
        starts.append(at)
        at += len(body % tuple(b"" if c <= -1000 else 0 for c in codes)) + 1
        for c in codes:
            if c >= 0:
                plain.append(c)
                continue
            code = 2 + width + (-1000 - c) if c <= -1000 else -c - 1
            specials.append((len(plain), code))
            plain.append(0)
    starts.append(at)
    count = len(bodies)
    return _Plan(count, b"".join(body + b"\n" for body, _ in bodies), at, tuple(plain),
                 tuple(specials), tuple(starts), b"%d %d " * (count + 1),
                 tuple(i for i, p in enumerate(compiled.parents) if p < 0),
                 tuple(own), tuple(slots), tuple(slot_owners), tuple(xobjects.items()),
                 tuple(tuple(shared[name]) for name in xobjects),
                 len(bodies) - 1 if ids else -1)
