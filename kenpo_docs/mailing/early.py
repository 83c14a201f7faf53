"""The merge's early start: the first chunks rendered while the roster is still being read.

A big roster takes a while to read, check and plan (every row is staged on disk first, see
:mod:`kenpo_docs.input.store`), and the plan's order is known only once the last row is in:
a later row can be a dependent of an earlier household, a duplicate, or a household that
sorts before the ones already seen. But when the roster is already in print order, with
each household's rows together (``--sort roster`` and a roster grouped by 記号・番号, or a
roster already sorted as ``--sort workplace`` or ``--sort postal`` prints), the pieces at
its start are known as soon as their households are complete. :class:`EarlyStart` watches
the rows as they are staged and, while the order holds, plans each complete household
exactly as the plan will (the same checks between rows, the window fit, the letter's
decisions, the sort key), numbers its piece and hands full chunks (cut as the plan cuts
them, :func:`~kenpo_docs.mailing.executor.chunk_sizes`) to the worker processes.

Nothing is trusted on the strength of that guess. The early chunks are rendered into the
run's private staging folder, never into the batch folder, because the roster may still be
refused as a whole (a My Number column, a file that ends inside a quoted cell) or the batch
id be taken, and nothing may be written then. Once the whole roster is read and the real
plan made, each early chunk is compared with the plan's chunk at the same place, piece by
piece (id, household, members, route, every fact the letter prints): a chunk that is the
same is moved into the batch folder as if the merge had just rendered it (the same bytes:
the same pieces with the same neighbours), any other is thrown away and rendered by the
merge as usual. A wrong guess costs only the work spent on it.

The guessing stops for good (what was handed out still counts) at the first household that
sorts before the one before it, or after one generation of chunks (the worker processes
are then replaced, as every generation is: see :data:`~.executor.MAX_TASKS_PER_WORKER`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from kenpo_docs.documents.letters import Envelope, LetterSettings, LetterSpec
from kenpo_docs.domain import facts
from kenpo_docs.errors import RuleError
from kenpo_docs.files import private_dir, write_atomic
from kenpo_docs.input.cells import Row
from kenpo_docs.input.members import Household, Member
from kenpo_docs.input.rows import issued_after_insured_lost
from kenpo_docs.input.store import loads
from kenpo_docs.mailing.chunk import ChunkJob, ChunkResult
from kenpo_docs.mailing.executor import chunk_sizes
from kenpo_docs.mailing.plan import BatchPlan, PiecePlan, piece_id, plan_household, sort_key
from kenpo_docs.mailing.window import window_problem

logger = logging.getLogger(__name__)


@dataclass
class _Chunk:
    start: int  # the index of its first piece in print order
    pieces: list[PiecePlan]
    last: tuple[Any, ...]  # its last piece's sort key
    future: Future[ChunkResult] | None = None


class EarlyStart:
    """Plans and renders the first chunks from the rows as they are staged (``observe``).

    Args:
        folder: a private folder of this run (the store's) the early chunks are written to.
        job: the chunk job for the batch's columns (``on_columns``), pieces still to fill in,
            writing into the given pieces and parts folders and reading the static
            enclosures from the given paths; raises KenpoDocsError when the batch cannot be
            made (then nothing starts early: the merge says why in its turn).
        statics: makes the static enclosures in the given folder and returns their paths, or
            None while they are still being rendered (never blocks); raises as ``job``.
        submit: hands a chunk job to the worker processes.
        limit: at most this many chunks are started early.
    """

    def __init__(
        self,
        folder: Path,
        *,
        letter: LetterSpec,
        as_of: date,
        settings: LetterSettings,
        sort: str,
        batch_id: str,
        envelope: Envelope,
        chunk_size: int,
        job: Callable[[frozenset[str], list[Path], Path, Path], ChunkJob],
        statics: Callable[[Path], list[Path] | None],
        submit: Callable[[ChunkJob], Future[ChunkResult]],
        limit: int,
    ) -> None:
        self.letter, self.as_of, self.settings, self.sort = letter, as_of, settings, sort
        self.batch_id, self.envelope = batch_id, envelope
        self.payroll_group = facts.insurer().payroll_group
        self.pieces_dir = private_dir(folder / "pieces")
        self.parts_dir = private_dir(folder / "parts")
        self.static_dir = private_dir(folder / "static")
        self._job_for, self._statics, self._submit, self.limit = job, statics, submit, limit
        self._columns: frozenset[str] | None = None
        self._base: ChunkJob | None = None
        self._sizes: Iterator[int] = chunk_sizes(chunk_size)
        self._size = next(self._sizes)
        self._start = 0
        self._pending: list[PiecePlan] = []
        self._key: str | None = None  # the household whose rows are coming in
        self._rows: list[tuple[Any, ...]] = []
        self._last: tuple[Any, ...] | None = None  # the last piece's sort key
        self.chunks: list[_Chunk] = []  # cut, in print order; rendering once ``future`` is set
        self.stopped = False
        self.used = 0  # chunks handed to the workers
        self.redone = 0  # pieces rendered early but not the plan's (see adopt)
        self._flusher: threading.Thread | None = None
        self._halt = threading.Event()
        self.why = ""  # why the guessing stopped, for the log

    # -- while the roster is read --------------------------------------------------------

    def on_columns(self, columns: frozenset[str]) -> None:
        self._columns = columns

    def observe(self, rows: list[tuple[Any, ...]]) -> None:
        """A batch of staged rows, in row order (see :func:`~.roster.stage_roster`)."""
        if self.stopped:
            self._start_chunks()  # those cut before it stopped, once the enclosures are made
            return
        for row in rows:
            household = row[2]
            if household is None:  # a row whose key cannot be read: rejected, in no household
                continue
            if household != self._key:
                if self._rows and not self._close():
                    break
                self._key, self._rows = household, []
            self._rows.append(row)
        self._start_chunks()

    def stop(self, why: str = "") -> None:
        """No more guessing (the roster is read, or the order broke)."""
        if not self.stopped:
            self.stopped, self.why = True, why
        self._rows = []

    def read(self) -> None:
        """The roster is read: no more guessing. Chunks cut while the notice to enclose was
        still rendering go to the workers as soon as it is made, from a thread, while this
        process checks and plans the roster."""
        self.stop()
        if any(c.future is None for c in self.chunks):
            self._flusher = threading.Thread(target=self._flush, name="kenpo-docs-early",
                                             daemon=True)
            self._flusher.start()

    def _flush(self) -> None:
        while not self._halt.is_set() and any(c.future is None for c in self.chunks):
            self._start_chunks()
            self._halt.wait(0.05)

    def _join(self) -> None:
        """Stop the thread handing out chunks (see :meth:`read`)."""
        self._halt.set()
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None

    def _join_ready(self) -> None:
        """Let the thread hand out what it holds (the notice is needed now anyway)."""
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None

    def _close(self) -> bool:
        """The household whose rows just ended, planned as the plan will plan it. False once
        the guessing has stopped."""
        household = _household(self._key or "", self._rows)
        self._rows = []
        if household is None:  # its insured person's row is missing or rejected: no piece
            return True
        insured = household.insured
        try:
            route = facts.delivery_route(membership=insured.membership or "",
                                         workplace_code=insured.workplace_code)
        except RuleError:
            return True  # the plan rejects the household: no piece
        if window_problem(insured, home=route.kind == "home", envelope=self.envelope,
                          payroll_group=self.payroll_group) is not None:
            return True  # the address does not fit the window: rejected, no piece
        route_, parts, _ = plan_household(household, self.letter, as_of=self.as_of,
                                          settings=self.settings)
        if route_ is None or not parts:
            return True
        key = sort_key(self.sort, household, route_)
        if self._last is not None and key < self._last:
            # This household's piece goes before those already cut whose keys are greater:
            # they cannot be the plan's, so they are not rendered (or no further).
            self.stop("the roster is not in print order")
            self.chunks = [c for c in self.chunks if not (
                c.last > key and (c.future is None or c.future.cancel()))]
            return False
        self._last = key
        seq = self._start + len(self._pending) + 1
        self._pending.append(PiecePlan(piece_id(self.batch_id, seq), seq, household, route_,
                                       tuple(parts)))
        if len(self._pending) == self._size:
            self.chunks.append(_Chunk(self._start, self._pending, key))
            self._start += self._size
            self._pending = []
            self._size = next(self._sizes)
            if len(self.chunks) >= self.limit:
                self.stop("one generation of chunks started early")
        return not self.stopped

    def _start_chunks(self) -> None:
        """Hand the chunks cut so far to the workers, once the static enclosures are made."""
        waiting = [c for c in self.chunks if c.future is None]
        if not waiting:
            return
        if self._base is None:
            if self._columns is None:
                return
            try:
                statics = self._statics(self.static_dir)
                if statics is None:
                    return  # a notice still rendering: the next batch of rows looks again
                self._base = self._job_for(self._columns, statics, self.pieces_dir,
                                           self.parts_dir)
            except Exception as exc:  # the merge meets it again and says why
                self.stop(f"not started: {type(exc).__name__}")
                self.chunks = []
                return
        for chunk in waiting:
            try:
                chunk.future = self._submit(replace(self._base, pieces=tuple(chunk.pieces)))
            except RuntimeError:  # the pool is shutting down: the merge is ending
                self.chunks = [c for c in self.chunks if c.future is not None]
                return
            self.used += 1

    # -- once the plan is made -----------------------------------------------------------

    def adopt(self, plan: BatchPlan, pieces_dir: Path, parts_dir: Path) -> list[ChunkResult]:
        """The early chunks that are the plan's own, moved into the batch folder (pieces and
        part files); the others are thrown away. Waits for the chunks still rendering."""
        self.stop()
        self._join_ready()
        adopted: list[ChunkResult] = []
        kept = thrown = 0
        self.redone = 0
        for chunk in self.chunks:
            if chunk.future is None:
                continue
            try:
                result = chunk.future.result()
            except Exception as exc:  # rendered again by the merge, which reports it then
                logger.debug("early chunk at %d failed: %s", chunk.start, type(exc).__name__)
                thrown += 1
                self.redone += len(chunk.pieces)
                continue
            same = list(plan.pieces[chunk.start:chunk.start + len(chunk.pieces)]) == chunk.pieces
            if not same:
                self._discard(result)
                thrown += 1
                self.redone += len(result.pieces)
                continue
            for pid, _ in result.pieces:
                _move(self.pieces_dir / f"{pid}.pdf", pieces_dir / f"{pid}.pdf")
            if result.part is not None:
                for suffix in (".seg", ".json"):
                    source = result.part.with_suffix(suffix)
                    _move(source, parts_dir / source.name)
            adopted.append(result)
            kept += 1
        if kept + thrown:
            logger.info("early start: %d chunks rendered while the roster was read, %d kept, "
                        "%d rendered again%s", kept + thrown, kept, thrown,
                        f" ({self.why})" if self.why else "")
        self.chunks = []
        return adopted

    def abandon(self) -> None:
        """The merge ends without a plan (an error, Ctrl+C): no worker may still be writing
        into the private folder when it is removed."""
        self.stop()
        self._join()
        started = sum(1 for chunk in self.chunks if chunk.future is not None)
        if started:
            logger.info("early start: %d chunks started while the roster was read are thrown "
                        "away (the merge ended before its plan)", started)
        for chunk in self.chunks:  # a chunk takes seconds; Ctrl+C again stops the wait
            if chunk.future is not None and not chunk.future.cancel():
                with contextlib.suppress(Exception):
                    chunk.future.result()
        self.chunks = []

    def _discard(self, result: ChunkResult) -> None:
        for pid, _ in result.pieces:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.pieces_dir / f"{pid}.pdf")


def _household(key: str, rows: list[tuple[Any, ...]]) -> Household | None:
    """A household from its staged rows, when they are all together: what the checks between
    rows (:func:`~kenpo_docs.input.roster._link_households`) and the staging of households
    make of them. None when its insured person (枝番 00) has no accepted row."""
    firsts: dict[str, int] = {}
    for number, member_key, *_ in rows:
        firsts.setdefault(member_key, number)
    insured_key = f"{key}-00"
    insured_blob = next((blob for number, member_key, _, blob, *_ in rows
                         if member_key == insured_key and number == firsts.get(insured_key)),
                        None)
    if insured_blob is None:
        return None
    insured: Member = loads(insured_blob)
    dependents: list[Member] = []
    for number, member_key, _, blob, *_ in rows:
        if member_key == insured_key or blob is None or firsts[member_key] != number:
            continue  # the insured person, a rejected row or a duplicate key
        member: Member = loads(blob).with_membership(insured.membership)
        if issued_after_insured_lost(Row(number, [], {}, {}), member, insured):
            continue
        dependents.append(member)
    dependents.sort(key=lambda m: (m.branch, m.row))
    return Household(insured, tuple(dependents))


def _move(source: Path, target: Path, *,
          rename: Callable[[Path, Path], None] = os.replace) -> None:
    """``source`` (a private staging file) to ``target``, atomically: renamed on the same
    file system, else copied through :func:`~kenpo_docs.files.write_atomic` (0600)."""
    try:
        rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        write_atomic(target, source.read_bytes())
        os.unlink(source)
