from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of templates/ (never the real register) with the real fonts: the
    notice tests write notices and the register there."""
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "fonts").symlink_to(ROOT / "fonts")
    monkeypatch.setenv("KENPO_DOCS_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def _no_writes_to_the_default_tracking_db() -> Iterator[None]:
    """A test that runs a merge without ``--db`` would write the checkout's own database."""
    db = ROOT / "output" / "tracking.sqlite"
    before = db.stat().st_mtime_ns if db.exists() else None
    yield
    after = db.stat().st_mtime_ns if db.exists() else None
    assert after == before, f"a test wrote {db}: pass --db under tmp_path"


@pytest.fixture(autouse=True)
def _no_personal_data_folder(tmp_path_factory: pytest.TempPathFactory,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own KENPO_DOCS_DATA or ~/.config/kenpo-docs/config.toml must not move
    where a test's defaults write: tests see neither unless they set them."""
    monkeypatch.delenv("KENPO_DOCS_DATA", raising=False)
    monkeypatch.setenv("KENPO_DOCS_CONFIG", str(tmp_path_factory.getbasetemp() / "no-config"))


#: The longest test files (tens of seconds each in one process): first in the order, so that
#: `make test`'s xdist workers (--dist loadfile) start them at once instead of ending on them.
LONGEST_FIRST = ("test_hardening_crash.py", "test_contract.py", "test_hardening_input.py",
                 "test_web_runner.py", "test_cluster.py", "test_text_layer.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: else as found
