"""The browser fixtures the end-to-end test relies on, in Debian's chromium: the tofu check
sees a missing glyph (characters no font on the machine has) and passes real glyphs, each step
leaves its screenshot (a failing one marked), and a missing chromium fails the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROOT, Steps, assert_japanese_renders, glyph_report


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


def test_each_step_leaves_a_screenshot_and_a_failing_one_says_so(page: Any,
                                                                 tmp_path: Path) -> None:
    steps = Steps(page, tmp_path)
    page.set_content("<h1>ok</h1>")
    with steps("first"):
        pass
    with pytest.raises(AssertionError), steps("second"):
        raise AssertionError("the step failed")
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["01-first.png",
                                                              "02-second-FAILED.png"]
    assert (tmp_path / "02-second-FAILED.png").read_bytes().startswith(b"\x89PNG")
