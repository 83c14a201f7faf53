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

#: The largest power, and the longest repeated text or list, a notice's arithmetic may make:
#: ``{{ 9**9**9 }}`` or ``{{ "x" * 10**10 }}`` would otherwise hold a worker (or the web page's
#: thread) for minutes and all its memory. A notice needs neither.
MAX_EXPONENT = 64
MAX_REPEAT = 10_000


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox with its arithmetic bounded (the sandbox limits ``range`` only)."""

    intercepted_binops = frozenset(["**", "*"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"べき乗が大きすぎます (exponent over {MAX_EXPONENT})")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) \
                        and len(seq) * times > MAX_REPEAT:
                    raise SecurityError(f"繰り返しが長すぎます (repetition over {MAX_REPEAT})")
        return super().call_binop(context, operator, left, right)


#: The names a notice source may use.
VARIABLES = ("notice", "periods", "card_rows", "timings", "contact")


def expand_variables(text: str, context: Mapping[str, Any], *, source: str) -> str:
    """``text`` with its Jinja variables and loops expanded from ``context`` (only the
    names of :data:`VARIABLES` are passed on).

    Raises:
        TemplateError: an undefined name, a syntax error or anything the sandbox refuses,
            naming ``source`` and the line.
    """
    env = _BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=False,
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    allowed = {name: context[name] for name in VARIABLES if name in context}
    try:
        return env.from_string(text).render(allowed)
    except (jinja2.TemplateError, SecurityError, TypeError, ValueError) as exc:
        err = to_template_error(exc, template=source, root=Path("."))
        err.template = source  # the text has no file name of its own in Jinja ("<template>")
        raise err from exc
