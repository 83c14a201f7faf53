"""Checking a print file's piece codes before it leaves: is every page in its own envelope?

Holds the reading side of :mod:`kenpo_docs.barcodes.piececode`: each page's corner is
rendered (pypdfium2) and decoded (zxing-cpp's reader), and the codes, one per physical page,
are checked against the envelope rules (:func:`check_codes`) and, when the pieces the file
should hold are known (from the tracking database, or a CSV read by :func:`read_expected`),
against them. Reading (:func:`read_pdf`) and checking (:func:`check_reading`) are apart so that
the pieces read can say which print file to look up. An encrypted file (``merge --encrypt``)
is opened with its password. Kept apart from stamping, which only writes PDF operators and
never renders a page.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pypdfium2
import pypdfium2.raw as pdfium_c
import zxingcpp

from kenpo_docs.barcodes.piececode import (
    MAX_PAGES,
    PIECE_ID_RE,
    PieceCode,
    StampOptions,
    parse_piece_code,
)
from kenpo_docs.errors import AssemblyError, BarcodeError, ManifestError

__all__ = [
    "PageReading",
    "Password",
    "ProblemKind",
    "VerifyProblem",
    "VerifyReport",
    "check_codes",
    "check_reading",
    "read_expected",
    "read_pdf",
    "verify_pdf",
]

_PT_PER_MM = 72 / 25.4
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

ProblemKind = Literal[
    "missing_page",
    "foreign_page",
    "unreadable",
    "count_mismatch",
    "out_of_order",
    "duplicate_page",
    "interleaved",
]


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
    elsewhere: Mapping[str, str] | None = None,
) -> list[VerifyProblem]:
    """The envelope rules over one code per physical page (pure; :func:`verify_pdf` uses it).

    ``expected`` maps piece id to its page count (None when unknown); pieces found that are
    not in it are foreign, pieces in it that are not found are missing. Without it, only the
    codes themselves are checked (each piece complete, contiguous and in order).
    ``elsewhere`` says where a foreign piece belongs (another print file or batch), for the
    problem's detail.
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
            where = (elsewhere or {}).get(pid)
            for phys, code in items:
                problems.append(
                    VerifyProblem(
                        "foreign_page", phys, pid,
                        f"page {code.page}/{code.pages}: {where}" if where else
                        f"page {code.page}/{code.pages} of a piece not in this mailing",
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


#: A password, or a function that asks for it (called only when the file is encrypted).
Password = str | Callable[[], str]


@dataclass(frozen=True)
class PageReading:
    """What :func:`read_pdf` read: one code (or None) per physical page, and for each page
    why its code is missing or misplaced ("" when it is in its corner)."""

    file: str
    codes: list[PieceCode | None]
    details: list[str]

    @property
    def piece_ids(self) -> list[str]:
        """The pieces whose codes were read, in the order they first appear."""
        return list(dict.fromkeys(c.piece_id for c in self.codes if c is not None))


def _open(path: Path, password: Password | None) -> pypdfium2.PdfDocument:
    """The document, opened with ``password`` when (and only when) it is encrypted."""
    try:
        return pypdfium2.PdfDocument(path)
    except (pypdfium2.PdfiumError, OSError) as exc:
        if getattr(exc, "err_code", None) != pdfium_c.FPDF_ERR_PASSWORD:
            raise AssemblyError(f"cannot read PDF: {exc}", file=path) from exc
    if password is None:
        raise AssemblyError("暗号化された PDF です。パスワードを KENPO_DOCS_PASSWORD に入れるか、"
                            "聞かれたときに入力してください", file=path)
    secret = password() if callable(password) else password
    try:
        return pypdfium2.PdfDocument(path, password=secret)
    except (pypdfium2.PdfiumError, OSError) as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise AssemblyError("パスワードが違います（この暗号化 PDF を開けません）。"
                                "merge --encrypt のときのパスワードで、もう一度実行してください",
                                file=path) from None
        raise AssemblyError(f"cannot read PDF: {exc}", file=path) from exc


def read_pdf(
    path: str | Path,
    *,
    dpi: int = 200,
    options: StampOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    password: Password | None = None,
) -> PageReading:
    """Read every page's code (pypdfium2 render + zxing-cpp).

    Only the code's corner is rendered. A page without a code there is rendered whole: a code
    found elsewhere still places the page in its piece, with a detail saying it is misplaced.
    ``progress(done, total)`` is called after each page. An encrypted file is opened with
    ``password`` (a function is called once, only for an encrypted file).

    Raises:
        AssemblyError: the file cannot be opened as a PDF, is encrypted and no password
            (or a wrong one) is given.
    """
    options = options or StampOptions()
    path = Path(path)
    if not path.is_file():
        raise AssemblyError("no such file", file=path)
    doc = _open(path, password)
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
    return PageReading(str(path), codes, details)


def check_reading(
    reading: PageReading,
    expected: Mapping[str, int | None] | None = None,
    *,
    elsewhere: Mapping[str, str] | None = None,
) -> VerifyReport:
    """The envelope checks over a :func:`read_pdf` reading (see :func:`check_codes`).

    A code away from its corner still tells which piece the page is in (so the envelope
    checks use it), but the inserter reads only the corner: it is also reported unreadable.
    """
    codes, details = reading.codes, reading.details
    report = VerifyReport(reading.file, codes)
    problems = check_codes(codes, expected, unreadable_detail=details, elsewhere=elsewhere)
    problems.extend(
        VerifyProblem("unreadable", phys, code.piece_id, detail)
        for phys, (code, detail) in enumerate(zip(codes, details, strict=True), 1)
        if code is not None and detail
    )
    problems.sort(key=lambda p: (p.page if p.page is not None else 1 << 30))
    report.problems = problems
    return report


def verify_pdf(
    path: str | Path,
    *,
    expected: Mapping[str, int | None] | None = None,
    dpi: int = 200,
    options: StampOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    password: Password | None = None,
) -> VerifyReport:
    """Read every page's code and check the envelopes (:func:`read_pdf`, then
    :func:`check_reading`): a page whose code is only found away from its corner is
    reported ``unreadable`` since an inserter reads only the corner.

    Raises:
        AssemblyError: the file cannot be opened as a PDF (or, encrypted, with the password).
    """
    reading = read_pdf(path, dpi=dpi, options=options, progress=progress, password=password)
    return check_reading(reading, expected)


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
