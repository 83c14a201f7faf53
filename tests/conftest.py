from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def _no_writes_to_the_default_tracking_db() -> Iterator[None]:
    """A test that runs a merge without ``--db`` would write the checkout's own database."""
    db = ROOT / "output" / "tracking.sqlite"
    before = db.stat().st_mtime_ns if db.exists() else None
    yield
    after = db.stat().st_mtime_ns if db.exists() else None
    assert after == before, f"a test wrote {db}: pass --db under tmp_path"
