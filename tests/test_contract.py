"""The contract: a fixed sample merge and a set of commands keep every byte they write.

See ``tests/contract/scenario.py`` for what is run and how to regenerate the recording (only
for a deliberate change of behaviour, in a commit of its own).

One recording for every machine: the bytes must not depend on whether the system library
HarfBuzz-Subset (Debian's ``libharfbuzz-subset0``) is installed, which WeasyPrint would
otherwise use to subset fonts instead of fontTools. The scenario runs here with whatever this
machine has, and again in a subprocess (and its worker processes) where WeasyPrint's loading
of that library fails as on a machine without it; both must write the same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract import scenario


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The scenario run in this process, with the subsetter library if the machine has it."""
    return scenario.run(tmp_path_factory.mktemp("contract"))


def _differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    changed = sorted(k for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    if not changed and expected.keys() == actual.keys():
        return []
    details = [f"{k}:\n  expected {expected[k]!r}\n  actual   {actual[k]!r}"
               for k in changed if k.startswith("cli/")]
    return [
        f"changed ({len(changed)} of {len(expected)}): {changed}",
        f"missing: {sorted(expected.keys() - actual.keys())}",
        f"new: {sorted(actual.keys() - expected.keys())}",
        *details,
    ]


def test_every_output_byte_and_message_is_as_recorded(here: dict[str, str]) -> None:
    path = scenario.recording_path()
    assert path.exists(), (
        f"no recording: {path} (make it with `python -m tests.contract.scenario --write` on "
        "the commit before a change)"
    )
    expected = json.loads(path.read_text("utf-8"))
    assert not _differences(expected, here), "\n".join(_differences(expected, here))


def test_the_scenario_covers_the_merge_outputs() -> None:
    """The recording holds pieces, print files, inserter files and the manifest: a scenario
    that silently wrote nothing would otherwise pass."""
    recorded = json.loads(scenario.recording_path().read_text("utf-8"))
    files = [k for k in recorded if k.startswith("file/merge/")]
    assert any(k.startswith("file/merge/pieces/") and k.endswith(".pdf") for k in files)
    assert any(k.startswith("file/merge/print/") and k.endswith(".pdf") for k in files)
    assert "file/merge/manifest.csv" in files
    assert len([k for k in files if k.startswith("file/merge/pieces/")]) == 8


def test_there_is_one_recording_for_every_machine() -> None:
    assert sorted(p.name for p in scenario.DATA.glob("*.json")) == [
        scenario.recording_path().name]


#: Imported first by every Python process of the run (PYTHONPATH, so the merge's spawned
#: workers too): a ``cffi`` load of the HarfBuzz-Subset library fails, as on a machine
#: without it, and each process that tried notes its id.
_HIDE = '''
import os
import cffi

_dlopen = cffi.FFI.dlopen


def _hidden(self, name, *args, **kwargs):
    if isinstance(name, str) and "harfbuzz-subset" in name:
        with open(os.environ["KENPO_TEST_HIDDEN_LOG"], "a") as log:
            log.write(f"{os.getpid()}\\n")
        raise OSError(f"{name}: hidden by the test")
    return _dlopen(self, name, *args, **kwargs)


cffi.FFI.dlopen = _hidden
'''

_RUN = '''
import json, sys
from pathlib import Path
from weasyprint.text import ffi
assert ffi.harfbuzz_subset is None, "the library was not hidden"
from tests.contract import scenario
print(json.dumps(scenario.run(Path(sys.argv[1]))))
'''


def _run_without_the_library(tmp_path: Path) -> tuple[dict[str, str], set[str]]:
    """The scenario in a subprocess (and its workers) without HarfBuzz-Subset: what it
    recorded, and the ids of the processes in which WeasyPrint tried to load the library."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_HIDE, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    log = tmp_path / "hidden.log"
    log.touch()
    env = {**os.environ, "KENPO_TEST_HIDDEN_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(hook), str(scenario.ROOT)])}
    done = subprocess.run([sys.executable, "-c", _RUN, str(work)], cwd=scenario.ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    record: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return record, set(log.read_text().split())


def test_the_bytes_do_not_depend_on_the_harfbuzz_subset_system_library(
        here: dict[str, str], tmp_path: Path) -> None:
    """Every file and message of the scenario is the same with and without the system's
    HarfBuzz-Subset (189 of 229 files of a merge differed when WeasyPrint chose the
    subsetter by what apt had installed)."""
    if not scenario.system_subsetter():
        pytest.skip("libharfbuzz-subset0 is not installed on this machine: only the run "
                    "without it is possible, and the recording test is that run")
    without, processes = _run_without_the_library(tmp_path)
    # the main process and the merge's workers (spawned, not forked) all ran without it
    assert len(processes) >= 3, processes
    assert not _differences(here, without), "\n".join(_differences(here, without))
