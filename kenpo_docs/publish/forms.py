"""A request form as a file for staff: blank or prefilled for one member, PDF (fillable or
not) or DOCX.

What a form says (its spec and the context a household gives it) is in
:mod:`kenpo_docs.documents.forms`; this module renders it and writes the file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from kenpo_docs.documents.forms import FORMATS, find_household, form_context, get_form
from kenpo_docs.errors import KenpoDocsError, RenderError, TemplateError
from kenpo_docs.files import write_atomic
from kenpo_docs.input.roster import Household, read_roster
from kenpo_docs.pdf.acroform import add_appearances
from kenpo_docs.render import RenderOptions, render_docx_twin, render_pdf


def render_forms(
    name: str,
    items: list[dict[str, Any]],
    *,
    as_of: date,
    fmt: str = "pdf",
    fillable: bool = False,
) -> bytes:
    """Render several form dicts (from :func:`form_context`) into one PDF or DOCX."""
    spec = get_form(name)
    if fmt not in FORMATS:
        raise TemplateError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    # Tagged, the fillable one too: WeasyPrint 70 tags each widget as a /Form element.
    options = RenderOptions(as_of=as_of, pdf_forms=fillable)
    context = {"forms": items}
    if fmt == "docx":
        # The Word twin of the printed form (same HTML, same layout); fillable: its check
        # boxes and fields are Word content controls.
        return render_docx_twin(spec.template, context, options=options)
    pdf = render_pdf(spec.template, context, options=options)
    if not fillable:
        return pdf
    # The same forms printed with only their values visible: where and how the printed form
    # sets each value, which the fields' appearance streams then draw (see add_appearances).
    values = render_pdf(spec.template,
                        {"forms": [{**item, "fillable": False, "values_only": True}
                                   for item in items]},
                        options=RenderOptions(as_of=as_of, pdf_tags=False))
    try:
        return add_appearances(pdf, values)
    except ValueError as exc:
        raise RenderError(f"the fillable form's appearances: {exc}",
                          template=spec.template) from exc


def build_form(
    name: str,
    *,
    household: Household | None = None,
    fillable: bool = False,
    as_of: date,
    fmt: str = "pdf",
    branch: str | None = None,
) -> bytes:
    """One form, blank (``household=None``) or prefilled for a household, as bytes."""
    item = form_context(name, household, as_of=as_of, fillable=fillable, branch=branch)
    return render_forms(name, [item], as_of=as_of, fmt=fmt, fillable=fillable)


def write_form(
    name: str,
    *,
    as_of: date,
    roster: str | Path | None = None,
    member: str | None = None,
    fillable: bool = False,
    fmt: str = "pdf",
    out_dir: Path | None = None,
    sheet: str | None = None,
) -> Path:
    """Build a blank form, or one prefilled from a roster member, into ``out_dir`` (0600).

    The file is ``<name>-blank.<fmt>`` or ``<name>-<記号-番号[-枝番]>.<fmt>`` (ids, no names);
    ``-fillable`` is added for fillable files. Nothing is written if anything fails.

    Raises:
        RosterError: the roster cannot be read or has no such member.
    """
    spec = get_form(name)
    household: Household | None = None
    branch: str | None = None
    if (roster is None) != (member is None):
        raise KenpoDocsError("give both a roster and a member, or neither (blank form)")
    if roster is not None and member is not None:
        result = read_roster(Path(roster), as_of=as_of, sheet=sheet)
        try:
            household, branch = find_household(result.households, member)
        except KenpoDocsError as exc:
            exc.file = str(roster)
            raise
    data = build_form(spec.name, household=household, fillable=fillable, as_of=as_of,
                      fmt=fmt, branch=branch)
    stem = f"{spec.name}-{member.strip() if member else 'blank'}"
    if fillable:
        stem += "-fillable"
    out = Path(out_dir) if out_dir is not None else Path("output") / "forms"
    path = out / f"{stem}.{fmt}"
    write_atomic(path, data)
    return path
