"""Who may do what: login sessions, roles, CSRF tokens, the upload size limit.

* Sessions are Starlette's signed cookies (itsdangerous), keyed by :func:`load_secret` (a
  random key in ``web/secret``, 0600, made on first start: a restart keeps people logged in,
  a new data folder logs everyone out). The cookie holds the user name and the CSRF token,
  nothing else; the account is looked up on every request, so a removed account is out at
  once.
* :func:`current_user` (a FastAPI dependency) redirects to ``/login`` when nobody is logged
  in; :func:`require_role` answers 403 to the wrong role (an admin has every role).
* :func:`verify_csrf` is an app-wide dependency: every POST (PUT, PATCH, DELETE) carries the
  session's token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header (which
  base.html makes htmx send), or is refused with 403.
* :class:`BodyLimit` refuses a request body over the upload limit with 413 before it is
  parsed.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kenpo_docs.files import write_atomic
from kenpo_docs.web.accounts import User, get_user
from kenpo_docs.web.store import DataFolder

SESSION_COOKIE = "kenpo_session"
SESSION_SECONDS = 10 * 3600  # a working day
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def load_secret(folder: DataFolder) -> str:
    """The session-signing key from ``web/secret``; made (32 random bytes, 0600) if absent."""
    path = folder.secret
    if not path.exists():
        write_atomic(path, secrets.token_hex(32).encode())
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return path.read_text("ascii").strip()


def data_folder(request: Request) -> DataFolder:
    """The app's data folder (``WebSettings.data``)."""
    folder: DataFolder = request.app.state.folder
    return folder


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse (403) an unsafe request without the session's CSRF token."""
    if request.method not in _UNSAFE:
        return
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise HTTPException(403, "フォームの有効期限が切れました。ページを読み込み直してから、"
                                 "もう一度操作してください (CSRF token missing or wrong)")


class LoginRequired(Exception):
    """Nobody is logged in: the app answers with a redirect to /login."""


def current_user(request: Request) -> User:
    """The logged-in user; :class:`LoginRequired` (a redirect to /login) otherwise."""
    name = request.session.get("user")
    user = get_user(data_folder(request), name) if isinstance(name, str) else None
    if user is None:
        request.session.pop("user", None)
        raise LoginRequired
    return user


def optional_user(request: Request) -> User | None:
    """The logged-in user or None (for pages that anyone may see, such as /login)."""
    try:
        return current_user(request)
    except LoginRequired:
        return None


def require_role(*roles: str) -> Callable[..., User]:
    """A dependency: the logged-in user if they have one of ``roles`` (admin has all),
    else 403."""

    def dependency(user: User = Depends(current_user)) -> User:  # noqa: B008 (FastAPI's way)
        if not user.has_role(*roles):
            raise HTTPException(403, "この操作の権限がありません (not allowed for your role)")
        return user

    return dependency


#: Parameter types for routes: ``user: AnyUser`` (logged in), ``user: Approver``, ``Admin``.
AnyUser = Annotated[User, Depends(current_user)]
Approver = Annotated[User, Depends(require_role("approver"))]
Admin = Annotated[User, Depends(require_role("admin"))]


def log_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token: nothing of the anonymous
    session carries over)."""
    request.session.clear()
    request.session["user"] = user.name
    request.session["csrf"] = secrets.token_urlsafe(32)


def log_out(request: Request) -> None:
    request.session.clear()


class BodyLimit:
    """ASGI middleware: a request body larger than ``limit`` bytes gets 413 before anything
    reads it (the declared Content-Length, and the bytes as they arrive)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, _too_large_text(self.limit))
            return message

        await self.app(scope, counted, send)


def _too_large_text(limit: int) -> str:
    return (f"ファイルが大きすぎます（上限 {limit // (1024 * 1024)} MB） "
            f"(upload larger than {limit} bytes)")


async def _too_large(send: Send, limit: int) -> None:
    body = _too_large_text(limit).encode()
    start: dict[str, Any] = {
        "type": "http.response.start", "status": 413,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())]}
    await send(start)
    await send({"type": "http.response.body", "body": body})
