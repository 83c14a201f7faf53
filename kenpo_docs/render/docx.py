"""Editable Word output from a ``.docx`` template kept beside the HTML one (docxtpl).

The same sandboxed, strict, autoescaping environment renders it, so a variable missing from
the context fails here exactly as it does for the PDF.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Any

import jinja2

from kenpo_docs.errors import RenderError, TemplateError
from kenpo_docs.paths import templates_dir as default_templates_dir
from kenpo_docs.render.docxfields import restamp
from kenpo_docs.render.environment import make_environment, to_template_error
from kenpo_docs.render.options import RenderOptions


def _path(template: str, options: RenderOptions) -> Path:
    root = Path(options.templates_dir) if options.templates_dir else default_templates_dir()
    path = root / template
    if not path.is_file():
        raise TemplateError(f"DOCX template not found: {template}", template=template)
    return path


def docx_variables(template: str, *, options: RenderOptions | None = None) -> set[str]:
    """Top-level variables the DOCX template uses (to compare with the HTML one)."""
    from docxtpl import DocxTemplate

    options = options or RenderOptions()
    doc = DocxTemplate(str(_path(template, options)))
    env = make_environment(options.templates_dir)
    return set(doc.get_undeclared_template_variables(jinja_env=env))


def render_docx(
    template: str,
    context: Mapping[str, Any],
    *,
    options: RenderOptions | None = None,
) -> bytes:
    """Render a ``.docx`` template to bytes.

    Raises:
        TemplateError: undefined variable or bad template (before anything is written).
        RenderError: docxtpl failed otherwise.
    """
    from docxtpl import DocxTemplate

    options = options or RenderOptions()
    path = _path(template, options)
    env = make_environment(options.templates_dir)
    doc = DocxTemplate(str(path))
    try:
        doc.render(dict(context), jinja_env=env, autoescape=True)
    except jinja2.TemplateError as exc:
        root = Path(options.templates_dir) if options.templates_dir else default_templates_dir()
        raise to_template_error(exc, template=template, root=root) from exc
    except Exception as exc:
        raise RenderError(f"DOCX rendering failed: {exc}", template=template) from exc
    out = io.BytesIO()
    if options.as_of is not None:  # the template's own dates otherwise
        core = doc.docx.core_properties  # the rendered document (get_docx() reloads)
        core.created = core.modified = datetime.combine(options.as_of, time())
    doc.save(out)
    return restamp(out.getvalue())
