"""The runner: a separate process that runs the queued merges, one at a time.

The app's lifespan starts it (:func:`start`) and stops it at shutdown. It takes the oldest
queued batch (:func:`kenpo_docs.web.jobs.take_next`), runs
:func:`kenpo_docs.mailing.run.merge` into ``batches/<batch id>/`` of the data folder with the
tracking database ``tracking.sqlite``, and writes the progress to the web database after each
chunk (the page reads it from there). A cancel asked on the page stops the merge after the
chunk in hand. Stopping the server interrupts the merge (SIGINT, as Ctrl+C does in a
terminal) and puts the batch back in the queue; the next start finishes it from the pieces
already made (the merge resumes by itself). The web server never renders anything heavy:
a 10,000-household merge cannot stall the pages, and a crash of the merge cannot take the
server down.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from multiprocessing.synchronize import Event
from pathlib import Path
from types import FrameType
from typing import Any

from kenpo_docs.documents.notices import folder_hash
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.paths import templates_dir
from kenpo_docs.web import jobs, uploads
from kenpo_docs.web.audit import write_entry
from kenpo_docs.web.store import DataFolder, create_private

logger = logging.getLogger(__name__)

#: Seconds between looks at the queue when it is empty.
POLL_SECONDS = 0.5
#: Seconds the runner gets to stop a merge at shutdown before it is killed.
STOP_SECONDS = 20.0


class Cancelled(Exception):
    """A cancel was asked for on the page."""


def merge_options(folder: DataFolder, batch: jobs.Batch, *, workers: int,
                  out: Path | None = None, record: bool = True) -> MergeOptions:
    """The merge's options for ``batch``: its mailing options, our batch id, its own folder
    (or ``out``) and the data folder's tracking database (none unless ``record``)."""
    o = batch.options
    return MergeOptions(
        letter=o["letter"], out=out or folder.batch_dir(batch.id),
        as_of=date.fromisoformat(o["as_of"]),
        batch_id=batch.id, enclosures=tuple(o.get("enclosures", ())),
        notice=o.get("notice") or None, document_number=o.get("document_number"),
        sides=o.get("sides", "duplex"), cards=bool(o.get("cards", True)),
        card_stock=bool(o.get("card_stock", False)),
        db=folder.tracking_db if record else None, workers=workers,
    )


def run_batch(folder: DataFolder, batch: jobs.Batch, *, workers: int) -> str:
    """Run one batch's merge to its end; returns the state it ended in."""
    from kenpo_docs.mailing.run import merge

    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.2:
            return
        last[0] = now
        if jobs.progress(folder, batch.id, done, total):
            raise Cancelled

    write_entry(folder, "runner", "batch-start", batch=batch.id)
    # What the print depends on besides the roster: the templates folder as it is now.
    templates = folder_hash(templates_dir())
    try:
        result = merge(uploads.stored_path(folder, batch.upload),
                       options=merge_options(folder, batch, workers=workers),
                       progress=progress)
    except Cancelled:
        jobs.finish(folder, batch.id, "cancelled", "取り消しました。もう一度実行すると続きから"
                    "作ります (cancelled; run again to finish)")
        write_entry(folder, "runner", "batch-cancelled", batch=batch.id)
        return "cancelled"
    except KenpoDocsError as exc:
        jobs.finish(folder, batch.id, "failed", str(exc))
        write_entry(folder, "runner", "batch-failed", batch=batch.id)
        return "failed"
    except KeyboardInterrupt:
        jobs.requeue(folder, batch.id, "サーバーの停止で中断しました。次の起動で続きから作ります "
                     "(interrupted by a server stop; resumes at the next start)")
        raise
    except Exception as exc:
        # The type only: an exception's text may hold a roster value.
        logger.error("batch %s failed: %s", batch.id, type(exc).__name__)
        jobs.finish(folder, batch.id, "failed", f"内部エラーで止まりました ({type(exc).__name__})。"
                    "管理者に連絡してください")
        write_entry(folder, "runner", "batch-failed", batch=batch.id)
        return "failed"
    jobs.progress(folder, batch.id, result.pieces, result.pieces)
    jobs.finish(folder, batch.id, "done", result.summary(), {
        "pieces": result.pieces, "pages": result.pages, "ok": result.ok,
        "skipped": result.skipped, "rejected": result.rejected,
        "seconds": round(result.seconds, 1),
        "print_files": [p.name for p in result.print_files],
        "templates_sha256": templates,
    })
    write_entry(folder, "runner", "batch-done", batch=batch.id, pieces=result.pieces,
                rejected=result.rejected)
    return "done"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(root: str, workers: int, stop: Event, parent: int) -> None:
    """The runner process: take queued batches until ``stop`` is set."""
    from kenpo_docs.mailing.executor import die_with

    die_with(parent)  # a server killed outright does not leave the runner behind
    signal.signal(signal.SIGTERM, _interrupt)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: runner: %(message)s")
    folder = DataFolder(Path(root))
    with contextlib.suppress(KeyboardInterrupt), _only_runner(folder, stop) as mine:
        if not mine:
            return
        jobs.requeue_interrupted(folder)
        while not stop.is_set():
            batch = jobs.take_next(folder)
            if batch is None:
                stop.wait(POLL_SECONDS)
                continue
            run_batch(folder, batch, workers=workers)


@contextlib.contextmanager
def _only_runner(folder: DataFolder, stop: Event) -> Iterator[bool]:
    """Hold ``web/runner.lock`` (``flock``, released when the process ends, however): a
    second server on the same data folder waits here instead of running batches beside the
    first one's runner. Yields False when stopped before the lock was had."""
    path = folder.web / "runner.lock"
    create_private(path)
    fd = os.open(path, os.O_RDWR)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if stop.wait(POLL_SECONDS):
                    yield False
                    return
        yield True
    finally:
        os.close(fd)


@dataclass
class Runner:
    """The running runner process, as the app holds it."""

    process: Any
    stop_event: Event

    def stop(self) -> None:
        """Stop: at once when idle; a merge in hand is interrupted (its batch is queued
        again and resumes at the next start)."""
        self.stop_event.set()
        self.process.join(POLL_SECONDS * 3)
        if self.process.is_alive() and self.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGINT)
            self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    @property
    def alive(self) -> bool:
        return bool(self.process.is_alive())


def start(folder: DataFolder, *, workers: int) -> Runner:
    """Start the runner process for ``folder`` (spawned: a fresh interpreter, nothing of the
    server's state)."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    process = context.Process(target=main, name="kenpo-docs-runner",
                              args=(str(folder.root), workers, stop, os.getpid()))
    process.start()
    return Runner(process, stop)
