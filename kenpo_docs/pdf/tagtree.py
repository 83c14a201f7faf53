"""A page's part of a structure tree, carried from the PDFs a piece is made of to the files
it is written into (see docs/accessibility.md).

A piece is put together from pages of several PDFs (a shape's background, the values drawn
over it, a letter laid out in full, the notice) and written, page by page, into its piece
file and a print file by :class:`kenpo_docs.pdf.stream.PdfStreamWriter`. The structure
elements of those PDFs cannot be copied as objects (each points at its parent, its page and
the whole tree of its document), so each page's elements are read once into :class:`Node`
trees (plain values: they travel in a chunk's saved segment) and the writer makes the
elements, the ``/ParentTree`` and the ``/IDTree`` of every file from them.

Marked content is either the page's own (an ``int`` MCID, as WeasyPrint writes a page) or in
a shared Form XObject (:class:`XMcid`: a shape's background, a notice page drawn by
reference), which carries a ``/StructParents`` key of its own (:func:`xobject_key`).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Union, cast

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

#: Where the ``/StructParents`` keys of shared Form XObjects start (pages count from 0).
XOBJECT_KEYS = 10_000_000


@dataclass(frozen=True, slots=True)
class XMcid:
    """Marked content ``mcid`` of the shared Form XObject named ``name`` (its
    ``/KenpoStatic`` name), whose ``/StructParents`` is ``key``."""

    name: str
    key: int
    mcid: int

    def __reduce__(self) -> tuple[Any, ...]:
        # (a slotted dataclass's own pickling calls fields() for every object: a saved
        # segment holds hundreds of these, read back by the print files)
        return XMcid, (self.name, self.key, self.mcid)


Kid = Union["Node", int, XMcid]


@dataclass(slots=True)
class Node:
    """A structure element: its type, kids (elements, the page's MCIDs, a shared XObject's),
    its attributes and other entries already written as PDF (``/A``'s entries, ``/Alt``), a
    header cell's id and a data cell's header ids (made unique per page by the writer)."""

    role: str
    kids: list[Kid] = field(default_factory=list)
    attrs: bytes = b""  # the /A dictionary's entries, but /Headers
    extra: bytes = b""
    ident: str | None = None
    headers: tuple[str, ...] = ()


#: A page's top-level elements (None: the page is not tagged).
PageTags = list[Node]


def xobject_key(name: str) -> int:
    """The ``/StructParents`` key of the shared Form XObject ``name``: stable, so every
    chunk gives the same XObject the same key."""
    return XOBJECT_KEYS + int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)


def _serialize(obj: Any) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def _node(elem: DictionaryObject) -> Node:
    node = Node(str(elem.get("/S", "/NonStruct"))[1:])
    extra = []
    attrs = elem.get("/A")
    if attrs is not None:
        attrs = attrs.get_object()
        if isinstance(attrs, DictionaryObject):
            headers = attrs.get("/Headers")
            if headers is not None:
                node.headers = tuple(str(h) for h in headers)
            node.attrs = b"".join(_serialize(k) + b" " + _serialize(v)
                                  for k, v in attrs.items() if k != "/Headers")
    for key in ("/Alt", "/ActualText", "/E", "/Lang"):
        if key in elem:
            extra.append(key.encode() + _serialize(elem[key].get_object()))
    if "/ID" in elem:
        node.ident = str(elem["/ID"])
    node.extra = b"".join(extra)
    k = elem.get("/K")
    kids = k.get_object() if k is not None else ArrayObject()
    for kid in (kids if isinstance(kids, list) else [kids]):
        kid = kid.get_object()
        if isinstance(kid, int):
            node.kids.append(int(kid))
        elif isinstance(kid, DictionaryObject):
            kind = kid.get("/Type")
            if kind == "/MCR" and "/Stm" not in kid:
                node.kids.append(int(cast(Any, kid["/MCID"])))
            elif kind == "/MCR":  # in a shared XObject (a piece file of ours, read back)
                stm = cast(DictionaryObject, kid["/Stm"].get_object())
                if "/KenpoStatic" in stm and "/StructParents" in stm:
                    node.kids.append(XMcid(str(stm["/KenpoStatic"]),
                                           int(cast(Any, stm["/StructParents"])),
                                           int(cast(Any, kid["/MCID"]))))
            elif "/S" in kid:
                node.kids.append(_node(kid))
            # an OBJR (link, widget): the annotations stay behind with their page
    return node


def read_tags(reader: PdfReader) -> list[PageTags | None]:
    """Each page's top-level elements of a PDF WeasyPrint tagged (and
    :mod:`kenpo_docs.render.tags` put right): each top-level element of its
    ``/Document`` belongs to one page (its ``/Pg``). None for an untagged PDF's pages."""
    pages: list[PageTags | None] = [None] * len(reader.pages)
    root = cast(DictionaryObject, reader.trailer["/Root"].get_object()).get("/StructTreeRoot")
    if root is None:
        return pages
    numbers = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)
               if page.indirect_reference is not None}
    for i in range(len(pages)):
        pages[i] = []
    tops = root.get_object().get("/K")
    tops = tops.get_object() if tops is not None else ArrayObject()
    for document in (tops if isinstance(tops, list) else [tops]):
        document = document.get_object()
        kids = document.get("/K", ArrayObject()).get_object()
        for elem in (kids if isinstance(kids, list) else [kids]):
            ref = cast(DictionaryObject, elem.get_object()).get("/Pg")
            index = numbers.get(ref.idnum) if ref is not None else None
            page = pages[index] if index is not None else None
            if page is not None:
                page.append(_node(elem.get_object()))
    return pages


def walk(nodes: list[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        yield from walk([k for k in node.kids if isinstance(k, Node)])


def mcids(node: Node) -> Iterator[int | XMcid]:
    """Every marked-content kid of ``node`` and its descendants, in order."""
    for kid in node.kids:
        if isinstance(kid, Node):
            yield from mcids(kid)
        else:
            yield kid


def in_xobject(nodes: list[Node], name: str) -> list[Node]:
    """``nodes`` (a page's) with their MCIDs moved into the shared Form XObject ``name``
    that draws that page's content."""
    key = xobject_key(name)

    def moved(node: Node) -> Node:
        return Node(node.role, [moved(k) if isinstance(k, Node)
                                else XMcid(name, key, k) if isinstance(k, int) else k
                                for k in node.kids], node.attrs, node.extra, node.ident,
                    node.headers)

    return [moved(n) for n in nodes]


_SEQUENCE = re.compile(rb"/([A-Za-z]+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC(.*?)EMC", re.S)
_START = re.compile(rb"/[A-Za-z]+\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")
#: Operators that paint (text, paths, pictures, shadings).
_PAINTS = re.compile(rb"(?<![A-Za-z*'\"])(?:f\*?|F|S|s|B\*?|b\*?|Tj|TJ|'|\"|Do|sh|BI)"
                     rb"(?![A-Za-z*])")


def empty_sequences(content: bytes) -> set[int]:
    """The MCIDs of the marked-content sequences of ``content`` that hold nothing (a hidden
    placeholder's text) or, for a figure, paint nothing (an empty picture)."""
    return {int(m.group(2)) for m in _SEQUENCE.finditer(content)
            if not m.group(3).strip()
            or (m.group(1) == b"Figure" and not _PAINTS.search(m.group(3)))}


def drop_sequences(content: bytes, drop: set[int]) -> bytes:
    """``content`` with the marked-content sequences of MCIDs ``drop`` made artifacts."""
    return _START.sub(lambda m: b"/Artifact BMC" if int(m.group(1)) in drop else m.group(0),
                      content)


def placeholders(nodes: list[Node], empty: set[int]) -> list[Node]:
    """The ``Span`` (or ``Figure``) elements that hold nothing but empty marked content
    (the outermost such, in reading order): a background's hidden placeholders (a
    ``<span>`` or an ``<svg>`` each), one per slot."""
    found: list[Node] = []

    def visit(node: Node) -> None:
        marks = list(mcids(node))
        if node.role in ("Span", "Figure") and marks and all(
                isinstance(m, int) and m in empty for m in marks):
            found.append(node)
            return
        for kid in node.kids:
            if isinstance(kid, Node):
                visit(kid)

    for node in nodes:
        visit(node)
    return found


#: The role of a slot's place in a background's tree (the writer puts the value there, see
#: :class:`Tagged`).
SLOT = "\0slot"

_PLAIN = ("Span", "NonStruct", "Div")
_HOLDERS = ("TR", "Table", "THead", "TBody", "TFoot", "L", "LI")


def simplify(nodes: list[Node]) -> list[Node]:
    """``nodes`` with the elements WeasyPrint makes of every text run, anonymous box and
    ``<div>`` (a ``Span``, ``NonStruct`` or ``Div`` with no attributes) folded into their
    parents, their content in place: they say nothing to a reader, and a piece writes every
    element of every page (they were two thirds of them)."""

    def fold(node: Node) -> Node:
        kids: list[Kid] = []
        for kid in node.kids:
            if isinstance(kid, Node):
                kid = fold(kid)
                if (kid.role in _PLAIN and not kid.attrs and not kid.extra
                        and kid.ident is None and node.role not in _HOLDERS):
                    kids.extend(kid.kids)
                    continue
            kids.append(kid)
        return Node(node.role, kids, node.attrs, node.extra, node.ident, node.headers)

    return [fold(n) for n in nodes]


def mark_slots(nodes: list[Node], slots: list[str], empty: set[int]) -> list[Node] | None:
    """A background's tree with each slot's placeholder (:func:`placeholders`, in reading
    order, one per slot in ``slots``' order) replaced by a :data:`SLOT` node named after it;
    None when they do not pair up."""
    found = placeholders(nodes, empty)
    if len(found) != len(slots):
        return None
    names = {id(node): name for node, name in zip(found, slots, strict=True)}

    def replace(node: Node) -> Node:
        name = names.get(id(node))
        if name is not None:
            return Node(SLOT, [], ident=name)
        return Node(node.role, [replace(k) if isinstance(k, Node) else k for k in node.kids],
                    node.attrs, node.extra, node.ident, node.headers)

    return [replace(n) for n in nodes]


# -- compiled: what a writer needs, ready to write ------------------------------------------

#: A kid of a compiled element: ``int`` >= 0 an MCID of the page, < 0 element ``-k - 1`` of
#: the same page, ``str`` a slot's value (an MCID given per page, see :class:`Tagged`),
#: :class:`XMcid` marked content in a shared Form XObject.
CKid = int | str | XMcid


@dataclass(frozen=True, slots=True)
class Compiled:
    """A page's structure elements in the order they are written (parents first): each
    one's ``/S`` and parent (-1: the document's), kids, other entries as PDF, attributes,
    and for a header cell an id, for a data cell its header cells (element indexes). Made
    once per background, static page or laid-out page; pickled once per segment however many
    pages use it."""

    roles: tuple[bytes, ...]
    parents: tuple[int, ...]
    kids: tuple[tuple[CKid, ...], ...]
    extras: tuple[bytes, ...]
    attrs: tuple[bytes, ...]
    ids: tuple[bool, ...]
    headers: tuple[tuple[int, ...], ...]

    @property
    def slots(self) -> set[str]:
        return {k for kids in self.kids for k in kids if isinstance(k, str)}

    def __reduce__(self) -> tuple[Any, ...]:
        return Compiled, (self.roles, self.parents, self.kids, self.extras, self.attrs,
                          self.ids, self.headers)


@dataclass(frozen=True, slots=True)
class Tagged:
    """A page's structure: its compiled elements and, for a page drawn over a background,
    the MCID of each slot's value (a slot without one is left out: a picture drawn as an
    artifact)."""

    compiled: Compiled
    marks: dict[str, int] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return Tagged, (self.compiled, self.marks)


def compile_tags(nodes: list[Node]) -> Compiled:
    """``nodes`` (a page's, after :func:`simplify` and :func:`mark_slots`) compiled."""
    order: list[tuple[Node, int]] = []

    def visit(node: Node, parent: int) -> None:
        index = len(order)
        order.append((node, parent))
        for kid in node.kids:
            if isinstance(kid, Node) and kid.role != SLOT:
                visit(kid, index)

    for node in nodes:
        visit(node, -1)
    index_of = {id(node): i for i, (node, _) in enumerate(order)}
    by_ident = {node.ident: i for i, (node, _) in enumerate(order)
                if node.ident is not None and node.role != SLOT}
    kids: list[tuple[CKid, ...]] = []
    for node, _ in order:
        items: list[CKid] = []
        for kid in node.kids:
            if isinstance(kid, Node):
                if kid.role == SLOT:
                    items.append(kid.ident or "")
                else:
                    items.append(-index_of[id(kid)] - 1)
            else:
                items.append(kid)
        kids.append(tuple(items))
    return Compiled(
        roles=tuple(b"/" + node.role.encode("ascii") for node, _ in order),
        parents=tuple(parent for _, parent in order),
        kids=tuple(kids),
        extras=tuple(node.extra for node, _ in order),
        attrs=tuple(node.attrs for node, _ in order),
        ids=tuple(node.ident is not None for node, _ in order),
        headers=tuple(tuple(by_ident[h] for h in node.headers if h in by_ident)
                      for node, _ in order),
    )


# -- the same, read with pikepdf (qpdf): a background's elements in ~3 ms instead of ~30 ------

def _pypdf_bytes(obj: Any) -> bytes:
    """``obj`` (pikepdf) written as pypdf writes it, so that both readings give the same
    bytes (the elements' attributes go into every file as they are)."""
    import pikepdf
    from pypdf.generic import read_object

    # (in an array: pikepdf gives numbers and booleans as Python values)
    read = read_object(io.BytesIO(bytes(pikepdf.Array([obj]).unparse())), None)
    return _serialize(cast(ArrayObject, read)[0])


def _pk_node(elem: Any) -> Node:
    import pikepdf

    node = Node(str(elem.get("/S", pikepdf.Name.NonStruct))[1:])
    attrs = elem.get("/A")
    if isinstance(attrs, pikepdf.Dictionary):
        headers = attrs.get("/Headers")
        if headers is not None:
            node.headers = tuple(str(h) for h in headers)
        node.attrs = b"".join(k.encode() + b" " + _pypdf_bytes(v)
                              for k, v in attrs.items() if k != "/Headers")
    node.extra = b"".join(key.encode() + _pypdf_bytes(elem[key])
                          for key in ("/Alt", "/ActualText", "/E", "/Lang") if key in elem)
    if "/ID" in elem:
        node.ident = str(elem.ID)
    k = elem.get("/K")
    kids = list(k) if isinstance(k, pikepdf.Array) else [] if k is None else [k]
    for kid in kids:
        if isinstance(kid, int):
            node.kids.append(int(kid))
        elif isinstance(kid, pikepdf.Dictionary):
            kind = kid.get("/Type")
            if kind == "/MCR" and "/Stm" not in kid:
                node.kids.append(int(kid.MCID))
            elif kind == "/MCR":
                stm = kid.Stm
                if "/KenpoStatic" in stm and "/StructParents" in stm:
                    node.kids.append(XMcid(str(stm.KenpoStatic), int(stm.StructParents),
                                           int(kid.MCID)))
            elif "/S" in kid:
                node.kids.append(_pk_node(kid))
    return node


def read_tags_fast(data: bytes) -> list[PageTags | None]:
    """:func:`read_tags` of the PDF ``data``, read with pikepdf: the same nodes."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages: list[PageTags | None] = [None] * len(pdf.pages)
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return pages
        numbers: dict[tuple[int, int], int] = {
            page.obj.objgen: i for i, page in enumerate(pdf.pages)}
        for i in range(len(pages)):
            pages[i] = []
        tops = root.get("/K")
        for document in (list(tops) if isinstance(tops, pikepdf.Array)
                         else [] if tops is None else [tops]):
            kids = document.get("/K")
            for elem in (list(kids) if isinstance(kids, pikepdf.Array)
                         else [] if kids is None else [kids]):
                ref = elem.get("/Pg")
                index = numbers.get(ref.objgen) if ref is not None else None
                page = pages[index] if index is not None else None
                if page is not None:
                    page.append(_pk_node(elem))
        return pages
