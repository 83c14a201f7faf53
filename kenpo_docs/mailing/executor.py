"""Worker processes for a merge: spawned with Ctrl+C left to the main process, gone when the
main process is, replaced after a bounded number of chunks, and the order chunks are cut in."""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import sys
import threading
import time
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


@contextlib.contextmanager
def held_sigint() -> Iterator[None]:
    """Hold Ctrl+C while work is handed to a pool (which starts its worker processes then),
    and raise it once the block is done.

    Python runs its SIGINT handler in the main thread whichever thread the kernel gave the
    signal to, so :class:`_WorkerProcess`'s signal mask alone did not keep a KeyboardInterrupt
    out of the middle of writing a new worker's start-up data: the worker then died with
    "EOFError: Ran out of input" under the one-line message. Here the pool's own state is
    whole when the interrupt is raised, so its shutdown stops every worker it started.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda sig, _frame: came.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if came:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


#: How often a worker looks whether the process that started it is still there.
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def _exit_with(parent: int) -> None:
    """In a worker: end this process when ``parent`` (the merge) ends.

    A merge killed on its own (SIGKILL, the OOM killer) used to leave its workers waiting
    forever on the task pipe they hold. On Linux the kernel sends SIGTERM to a worker when the
    process that started it dies (``PR_SET_PDEATHSIG``); everywhere, a watch thread exits the
    worker once its parent is no longer its parent. A killed worker leaves at most temp files,
    which the next run of the batch removes."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # the watch thread still covers it
            pass
    if os.getppid() != parent:  # died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="kenpo-docs-parent-watch", daemon=True).start()


def die_with(parent: int) -> None:
    """End this process when ``parent`` ends, as merge workers do (for other helper
    processes, such as the web page's runner)."""
    _exit_with(parent)


def pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_WorkerContext(),
                               initializer=_exit_with, initargs=(os.getpid(),))


def chunk_sizes(size: int) -> Iterator[int]:
    """The sizes chunks are cut in, endlessly: small first chunks so the first finished piece
    comes quickly, then full ones (the early start cuts its chunks the same way)."""
    for first in (2, max(2, size // 3)):
        if first < size:
            yield first
    yield from itertools.repeat(size)


def chunks(pieces: Sequence[PiecePlan], size: int) -> Iterator[list[PiecePlan]]:
    """The plan's pieces cut into chunks of :func:`chunk_sizes`."""
    i = 0
    for length in chunk_sizes(size):
        if i >= len(pieces):
            return
        yield list(pieces[i : i + length])
        i += length
