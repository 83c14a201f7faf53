"""The tofu check the end-to-end test relies on, in Debian's chromium: it must see a missing
glyph (characters no font on the machine has) and pass real glyphs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROOT, assert_japanese_renders, glyph_report


def test_tofu_is_seen(page: Any) -> None:
    # Private-use characters: no font has them, so each is drawn as the same box (or nothing).
    page.set_content("<p id='t'>\ue000\ue001\ue002</p>")
    report = glyph_report(page, "#t", "\ue000\ue001\ue002")
    assert report["distinct"] == 1
    with pytest.raises(AssertionError):
        assert_japanese_renders(page, "#t", "\ue000\ue001\ue002")


def test_latin_glyphs_are_distinct_but_no_web_font_is_not_enough(page: Any) -> None:
    page.set_content("<p id='t'>Abc</p>")
    assert glyph_report(page, "#t", "Abc")["distinct"] == 3
    with pytest.raises(AssertionError, match="no @font-face"):
        assert_japanese_renders(page, "#t", "Abc")


def test_a_missing_chromium_fails_the_browser_tests_never_skips(tmp_path: Path) -> None:
    """CI must not pass with the browser tests skipped: without chromium they fail, saying
    what to install."""
    env = {**os.environ, "KENPO_DOCS_CHROMIUM": str(tmp_path / "no-chromium")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__)}::test_tofu_is_seen"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert run.returncode != 0
    assert "chromium is not installed" in run.stdout and "make test-tools" in run.stdout
    assert "skipped" not in run.stdout and "1 error" in run.stdout
