"""Settings of one render run, in one frozen object.

Keeping every knob here (rather than as loose keyword arguments spread over functions) lets a
caller build the options once, log them, and pass them to many letters unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1")


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """How to render a document.

    Attributes:
        as_of: The document's date. Used for the PDF creation/modification dates and the
            file identifier, so the same input and as-of date give byte-identical PDFs.
            ``None`` writes no dates at all (still reproducible).
        author: PDF author; ``None`` uses the insurer's name from the rules.
        pdf_variant: ``None``, ``"pdf/a-3b"`` (archival) or ``"pdf/ua-1"`` (accessible).
        pdf_tags: Write a tagged (structured) PDF so screen readers and extraction follow
            the reading order.
        strict_fetch: Fail the render when the template asked for a resource outside the
            templates and fonts folders (it is always refused; this makes it an error).
        templates_dir: Folder of templates; ``None`` uses :func:`kenpo_docs.paths.templates_dir`.
        pdf_forms: Turn ``<input>``/``<textarea>`` elements into real AcroForm fields (the
            fillable request forms); WeasyPrint applies ``appearance: auto`` to them.
    """

    as_of: date | None = None
    author: str | None = None
    pdf_variant: str | None = None
    pdf_tags: bool = True
    strict_fetch: bool = True
    templates_dir: Path | None = None
    pdf_forms: bool = False

    def __post_init__(self) -> None:
        if self.pdf_variant is not None and self.pdf_variant not in PDF_VARIANTS:
            from kenpo_docs.errors import RenderError

            raise RenderError(
                f"unknown PDF variant {self.pdf_variant!r}; use one of {', '.join(PDF_VARIANTS)}"
            )
