"""Putting PDFs together: join documents with bookmarks (a notice and its 別添), their
structure trees joined too, and take in external enclosures page for page (never re-rendered).
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from kenpo_docs.errors import AssemblyError
from kenpo_docs.pdf.stream import PdfStreamWriter
from kenpo_docs.pdf.tagtree import Tagged, compile_tags, read_tags

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


@dataclass(frozen=True)
class Part:
    """A run of pages to append, with an optional bookmark title."""

    pdf: bytes | PdfReader
    title: str | None = None
    pages: Sequence[int] | None = None  # indexes; None = all


def join(parts: Iterable[Part], *, metadata: dict[str, str] | None = None) -> bytes:
    """Concatenate parts into one PDF with a bookmark per titled part.

    Written by :class:`~kenpo_docs.pdf.stream.PdfStreamWriter`, as pieces are: each tagged
    part's structure elements go on in the joined file's structure tree (a pypdf writer
    drops them: the joined notice would read as untagged), with its /Lang, title and XMP
    metadata (PDF/UA-1, render/xmp.py). ``metadata``: the info entries (``/Title`` ...).
    """
    with tempfile.TemporaryDirectory(prefix="kenpo-docs-join-") as scratch:
        path = Path(scratch) / "joined.pdf"
        with PdfStreamWriter(path) as writer:
            readers: dict[int, PdfReader] = {}
            tagged = True  # every page: only then does the file claim PDF/UA-1
            for part in parts:
                if isinstance(part.pdf, PdfReader):
                    reader = part.pdf
                else:
                    key = id(part.pdf)
                    reader = readers.get(key) or PdfReader(io.BytesIO(part.pdf))
                    readers[key] = reader
                tags = read_tags(reader)
                indexes = range(len(reader.pages)) if part.pages is None else part.pages
                for n, i in enumerate(indexes):
                    own = tags[i]
                    tagged = tagged and own is not None
                    writer.add_page(reader.pages[i], bookmark=part.title if n == 0 else None,
                                    tags=Tagged(compile_tags(own)) if own else None)
            writer.info = {k.lstrip("/"): v for k, v in (metadata or {}).items()}
            writer.info.setdefault("Producer", "kenpo-docs")
            writer.ua = tagged
            writer.close()
        return path.read_bytes()
