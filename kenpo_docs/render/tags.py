"""What WeasyPrint 70's tagged PDFs get wrong, put right after it wrote them.

WeasyPrint 70 (``pdf_tags``) writes a structure tree from the box tree: headings, paragraphs,
lists, tables, figures, with every rule and background an artifact. Three things we fix here,
on the written file, so that every tagged PDF we write says the same (see
docs/accessibility.md):

* **table headers**: WeasyPrint links a data cell to the header cells of its column counted
  in a way that drifts after a ``rowspan`` (every data cell of notice 539's 健康保険証 table
  pointed at the column to its right), gives a row-header table (``<th>`` first in each row,
  no ``scope="row"``) empty header lists, and writes no ``/Scope``. :func:`fix_tables`
  redoes both from the table's cells, with the HTML table model's scanning (a data cell's
  row headers to its left, column headers above it, a header block hidden behind a nearer
  one): a header cell in a row of header cells is a column header, one in a row with data
  cells a row header (our templates write ``scope`` so, and tests/test_tagged_pdfs.py holds
  the PDF to the HTML);
* **page numbers** (``@page`` margin boxes) are drawn as marked content whose structure
  elements hang nowhere in the tree: they become ``/Artifact`` (pagination) sequences;
* a form field's element gets its field's name as ``/Alt`` (a check box says it is one);
* the header cells' ``/ID`` are listed in an ``/IDTree``, as the structure tree root must.

Used by :func:`kenpo_docs.render.pdf.write_pdf` for every tagged PDF.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pikepdf

from kenpo_docs.render import xmp

_CELL = ("/TH", "/TD")


def _kids(elem: Any) -> list[Any]:
    k = elem.get("/K")
    if k is None:
        return []
    return list(k) if isinstance(k, pikepdf.Array) else [k]


def _elements(elem: Any) -> Iterator[Any]:
    for kid in _kids(elem):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid


def _walk(elem: Any) -> Iterator[Any]:
    yield elem
    for kid in _elements(elem):
        yield from _walk(kid)


def _rows(table: Any) -> list[Any]:
    rows = []
    for kid in _elements(table):
        if kid.S == "/TR":
            rows.append(kid)
        elif kid.S in ("/THead", "/TBody", "/TFoot"):
            rows.extend(_rows(kid))
    return rows


def _attr(cell: Any, key: str, default: int = 1) -> int:
    a = cell.get("/A")
    if isinstance(a, pikepdf.Dictionary) and key in a:
        return int(a[key])
    return default


def _has_content(cell: Any) -> bool:
    return any(isinstance(k, int) for e in _walk(cell) for k in _kids(e))


def table_grid(table: Any) -> dict[tuple[int, int], tuple[Any, int, int, int, int]]:
    """The table's slots: ``(row, col) -> (cell, row, col, rows, cols)`` of the cell
    covering it (its anchor and spans), as the HTML table model places cells."""
    grid: dict[tuple[int, int], tuple[Any, int, int, int, int]] = {}
    for y, row in enumerate(_rows(table)):
        x = 0
        for cell in _elements(row):
            if cell.S not in _CELL:
                continue
            while (y, x) in grid:
                x += 1
            h, w = _attr(cell, "/RowSpan"), _attr(cell, "/ColSpan")
            entry = (cell, y, x, h, w)
            for dy in range(h):
                for dx in range(w):
                    grid[(y + dy, x + dx)] = entry
            x += w
    return grid


def _scopes(grid: dict[tuple[int, int], tuple[Any, int, int, int, int]],
            head_rows: set[int]) -> dict[int, str]:
    """Each header cell's scope (by id of its entry): a header in a row whose cells (with
    content) are all header cells, or in a ``THead``, is a column header; else a row header."""
    rows: dict[int, list[tuple[Any, int, int, int, int]]] = {}
    for (y, _), entry in grid.items():
        rows.setdefault(y, []).append(entry)
    scopes: dict[int, str] = {}
    for y, entries in rows.items():
        column = y in head_rows or all(
            e[0].S == "/TH" or not _has_content(e[0]) for e in entries)
        for e in entries:
            if e[0].S == "/TH" and e[1] == y:
                scopes.setdefault(id(e), "Column" if column else "Row")
    return scopes


def _scan(grid: dict[tuple[int, int], tuple[Any, int, int, int, int]], scopes: dict[int, str],
          principal: tuple[Any, int, int, int, int], x: int, y: int, dx: int, dy: int,
          found: list[tuple[Any, int, int, int, int]]) -> None:
    """The HTML table model's "internal algorithm for scanning and assigning header cells"."""
    opaque: list[tuple[Any, int, int, int, int]] = []
    in_block = principal[0].S == "/TH"
    block: list[tuple[Any, int, int, int, int]] = [principal] if in_block else []
    want = "Column" if dx == 0 else "Row"
    while True:
        x += dx
        y += dy
        if x < 0 or y < 0:
            return
        current = grid.get((y, x))
        if current is None or current is principal:
            continue
        if current[0].S == "/TH":
            in_block = True
            block.append(current)
            blocked = scopes.get(id(current)) != want
            if dx == 0 and any(o[2] == current[2] and o[4] == current[4] for o in opaque):
                blocked = True
            if dy == 0 and any(o[1] == current[1] and o[3] == current[3] for o in opaque):
                blocked = True
            if not blocked and current not in found:
                found.append(current)
        elif in_block:
            in_block = False
            opaque.extend(block)
            block = []


def fix_tables(pdf: pikepdf.Pdf, root: Any) -> dict[str, Any]:
    """Set every header cell's ``/Scope`` and ``/ID`` and every data cell's ``/Headers``
    (see the module's docstring); returns the ids given, for the ``/IDTree``."""
    ids: dict[str, Any] = {}
    tables = [e for top in _elements(root) for e in _walk(top) if e.S == "/Table"]
    for n, table in enumerate(tables):
        grid = table_grid(table)
        head_rows: set[int] = set()
        y = 0
        for kid in _elements(table):
            group = _rows(kid) if kid.S in ("/THead", "/TBody", "/TFoot") else [kid]
            if kid.S == "/THead":
                head_rows.update(range(y, y + len(group)))
            y += len(group)
        scopes = _scopes(grid, head_rows)
        entries = {id(e): e for e in grid.values()}
        for key, entry in entries.items():
            cell = entry[0]
            attrs = cell.get("/A")
            if not isinstance(attrs, pikepdf.Dictionary):
                attrs = cell.A = pikepdf.Dictionary(O=pikepdf.Name.Table)
            if cell.S == "/TH":
                ident = f"t{n}-{entry[1]}-{entry[2]}"
                cell.ID = pikepdf.String(ident)
                ids[ident] = cell
                attrs.Scope = pikepdf.Name("/" + scopes[key])
        for entry in entries.values():
            cell, y0, x0, h, w = entry
            if cell.S != "/TD":
                continue
            found: list[tuple[Any, int, int, int, int]] = []
            for dy in range(h):
                _scan(grid, scopes, entry, x0, y0 + dy, -1, 0, found)
            for dx in range(w):
                _scan(grid, scopes, entry, x0 + dx, y0, 0, -1, found)
            cell.A.Headers = pikepdf.Array(
                [pikepdf.String(f"t{n}-{e[1]}-{e[2]}") for e in found])
    return ids


_MARKED = re.compile(rb"/([A-Za-z]+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")


def _orphans_to_artifacts(pdf: pikepdf.Pdf, root: Any) -> None:
    """Marked content whose structure element is not in the tree (WeasyPrint's margin
    boxes: page numbers) becomes a pagination artifact; its ParentTree entries are dropped."""
    reachable = {e.objgen for top in _elements(root) for e in _walk(top)}
    nums = root.ParentTree.get("/Nums")
    if nums is None:
        return
    for i in range(0, len(nums), 2):
        key, value = int(nums[i]), nums[i + 1]
        if not isinstance(value, pikepdf.Array) or key >= len(pdf.pages):
            continue
        orphans = {mcid for mcid, elem in enumerate(value)
                   if isinstance(elem, pikepdf.Dictionary) and elem.objgen not in reachable}
        if not orphans:
            continue
        page = pdf.pages[key]
        data = page.Contents.read_bytes()

        def artifact(m: re.Match[bytes], orphans: set[int] = orphans) -> bytes:
            if int(m.group(2)) in orphans:
                return b"/Artifact\n<</Type /Pagination>>\nBDC"
            return m.group(0)

        page.Contents = pdf.make_stream(_MARKED.sub(artifact, data))
        for mcid in orphans:
            value[mcid] = None
        # trailing unreferenced entries go; the ones before stay null
        while len(value) and value[len(value) - 1] is None:
            del value[len(value) - 1]


def _form_alternatives(root: Any) -> None:
    """Each form field's structure element says what the field is (its /TU, from the
    input's ``title``), and a check box that it is one: a screen reader on an unticked box
    has nothing else to read."""
    for top in _elements(root):
        for elem in _walk(top):
            if elem.S != "/Form" or "/Alt" in elem:
                continue
            for kid in _kids(elem):
                widget = kid.get("/Obj") if isinstance(kid, pikepdf.Dictionary) else None
                if widget is None or "/TU" not in widget:
                    continue
                alt = str(widget.TU)
                if widget.get("/FT") == "/Btn":
                    alt += "（チェックボックス）"
                elem.Alt = pikepdf.String(alt)


def finish(data: bytes, *, title: str | None = None, unpacked: bool = False) -> bytes:
    """A tagged PDF from WeasyPrint with its tables, page numbers and ids put right (see
    the module's docstring); the document's title shown by viewers. Unchanged if untagged.
    ``unpacked``: written without object streams (for pypdf to read a few objects of it,
    a shape's background: see kenpo_docs.shapes.backgrounds)."""
    pdf = pikepdf.open(io.BytesIO(data))
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return data
    ids = fix_tables(pdf, root)
    if ids:
        names = pikepdf.Array()
        for ident in sorted(ids):
            names.append(pikepdf.String(ident))
            names.append(ids[ident])
        root.IDTree = pdf.make_indirect(pikepdf.Dictionary(Names=names))
    _orphans_to_artifacts(pdf, root)
    _form_alternatives(root)
    if title and "/Title" not in pdf.docinfo:
        pdf.docinfo.Title = title
    pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
    pdf.Root.Lang = pikepdf.String("ja")
    info = {str(k)[1:]: str(v) for k, v in pdf.docinfo.items()}
    existing = pdf.Root.get("/Metadata")  # WeasyPrint's, for PDF/A: its claim is kept
    pdfa = xmp.pdfa_claim(existing.read_bytes()) if existing is not None else None
    pdf.Root.Metadata = pdf.make_stream(xmp.packet(info, ua=True, pdfa=pdfa),
                                        Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    out = io.BytesIO()
    # streams as WeasyPrint wrote them (a font program recompressed would be another file
    # to the piece writer's font merge), but the pages' rewritten content
    pdf.save(out, deterministic_id=True, recompress_flate=False,
             stream_decode_level=pikepdf.StreamDecodeLevel.none,
             object_stream_mode=(pikepdf.ObjectStreamMode.disable if unpacked
                                 else pikepdf.ObjectStreamMode.preserve))
    return out.getvalue()
