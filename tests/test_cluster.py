"""``merge --cluster``: the chunks on a Dask cluster give the bytes of a local run.

Every run here is a real Dask LocalCluster of worker processes (or a real ``dask worker``
process), rendering real pieces; the reference is the same batch merged with ``--workers 1``.
Compared: every file of the output folder byte for byte (pieces, print files, inserter CSVs,
index, manifest, batch record) and the tracking database's rows (without their timestamps).
Batches are small (150 households): the machine is shared.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.errors import ClusterError
from kenpo_docs.mailing import cluster as cluster_module
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

# the crash test's roster: households at four workplaces, every third 任意継続 at home
# (postal route), every fifth with a dependent (both print-file routes)
from tests.test_hardening_crash import _roster

ROOT = Path(__file__).resolve().parent.parent

AS_OF = date(2026, 12, 1)
BATCH = "CLUSTER-1"


def _merge(roster: Path, out: Path, **kw: object) -> None:
    options = MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, batch_id=BATCH,
                           db=out.parent / f"{out.name}.sqlite", **kw)  # type: ignore[arg-type]
    merge(roster, options=options)


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def _tracking(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """The rows a batch leaves in the tracking database, without timestamps."""
    queries = {
        "pieces": "SELECT id, batch, seq, household_key, route, workplace_code, postal_code, "
                  "pages, sheets, status, print_file FROM pieces ORDER BY id",
        "piece_members": "SELECT * FROM piece_members ORDER BY piece, member_key",
        "events": "SELECT piece, status, reason, note FROM events ORDER BY piece, id",
        "print_files": "SELECT * FROM print_files ORDER BY name",
        "batches": "SELECT id, letter, notice, as_of, roster_sha256, pieces, pages, ok_rows, "
                   "skipped_rows, rejected_rows FROM batches",
    }
    with sqlite3.connect(db) as con:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}


def _assert_same_batch(out: Path, reference: Path) -> None:
    got, want = _files(out), _files(reference)
    assert sorted(got) == sorted(want)
    assert any(name.startswith("pieces/") for name in want)
    assert any(name.endswith(".inserter.csv") for name in want)
    for name in want:
        assert got[name] == want[name], name
    tracked = _tracking(out.parent / f"{out.name}.sqlite")
    assert tracked == _tracking(reference.parent / f"{reference.name}.sqlite")
    ids = [row[0] for row in tracked["pieces"]]
    assert len(ids) == len(set(ids)) == sum(1 for n in want if n.startswith("pieces/"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 150-household roster and its batch merged locally with one process."""
    base = tmp_path_factory.mktemp("reference")
    roster = _roster(base / "roster.csv", 150)
    out = base / "local"
    _merge(roster, out, workers=1)
    return roster, out


def test_local_cluster_gives_the_bytes_of_a_local_run(reference: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    roster, local = reference
    out = tmp_path / "cluster"
    seen: list[tuple[int, int]] = []
    options = MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, batch_id=BATCH,
                           db=tmp_path / "cluster.sqlite", cluster="local:2")
    merge(roster, options=options, progress=lambda done, total: seen.append((done, total)))
    _assert_same_batch(out, local)
    # progress from the futures as they finish: up to every piece, never backwards
    assert seen[-1] == (seen[-1][1], seen[-1][1])
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) > 4


def test_a_worker_killed_mid_batch_costs_nothing(reference: tuple[Path, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The first chunk a worker starts kills it (os._exit): Dask's nanny starts a new worker,
    the scheduler runs the chunk again, and the batch is the local one, each piece once."""
    roster, local = reference
    marker = tmp_path / "killed"
    monkeypatch.setenv(cluster_module.TEST_KILL_ENV, str(marker))
    out = tmp_path / "cluster"
    _merge(roster, out, cluster="local:2")
    assert marker.exists()  # a worker did die
    _assert_same_batch(out, local)


def test_a_chunk_that_keeps_killing_workers_stops_with_one_line(
        reference: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No retry allowed (``allowed-failures`` 0): the first worker lost ends the merge with a
    ClusterError (one line in the CLI), not a traceback; the batch resumes afterwards."""
    import dask
    import distributed  # noqa: F401  (its defaults in dask's config before we set one)

    roster, local = reference
    monkeypatch.setenv(cluster_module.TEST_KILL_ENV, str(tmp_path / "killed"))
    out = tmp_path / "cluster"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            pytest.raises(ClusterError, match="run the same command again"):
        _merge(roster, out, cluster="local:2")
    assert not (out / "manifest.csv").exists()
    _merge(roster, out, cluster="local:2")
    _assert_same_batch(out, local)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_a_stopped_coordinator_resumes_on_the_cluster(reference: tuple[Path, Path],
                                                      tmp_path: Path, how: int) -> None:
    """``kenpo-docs merge --cluster local:2`` stopped once pieces exist, then run again: the
    batch is the local one. Killed: SIGKILL to its process group (the coordinator, its
    scheduler and workers: pulling the plug). Ctrl+C: SIGINT to the group, as a terminal
    sends it: exit 130 with the one-line message, no traceback from any worker."""
    roster, local = reference
    out = tmp_path / "cluster"
    command = [sys.executable, "-m", "kenpo_docs", "merge", str(roster), "--letter",
               "kakuninsho", "--as-of", AS_OF.isoformat(), "--out", str(out), "--batch-id",
               BATCH, "--db", str(tmp_path / "cluster.sqlite"), "--cluster", "local:2"]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)
    deadline = time.monotonic() + 300
    try:
        while len(list(out.glob("pieces/*.pdf"))) < 30:
            assert proc.poll() is None, "the merge ended before it was stopped"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.killpg(proc.pid, how)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not (out / "manifest.csv").exists()
    if how == signal.SIGINT:
        assert proc.returncode == 130
        assert b"Traceback" not in stderr, stderr.decode()[-2000:]
        assert stderr.decode().strip().splitlines()[-1].startswith("Interrupted:")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    _assert_same_batch(out, local)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="a worker with its own view of the files needs a mount namespace "
                           "(root and unshare; CI runs as root)")
def test_a_worker_that_does_not_see_the_folder_is_refused(reference: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    """A real ``dask worker`` in its own mount namespace, where a tmpfs with the same folders
    hides the output folder: the probe it writes there never reaches this process, and the
    merge refuses before anything is rendered."""
    import distributed

    roster, _ = reference
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None,
                                  silence_logs=40) as scheduler, \
            distributed.Client(scheduler) as client:
        worker = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f'mount -t tmpfs none "{tmp_path}" && mkdir -p "{tmp_path}/out/parts" && '
             f'exec "$0" -m distributed.cli.dask_worker '
             f'{scheduler.scheduler_address} --nthreads 1 --no-dashboard',
             sys.executable], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        try:
            client.wait_for_workers(1, timeout=60)
            with pytest.raises(ClusterError, match="not shared"):
                _merge(roster, tmp_path / "out", cluster=scheduler.scheduler_address)
        finally:
            client.retire_workers()
            worker.terminate()
            worker.wait(timeout=60)
    assert not list((tmp_path / "out" / "pieces").glob("*.pdf"))


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "somewhere:8786", "local:0"])
def test_a_bad_address_is_one_line_and_exit_2(tmp_path: Path, address: str) -> None:
    roster = _roster(tmp_path / "roster.csv", 3)
    result = CliRunner().invoke(cli, ["merge", str(roster), "--letter", "kakuninsho",
                                      "--as-of", "2026-12-01", "--out", str(tmp_path / "out"),
                                      "--db", str(tmp_path / "t.sqlite"),
                                      "--cluster", address])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--cluster" in lines[0], result.output
    assert not (tmp_path / "out" / "pieces").exists()


def test_without_the_extra_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with pytest.raises(ClusterError, match=r"pip install kenpo-docs\[cluster\]"):
        cluster_module.Cluster("local:1")


def test_the_library_does_not_import_dask() -> None:
    code = ("import sys, kenpo_docs.mailing.run, kenpo_docs.mailing.cluster\n"
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
