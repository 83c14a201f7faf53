"""The web application: :func:`create_app` builds it from one :class:`WebSettings`.

Each page is a router module in :mod:`kenpo_docs.web.routes` exporting ``router``; the app
includes those named in :data:`ROUTERS` that exist. Every unsafe request is CSRF-checked
(:func:`~kenpo_docs.web.security.verify_csrf`, app-wide); a library error that reaches the
top is shown as the CLI's one-line message (status 400), anything else as a 500 page whose
log line names the exception type and the path only (never a value from a roster:
:class:`QuietErrors`).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.paths import fonts_dir
from kenpo_docs.web.security import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    BodyLimit,
    LoginRequired,
    load_secret,
    verify_csrf,
)
from kenpo_docs.web.store import DataFolder
from kenpo_docs.web.templating import STATIC_DIR, page

logger = logging.getLogger(__name__)

#: The page routers, in menu order: ``kenpo_docs.web.routes.<name>`` with a ``router``.
#: Modules not (yet) there are left out.
ROUTERS = ("auth", "roster", "mailing", "approval", "run", "results", "returns", "notice_editor",
           "notices", "audit")


@dataclass(frozen=True)
class WebSettings:
    """Settings of one web application (``kenpo-docs serve``)."""

    #: The data folder: uploads, batches, the tracking database, accounts, the audit log.
    data: Path
    #: A batch runs only once a second person (an approver) approved it; False for a
    #: one-person office (``serve --no-approval``).
    require_approval: bool = True
    #: Largest upload (and request body), bytes.
    upload_limit: int = 50 * 1024 * 1024
    #: Worker processes of each merge (0: one per core), as ``merge --workers``.
    workers: int = 0
    #: Start the runner process with the app (tests of single pages turn it off).
    runner: bool = True
    #: Pieces shown as proof pictures on the mailing page.
    proof_pieces: int = 3
    #: Secret for the session cookies; default: ``web/secret`` of the data folder.
    secret: str | None = field(default=None, repr=False)


def _routers() -> list[str]:
    found = []
    for name in ROUTERS:
        try:
            importlib.import_module(f"kenpo_docs.web.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kenpo_docs.web.routes.{name}":
                raise
            continue
        found.append(name)
    return found


def create_app(settings: WebSettings) -> FastAPI:
    """The application for ``settings`` (the data folder is prepared now)."""
    folder = DataFolder(Path(settings.data)).prepare()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = None
        if settings.runner:
            from kenpo_docs.web.runner import start

            runner = start(folder, workers=settings.workers)
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    app = FastAPI(title="kenpo-docs", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(verify_csrf)])
    app.state.settings = settings
    app.state.folder = folder
    app.state.menu = []
    app.add_middleware(QuietErrors)  # inside the session: its page shows who is logged in
    app.add_middleware(SessionMiddleware, secret_key=settings.secret or load_secret(folder),
                       session_cookie=SESSION_COOKIE, max_age=SESSION_SECONDS,
                       same_site="strict", https_only=False)
    app.add_middleware(BodyLimit, limit=settings.upload_limit + 64 * 1024)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/fonts", StaticFiles(directory=fonts_dir()), name="fonts")
    for name in _routers():
        module = importlib.import_module(f"kenpo_docs.web.routes.{name}")
        app.include_router(module.router)
        if hasattr(module, "MENU"):
            app.state.menu.append(module.MENU)
    _handlers(app)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=200, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return page(request, "error.html", {"message": exc.detail,
                                            "status": exc.status_code},
                    status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return page(request, "error.html", {
            "message": f"入力が足りないか正しくありません (missing or invalid: "
                       f"{', '.join(fields) or 'form'})", "status": 400}, status_code=400)

    @app.exception_handler(KenpoDocsError)
    async def library_error(request: Request, exc: KenpoDocsError) -> Response:
        return page(request, "error.html", {"message": str(exc), "status": 400},
                    status_code=400)


class QuietErrors:
    """ASGI middleware: an unexpected exception becomes the 500 page, and its log line names
    the exception type and the path only. Starlette would re-raise it for the server to log
    with its message and traceback, where a roster value could appear."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            logger.error("server error %s on %s %s", type(exc).__name__, scope["method"],
                         scope["path"])
            if started:  # the page was on its way: nothing more can be sent
                return
            response = page(Request(scope), "error.html", {
                "message": "サーバーでエラーが起きました。管理者に連絡してください "
                           "(internal server error)", "status": 500}, status_code=500)
            await response(scope, receive, send)
