"""Piece codes: a small QR code on every page that says which envelope it belongs in.

The worst incident in a mass mailing is a page in the wrong envelope (誤送付). Every page of
every piece carries ``<piece_id>|<page>/<pages>`` (IDs only, never personal data) in a fixed
corner, so an inserter or a scanner can check that each envelope holds exactly its own pages,
in order. This module holds the code's text and stamps it on pages;
:mod:`kenpo_docs.barcodes.verify` reads the codes back and does the same check on the print
file before it leaves us.

Size and place (the defaults of :class:`StampOptions`):

* QR code made by zxing-cpp's writer (segno when a mask is forced, see
  :attr:`StampOptions.mask`), error level M, the smallest version that holds the text in
  mixed numeric/alphanumeric/byte segments: version 2 (25 x 25 modules) for a typical
  ``B20261128-0001-000123|1/3``, version 4 (33 modules) at most for a 40-character id.
  Modules are 0.5 mm: 12.5 mm for version 2, 16.5 mm for version 4, about 3.9 pixels per
  module for a 200 dpi camera, 11.8 printer dots at 600 dpi.
* A white square under the symbol covers the quiet zone, 2.5 mm on each side (ISO asks for
  4 modules = 2 mm; the extra 0.5 mm absorbs rendering and print registration), so the code
  reads even when it lands on page content. Version 2 therefore takes a 17.5 mm square,
  version 4 21.5 mm.
* Bottom-right corner, the white square 6 mm from the right and bottom edges (outside the
  ~4 mm most printers cannot print). That is as far as an A4 page allows from the
  window-envelope address block (top-left: window 23-113 mm from the left, 13-58 mm from the
  top, see ``data/envelopes.toml``) and from binding (top-left staple, left-edge punch holes).
  Templates should keep a 30 x 30 mm box in that corner free of text; the code is drawn on top
  of whatever is there.
* Drawn as vector rectangles in a content stream appended to the page; the page's own
  content is wrapped in ``q``/``Q`` and never re-rendered, so shared enclosures (an external
  flyer) are stamped the same way. Pages with ``/Rotate`` get the code in the corner as the
  page is displayed.
"""

from __future__ import annotations

import io
import logging
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pypdf
import segno
import zxingcpp
from pypdf.generic import ArrayObject, DecodedStreamObject, IndirectObject, NameObject

from kenpo_docs.errors import AssemblyError, BarcodeError
from kenpo_docs.files import write_atomic
from kenpo_docs.gates._pypdf import add_object

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_PAGES",
    "PIECE_ID_RE",
    "PieceCode",
    "StampOptions",
    "make_piece_qr",
    "parse_piece_code",
    "piece_code_text",
    "stamp_page",
    "stamp_pieces",
]

PIECE_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,40}")
MAX_PAGES = 9999
_CODE_RE = re.compile(r"([A-Za-z0-9._-]{1,40})\|([1-9][0-9]{0,3})/([1-9][0-9]{0,3})")
_PT_PER_MM = 72 / 25.4

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]


# --------------------------------------------------------------------------------------------
# The text


@dataclass(frozen=True)
class PieceCode:
    """What one page's code says: the piece (envelope) and the page's place in it."""

    piece_id: str
    page: int
    pages: int

    @property
    def text(self) -> str:
        return piece_code_text(self.piece_id, self.page, self.pages)


def _check_piece_id(piece_id: str) -> None:
    if not isinstance(piece_id, str) or not PIECE_ID_RE.fullmatch(piece_id):
        raise BarcodeError(
            "piece id must be 1-40 characters of A-Z a-z 0-9 . _ - "
            f"(got {len(piece_id) if isinstance(piece_id, str) else type(piece_id).__name__}"
            f"{' chars' if isinstance(piece_id, str) else ''})"
        )


def piece_code_text(piece_id: str, page: int, pages: int) -> str:
    """The exact code content, ``<piece_id>|<page>/<pages>``; page is 1-based."""
    _check_piece_id(piece_id)
    if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= MAX_PAGES:
        raise BarcodeError(f"piece page count must be 1-{MAX_PAGES}, got {pages!r}")
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= pages:
        raise BarcodeError(f"page must be 1-{pages}, got {page!r}")
    return f"{piece_id}|{page}/{pages}"


def parse_piece_code(text: str) -> PieceCode:
    """Read a decoded code back; anything that is not exactly our format is an error."""
    m = _CODE_RE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise BarcodeError("not a piece code (expected <piece_id>|<page>/<pages>)")
    page, pages = int(m.group(2)), int(m.group(3))
    if page > pages:
        raise BarcodeError(f"piece code page {page} is beyond its page count {pages}")
    return PieceCode(m.group(1), page, pages)


# --------------------------------------------------------------------------------------------
# Stamping


@dataclass(frozen=True)
class StampOptions:
    """Where and how big the code is printed. Verification must use the same options.

    Attributes:
        corner: page corner as the page is displayed (after ``/Rotate``).
        offset_mm: distance from the two page edges to the white background square.
        module_mm: size of one QR module; 0.4-0.5 mm reads reliably on office laser prints.
        quiet_mm: white margin around the symbol, at least 2 mm (and never under 4 modules).
        error: minimum QR error correction level ("L", "M", "Q", "H").
        version: force one QR version (1-10) so every code has the same size; None = smallest.
        mask: force one QR mask pattern (0-7), made with segno. None (default): the symbol is
            made by zxing-cpp's writer, which scores all eight masks as ISO 18004 asks and
            mixes numeric, alphanumeric and byte segments (a smaller symbol), in C++: ~0.15 ms
            a code where segno takes ~1.2 ms with a fixed mask and ~9 ms scoring the masks.
    """

    corner: Corner = "bottom-right"
    offset_mm: float = 6.0
    module_mm: float = 0.5
    quiet_mm: float = 2.5
    error: str = "M"
    version: int | None = None
    mask: int | None = None

    def __post_init__(self) -> None:
        if self.corner not in ("bottom-right", "bottom-left", "top-right", "top-left"):
            raise BarcodeError(f"unknown corner {self.corner!r}")
        if not 0.25 <= self.module_mm <= 2.0:
            raise BarcodeError(f"module size {self.module_mm} mm is outside 0.25-2 mm")
        if self.quiet_mm < 2.0:
            raise BarcodeError("the quiet zone must be at least 2 mm")
        if not 0 <= self.offset_mm <= 100:
            raise BarcodeError(f"offset {self.offset_mm} mm is outside 0-100 mm")
        if self.error.upper() not in ("L", "M", "Q", "H"):
            raise BarcodeError(f"unknown QR error level {self.error!r}")
        if self.version is not None and not 1 <= self.version <= 10:
            raise BarcodeError(f"QR version must be 1-10, got {self.version}")
        if self.mask is not None and not 0 <= self.mask <= 7:
            raise BarcodeError(f"QR mask must be 0-7, got {self.mask}")

    @property
    def quiet_zone_mm(self) -> float:
        """The white margin actually drawn: the larger of ``quiet_mm`` and 4 modules (ISO)."""
        return max(self.quiet_mm, 4 * self.module_mm)

    def footprint_mm(self, modules: int) -> float:
        """Side of the white square for a symbol of ``modules`` modules."""
        return modules * self.module_mm + 2 * self.quiet_zone_mm


def make_piece_qr(text: str, options: StampOptions | None = None) -> segno.QRCode:
    """The QR symbol for a piece code text (validated first, so nothing else gets printed)."""
    options = options or StampOptions()
    parse_piece_code(text)
    try:
        return segno.make_qr(
            text, error=options.error.lower(), version=options.version, mask=options.mask
        )
    except segno.DataOverflowError as exc:
        raise BarcodeError(f"piece code does not fit QR version {options.version}") from exc


def _modules(text: str, options: StampOptions) -> list[bytes]:
    """The code's modules, row by row (1 dark, 0 light), without the quiet zone."""
    if options.mask is not None:
        return [bytes(row) for row in make_piece_qr(text, options).matrix]
    parse_piece_code(text)
    kwargs: dict[str, object] = {"ec_level": options.error.upper()}
    if options.version is not None:
        kwargs["version"] = options.version
    try:
        symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, **kwargs)
        # zxingcpp.Image has the buffer protocol; its stub does not declare it
        image = memoryview(symbol.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    except (ValueError, RuntimeError) as exc:
        raise BarcodeError(f"piece code does not fit QR version {options.version}") from exc
    shape = image.shape or (0, 0)  # always set for an image (2-D); (0, 0) fails the check below
    rows, cols = shape[0], shape[1]
    data = image.tobytes()
    if rows != cols or not 21 <= rows <= 57 or (rows - 17) % 4 or len(data) != rows * cols:
        raise BarcodeError(f"unexpected QR symbol of {rows}x{cols} modules")
    return [data[r * cols:(r + 1) * cols].translate(_DARK_PIXEL) for r in range(rows)]


def _fmt(v: float) -> str:
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


#: A byte that is not 0 (a dark module), run after run.
_DARK_RUN = re.compile(rb"[^\x00]+")
#: zxing-cpp's symbol image: black (0) is a dark module (1), white (255) a light one (0).
_DARK_PIXEL = bytes(1 if v < 128 else 0 for v in range(256))


class _RunOps(dict[tuple[int, int], str]):
    """The ``re`` operator of a dark run, by its span in a symbol's rows joined with one light
    byte between them; made once per span (a symbol size has at most n x n(n+1)/2)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def __missing__(self, span: tuple[int, int]) -> str:
        row, x = divmod(span[0], self.n + 1)
        op = self[span] = f"{x} {self.n - 1 - row} {span[1] - span[0]} 1 re"
        return op


_RUN_OPS: dict[int, _RunOps] = {}


def _module_rects(matrix: Sequence[bytes]) -> str:
    """Dark modules as ``x y w 1 re`` rectangles in module units (y up from the bottom), one
    per horizontal run of a row: about 170 for a version-2 code instead of ~320 single
    modules. Filled as one path, abutting rectangles show no anti-aliasing seams.

    (Runs were once also merged down the rows, 130 rectangles; that cost more CPU than the
    ~40 operators it saved were worth, 7 codes a piece.)
    """
    n = len(matrix)
    ops = _RUN_OPS.get(n)
    if ops is None:
        ops = _RUN_OPS[n] = _RunOps(n)
    return "\n".join([ops[m.span()] for m in _DARK_RUN.finditer(b"\x00".join(matrix))])


def _display_matrix(page: pypdf.PageObject) -> tuple[tuple[float, ...], float, float]:
    """The ``cm`` matrix from displayed-page coordinates to user space, and the display size."""
    box = page.cropbox
    x0, y0, x1, y1 = (float(box.left), float(box.bottom), float(box.right), float(box.top))
    w, h = x1 - x0, y1 - y0
    rot = int(page.get("/Rotate", 0) or 0) % 360
    if rot == 90:
        return (0, 1, -1, 0, x1, y0), h, w
    if rot == 180:
        return (-1, 0, 0, -1, x1, y1), w, h
    if rot == 270:
        return (0, -1, 1, 0, x0, y1), h, w
    return (1, 0, 0, 1, x0, y0), w, h


#: The operators before a code's rectangles, by size, page geometry and options.
_PREFIX: dict[tuple[object, ...], str] = {}


def _stamp_prefix(n: int, page: pypdf.PageObject, options: StampOptions) -> str:
    cm, disp_w, disp_h = _display_matrix(page)
    key = (n, cm, disp_w, disp_h, options)
    prefix = _PREFIX.get(key)
    if prefix is not None:
        return prefix
    side = options.footprint_mm(n) * _PT_PER_MM
    off = options.offset_mm * _PT_PER_MM
    if side + off > min(disp_w, disp_h):
        raise BarcodeError("page is too small for the piece code")
    left = off if options.corner.endswith("left") else disp_w - off - side
    bottom = off if options.corner.startswith("bottom") else disp_h - off - side
    quiet = options.quiet_zone_mm * _PT_PER_MM
    mod = options.module_mm * _PT_PER_MM
    prefix = "\n".join([
        "\nQ\n/Artifact BMC\nq",  # the code is no part of the document: an artifact
        " ".join(_fmt(v) for v in cm) + " cm",
        f"1 0 0 1 {_fmt(left)} {_fmt(bottom)} cm",
        f"1 g 0 0 {_fmt(side)} {_fmt(side)} re f",
        f"{_fmt(mod)} 0 0 {_fmt(mod)} {_fmt(quiet)} {_fmt(quiet)} cm",
        "0 g",
    ])
    if len(_PREFIX) < 256:
        _PREFIX[key] = prefix
    return prefix


def _stamp_ops(page: pypdf.PageObject, text: str, options: StampOptions) -> bytes:
    matrix = _modules(text, options)
    # One path, one fill: abutting rectangles show no anti-aliasing seams.
    return (f"{_stamp_prefix(len(matrix), page, options)}\n{_module_rects(matrix)}\nf\nQ\n"
            "EMC\n".encode("ascii"))


#: The object number of the ``q`` stream a writer's stamped pages start with (a number: a
#: reference would hold the writer, and every page of it, alive for good).
_SAVE_STATE: weakref.WeakKeyDictionary[pypdf.PdfWriter, int] = weakref.WeakKeyDictionary()


def stamp_page(page: pypdf.PageObject, text: str, options: StampOptions | None = None) -> None:
    """Draw the code for ``text`` on a page that belongs to a :class:`pypdf.PdfWriter`.

    The page's existing content streams are kept as they are (not decoded), wrapped in
    ``q``/``Q`` so their graphics state cannot leak into the code; the code goes in a new
    stream after them. The page must already be in a writer (``writer.add_page`` or
    ``PdfWriter(clone_from=...)``) because new streams have to be indirect objects there.
    """
    options = options or StampOptions()
    ref = page.indirect_reference
    writer = ref.pdf if ref is not None else None
    if not isinstance(writer, pypdf.PdfWriter):
        raise BarcodeError("stamp_page needs a page of a PdfWriter (add the page first)")
    ops = _stamp_ops(page, text, options)
    number = _SAVE_STATE.get(writer)
    if number is None:  # one "q" stream serves every page of a writer
        save = DecodedStreamObject()
        save.set_data(b"q\n")
        number = _SAVE_STATE[writer] = add_object(writer, save).idnum
    before = IndirectObject(number, 0, writer)
    stamp = DecodedStreamObject()
    stamp.set_data(ops)
    after = stamp.flate_encode()
    contents = page.get(NameObject("/Contents"))
    existing: list[IndirectObject] = []
    if contents is not None:
        resolved = contents.get_object()
        if isinstance(resolved, ArrayObject):
            existing = [
                c if isinstance(c, IndirectObject) else add_object(writer, c) for c in resolved
            ]
        elif isinstance(contents, IndirectObject):
            existing = [contents]
        else:
            existing = [add_object(writer, resolved)]
    page[NameObject("/Contents")] = ArrayObject([before, *existing, add_object(writer, after)])


def _open_reader(src: pypdf.PdfReader | str | Path) -> pypdf.PdfReader:
    if isinstance(src, pypdf.PdfReader):
        return src
    try:
        reader = pypdf.PdfReader(src)
        if reader.is_encrypted:
            raise AssemblyError("PDF is encrypted", file=src)
        len(reader.pages)
    except (pypdf.errors.PdfReadError, pypdf.errors.PdfStreamError, ValueError) as exc:
        raise AssemblyError(f"cannot read PDF: {exc}", file=src) from exc
    return reader


def _check_pieces(pieces: Sequence[tuple[str, int]], page_total: int) -> None:
    seen: set[str] = set()
    for piece_id, count in pieces:
        _check_piece_id(piece_id)
        if piece_id in seen:
            raise BarcodeError(f"piece id {piece_id} appears twice in the piece list")
        seen.add(piece_id)
        piece_code_text(piece_id, count, count)
    total = sum(count for _, count in pieces)
    if total != page_total:
        raise BarcodeError(f"pieces add up to {total} pages but the PDF has {page_total}")


def stamp_pieces(
    src: pypdf.PdfReader | str | Path,
    dst_path: str | Path,
    pieces: Sequence[tuple[str, int]],
    *,
    options: StampOptions | None = None,
) -> int:
    """Stamp every page of ``src`` and write ``dst_path`` (mode 0600); returns pages stamped.

    ``pieces`` lists ``(piece_id, page_count)`` in the order the pieces' pages appear in the
    source; they must add up to the page count exactly, so a page cannot go unstamped.
    """
    options = options or StampOptions()
    reader = _open_reader(src)
    _check_pieces(pieces, len(reader.pages))
    writer = pypdf.PdfWriter(clone_from=reader)
    refs = [page.indirect_reference for page in writer.pages]
    if len({(r.idnum, r.generation) for r in refs if r is not None}) != len(refs):
        # Two page-tree entries for one page object would get both codes on top of each other.
        raise BarcodeError("the PDF uses one page object twice; copy the page", file=str(dst_path))
    index = 0
    for piece_id, count in pieces:
        for page_no in range(1, count + 1):
            stamp_page(writer.pages[index], piece_code_text(piece_id, page_no, count), options)
            index += 1
    dst = Path(dst_path)
    buffer = io.BytesIO()
    writer.write(buffer)
    write_atomic(dst, buffer.getvalue())  # 0600, atomic, a link at dst replaced, not followed
    logger.debug("stamped %d pages of %d pieces into %s", index, len(pieces), dst.name)
    return index
