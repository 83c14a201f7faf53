"""Reading a tagged PDF back for tests/test_tagged_pdfs.py: the structure tree (pikepdf), the
marked-content sequences of each page's content and the text of each (ToUnicode maps read
here, not by the code under test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf


def kids(elem: Any) -> list[Any]:
    k = elem.get("/K")
    if k is None:
        return []
    return list(k) if isinstance(k, pikepdf.Array) else [k]


def is_elem(obj: Any) -> bool:
    return isinstance(obj, pikepdf.Dictionary) and "/S" in obj


def walk(elem: Any) -> Iterator[Any]:
    yield elem
    for kid in kids(elem):
        if is_elem(kid):
            yield from walk(kid)


def _to_unicode(font: Any) -> dict[int, str]:
    out: dict[int, str] = {}
    tu = font.get("/ToUnicode")
    if tu is None:
        return out
    data = tu.read_bytes().decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                      block):
            base = bytes.fromhex(dst).decode("utf-16-be")
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = base[:-1] + chr(ord(base[-1]) + i)
    return out


#: Operators that paint a path or a shading.
_PAINT = {"f", "F", "f*", "S", "s", "B", "B*", "b", "b*", "sh"}


@dataclass
class Marked:
    """One marked-content sequence of a page: its tag, MCID (None: none) and text, and the
    Form XObject it is in (None: the page's own content)."""

    tag: str
    mcid: int | None
    props: Any
    text: list[str] = field(default_factory=list)
    xobject: Any = None


def marked_content(page: Any, stack: list[Marked] | None = None,
                   xobject: Any = None) -> list[Marked]:
    """Every marked-content sequence of ``page`` (nested ones too, and those of the Form
    XObjects it draws), with the text shown in it (a sequence gets the text of those it
    holds)."""
    resources = page.get("/Resources", pikepdf.Dictionary())
    fonts = resources.get("/Font", pikepdf.Dictionary())
    xobjects = resources.get("/XObject", pikepdf.Dictionary())
    maps: dict[str, dict[int, str]] = {}
    out: list[Marked] = []
    stack = [] if stack is None else stack
    font: dict[int, str] = {}
    for operands, op in pikepdf.parse_content_stream(page):
        name = str(op)
        if name in ("BDC", "BMC"):
            props = operands[1] if name == "BDC" else None
            mcid = None
            if isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                mcid = int(props.MCID)
            m = Marked(str(operands[0]), mcid, props, xobject=xobject)
            out.append(m)
            stack.append(m)
        elif name == "EMC":
            stack.pop()
        elif name == "Do":
            inner = xobjects[str(operands[0])]
            if inner.get("/Subtype") == "/Form":
                out.extend(marked_content(inner, stack, inner))
            elif not stack:
                out.append(Marked("(unmarked paint)", None, None, [], xobject))
        elif name in _PAINT and not stack:
            out.append(Marked("(unmarked paint)", None, None, [], xobject))
        elif name == "Tf":
            key = str(operands[0])
            if key not in maps:
                maps[key] = _to_unicode(fonts[key]) if key in fonts else {}
            font = maps[key]
        elif name in ("TJ", "Tj"):
            items = operands[0] if name == "TJ" else [operands[0]]
            text = ""
            for item in items:
                if isinstance(item, pikepdf.String):
                    raw = bytes(item)
                    for i in range(0, len(raw) - 1, 2):
                        text += font.get(int.from_bytes(raw[i:i + 2], "big"), "\ufffd")
            for m in stack:
                m.text.append(text)
            if not stack:
                out.append(Marked("(unmarked)", None, None, [text], xobject))
    return out


def element_text(elem: Any, texts: dict[tuple[int, int, int], str]) -> str:
    """The text of a structure element: its marked content in tree order.
    ``texts``: ``(page object number, XObject object number or 0, mcid) -> text``."""
    parts = []
    for e in walk(elem):
        page = e.get("/Pg")
        for kid in kids(e):
            if isinstance(kid, int) and page is not None:
                parts.append(texts.get((page.objgen[0], 0, kid), ""))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                stm = kid.get("/Stm")
                on = kid.get("/Pg", page)
                parts.append(texts.get((on.objgen[0], stm.objgen[0] if stm is not None
                                        else 0, int(kid.MCID)), ""))
    return "".join(parts)


def page_texts(pdf: pikepdf.Pdf) -> dict[tuple[int, int, int], str]:
    texts = {}
    for page in pdf.pages:
        for m in marked_content(page):
            if m.mcid is not None:
                owner = m.xobject.objgen[0] if m.xobject is not None else 0
                texts[(page.objgen[0], owner, m.mcid)] = "".join(m.text)
    return texts


def parent_tree(pdf: pikepdf.Pdf) -> dict[int, Any]:
    """The structure tree's ParentTree as ``{key: value}`` (a flat /Nums or one level of
    /Kids)."""
    out: dict[int, Any] = {}

    def read(node: Any) -> None:
        nums = node.get("/Nums")
        if nums is not None:
            for i in range(0, len(nums), 2):
                out[int(nums[i])] = nums[i + 1]
        for kid in node.get("/Kids", []):
            read(kid)

    read(pdf.Root.StructTreeRoot.ParentTree)
    return out
