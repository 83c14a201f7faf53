"""Piece codes: a small QR code on every page that says which envelope it belongs in.

The worst incident in a mass mailing is a page in the wrong envelope (誤送付). Every page of
every piece carries ``<piece_id>|<page>/<pages>`` (IDs only, never personal data) in a fixed
corner, so an inserter or a scanner can check that each envelope holds exactly its own pages,
in order. :func:`verify_pdf` does the same check on the print file before it leaves us.

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

import csv
import logging
import os
import re
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pypdf
import pypdfium2
import segno
import zxingcpp
from pypdf.generic import ArrayObject, DecodedStreamObject, IndirectObject, NameObject

from kenpo_docs.errors import AssemblyError, BarcodeError, ManifestError

logger = logging.getLogger("kenpo_docs")

__all__ = [
    "PieceCode",
    "ProblemKind",
    "StampOptions",
    "VerifyProblem",
    "VerifyReport",
    "make_piece_qr",
    "parse_piece_code",
    "piece_code_text",
    "read_expected",
    "stamp_page",
    "stamp_pieces",
    "verify_pdf",
]

PIECE_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,40}")
MAX_PAGES = 9999
_CODE_RE = re.compile(r"([A-Za-z0-9._-]{1,40})\|([1-9][0-9]{0,3})/([1-9][0-9]{0,3})")
_PT_PER_MM = 72 / 25.4
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
ProblemKind = Literal[
    "missing_page",
    "foreign_page",
    "unreadable",
    "count_mismatch",
    "out_of_order",
    "duplicate_page",
    "interleaved",
]


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
        image = memoryview(symbol.to_image(scale=1, add_quiet_zones=False))
    except (ValueError, RuntimeError) as exc:
        raise BarcodeError(f"piece code does not fit QR version {options.version}") from exc
    rows, cols = image.shape[0], image.shape[1]
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
        "\nQ\nq",
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
            .encode("ascii"))


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
        number = _SAVE_STATE[writer] = writer._add_object(save).idnum
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
                c if isinstance(c, IndirectObject) else writer._add_object(c) for c in resolved
            ]
        elif isinstance(contents, IndirectObject):
            existing = [contents]
        else:
            existing = [writer._add_object(resolved)]
    page[NameObject("/Contents")] = ArrayObject([before, *existing, writer._add_object(after)])


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
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as fh:
        writer.write(fh)
    logger.debug("stamped %d pages of %d pieces into %s", index, len(pieces), dst.name)
    return index


# --------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class VerifyProblem:
    """One thing wrong with the file; ``page`` is the physical (1-based) page in the PDF.

    ``page`` is None only for a piece that is expected but has no page at all. For a
    ``missing_page`` it is the physical page the missing one should stand before (or, when
    the piece's last pages are missing, the piece's last page present).
    """

    kind: ProblemKind
    page: int | None
    piece_id: str | None
    detail: str


@dataclass
class VerifyReport:
    """What :func:`verify_pdf` found: one code (or None) per physical page, and the problems."""

    file: str
    codes: list[PieceCode | None]
    problems: list[VerifyProblem] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len(self.codes)

    @property
    def pieces(self) -> int:
        return len({c.piece_id for c in self.codes if c is not None})

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = "OK" if self.ok else f"{len(self.problems)} problem(s)"
        return f"{Path(self.file).name}: {self.pages} pages, {self.pieces} pieces, {state}"


def _decode(image: object) -> tuple[list[PieceCode], int]:
    """Piece codes found in an image, and how many QR codes were not piece codes."""
    found: list[PieceCode] = []
    other = 0
    for bc in zxingcpp.read_barcodes(image, formats=_QR):
        try:
            found.append(parse_piece_code(bc.text))
        except BarcodeError:
            other += 1
    return found, other


def _read_page(page: pypdfium2.PdfPage, scale: float, options: StampOptions) -> tuple[
    PieceCode | None, str
]:
    """The page's code and, when something is off, why (a code with a reason is misplaced)."""
    w, h = page.get_size()  # pdfium's size is already the displayed (rotated) one
    # Corner region big enough for a version-10 code plus slack, in displayed coordinates.
    reach = (options.offset_mm + options.footprint_mm(57) + 5) * _PT_PER_MM
    cw, ch = max(w - reach, 0.0), max(h - reach, 0.0)
    left, right = (cw, 0.0) if options.corner.endswith("right") else (0.0, cw)
    bottom, top = (0.0, ch) if options.corner.startswith("bottom") else (ch, 0.0)
    bitmap = page.render(scale=scale, crop=(left, bottom, right, top), grayscale=True)
    codes, other = _decode(bitmap.to_pil())
    where = ""
    if not codes:  # not in its corner: look at the whole page before calling it unreadable
        bitmap = page.render(scale=scale, grayscale=True)
        codes, other = _decode(bitmap.to_pil())
        where = f"piece code found only outside the {options.corner} corner (an inserter misses it)"
    distinct = set(codes)
    if len(distinct) == 1:
        return codes[0], where
    if len(distinct) > 1:
        return None, f"{len(distinct)} different piece codes on one page"
    if other:
        return None, "a QR code that is not a piece code, no piece code"
    return None, "no piece code found"


def check_codes(
    codes: Sequence[PieceCode | None],
    expected: Mapping[str, int | None] | None = None,
    *,
    unreadable_detail: Sequence[str] | None = None,
) -> list[VerifyProblem]:
    """The envelope rules over one code per physical page (pure; :func:`verify_pdf` uses it).

    ``expected`` maps piece id to its page count (None when unknown); pieces found that are
    not in it are foreign, pieces in it that are not found are missing. Without it, only the
    codes themselves are checked (each piece complete, contiguous and in order).
    """
    problems: list[VerifyProblem] = []
    by_piece: dict[str, list[tuple[int, PieceCode]]] = {}
    for phys, code in enumerate(codes, 1):
        if code is None:
            detail = unreadable_detail[phys - 1] if unreadable_detail else "no piece code found"
            problems.append(VerifyProblem("unreadable", phys, None, detail))
        else:
            by_piece.setdefault(code.piece_id, []).append((phys, code))

    for pid, items in by_piece.items():
        if expected is not None and pid not in expected:
            for phys, code in items:
                problems.append(
                    VerifyProblem(
                        "foreign_page", phys, pid, f"page {code.page}/{code.pages} of a piece "
                        "not in this mailing"
                    )
                )
            continue
        counts = Counter(code.pages for _, code in items)
        declared = counts.most_common(1)[0][0]
        want = expected.get(pid) if expected is not None else None
        if want is not None:
            bad = next(((p, c) for p, c in items if c.pages != want), None)
            if bad is not None:
                problems.append(
                    VerifyProblem(
                        "count_mismatch", bad[0], pid,
                        f"code says {bad[1].pages} pages, expected {want}",
                    )
                )
        elif len(counts) > 1:
            phys, code = next((p, c) for p, c in items if c.pages != declared)
            problems.append(
                VerifyProblem(
                    "count_mismatch", phys, pid,
                    f"code says {code.pages} pages, the piece's other codes say {declared}",
                )
            )
        prev: int | None = None
        for phys, code in items:
            if prev is not None and phys != prev + 1:
                between = codes[prev : phys - 1]  # 0-based slice of pages prev+1 .. phys-1
                if any(c is not None for c in between):
                    problems.append(
                        VerifyProblem(
                            "interleaved", phys, pid,
                            f"page {code.page}/{code.pages} is separated from physical page "
                            f"{prev} of the same piece by other pieces' pages",
                        )
                    )
            prev = phys
        seen: set[int] = set()
        highest = 0
        for phys, code in items:
            if code.page in seen:
                problems.append(
                    VerifyProblem("duplicate_page", phys, pid, f"page {code.page} appears again")
                )
                continue
            seen.add(code.page)
            if code.page < highest:
                problems.append(
                    VerifyProblem(
                        "out_of_order", phys, pid, f"page {code.page} comes after page {highest}"
                    )
                )
            highest = max(highest, code.page)
        total = max(declared, want or 0)
        for missing in range(1, total + 1):
            if missing in seen:
                continue
            later = next((p for p, c in items if c.page > missing), None)
            if later is not None:
                phys, where = later, "before this page"
            else:
                phys, where = items[-1][0], "after this page"
            problems.append(
                VerifyProblem("missing_page", phys, pid, f"page {missing}/{total} missing {where}")
            )

    if expected is not None:
        for pid, want in expected.items():
            if pid not in by_piece:
                size = f" ({want} pages)" if want else ""
                problems.append(
                    VerifyProblem("missing_page", None, pid, f"piece not in the file{size}")
                )
    problems.sort(key=lambda p: (p.page if p.page is not None else 1 << 30))
    return problems


def verify_pdf(
    path: str | Path,
    *,
    expected: Mapping[str, int | None] | None = None,
    dpi: int = 200,
    options: StampOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Read every page's code (pypdfium2 render + zxing-cpp) and check the envelopes.

    Only the code's corner is rendered. A page without a code there is rendered whole: a code
    found elsewhere still places the page in its piece, but is reported ``unreadable`` since
    an inserter reads only the corner. ``progress(done, total)`` is called after each page.

    Raises:
        AssemblyError: the file cannot be opened as a PDF.
    """
    options = options or StampOptions()
    path = Path(path)
    if not path.is_file():
        raise AssemblyError("no such file", file=path)
    try:
        doc = pypdfium2.PdfDocument(path)
    except (pypdfium2.PdfiumError, OSError) as exc:
        raise AssemblyError(f"cannot read PDF: {exc}", file=path) from exc
    codes: list[PieceCode | None] = []
    details: list[str] = []
    scale = dpi / 72
    try:
        total = len(doc)
        for i in range(total):
            page = doc[i]
            try:
                code, detail = _read_page(page, scale, options)
            finally:
                page.close()
            codes.append(code)
            details.append(detail)
            if progress is not None:
                progress(i + 1, total)
    except pypdfium2.PdfiumError as exc:
        raise AssemblyError(f"cannot render page {len(codes) + 1}: {exc}", file=path) from exc
    finally:
        doc.close()
    report = VerifyReport(str(path), codes)
    problems = check_codes(codes, expected, unreadable_detail=details)
    # A code away from its corner still tells which piece the page is in (so the envelope
    # checks above use it), but the inserter reads only the corner: report it as unreadable.
    problems.extend(
        VerifyProblem("unreadable", phys, code.piece_id, detail)
        for phys, (code, detail) in enumerate(zip(codes, details, strict=True), 1)
        if code is not None and detail
    )
    problems.sort(key=lambda p: (p.page if p.page is not None else 1 << 30))
    report.problems = problems
    return report


def read_expected(path: str | Path, *, pdf_name: str | None = None) -> dict[str, int | None]:
    """Expected pieces from a CSV (a batch manifest): ``piece_id`` and, if present, ``pages``.

    The manifest has one row per roster row, so a piece id may repeat (one household, several
    members); rows with an empty piece id (skipped or rejected rows) are ignored. When the CSV
    has a ``file`` column and ``pdf_name`` is given, only rows for that print file count.
    Only those columns are read: nothing personal is kept.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if "piece_id" not in header:
                raise ManifestError("no piece_id column", file=path)
            reader.fieldnames = header
            expected: dict[str, int | None] = {}
            for rowno, row in enumerate(reader, 2):
                pid = (row.get("piece_id") or "").strip()
                if not pid:
                    continue
                if pdf_name and "file" in header:
                    if Path((row.get("file") or "").strip()).name != pdf_name:
                        continue
                if not PIECE_ID_RE.fullmatch(pid):
                    raise ManifestError("not a valid piece id", file=path, row=rowno,
                                        column="piece_id")
                pages: int | None = None
                raw = (row.get("pages") or "").strip()
                if raw:
                    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGES:
                        raise ManifestError("pages must be a whole number 1-9999", file=path,
                                            row=rowno, column="pages")
                    pages = int(raw)
                old = expected.get(pid)
                if pid in expected and old is not None and pages is not None and old != pages:
                    raise ManifestError(f"piece listed with {old} and {pages} pages", file=path,
                                        row=rowno, column="pages")
                expected[pid] = pages if pages is not None else old
    except UnicodeDecodeError as exc:
        raise ManifestError("manifest is not UTF-8", file=path) from exc
    except csv.Error as exc:
        raise ManifestError(f"manifest is not valid CSV: {exc}", file=path) from exc
    return expected
