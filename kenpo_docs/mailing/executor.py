"""Worker processes for a merge: spawned with Ctrl+C left to the main process, replaced
after a bounded number of chunks, and the order chunks are cut in."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import SpawnContext, SpawnProcess

from kenpo_docs.mailing.plan import PiecePlan

#: Chunks a worker process renders before it is replaced (bounds WeasyPrint's cache growth).
#: Replacement is done by starting a new pool for each generation of chunks, not with
#: ``max_tasks_per_child``: on Python 3.11-3.14 that option deadlocks once a worker retires
#: with work still queued (CPython gh-115634), which hung every batch of more than
#: workers x 40 chunks (~3,200 pieces on 2 cores).
MAX_TASKS_PER_WORKER = 40


class _WorkerProcess(SpawnProcess):
    """A worker that leaves Ctrl+C to this process: it starts with SIGINT blocked (the signal
    mask is inherited through fork and exec), so the terminal's SIGINT to the whole process
    group does not print a traceback from each worker (one still importing printed one).
    This process stops the batch; the workers finish their chunk and exit with the pool.
    Here SIGINT is only held back while the worker starts, never lost (ignoring it instead
    lost a Ctrl+C that came in that moment)."""

    def start(self) -> None:
        sigint = {signal.SIGINT}
        held = signal.pthread_sigmask(signal.SIG_BLOCK, sigint)
        try:
            super().start()
        finally:
            if signal.SIGINT not in held:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, sigint)


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


def pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_WorkerContext())


def chunks(pieces: Sequence[PiecePlan], size: int) -> Iterator[list[PiecePlan]]:
    """Small first chunks so the first finished piece comes quickly, then full ones."""
    i = 0
    for first in (2, max(2, size // 3)):
        if i < len(pieces) and first < size:
            yield list(pieces[i : i + first])
            i += first
    while i < len(pieces):
        yield list(pieces[i : i + size])
        i += size
