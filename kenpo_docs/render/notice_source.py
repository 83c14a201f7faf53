"""A notice source's Jinja variables, expanded in the sandbox before it is read.

Only the rules tables the engine offers (``periods``, ``card_rows``, ``timings``,
``contact``) and the register line (``notice``) may be used, with the date filters: a
notice's text is the staff's own, the facts come from ``kenpo_docs/data/rules.toml``. The
environment is Jinja's sandbox with ``StrictUndefined``: an unknown name fails with its name
and line before any file is written, as for every other template. Nothing is escaped here
(the text is Markdown; the HTML printer escapes what it prints).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from kenpo_docs.render.environment import FILTERS, to_template_error

#: The names a notice source may use.
VARIABLES = ("notice", "periods", "card_rows", "timings", "contact")


def expand_variables(text: str, context: Mapping[str, Any], *, source: str) -> str:
    """``text`` with its Jinja variables and loops expanded from ``context`` (only the
    names of :data:`VARIABLES` are passed on).

    Raises:
        TemplateError: an undefined name, a syntax error or anything the sandbox refuses,
            naming ``source`` and the line.
    """
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                               trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True)
    env.filters.update(FILTERS)
    allowed = {name: context[name] for name in VARIABLES if name in context}
    try:
        return env.from_string(text).render(allowed)
    except (jinja2.TemplateError, SecurityError, TypeError, ValueError) as exc:
        err = to_template_error(exc, template=source, root=Path("."))
        err.template = source  # the text has no file name of its own in Jinja ("<template>")
        raise err from exc
