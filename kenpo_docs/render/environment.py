"""The Jinja2 environment every document is rendered with.

Autoescape is always on, undefined variables are errors, and templates run in Jinja's sandbox
because staff write them. Date filters give the notice's era forms. An undefined variable is
reported with its name, the template and the line, before anything is written.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from kenpo_docs.domain import era
from kenpo_docs.errors import TemplateError
from kenpo_docs.paths import templates_dir as default_templates_dir

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _fullwidth(value: object) -> str:
    """Digits as the notice writes them in prose (１回目)."""
    return str(value).translate(_FULLWIDTH)


def _need_date(name: str, value: object) -> date:
    if not isinstance(value, date):
        raise TemplateError(f"filter {name} needs a date, got {type(value).__name__}")
    return value


@jinja2.pass_context
def _slot(context: Any, value: Any, name: str, blank: bool = False) -> Any:
    """``{{ value | slot("name") }}``: a per-piece value, printed as is. While the merge lays
    out a page's shared background (kenpo_docs/shapes/letters.py) the context holds
    ``kenpo_slots``, which records the value and returns a hidden placeholder instead.

    ``blank=true``: the slot is empty on this page (an unused line of a list), printed as a
    no-break space; its background keeps the placeholder, so pages with more or fewer lines
    in use share one background and nothing is drawn there."""
    recorder = context.get("kenpo_slots")
    if recorder is None:
        return "\u00a0" if blank else value
    return recorder(name, value, blank=True) if blank else recorder(name, value)


FILTERS = {
    "wareki": lambda d: era.format_wareki(_need_date("wareki", d)),
    "wareki_weekday": lambda d: era.format_wareki(_need_date("wareki_weekday", d), weekday=True),
    "wareki_short": lambda d: era.format_short(_need_date("wareki_short", d)),
    "wareki_abbrev": lambda d: era.format_abbrev(_need_date("wareki_abbrev", d)),
    "year_month": lambda d: era.format_year_month(_need_date("year_month", d)),
    "weekday": lambda d: era.weekday_ja(_need_date("weekday", d)),
    "fullwidth": _fullwidth,
    "slot": _slot,
}


def make_environment(templates: Path | None = None) -> SandboxedEnvironment:
    """A sandboxed, autoescaping, strict environment loading from ``templates``."""
    root = Path(templates) if templates is not None else default_templates_dir()
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


_NAME_RE = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


def _template_frame(tb: types.TracebackType | None, root: Path) -> tuple[str | None, int | None]:
    """The innermost traceback frame that belongs to a template (Jinja rewrites them)."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == "<template>" or filename.endswith((".html", ".xml", ".docx", ".txt")):
            try:
                shown = str(Path(filename).resolve().relative_to(root.resolve()))
            except ValueError:
                shown = filename
            found = (shown, tb.tb_lineno)
        tb = tb.tb_next
    return found


def to_template_error(exc: Exception, *, template: str, root: Path) -> TemplateError:
    """Turn any Jinja failure into a :class:`TemplateError` naming variable, template, line."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(f"template not found: {exc.name}", template=template)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        name = exc.name or template
        return TemplateError(f"syntax error at line {exc.lineno}: {exc.message}", template=name)
    where, line = _template_frame(exc.__traceback__, root)
    where = where or template
    if isinstance(exc, jinja2.UndefinedError):
        m = _NAME_RE.search(str(exc))
        variable = (m.group(1) or m.group(2)) if m else str(exc)
        err = TemplateError(
            f"undefined variable {variable!r} at line {line}", template=where
        )
        # Only this kind of TemplateError carries them, so the class does not declare them.
        err.variable = variable  # type: ignore[attr-defined]
        err.lineno = line  # type: ignore[attr-defined]
        return err
    if isinstance(exc, SecurityError):
        return TemplateError(f"not allowed in a template (line {line}): {exc}", template=where)
    return TemplateError(f"template failed at line {line}: {exc}", template=where)


def render_template(
    name: str,
    context: Mapping[str, Any],
    *,
    env: SandboxedEnvironment,
    root: Path,
) -> str:
    """Render ``name`` to text, or raise :class:`TemplateError` (nothing is written)."""
    try:
        return env.get_template(name).render(dict(context))
    except TemplateError:
        raise
    except (jinja2.TemplateError, SecurityError, TypeError, ValueError) as exc:
        raise to_template_error(exc, template=name, root=root) from exc
