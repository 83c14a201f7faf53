"""``notice build --format html`` writes one self-contained file for a web site (issue 19 §5):
its stylesheets, its insert picture and its fonts (subset) are inside it, nothing points at
our folders. Checked by parsing the file, and by laying it out again with WeasyPrint from
another working directory with a fetcher that refuses every URL but ``data:`` ones: the
notice's text (as notice 539's source has it), its picture and the vendored fonts are there.
(A headless Chromium would be a second reader; none is installed on the build machines.)
"""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetchingError

from kenpo_docs.publish.notices import build_notice

ROOT = Path(__file__).resolve().parents[1]
# Sentences of notice 539, from its source text (tests/data/notice-539-source.txt).
SENTENCES = (
    "現在お持ちの健康保険証については、令和7年12月1日まで使用することができます。",
    "有効期限を過ぎたものは返却不要となりますので、ご自身にて破棄してください。",
    "就労先拠点を経由して送付いたします。",
)


class _References(HTMLParser):
    """Every URL the page refers to: href, src and CSS url() in <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append((tag, value))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            for m in re.finditer(r"url\(\s*[\"']?([^\"')]+)", data):
                self.urls.append(("style", m.group(1)))


class _OnlyData(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's fetcher for ``data:`` URLs; any other URL is refused and recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> object:
        if not url.startswith("data:"):
            self.refused.append(url)
            raise URLFetchingError(f"refused {url}")
        return super().fetch(url, headers)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.fixture
def page(home: Path, tmp_path: Path) -> tuple[Path, bytes]:
    """notice-539.html built with its insert picture in place; (file, the picture's bytes)."""
    inserts = home / "templates" / "notices" / "539" / "inserts"
    inserts.mkdir()
    png = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 160, 60)).save(png, format="PNG")
    (inserts / "download.png").write_bytes(png.getvalue())
    return build_notice(539, "html", out_dir=tmp_path / "web", force=True), png.getvalue()


def test_the_html_refers_to_nothing_outside_itself(page: tuple[Path, bytes], home: Path) -> None:
    path, picture = page
    text = path.read_text("utf-8")
    for local in ("file:", str(home), str(ROOT), "/work/", "/tmp/"):
        assert local not in text, local
    refs = _References()
    refs.feed(text)
    assert refs.urls, "the page names its fonts and picture"
    for tag, url in refs.urls:
        if url.startswith("data:"):
            continue
        assert "://" not in url and not url.startswith("/"), (tag, url[:80])
        assert (path.parent / url).is_file(), (tag, url)  # relative: beside the page
    images = [url for tag, url in refs.urls if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert base64.b64decode(images[0].split(",", 1)[1]) == picture
    fonts = [url for tag, url in refs.urls if tag == "style" and url.startswith("data:font/")]
    assert len(fonts) >= 2  # BIZ UDPGothic regular and bold at least
    # Subset: the whole file is far smaller than one vendored face (4.6 MB).
    assert path.stat().st_size < 1_000_000


def test_the_html_renders_alone_from_elsewhere(page: tuple[Path, bytes], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = page
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = elsewhere / "index.html"
    copy.write_bytes(path.read_bytes())
    monkeypatch.chdir(elsewhere)
    fetcher = _OnlyData()
    pdf = HTML(filename="index.html", url_fetcher=fetcher).write_pdf(
        font_config=FontConfiguration())
    assert fetcher.refused == []
    reader = PdfReader(io.BytesIO(pdf))
    text = _fold("".join(p.extract_text() for p in reader.pages))
    for sentence in SENTENCES:
        assert _fold(sentence) in text, sentence
    assert sum(len(p.images) for p in reader.pages) >= 1  # the insert picture
    fonts = {str(f["/BaseFont"]) for p in reader.pages
             for f in p["/Resources"].get("/Font", {}).values()}
    # the page's own fonts: the machine has no BIZ UD installed (fc-list), so they came from it
    assert any("BIZ-UDPGothic" in f for f in fonts), fonts
