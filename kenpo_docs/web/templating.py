"""The page templates (``kenpo_docs/web/templates``) and their helpers.

``templates`` is the one :class:`Jinja2Templates`: autoescaping on, ``StrictUndefined`` (a
missing variable is an error, never a blank), and these helpers:

* ``{{ csrf_input(request) }}`` - the hidden CSRF field every form carries (the token
  itself: ``csrf_token(request)``);
* ``{{ date | wareki }}`` - 令和8年12月1日 (a date or an ISO date text);
* ``{{ stamp | jst }}`` - a stored UTC time stamp in Japan time, ``令和8年12月5日 06:30``;
* ``{{ n | num }}`` - 1,234; ``{{ bytes | size }}`` - 408 KB.

:func:`page` renders a template with what base.html needs (the user, the CSRF token).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import Request
from jinja2 import StrictUndefined
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from kenpo_docs.domain.era import format_wareki, parse_date
from kenpo_docs.errors import DateError
from kenpo_docs.japantime import in_japan
from kenpo_docs.paths import PACKAGE_DIR
from kenpo_docs.web.security import CSRF_FIELD, csrf_token, optional_user

TEMPLATES_DIR = PACKAGE_DIR / "web" / "templates"
STATIC_DIR = PACKAGE_DIR / "web" / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.undefined = StrictUndefined


def csrf_input(request: Request) -> Markup:
    """The hidden form field with the session's CSRF token."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" '
                  f'value="{escape(csrf_token(request))}">')


def wareki(value: date | str | None) -> str:
    """A date in 和暦 (令和8年12月1日); a text is read as the CLI reads dates (shown as it
    is when it is no date); None is 「－」."""
    if value is None or value == "":
        return "－"
    if isinstance(value, str):
        try:
            return format_wareki(parse_date(value[:10]))
        except DateError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    return format_wareki(value)


def jst(value: str | datetime | None) -> str:
    """A stored UTC time stamp in Japan time (:func:`kenpo_docs.japantime.in_japan`, as the
    terminal shows it), the date in 和暦, to the minute; None is 「－」."""
    if value is None or value == "":
        return "－"
    local = in_japan(value)
    return f"{format_wareki(local.date())} {local:%H:%M}"


def num(value: int | float) -> str:
    return f"{value:,}"


def size(value: int) -> str:
    """A file size for people: 408 KB, 1.2 MB."""
    if value < 1024 * 1024:
        return f"{max(1, round(value / 1024)):,} KB"
    return f"{value / (1024 * 1024):,.1f} MB"


templates.env.globals["csrf_input"] = csrf_input
templates.env.globals["csrf_token"] = csrf_token
templates.env.filters["wareki"] = wareki
templates.env.filters["jst"] = jst
templates.env.filters["num"] = num
templates.env.filters["size"] = size


def page(request: Request, name: str, context: dict[str, Any] | None = None, *,
         status_code: int = 200) -> HTMLResponse:
    """Render template ``name`` with ``context`` plus ``user``, ``require_approval`` and
    ``error`` (None unless given)."""
    # The session is missing only on a 500 page made outside the session middleware.
    user = optional_user(request) if "session" in request.scope else None
    full: dict[str, Any] = {
        "user": user,
        "menu": [(path, label) for path, label, role in request.app.state.menu
                 if user is not None and (role is None or user.has_role(role))],
        "require_approval": request.app.state.settings.require_approval,
        "error": None,
        "notice": None,
    }
    full.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(request, name, full,
                                                        status_code=status_code)
    return response
