"""A numbered notice as a file for staff: PDF, DOCX or HTML, and PNG proofs of its pages.

What the notice says (its register entry, its context, whether it is frozen) is in
:mod:`kenpo_docs.documents.notices`; this module renders it and writes the files.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from kenpo_docs.documents.notices import (
    FORMATS,
    check_frozen,
    get_notice,
    incomplete_sections,
    notice_context,
    templates_root,
)
from kenpo_docs.errors import TemplateError
from kenpo_docs.files import write_atomic
from kenpo_docs.paths import fonts_dir
from kenpo_docs.publish.webpage import self_contained
from kenpo_docs.render import RenderOptions, render_docx_twin, render_html, render_pdf

logger = logging.getLogger(__name__)


def warn_incomplete(number: int, templates: Path | None = None) -> list[str]:
    """Log one warning per section the notice cannot print yet; returns the lines."""
    missing = incomplete_sections(get_notice(number, templates), templates)
    for line in missing:
        logger.warning("notice %d: %s", number, line)
    return missing


def render_notice(
    number: int,
    fmt: str = "pdf",
    *,
    pdfa: bool = False,
    force: bool = False,
    templates: Path | None = None,
) -> bytes:
    """The notice as bytes in ``fmt`` (pdf, docx, html), without writing anything. The HTML
    is self-contained (:func:`~kenpo_docs.publish.webpage.self_contained`): one file for a
    web site."""
    if fmt not in FORMATS:
        raise TemplateError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    root = templates_root(templates)
    notice = get_notice(number, templates)
    check_frozen(notice, root, force)
    options = RenderOptions(
        as_of=notice.date,
        templates_dir=root,
        pdf_variant="pdf/a-3b" if pdfa else None,
    )
    context = notice_context(notice, templates)
    if fmt == "pdf":
        return render_pdf(notice.template, context, options=options)
    if fmt == "docx":
        # The Word twin of the PDF, made from the same (frozen) HTML and its layout: nothing
        # in the notice's folder describes it, so improving it never touches a frozen hash.
        return render_docx_twin(notice.template, context, options=options,
                                header_class="masthead")
    # For a web site: its stylesheets, pictures and (subset) fonts inside the one file.
    page = render_html(notice.template, context, options=options)
    return self_contained(page, roots=(root, fonts_dir())).encode()


def build_notice(
    number: int,
    fmt: str = "pdf",
    *,
    out_dir: Path | None = None,
    pdfa: bool = False,
    force: bool = False,
    templates: Path | None = None,
) -> Path:
    """Render and write ``notice-<number>.<fmt>``; nothing is written if rendering fails.

    A section the notice cannot print yet (a missing insert file, an empty section, the
    skeleton's placeholder) is a warning: the draft is still written.
    """
    warn_incomplete(number, templates)
    data = render_notice(number, fmt, pdfa=pdfa, force=force, templates=templates)
    out = Path(out_dir) if out_dir is not None else Path("output") / "notices"
    path = out / f"notice-{number}.{fmt}"
    write_atomic(path, data)
    return path


def proof_notice(
    number: int,
    *,
    out_dir: Path | None = None,
    scale: float = 80 / 72,
    force: bool = False,
    templates: Path | None = None,
) -> list[Path]:
    """PNG thumbnails of each page (80 dpi by default), for a quick look before printing.

    Warns, as :func:`build_notice` does, about sections the notice cannot print yet.
    """
    import pypdfium2 as pdfium

    warn_incomplete(number, templates)
    data = render_notice(number, "pdf", force=force, templates=templates)
    out = Path(out_dir) if out_dir is not None else Path("output") / "notices"
    pdf = pdfium.PdfDocument(data)
    paths = []
    try:
        for i in range(len(pdf)):
            image = pdf[i].render(scale=scale).to_pil()
            path = out / f"notice-{number}-p{i + 1}.png"
            png = io.BytesIO()
            image.save(png, format="PNG")
            write_atomic(path, png.getvalue())
            paths.append(path)
    finally:
        pdf.close()
    return paths
