"""Shapes saved for the batch's other processes (and a resumed run) are keyed by everything
they depend on: an edit to a stylesheet or a library upgrade never reuses a stale shape."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kenpo_docs import gates
from kenpo_docs.shapes import backgrounds

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", copy)
    backgrounds.cache_digest.cache_clear()
    yield copy
    backgrounds.cache_digest.cache_clear()


def _path(parts: Path, templates: Path, key: str = "letter-kakuninsho\nshape") -> Path:
    with backgrounds.shared_shapes(parts, templates):
        path = backgrounds._shape_path(key)
    assert path is not None and path.parent == parts
    return path


def test_an_edit_to_print_css_gives_every_shape_a_new_file(templates: Path,
                                                            tmp_path: Path) -> None:
    before = _path(tmp_path, templates)
    assert _path(tmp_path, templates) == before  # stable
    css = templates / "base" / "print.css"
    css.write_text(css.read_text("utf-8") + "\n/* a staff edit */\n", "utf-8")
    backgrounds.cache_digest.cache_clear()  # a new run (or process) reads the folder again
    assert _path(tmp_path, templates) != before


def test_another_library_version_gives_every_shape_a_new_file(
        templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _path(tmp_path, templates)
    gates.library_key.cache_clear()
    monkeypatch.setattr(gates, "installed",
                        lambda name: "71.0" if name == "weasyprint" else "1")
    backgrounds.cache_digest.cache_clear()
    try:
        assert _path(tmp_path, templates) != before
    finally:
        gates.library_key.cache_clear()


def test_different_shapes_never_share_a_file(templates: Path, tmp_path: Path) -> None:
    assert _path(tmp_path, templates, "a") != _path(tmp_path, templates, "b")


def test_nothing_is_shared_outside_a_batch() -> None:
    assert backgrounds._shape_path("a") is None
