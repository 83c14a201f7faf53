"""Putting PDFs together with pypdf: join documents with bookmarks (a notice and its 別添),
and take in external enclosures page for page (never re-rendered).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError, PyPdfError

from kenpo_docs.errors import AssemblyError

logger = logging.getLogger(__name__)

A4_MM = (210.0, 297.0)
_PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class ExternalPdf:
    """A PDF taken in as it is (for 別添3, the ministry flyer)."""

    path: Path
    data: bytes
    page_count: int
    page_sizes_mm: tuple[tuple[float, float], ...]

    def reader(self) -> PdfReader:
        return PdfReader(io.BytesIO(self.data))

    @property
    def all_a4(self) -> bool:
        return all(
            (abs(w - A4_MM[0]) < 2 and abs(h - A4_MM[1]) < 2)
            or (abs(w - A4_MM[1]) < 2 and abs(h - A4_MM[0]) < 2)
            for w, h in self.page_sizes_mm
        )


def load_external_pdf(path: str | Path) -> ExternalPdf:
    """Read and validate a PDF to include: readable, not encrypted, at least one page.

    Raises:
        AssemblyError: naming the file, in one line, when it cannot be used.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssemblyError(f"cannot read the file ({exc.strerror})", file=path) from exc
    if not data.startswith(b"%PDF-"):
        raise AssemblyError("not a PDF file", file=path)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise AssemblyError(
                "the PDF is encrypted or password-protected; save an unprotected copy", file=path
            )
        sizes = tuple(
            (
                round(float(p.mediabox.width) / _PT_PER_MM, 1),
                round(float(p.mediabox.height) / _PT_PER_MM, 1),
            )
            for p in reader.pages
        )
        for page in reader.pages:  # touch every page's content so a broken file fails now
            page.get_contents()
    except AssemblyError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise AssemblyError(f"the PDF is broken or unreadable ({exc})", file=path) from exc
    if not sizes:
        raise AssemblyError("the PDF has no pages", file=path)
    ext = ExternalPdf(path, data, len(sizes), sizes)
    if not ext.all_a4:
        logger.warning("%s: not every page is A4 (%s)", path, sizes)
    return ext


def to_bytes(writer: PdfWriter) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class Part:
    """A run of pages to append, with an optional bookmark title."""

    pdf: bytes | PdfReader
    title: str | None = None
    pages: Sequence[int] | None = None  # indexes; None = all


def join(parts: Iterable[Part], *, metadata: dict[str, str] | None = None) -> bytes:
    """Concatenate parts into one PDF with a bookmark per titled part."""
    writer = PdfWriter()
    readers: dict[int, PdfReader] = {}
    for part in parts:
        if isinstance(part.pdf, PdfReader):
            reader = part.pdf
        else:
            key = id(part.pdf)
            reader = readers.get(key) or PdfReader(io.BytesIO(part.pdf))
            readers[key] = reader
        first = len(writer.pages)
        indexes = range(len(reader.pages)) if part.pages is None else part.pages
        for i in indexes:
            writer.add_page(reader.pages[i])
        if part.title and len(writer.pages) > first:
            writer.add_outline_item(title=part.title, page_number=first)
    if metadata:
        writer.add_metadata(metadata)
    return to_bytes(writer)
