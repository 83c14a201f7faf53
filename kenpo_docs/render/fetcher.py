"""The only way WeasyPrint may read a file: from the templates and fonts folders.

Member data goes into templates as escaped text, but a defect (or a hostile template) could
still make WeasyPrint fetch ``http://…`` or ``file:///etc/…``. This fetcher serves local files
under the allowed roots only, refuses everything else, logs the refusal at WARNING and keeps a
record of every request so tests can assert what was read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

logger = logging.getLogger(__name__)

_MIME = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".html": "text/html",
}


# WeasyPrint ships no type information: to mypy its classes are Any, which strict mode
# does not let a class subclass (hence the two ignores).
class FetchRefused(URLFetchingError):  # type: ignore[misc]
    """A resource outside the allowed folders was requested (WeasyPrint then skips it)."""


class SafeFetcher(URLFetcher):  # type: ignore[misc]
    """Serve ``file:`` URLs inside ``roots``; refuse anything else.

    Attributes:
        requested: Every URL asked for, in order.
        refused: The URLs that were refused.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        super().__init__(allowed_protocols=("file",))
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.requested: list[str] = []
        self.refused: list[str] = []

    def _refuse(self, url: str, why: str) -> FetchRefused:
        self.refused.append(url)
        logger.warning("refused to fetch %.120s: %s", url, why)
        return FetchRefused(f"refused {url!r}: {why}")

    def resolve(self, url: str) -> Path:
        """The local file ``url`` names, or raise :class:`FetchRefused`."""
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise self._refuse(url, f"scheme {parts.scheme or '(none)'!r} is not allowed")
        if parts.netloc not in ("", "localhost"):
            raise self._refuse(url, "remote file host")
        raw = unquote(parts.path)
        if ".." in Path(raw).parts:
            raise self._refuse(url, "'..' in path")
        path = Path(raw).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            raise self._refuse(url, "outside the templates and fonts folders")
        if not path.is_file():
            raise self._refuse(url, "no such file")
        return path

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        """Called by WeasyPrint for every stylesheet, font and image."""
        self.requested.append(url)
        path = self.resolve(url)
        headers_out = {"Content-Type": _MIME.get(path.suffix.lower(), "application/octet-stream")}
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers_out)
