"""HTML → PDF with WeasyPrint, using the vendored fonts only and reproducible bytes.

WeasyPrint 70 takes no clock of its own for the PDF: the creation and modification dates come
from ``<meta name="dcterms.created|modified">`` in the HTML and the file identifier from the
``pdf_identifier`` option; WeasyPrint itself ignores ``SOURCE_DATE_EPOCH``. So we set the
dates and identifier from the document's as-of date and a hash of the rendered HTML.

The embedded fonts are subset by one pinned subsetter (the HarfBuzz of the ``uharfbuzz``
wheel, :func:`kenpo_docs.gates._weasyprint.pin_subsetter`), not by whichever WeasyPrint finds
on the system (HarfBuzz-Subset if apt installed it, fontTools otherwise): the same input gives
the same bytes on every machine. fontTools still writes a font where WeasyPrint makes a
variable font static or removes colour glyphs (none of the vendored fonts), and stamps its
``head.modified`` with the clock unless ``SOURCE_DATE_EPOCH`` is set: that is pinned to the
as-of date while the PDF is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from kenpo_docs.errors import RenderError
from kenpo_docs.fonts import font_faces
from kenpo_docs.gates._weasyprint import font_folder, pin_subsetter
from kenpo_docs.paths import fonts_dir
from kenpo_docs.paths import templates_dir as default_templates_dir
from kenpo_docs.render.environment import make_environment, render_template
from kenpo_docs.render.fetcher import SafeFetcher
from kenpo_docs.render.options import RenderOptions
from kenpo_docs.render.tags import finish as finish_tags

logger = logging.getLogger(__name__)


def font_face_css() -> str:
    """``@font-face`` rules for every vendored face, by absolute file URL."""
    rules = []
    for face in font_faces():
        url = face.path.resolve().as_uri()
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; src: url("{url}"); '
            f"font-weight: {face.weight}; }}"
        )
    return "\n".join(rules)


def _root(options: RenderOptions) -> Path:
    return Path(options.templates_dir) if options.templates_dir else default_templates_dir()


def _document_meta(options: RenderOptions) -> dict[str, Any]:
    """What base.html needs: PDF metadata and the templates folder's URL for stylesheets."""
    author = options.author
    if author is None:
        from kenpo_docs.domain.facts import insurer

        author = insurer().name
    created = f"{options.as_of.isoformat()}T00:00:00+09:00" if options.as_of else ""
    root = _root(options).resolve().as_uri() + "/"
    return {"author": author, "created": created, "lang": "ja", "root": root}


def render_html(
    template: str,
    context: Mapping[str, Any],
    *,
    options: RenderOptions | None = None,
    env: Any = None,
) -> str:
    """Render a template (path relative to the templates folder) to an HTML string
    (``env``: a Jinja environment from :func:`make_environment` to reuse, for callers that
    render one template many times).

    Raises:
        TemplateError: missing template or undefined variable (before anything is written).
    """
    options = options or RenderOptions()
    root = _root(options)
    env = env or make_environment(root)
    full = {"document": _document_meta(options), **context}
    return render_template(template, full, env=env, root=root)


def _identifier(html: str, options: RenderOptions) -> bytes:
    """The PDF's file identifier: a hash of what it shows, not of where we are installed
    (the HTML names the templates folder by its absolute URL, for the stylesheets)."""
    html = html.replace(_root(options).resolve().as_uri() + "/", "")
    seed = f"{options.as_of or ''}\n{options.pdf_variant or ''}\n{html}".encode()
    return hashlib.sha256(seed).hexdigest()[:32].encode()


def render_document(
    template: str,
    context: Mapping[str, Any],
    *,
    options: RenderOptions | None = None,
    fetcher: SafeFetcher | None = None,
    shared_fonts: bool = False,
) -> Any:
    """Lay out a template and return the WeasyPrint ``Document`` (pages not yet written).

    Callers that put many letters in one document and split the pages later use this; the
    document carries ``kenpo_html`` and ``kenpo_options`` for :func:`write_pdf`.
    ``shared_fonts``: see :func:`layout_html`.
    """
    options = options or RenderOptions()
    html = render_html(template, context, options=options)
    return layout_html(html, template, options=options, fetcher=fetcher,
                       shared_fonts=shared_fonts)


_SHARED_FONTS: dict[Path, tuple[Any, Any]] = {}


def _fonts(root: Path, fetcher: SafeFetcher, shared: bool) -> tuple[Any, Any]:
    """A WeasyPrint font configuration and the ``@font-face`` stylesheet loaded into it.

    Shared ones are made once per process (per templates folder): loading the vendored
    fonts is ~30 % of laying out a one-page document. A document's PDF does not depend on it
    (the glyphs a PDF embeds are collected per document), so the bytes stay the same.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    if shared and root in _SHARED_FONTS:
        return _SHARED_FONTS[root]
    if shared:
        fetcher = SafeFetcher([root, fonts_dir()])
    font_config = FontConfiguration()
    fonts = (font_config, CSS(string=font_face_css(), font_config=font_config,
                              url_fetcher=fetcher))
    if shared:
        _SHARED_FONTS[root] = fonts
    _remove_folder(font_config)
    return fonts


def shared_font_config(options: RenderOptions) -> Any:
    """This process's shared WeasyPrint font configuration for the options' templates folder
    (the one ``layout_html(shared_fonts=True)`` lays out with)."""
    root = _root(options)
    return _fonts(root, SafeFetcher([root, fonts_dir()]), True)[0]


def _remove_folder(font_config: Any) -> None:
    """Remove a font configuration's folder when it is freed or, at the latest, when this
    process ends.

    WeasyPrint copies every ``@font-face`` file into a ``weasyprint-*`` temp folder (15 MB
    for the vendored fonts) and removes it in ``FontConfiguration.__del__``, which does not
    run for an object still held when a process ends (our shared one; a document's kept to
    the end), nor in a worker process, which leaves through ``os._exit``: each merge's workers
    left one such folder behind. A multiprocessing finalizer runs when the configuration is
    freed, and otherwise at exit: through ``atexit`` in this process, and at the end of
    ``Process._bootstrap`` in a worker.
    """
    folder = font_folder(font_config)
    if folder is None:
        return
    from multiprocessing.util import Finalize

    Finalize(font_config, shutil.rmtree, args=(str(folder),), kwargs={"ignore_errors": True},
             exitpriority=0)


def layout_html(
    html: str,
    template: str,
    *,
    options: RenderOptions | None = None,
    fetcher: SafeFetcher | None = None,
    shared_fonts: bool = False,
) -> Any:
    """Lay out HTML rendered from ``template`` (see :func:`render_html`), as
    :func:`render_document` does. ``shared_fonts``: reuse this process's font configuration
    (for the merge's many small documents; see :func:`_fonts`)."""
    from weasyprint import HTML

    options = options or RenderOptions()
    root = _root(options)
    fetcher = fetcher or SafeFetcher([root, fonts_dir()])
    try:
        font_config, fonts = _fonts(root, fetcher, shared_fonts)
        page = HTML(
            string=html,
            base_url=(root / template).resolve().as_uri(),
            url_fetcher=fetcher,
        )
        document = page.render(
            font_config=font_config,
            stylesheets=[fonts],
            pdf_tags=options.pdf_tags,
            pdf_variant=options.pdf_variant,
            pdf_forms=options.pdf_forms,
        )
    except Exception as exc:  # WeasyPrint raises many types; the caller needs one
        raise RenderError(f"layout failed: {exc}", template=template) from exc
    if fetcher.refused and options.strict_fetch:
        raise RenderError(
            f"template asked for resources outside the allowed folders: {fetcher.refused}",
            template=template,
        )
    document.kenpo_html = html
    document.kenpo_options = options
    document.kenpo_fetcher = fetcher
    return document


_EPOCH_LOCK = threading.Lock()


@contextlib.contextmanager
def source_date_epoch(options: RenderOptions) -> Iterator[None]:
    """Pin fontTools' clock (``SOURCE_DATE_EPOCH``) to the as-of date while writing (for the
    fonts fontTools still writes, see the module's docstring)."""
    when = options.as_of
    stamp = int(datetime.combine(when, time(), UTC).timestamp()) if when else 0
    with _EPOCH_LOCK:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(stamp)
        try:
            yield
        finally:
            if before is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before


def write_pdf(document: Any, *, options: RenderOptions | None = None,
              unpacked: bool = False) -> bytes:
    """The PDF bytes of a laid-out document (see :func:`render_document`); ``unpacked``: a
    tagged one without object streams (see :func:`kenpo_docs.render.tags.finish`)."""
    options = options or getattr(document, "kenpo_options", None) or RenderOptions()
    html = getattr(document, "kenpo_html", "")
    try:
        pin_subsetter()
        with source_date_epoch(options), warnings.catch_warnings():
            # WeasyPrint 70 opens its bundled sRGB profile (PDF/A output intent) without
            # closing it; the ResourceWarning is theirs, not a problem of the document.
            warnings.simplefilter("ignore", ResourceWarning)
            data: bytes = document.write_pdf(
                pdf_identifier=_identifier(html, options),
                pdf_tags=options.pdf_tags,
                pdf_variant=options.pdf_variant,
            )
        if options.pdf_tags or options.pdf_variant == "pdf/ua-1":
            data = finish_tags(data, unpacked=unpacked)
    except Exception as exc:
        raise RenderError(f"writing the PDF failed: {exc}") from exc
    return data


def render_pdf(
    template: str,
    context: Mapping[str, Any],
    *,
    options: RenderOptions | None = None,
    fetcher: SafeFetcher | None = None,
) -> bytes:
    """Render a template straight to PDF bytes."""
    document = render_document(template, context, options=options, fetcher=fetcher)
    return write_pdf(document, options=options)
