"""The contract: a fixed sample merge and a set of commands keep every byte they write.

See ``tests/contract/scenario.py`` for what is run and how to regenerate the recording (only
for a deliberate change of behaviour, in a commit of its own).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.contract import scenario


def test_every_output_byte_and_message_is_as_recorded(tmp_path: Path) -> None:
    path = scenario.recording_path()
    assert path.exists(), (
        f"no recording for the {scenario.subsetter()} font subsetter: {path} "
        "(make it with `python -m tests.contract.scenario --write` on the commit before a change)"
    )
    expected = json.loads(path.read_text("utf-8"))
    actual = scenario.run(tmp_path)
    changed = sorted(k for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    details = [f"{k}:\n  recorded {expected[k]!r}\n  now      {actual[k]!r}"
               for k in changed if k.startswith("cli/")]
    assert not changed and expected.keys() == actual.keys(), "\n".join([
        f"changed: {[k for k in changed]}",
        f"missing: {sorted(expected.keys() - actual.keys())}",
        f"new: {sorted(actual.keys() - expected.keys())}",
        *details,
    ])


def test_the_scenario_covers_the_merge_outputs() -> None:
    """The recording holds pieces, print files, inserter files and the manifest: a scenario
    that silently wrote nothing would otherwise pass."""
    recorded = json.loads(scenario.recording_path().read_text("utf-8"))
    files = [k for k in recorded if k.startswith("file/merge/")]
    assert any(k.startswith("file/merge/pieces/") and k.endswith(".pdf") for k in files)
    assert any(k.startswith("file/merge/print/") and k.endswith(".pdf") for k in files)
    assert "file/merge/manifest.csv" in files
    assert len([k for k in files if k.startswith("file/merge/pieces/")]) == 8
