"""A rendered HTML document as one self-contained file, ready for a web site.

The HTML a template renders names its stylesheets and pictures by ``file:`` URLs into our
templates folder, and its fonts only exist in the renderer's own ``@font-face`` sheet
(:func:`~kenpo_docs.render.font_face_css`): copied to a web server it would show unstyled, in
whatever fonts the reader has, without its pictures. :func:`self_contained` makes it one file:

* each ``<link rel="stylesheet">`` becomes a ``<style>`` with the sheet's text (its own
  ``url()`` references, if any, as ``data:`` URIs);
* each ``src`` (the notice's insert pictures) becomes a ``data:`` URI;
* the vendored fonts are added as ``@font-face`` rules with ``data:`` URIs, each a WOFF subset
  of the characters the document uses (the full faces are 4.6-46 MB; a notice's subsets are a
  few hundred KB): BIZ UD for the text, and IPAmj Mincho only for characters BIZ UD lacks.

Files are read through :class:`~kenpo_docs.render.fetcher.SafeFetcher`, so only the
templates and fonts folders can end up in the page. A ``file:`` URL or an absolute path
left in the result is an error, never a page that shows blank on the web.
"""

from __future__ import annotations

import base64
import functools
import html as htmllib
import io
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urljoin

from kenpo_docs.errors import RenderError
from kenpo_docs.fonts import GOTHIC, NAMES, font_faces, missing_glyphs
from kenpo_docs.render.fetcher import SafeFetcher

_LINK = re.compile(r"<link\b[^>]*\brel=[\"']stylesheet[\"'][^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
_SRC = re.compile(r"(\bsrc=)([\"'])([^\"']+)\2", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)")
_TAGS = re.compile(r"<(style|script)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_LEFT_OVER = re.compile(r"file:|(?:href|src)=[\"']/|url\(\s*[\"']?/", re.IGNORECASE)
_MIME = {".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".svg": "image/svg+xml", ".ttf": "font/ttf",
         ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _file_uri(fetcher: SafeFetcher, url: str) -> str:
    if url.startswith("data:"):
        return url
    path = fetcher.resolve(url)
    return _data_uri(path.read_bytes(), _MIME.get(path.suffix.lower(), "application/octet-stream"))


def _inline_css(fetcher: SafeFetcher, url: str) -> str:
    text = fetcher.resolve(url).read_text("utf-8")
    return _CSS_URL.sub(lambda m: f'url("{_file_uri(fetcher, urljoin(url, m.group(2)))}")',
                        text)


def subset_woff(path: Path, text: Iterable[str]) -> bytes:
    """A WOFF of the face at ``path`` holding the glyphs of ``text`` (and their layout
    features: vertical forms, proportional widths, ligatures as the face defines them)."""
    return _subset_woff(path, "".join(sorted(set(text))))


@functools.lru_cache(maxsize=8)
def _subset_woff(path: Path, chars: str) -> bytes:
    """:func:`subset_woff`, once per process for a face and a set of characters (seconds a
    face: a notice built in several formats, or again, reuses them)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False  # screens hint themselves; halves the size
    options.desubroutinize = True
    options.name_IDs = ["*"]  # keep the copyright and licence strings with the font
    options.name_languages = ["*"]
    options.drop_tables = [*options.drop_tables, "meta"]  # fontTools cannot subset it
    # recalcTimestamp off: head.modified keeps the face's own date, so the same notice gives
    # the same bytes every time (fontTools would stamp the clock).
    with TTFont(str(path), lazy=False, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes={ord(ch) for ch in chars})
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff"
        font.save(out)
    return out.getvalue()


def font_face_rules(text: str) -> str:
    """``@font-face`` rules with ``data:`` URIs of the vendored faces, subset to ``text``;
    IPAmj Mincho only when BIZ UD lacks some character of it."""
    used = {ch for ch in text if not ch.isspace()} | {chr(c) for c in range(0x20, 0x7F)}
    rules = []
    for face in font_faces():
        chars = used
        if face.family == NAMES:
            chars = {ch for unit in missing_glyphs("".join(sorted(used)), (GOTHIC,))
                     for ch in unit}
            if not chars:
                continue
        woff = subset_woff(face.path, chars)
        rules.append(f'@font-face {{ font-family: "{face.family}"; '
                     f"font-weight: {face.weight}; "
                     f'src: url("{_data_uri(woff, "font/woff")}") format("woff"); }}')
    return "\n".join(rules)


def page_text(html: str) -> str:
    """The characters a page shows: its text without tags, styles and scripts."""
    return htmllib.unescape(_TAGS.sub(" ", html))


def self_contained(html: str, *, roots: Iterable[Path]) -> str:
    """``html`` with its stylesheets, pictures and fonts inside it (see the module's
    docstring); files are read only under ``roots`` (the templates and fonts folders).

    Raises:
        RenderError: a resource outside ``roots``, or a local reference left over.
    """
    fetcher = SafeFetcher(roots)
    try:
        def link(match: re.Match[str]) -> str:
            href = _HREF.search(match.group(0))
            if href is None:
                return match.group(0)
            return f"<style>\n{_inline_css(fetcher, htmllib.unescape(href.group(1)))}\n</style>"

        out = _LINK.sub(link, html)
        out = _SRC.sub(lambda m: f"{m.group(1)}{m.group(2)}"
                       f"{_file_uri(fetcher, htmllib.unescape(m.group(3)))}{m.group(2)}", out)
    except OSError as exc:  # SafeFetcher's refusal is an OSError too (URLFetchingError)
        raise RenderError(f"cannot inline a resource of the page: {exc}") from exc
    text = page_text(out)
    fonts = f"<style>\n{font_face_rules(text)}\n</style>\n"
    head = re.search(r"<head\b[^>]*>", out, re.IGNORECASE)
    if head is None:
        raise RenderError("the page has no <head> to put its fonts in")
    out = out[:head.end()] + "\n" + fonts + out[head.end():]
    left = _LEFT_OVER.search(re.sub(r"data:[^\"')]+", "", out))
    if left is not None:
        raise RenderError(f"a local reference is left in the page: {left.group(0)!r}")
    return out
