"""Settings of one render run, in one frozen object.

Keeping every knob here (rather than as loose keyword arguments spread over functions) lets a
caller build the options once, log them, and pass them to many letters unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1")

#: A measurement aid of ``make bench`` (``BENCH_TAGS=1``, see bench/run.py), never for
#: staff output: with this variable set to ``1`` the documents laid out without an explicit
#: ``pdf_tags`` are untagged, as every PDF was before issue 22, so that the cost of tagging
#: is measured against the same code in the same run. Read here and nowhere else; no command
#: line option or setting reaches it, and a process that uses it says so (a warning).
BENCH_UNTAGGED = "KENPO_DOCS_BENCH_UNTAGGED"
_warned = False


def _tags_default() -> bool:
    global _warned
    if os.environ.get(BENCH_UNTAGGED) != "1":
        return True
    if not _warned:
        import logging

        _warned = True
        logging.getLogger(__name__).warning(
            "%s=1: タグなしPDF（計測専用、発送に使わないこと）(untagged PDFs: a measurement "
            "aid of bench/run.py, never for mailing)", BENCH_UNTAGGED)
    return False


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
            the reading order. Always on, but for ``make bench``'s untagged reference
            (:data:`BENCH_UNTAGGED`).
        strict_fetch: Fail the render when the template asked for a resource outside the
            templates and fonts folders (it is always refused; this makes it an error).
        templates_dir: Folder of templates; ``None`` uses :func:`kenpo_docs.paths.templates_dir`.
        pdf_forms: Turn ``<input>``/``<textarea>`` elements into real AcroForm fields (the
            fillable request forms); WeasyPrint applies ``appearance: auto`` to them.
    """

    as_of: date | None = None
    author: str | None = None
    pdf_variant: str | None = None
    pdf_tags: bool = field(default_factory=_tags_default)
    strict_fetch: bool = True
    templates_dir: Path | None = None
    pdf_forms: bool = False

    def __post_init__(self) -> None:
        if self.pdf_variant is not None and self.pdf_variant not in PDF_VARIANTS:
            from kenpo_docs.errors import RenderError

            raise RenderError(
                f"unknown PDF variant {self.pdf_variant!r}; use one of {', '.join(PDF_VARIANTS)}"
            )
