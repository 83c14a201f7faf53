"""A merge's chunks on a Dask cluster (``merge --cluster``): the same "chunk job in,
:class:`~kenpo_docs.mailing.chunk.ChunkResult` out" the local process pool gives the merge,
on the workers of a Dask distributed scheduler.

``--cluster tcp://HOST:8786`` sends the chunks to a running scheduler; ``--cluster local:N``
starts a LocalCluster of N worker processes on this machine. dask and distributed are an
optional extra (``pip install kenpo-docs[cluster]``), imported only here and only then.

What stays the coordinator's (this process): the plan, the manifest, the print files, the
tracking database and the static enclosures. A chunk writes its pieces and part file
atomically under our own ids, so a chunk that Dask runs again (its worker died: the
scheduler hands it to another, ``distributed.scheduler.allowed-failures`` times) writes the
same bytes, and the batch is byte-identical to a local run. Workers are recycled by Dask's
own means (a LocalCluster's worker lifetime and memory limit; ``dask worker --lifetime``),
not by the local pool's generations of chunks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from kenpo_docs.errors import ClusterError
from kenpo_docs.mailing.chunk import ChunkJob, ChunkResult, render_chunk

#: Test-only: a marker file's path. The first chunk a worker starts while the marker is
#: missing creates it and kills that worker (the fault test of a lost worker).
TEST_KILL_ENV = "KENPO_DOCS_TEST_KILL_CHUNK"
#: Chunks handed to the scheduler ahead of those finished, per worker thread: enough to keep
#: every worker busy, few enough that the plan is read a little at a time.
AHEAD_PER_THREAD = 2
#: A LocalCluster worker is replaced after this long (WeasyPrint's caches grow with every
#: document laid out), staggered so the workers are not replaced all at once.
LOCAL_LIFETIME = "20 minutes"
LOCAL_LIFETIME_STAGGER = "2 minutes"
CONNECT_TIMEOUT = "10s"
_ADDRESS = re.compile(r"(?:tcp|tls)://[^\s/]+:\d+|local:\d+")
INSTALL_HINT = "pip install kenpo-docs[cluster]"


def check_address(address: str) -> str:
    """``address`` if it is ``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``local:N`` (N >= 1)."""
    if not _ADDRESS.fullmatch(address) or address == "local:0":
        raise ClusterError(
            f"--cluster {address!r}: tcp://ホスト:ポート または local:N を指定してください "
            "(expected tcp://HOST:PORT of a Dask scheduler, or local:N worker processes)")
    return address


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError(
            f"--cluster には dask と distributed が必要です: {INSTALL_HINT} "
            "(the cluster extra is not installed)") from exc
    return distributed


def _kill_hook() -> None:
    """Test-only (``KENPO_DOCS_TEST_KILL_CHUNK``): kill this worker on the first chunk."""
    marker = os.environ.get(TEST_KILL_ENV)
    if marker:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return
        os.close(fd)
        os._exit(70)


def dask_setup(worker: object) -> None:
    """Run by each worker of a ``local:N`` cluster as it starts (Dask's preload hook): Ctrl+C
    is this merge's to handle, not the worker's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_chunk(job: ChunkJob) -> ChunkResult:
    """A chunk on a worker (the static enclosures are on the shared folder already)."""
    _kill_hook()
    return render_chunk(job)


def _probe(folder: str, token: str) -> str:
    """On a worker: write a probe file into ``folder`` and return its name ('' if it could
    not be written: the folder is not there, so not shared)."""
    name = f".cluster-probe-{token}-{socket.gethostname()}-{os.getpid()}"
    try:
        fd = os.open(os.path.join(folder, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return ""
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    return name


class Cluster:
    """A connection to a Dask cluster (started here for ``local:N``); close it when done."""

    def __init__(self, address: str) -> None:
        check_address(address)
        distributed = _distributed()
        self.address = address
        self._cluster: Any = None
        self._config: Any = None
        # distributed says every start, connection and close at INFO: staff see our lines,
        # its warnings and errors only.
        self._log = logging.getLogger("distributed")
        self._level = self._log.level
        self._log.setLevel(logging.WARNING)
        try:
            if address.startswith("local:"):
                self._start_local(distributed, int(address.removeprefix("local:")))
            else:
                self.client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ClusterError(
                f"--cluster {address}: Dask スケジューラに接続できません "
                f"(cannot reach the Dask scheduler: {exc.__class__.__name__})") from exc
        except BaseException:  # Ctrl+C while starting: no worker is left behind
            self.close()
            raise

    def _start_local(self, distributed: Any, workers: int) -> None:
        """A LocalCluster whose worker processes leave Ctrl+C to this one, as the local
        pool's workers do (see :mod:`~kenpo_docs.mailing.executor`): each ignores SIGINT
        once it has started (:func:`dask_setup`, run by the worker as its preload), so a
        Ctrl+C to the terminal's process group stops the merge here, which closes the
        cluster, instead of printing a traceback from each worker. (Blocking SIGINT while
        the cluster starts, as the local pool does, is undone by its event-loop thread.)

        The workers' statistical profiler (a look at the running thread's stack every 10 ms,
        for the dashboard) is off: it cost CPU for nothing here. The setting stays while
        the cluster lives, so workers restarted by their lifetime get it too."""
        import dask

        self._config = dask.config.set({"distributed.worker.profile.enabled": False})
        self._cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
            lifetime=LOCAL_LIFETIME, lifetime_stagger=LOCAL_LIFETIME_STAGGER,
            lifetime_restart=True, preload=[__name__])
        self.client = distributed.Client(self._cluster)

    @property
    def threads(self) -> int:
        """Worker threads the cluster has now (at least 1)."""
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def check_shared(self, folder: Path) -> None:
        """Refuse the cluster unless every worker writes into ``folder`` where this process
        reads (a probe file from each worker)."""
        token = secrets.token_hex(8)
        names: dict[str, str] = self.client.run(_probe, str(folder), token)
        missing = []
        for worker, name in names.items():
            path = folder / name if name else None
            try:
                seen = path is not None and path.read_text() == token
            except OSError:
                seen = False
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
            if not seen:
                missing.append(worker)
        if missing or not names:
            raise ClusterError(
                f"出力フォルダ {folder.parent} がクラスタのワーカーから見えません: 共有フォルダ"
                "(NFS 等)を同じパスで使ってください (the output folder is not shared with "
                f"{len(missing) or 'any'} worker(s): use one shared folder at the same path)")

    def run(self, jobs: Iterable[ChunkJob], finished: Callable[[ChunkResult], None]) -> None:
        """Run ``jobs`` on the cluster, a few ahead of those finished, and call
        ``finished`` with each result as it comes (in the order they finish)."""
        distributed = _distributed()
        pending: Iterator[ChunkJob] = iter(jobs)
        running: Any = distributed.as_completed()
        futures: list[Any] = []

        def submit(count: int) -> None:
            for job in pending:
                future = self.client.submit(run_chunk, job, pure=False,
                                            key=f"chunk-{job.pieces[0].piece_id}")
                futures.append(future)
                running.add(future)
                count -= 1
                if count <= 0:
                    return

        try:
            submit(self.threads * AHEAD_PER_THREAD)
            for future in running:
                try:
                    result: ChunkResult = future.result()
                except (distributed.KilledWorker, OSError) as exc:
                    # A chunk that killed its workers again and again (the scheduler's
                    # allowed-failures), or the scheduler gone: what is written is whole.
                    raise ClusterError(
                        f"クラスタでの処理が止まりました ({future.key}: {exc.__class__.__name__}"
                        "); 同じコマンドで再開できます (the cluster stopped the batch; run the "
                        "same command again to resume)") from exc
                futures.remove(future)
                finished(result)
                # workers that joined since (``dask worker`` started later) get work too
                submit(max(1, self.threads * AHEAD_PER_THREAD - len(futures)))
        except BaseException:
            # Ctrl+C or a failed chunk: nothing more is started; what was written is whole,
            # so the batch resumes with the same command.
            self.client.cancel(futures)
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if getattr(self, "client", None) is not None:
                self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None
        self._log.setLevel(self._level)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
