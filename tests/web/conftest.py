"""Browser-test fixtures: the real server in a subprocess, Debian's chromium, screenshots.

* ``live_server``: ``kenpo-docs serve`` started as a SUBPROCESS (as staff start it, so the
  merge's background process, the sessions and the database are the real ones) on a free
  port with a temporary data folder; its output goes to ``server.log`` in the test's tmp
  folder, and the process is stopped after the test.
* The browser is pytest-playwright's ``page``, launched from Debian's ``chromium`` package
  (``executable_path``; playwright's own browser download is not reachable here, so
  ``playwright install`` is never called). A missing chromium FAILS the test with what to
  install: the browser tests must not be skipped in CI (``make test-tools`` installs it).
* ``steps``: ``with steps("login"):`` screenshots the page after each step into the test's
  tmp folder (``01-login.png``...), and a failing step's screen as ``NN-name-FAILED.png``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

#: Debian's chromium (``make test-tools`` installs it); KENPO_DOCS_CHROMIUM points elsewhere.
CHROMIUM = os.environ.get("KENPO_DOCS_CHROMIUM") or shutil.which("chromium") \
    or "/usr/bin/chromium"

#: Seconds the server may take to answer its first request.
START_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, with Debian's chromium as the browser."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"chromium is not installed ({CHROMIUM} missing): the browser tests need "
                    "Debian's chromium package; run `make test-tools` as root or "
                    "`apt-get install chromium` (or set KENPO_DOCS_CHROMIUM)", pytrace=False)
    # /dev/shm is 64 MB in a default container: chromium's renderer would crash there.
    args = [*browser_type_launch_args.get("args", ()), "--disable-dev-shm-usage"]
    return {"headless": True, **browser_type_launch_args, "executable_path": CHROMIUM,
            "args": args}


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """No base URL (tests use ``live_server.url``). Defined here because pytest-playwright's
    own ``base_url`` fixture is an instance method of a plugin class, which pytest 9 warns
    about (PytestRemovedIn10Warning) and filterwarnings=error turns into an error."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop-sized window, Japanese locale and Japan time (as the staff's PCs), and
    downloads allowed."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900},
            "locale": "ja-JP", "timezone_id": "Asia/Tokyo", "accept_downloads": True}


def free_port() -> int:
    """A TCP port nobody listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kenpo_docs(*args: str, data: Path, input: str | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the ``kenpo-docs`` command of this checkout (as staff would type it)."""
    result = subprocess.run(
        [sys.executable, "-m", "kenpo_docs", *args], input=input, capture_output=True,
        text=True, cwd=data.parent, env=server_env(data), timeout=120,
    )
    if check and result.returncode != 0:
        pytest.fail(f"kenpo-docs {' '.join(args)} exited {result.returncode}: "
                    f"{result.stderr.strip() or result.stdout.strip()}", pytrace=False)
    return result


def server_env(data: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KENPO_DOCS_DATA", None)
    env.pop("KENPO_DOCS_PASSWORD", None)
    return env


@dataclass
class LiveServer:
    """A running ``kenpo-docs serve``: its URL, data folder, process and log file."""

    url: str
    data: Path
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def add_user(self, name: str, role: str, password: str) -> None:
        """``kenpo-docs user add NAME --role ROLE --password-stdin`` on the server's data."""
        kenpo_docs("user", "add", name, "--role", role, "--password-stdin",
                   "--data", str(self.data), data=self.data, input=password + "\n")


def start_server(data: Path, log: Path) -> LiveServer:
    """Start ``kenpo-docs serve`` on a free port and wait until it answers.

    Fails (never skips) with the server's last lines when it exits or does not answer.
    """
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kenpo_docs", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--data", str(data)],
        stdout=out, stderr=subprocess.STDOUT, cwd=data.parent, env=server_env(data),
        start_new_session=True,
    )
    out.close()
    server = LiveServer(f"http://127.0.0.1:{port}", data, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"kenpo-docs serve exited {process.returncode}:\n{server.log_tail()}",
                        pytrace=False)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/login", timeout=2.0).status_code == 200:
                return server
        if time.monotonic() > deadline:
            stop_server(server)
            pytest.fail(f"kenpo-docs serve did not answer within {START_TIMEOUT:.0f} s:\n"
                        f"{server.log_tail()}", pytrace=False)
        time.sleep(0.2)


def stop_server(server: LiveServer) -> None:
    """Stop the server and whatever it started (its background merge), by its own group."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, 15)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, 9)
            server.process.wait(timeout=15)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``kenpo-docs serve`` on a free port with an empty data folder under ``tmp_path``."""
    data = tmp_path / "data"
    server = start_server(data, tmp_path / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


#: ``KENPO_DOCS_SCREENSHOTS=docs/img`` also writes the steps named ``keep=`` there (the
#: README's pictures of the pages are taken by the end-to-end test).
KEEP_DIR = os.environ.get("KENPO_DOCS_SCREENSHOTS")


class Steps:
    """Named steps of a browser test, each followed by a screenshot in ``folder``."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.shots: list[Path] = []

    @contextlib.contextmanager
    def __call__(self, name: str, *, keep: str | None = None,
                 at: str | None = None) -> Iterator[None]:
        self.count += 1
        stem = f"{self.count:02d}-{name}"
        try:
            yield
        except BaseException:
            path = self.folder / f"{stem}-FAILED.png"
            with contextlib.suppress(Exception):  # the browser may be what failed
                self.page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of the failing step: {path}")
            raise
        path = self.folder / f"{stem}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        if keep and KEEP_DIR:
            if at:  # the window scrolled to that element (the picture is the window)
                self.page.locator(at).first.evaluate("el => el.scrollIntoView()")
            self.page.screenshot(path=str(Path(KEEP_DIR) / keep))


@pytest.fixture
def steps(page: Any, tmp_path: Path) -> Steps:
    """``with steps("name"):`` around each step; screenshots under ``tmp_path/screens``."""
    folder = tmp_path / "screens"
    folder.mkdir()
    return Steps(page, folder)


#: Draws each character in the element's own font on a canvas and compares them: tofu (the
#: box a missing glyph is drawn as) looks the same for every character, real glyphs differ.
_GLYPHS_JS = """([selector, chars]) => document.fonts.ready.then(() => {
  const el = document.querySelector(selector);
  if (!el) return {error: 'no element ' + selector};
  const style = getComputedStyle(el);
  const family = style.fontFamily;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const draw = (ch) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = '48px ' + family;
    ctx.fillStyle = '#000';
    ctx.textBaseline = 'top';
    ctx.fillText(ch, 4, 4);
    const d = ctx.getImageData(0, 0, 64, 64).data;
    let ink = 0, sig = '';
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) ink++; sig += d[i] > 127 ? '1' : '0'; }
    return {ink, sig};
  };
  const drawn = Array.from(chars).map(draw);
  const faces = [];
  document.fonts.forEach((f) => faces.push([f.family, f.status]));
  return {family, ink: drawn.map((g) => g.ink),
          distinct: new Set(drawn.map((g) => g.sig)).size, faces};
})"""


def glyph_report(page: Any, selector: str, chars: str) -> dict[str, Any]:
    """How ``chars`` render in the font of ``selector``'s element (see ``_GLYPHS_JS``)."""
    result: dict[str, Any] = page.evaluate(_GLYPHS_JS, [selector, chars])
    assert "error" not in result, result.get("error")
    return result


def assert_japanese_renders(page: Any, selector: str = "body",
                            chars: str = "日本語健康保険組合") -> None:
    """The page's Japanese text is drawn with real glyphs: a web font (@font-face) of ours is
    loaded, and every character of ``chars`` has ink and a shape of its own (not tofu)."""
    result = glyph_report(page, selector, chars)
    loaded = [family for family, status in result["faces"] if status == "loaded"]
    assert loaded, f"no @font-face loaded on the page: {result['faces']}"
    assert all(result["ink"]), f"a character draws nothing (family {result['family']})"
    assert result["distinct"] == len(set(chars)), (
        f"tofu: {len(set(chars))} characters drew only {result['distinct']} shapes "
        f"in {result['family']}")

