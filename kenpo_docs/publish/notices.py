"""A numbered notice as a file for staff: PDF, DOCX or HTML, and PNG proofs of its pages.

What the notice says (its register entry, its context, whether it is frozen) is in
:mod:`kenpo_docs.documents.notices`; this module renders it and writes the files.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kenpo_docs.documents.notice_markdown import parse_markdown
from kenpo_docs.documents.notices import (
    FORMATS,
    HOUSE,
    INSERTS,
    SOURCE,
    WORD_SOURCE,
    Notice,
    check_frozen,
    get_notice,
    incomplete_sections,
    issue_notice,
    new_notice,
    notice_context,
    notice_folder,
    source_path,
    templates_root,
)
from kenpo_docs.documents.noticetree import NoticeDoc, Problem, check_notice
from kenpo_docs.errors import TemplateError
from kenpo_docs.files import write_atomic
from kenpo_docs.paths import fonts_dir
from kenpo_docs.publish.webpage import self_contained
from kenpo_docs.render import RenderOptions, render_docx_twin, render_html, render_pdf
from kenpo_docs.render.notice_docx import notice_docx
from kenpo_docs.render.notice_html import body_html
from kenpo_docs.render.notice_source import expand_variables

logger = logging.getLogger(__name__)

#: The house page a notice.md notice is printed on (masthead, title box, stylesheet).
HOUSE_PAGE = f"notices/{HOUSE}/notice.html"


def read_source(notice: Notice, templates: Path | None = None) -> tuple[NoticeDoc, list[Problem]]:
    """A notice.md notice's structure and what validating it found.

    Raises:
        TemplateError: an undefined variable (or any Jinja error) in the source.
    """
    path = source_path(notice, templates)
    if path is None:
        raise TemplateError(f"notice {notice.number} has no notice.md", file=path)
    context = notice_context(notice, templates)
    text = expand_variables(path.read_text(encoding="utf-8"), context,
                            source=f"notices/{notice.folder}/notice.md")
    doc = parse_markdown(text)
    inserts = notice_folder(notice, templates) / INSERTS
    present = frozenset(p.name for p in inserts.iterdir()) if inserts.is_dir() else frozenset()
    return doc, check_notice(doc, title=notice.title, inserts=present)


def _checked(notice: Notice, templates: Path | None) -> NoticeDoc:
    """The structure, once its errors would stop the build (nothing is written then)."""
    doc, problems = read_source(notice, templates)
    errors = [str(p) for p in problems if p.severity == "error"]
    if errors:
        raise TemplateError(f"notice {notice.number}: " + "; ".join(errors),
                            template=f"notices/{notice.folder}/notice.md")
    return doc


def incomplete(number: int, templates: Path | None = None) -> list[str]:
    """What the notice cannot print yet (validation warnings of a notice.md notice, the
    missing sections of an HTML one): ``build``/``proof`` warn, ``issue`` refuses."""
    notice = get_notice(number, templates)
    if source_path(notice, templates) is None:
        return incomplete_sections(notice, templates)
    _doc, problems = read_source(notice, templates)
    return [str(p) for p in problems]


def warn_incomplete(number: int, templates: Path | None = None) -> list[str]:
    """Log one warning per section the notice cannot print yet; returns the lines."""
    missing = incomplete(number, templates)
    for line in missing:
        logger.warning("notice %d: %s", number, line)
    return missing


def issue(number: int, *, force: bool = False, templates: Path | None = None,
          approved_by: str | None = None) -> Notice:
    """``notice issue``: refuses while :func:`incomplete` finds anything (unless forced).
    ``approved_by`` (the web page's approver) is kept in the register with the hash."""
    return issue_notice(number, templates=templates, force=force,
                        incomplete=incomplete(number, templates), approved_by=approved_by)


def check_source(number: int, templates: Path | None = None) -> list[Problem]:
    """What validating a notice.md notice finds, never raising for its text: an undefined
    variable or a Jinja syntax error is one more error (with its line), as the editor shows
    it beside the source.

    Raises:
        TemplateError: the notice is not in the register or has no notice.md.
    """
    notice = get_notice(number, templates)
    if source_path(notice, templates) is None:
        raise TemplateError(f"notice {number} has no notice.md (an HTML notice)")
    try:
        _doc, problems = read_source(notice, templates)
    except TemplateError as exc:
        import re

        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (found.group(1) if found else 0)
        return [Problem("error", "変数か {% %} の書き方に誤りがあります。使える変数は "
                        "notice, periods, card_rows, timings, contact です "
                        f"({exc.args[0] if exc.args else exc})", int(line))]
    return problems


def _draft_folder(number: int, templates: Path | None) -> Path:
    """The folder of a draft notice.md notice, to write its source into.

    Raises:
        TemplateError: the notice is issued (frozen: a new number is a new notice) or is an
            HTML notice.
    """
    notice = get_notice(number, templates)
    if notice.status == "issued":
        raise TemplateError(f"第{number}号は発行済みです。変更できません "
                            f"(notice {number} is issued: read-only)")
    if source_path(notice, templates) is None:
        raise TemplateError(f"notice {number} has no notice.md (an HTML notice)")
    return notice_folder(notice, templates)


def save_source(number: int, text: str, *, templates: Path | None = None) -> Path:
    """Replace a draft's ``notice.md`` with ``text`` (the web editor's save); returns its
    path. Validation is :func:`check_source`'s: a draft may be saved with its errors.

    Raises:
        TemplateError: the notice is issued, or not a notice.md notice.
    """
    folder = _draft_folder(number, templates)
    path = folder / SOURCE
    write_atomic(path, text.replace("\r\n", "\n").encode("utf-8"), mode=0o644)
    return path


def replace_from_word(number: int, word: bytes, *, templates: Path | None = None) -> list[str]:
    """Replace a draft's source with a house-style Word file (kept as ``source.docx``, its
    ``notice.md`` and pictures extracted as by ``notice new --from``); returns the Word
    warnings (direct formatting with no house equivalent, by paragraph).

    Raises:
        TemplateError: not a Word file, the notice is issued, or not a notice.md notice.
    """
    from kenpo_docs.documents.notice_word import read_word

    folder = _draft_folder(number, templates)
    extracted = read_word(word)  # before anything is replaced: a bad file changes nothing
    inserts = folder / INSERTS
    if inserts.is_dir():
        for old in inserts.iterdir():
            if old.is_file():
                old.unlink()
    _Source(extracted.markdown, extracted.images, extracted.warnings, word).write(folder)
    return list(extracted.warnings)


def word_warnings(number: int, *, templates: Path | None = None) -> list[str]:
    """The formatting warnings of the Word file a notice was made from (by paragraph), as
    ``notice new --from`` printed them; none for a notice written in Markdown."""
    from kenpo_docs.documents.notice_word import read_word

    word = notice_folder(get_notice(number, templates), templates) / WORD_SOURCE
    return list(read_word(word.read_bytes()).warnings) if word.is_file() else []


def new_from_markdown(title: str, on: date, text: str, *,
                      templates: Path | None = None) -> tuple[Notice, list[str]]:
    """``notice new`` from Markdown text rather than a file (the web editor's paste): as
    :func:`new_from_source`, without pictures.

    Raises:
        TemplateError: an undefined variable or a Jinja error in ``text`` (nothing registered).
    """
    read = _Source(text.replace("\r\n", "\n"), {}, [])

    def fill(folder: Path) -> None:
        read.write(folder)
        read_source(Notice(number=0, date=on, title=title, folder=folder.name), templates)

    notice = new_notice(title, on, templates=templates, fill=fill)
    return notice, incomplete(notice.number, templates)


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
    if source_path(notice, templates) is not None:
        return _render_source(notice, fmt, options, root, templates)
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


def _render_source(notice: Notice, fmt: str, options: RenderOptions, root: Path,
                   templates: Path | None) -> bytes:
    """A notice.md notice: its structure printed on the house page, or as house-style DOCX."""
    from markupsafe import Markup

    doc = _checked(notice, templates)
    inserts = notice_folder(notice, templates) / INSERTS
    context = notice_context(notice, templates)
    if fmt == "docx":
        return notice_docx(doc, number=notice.number, date=notice.date, title=notice.title,
                           series_title=context["series_title"], inserts=inserts,
                           author=options.author)
    body = body_html(doc, image_base=inserts.resolve().as_uri() + "/")
    page = {"notice": context["notice"], "series_title": context["series_title"],
            "body": Markup(body)}
    if fmt == "pdf":
        return render_pdf(HOUSE_PAGE, page, options=options)
    html = render_html(HOUSE_PAGE, page, options=options)
    return self_contained(html, roots=(root, fonts_dir())).encode()


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


@dataclass(frozen=True)
class _Source:
    """A notice source file as read: its Markdown, pictures, warnings and Word bytes."""

    text: str
    pictures: dict[str, bytes]
    notes: list[str]
    word: bytes | None = None

    def write(self, folder: Path) -> None:
        """Fill a notice folder: notice.md, the Word file if any, and inserts/."""
        write_atomic(folder / SOURCE, self.text.encode("utf-8"), mode=0o644)
        if self.word is not None:
            write_atomic(folder / WORD_SOURCE, self.word, mode=0o644)
        for name, data in self.pictures.items():
            write_atomic(folder / INSERTS / name, data, mode=0o644)


def _read_source_file(source: Path) -> _Source:
    """A .md file (with the pictures it shows, from beside it) or a house-style .docx."""
    suffix = source.suffix.lower()
    if suffix == ".md":
        text = source.read_text(encoding="utf-8")
        pictures = {name: (source.parent / name).read_bytes() for name in _pictures(text)
                    if (source.parent / name).is_file()}
        return _Source(text, pictures, [])
    if suffix == ".docx":
        from kenpo_docs.documents.notice_word import read_word

        word = source.read_bytes()
        extracted = read_word(word)
        return _Source(extracted.markdown, extracted.images, extracted.warnings, word)
    raise TemplateError("notice new --from takes a .md (Markdown) or .docx (Word) file",
                        file=source)


def new_from_source(
    title: str,
    on: date,
    source: str | Path | None = None,
    *,
    templates: Path | None = None,
) -> tuple[Notice, list[str]]:
    """``notice new``: the next number, its folder holding the notice's source.

    ``source`` is a Markdown file (copied as ``notice.md``, with the pictures it shows from
    beside it into ``inserts/``) or a Word file in the house styles (kept as
    ``source.docx``, with ``notice.md`` and ``inserts/`` extracted from it); None gives the
    starter ``notice.md``. Returns the notice and the warnings to show: Word formatting
    that has no house equivalent, then what validation found. The source is read and
    expanded before anything is registered: a Jinja error leaves no folder and no line.

    Raises:
        TemplateError: not a .md or .docx file, or the source cannot be read.
    """
    if source is None:
        notice = new_notice(title, on, templates=templates)
        return notice, incomplete(notice.number, templates)
    read = _read_source_file(Path(source))

    def fill(folder: Path) -> None:
        read.write(folder)
        read_source(Notice(number=0, date=on, title=title, folder=folder.name), templates)

    notice = new_notice(title, on, templates=templates, fill=fill)
    return notice, read.notes + incomplete(notice.number, templates)


def render_source(
    source: Path,
    fmt: str = "pdf",
    *,
    number: int,
    on: date,
    title: str,
    templates: Path | None = None,
) -> tuple[bytes, list[str]]:
    """A source file printed as notice ``number`` without registering it (a draft to look
    at, the demo's sample): the bytes and the warnings. Built in a private copy of the
    house page, never in the templates folder.

    Raises:
        TemplateError: as ``notice build`` (undefined variable, validation errors).
    """
    import shutil
    import tempfile

    if fmt not in FORMATS:
        raise TemplateError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    read = _read_source_file(Path(source))
    home = templates_root(templates)
    with tempfile.TemporaryDirectory(prefix="kenpo-notice-") as tmp:
        root = Path(tmp)
        shutil.copytree(home / "base", root / "base")
        shutil.copytree(home / "notices" / HOUSE, root / "notices" / HOUSE)
        read.write(root / "notices" / "draft")
        notice = Notice(number=number, date=on, title=title, folder="draft")
        _doc, problems = read_source(notice, root)
        options = RenderOptions(as_of=on, templates_dir=root)
        data = _render_source(notice, fmt, options, root, root)
    return data, read.notes + [str(p) for p in problems if p.severity == "warning"]


def _pictures(text: str) -> list[str]:
    """The file names of the pictures a Markdown text shows (``![alt](name)``)."""
    import re

    found = re.findall(r"!\[[^\]]*\]\(\s*([^)\s]+)", text)
    return [name.removeprefix("inserts/") for name in found
            if "/" not in name.removeprefix("inserts/") and not name.startswith(".")]
