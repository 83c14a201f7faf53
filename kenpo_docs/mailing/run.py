"""The mail merge: a roster in, one PDF per envelope out, print files and a manifest.

The path of a batch::

    stage_roster (rows staged on disk) -> plan_batch (pure: pieces, ids, every row's fate,
      sorted and kept in the same store)
      -> render missing pieces in chunks (one WeasyPrint document per chunk and template,
         split by the piece anchors; worker processes when asked); each chunk writes its
         pieces and a scratch part file (OUT/parts/) with the fonts once per chunk and
         static enclosures drawn from one shared Form XObject
      -> print files per route, streamed from the part files -> manifest.csv

Memory does not grow with the batch: the roster's rows and the plan wait in a SQLite file
(:mod:`kenpo_docs.input.store`) and are read a chunk at a time, PDFs are held one chunk at a
time and print files are written page by page (see :mod:`kenpo_docs.pdf.stream`). Timing
and where the time goes: ``make bench`` and bench/NOTES.md.

Every file is written atomically, so a batch killed at any point finishes when started
again with the same ``--out`` and batch id. Chunks whose pieces all exist (and whose part file
is still there while the print files are to be made) are not rendered again; a chunk that was
cut off is rendered again whole, so the resumed batch is byte for byte the uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from kenpo_docs import gates
from kenpo_docs.documents.cards import CARD_LETTERS
from kenpo_docs.documents.letters import (
    Envelope,
    LetterSettings,
    LetterSpec,
    get_letter,
    load_envelope,
)
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.files import private_dir
from kenpo_docs.input.check import no_sex_note, roster_extrapolation_note
from kenpo_docs.input.roster import Roster, stage_roster
from kenpo_docs.input.store import Store
from kenpo_docs.mailing import enclosures as enc
from kenpo_docs.mailing import executor, folder, manifest, protect
from kenpo_docs.mailing.chunk import ChunkJob, ChunkResult, render_chunk
from kenpo_docs.mailing.cluster import Cluster
from kenpo_docs.mailing.early import EarlyStart
from kenpo_docs.mailing.options import MergeOptions, MergeResult, Progress, ProofResult
from kenpo_docs.mailing.plan import (
    BATCH_ID_RE,
    BatchPlan,
    PageCounts,
    default_batch_id,
    plan_batch,
)
from kenpo_docs.mailing.printfiles import (
    COVER_ROWS_PER_DOCUMENT,
    write_print_files,
)
from kenpo_docs.mailing.proof import PROOF_DPI, write_proofs
from kenpo_docs.mailing.window import fit_households
from kenpo_docs.tracking.record import claim_batch, record_batch

logger = logging.getLogger(__name__)

def roster_sha256(path: Path) -> hashlib._Hash:
    """The roster's SHA-256, read a block at a time (a big roster is not held whole)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h


def batch_fingerprint(
    roster: bytes | hashlib._Hash, options: MergeOptions, static: Sequence[enc.Enclosure]
) -> str:
    """The batch's input and options as one digest (the default batch id comes from it).
    ``roster``: the roster's bytes, or their SHA-256 so far (:func:`roster_sha256`)."""
    h = hashlib.sha256(roster) if isinstance(roster, bytes) else roster.copy()
    for part in (
        options.letter,
        options.as_of.isoformat(),
        options.sort,
        options.notice or "",
        # the batch's 文書番号 (absent: fingerprints unchanged)
        *([f"docno:{options.document_number}"] if options.document_number is not None else []),
        str(options.window_months),
        options.envelope,
        options.sheet or "",
        # hardening: exempt columns change which rows are kept (absent: fingerprints unchanged)
        *(["allow:" + "\0".join(options.allow_columns)] if options.allow_columns else []),
        # simplex pieces have no blank back pages (duplex, the default: fingerprints unchanged)
        *([f"sides:{options.sides}"] if options.sides != "duplex" else []),
        *options.enclosures,
        *(e.fingerprint for e in static),
        # the cards: on A4 by default (absent: fingerprints unchanged)
        *(["cards:off"] if not options.cards else []),
        *(["cards:stock"] if options.card_stock else []),
    ):
        h.update(b"\0" + part.encode())
    return h.hexdigest()


def _cards(letter: LetterSpec, options: MergeOptions, roster: Roster | frozenset[str]
           ) -> str | None:
    """The cards the batch's pieces enclose (the letter's name), or None.

    A roster without the 性別 column (written before the cards) gets no 資格確認書 cards
    (the merge warns once, as ``check`` notes it, once the batch is claimed:
    :func:`no_sex_note`).
    """
    if options.card_stock and (letter.name not in CARD_LETTERS or not options.cards):
        raise KenpoDocsError(f"--card-stock: the {letter.name} letter encloses no cards "
                             f"(cards: {', '.join(sorted(CARD_LETTERS))}; not with --no-cards)")
    if not options.cards or letter.name not in CARD_LETTERS:
        return None
    has_sex_column = ("sex" in roster if isinstance(roster, frozenset)
                      else roster.has_sex_column)
    if letter.name == "kakuninsho" and not has_sex_column:
        return None
    return letter.name


def merge(
    roster_path: str | Path,
    *,
    options: MergeOptions,
    progress: Progress | None = None,
    proof_progress: Progress | None = None,
) -> MergeResult:
    """Run a merge. Whole-input problems raise before anything is written.
    ``proof_progress(done, total)``: after each proof piece (``options.proof``).

    Raises:
        RosterError, KenpoDocsError: unusable roster, letter, enclosure or output folder.
    """
    started = time.monotonic()
    if options.proof and options.password is not None:
        # A proof is a picture of a member's letter in clear: it would defeat --encrypt.
        raise KenpoDocsError("--proof と --encrypt は一緒に使えません: 校正用の画像は暗号化されない"
                             "ためです (proofs are pictures in clear; an encrypted batch gets "
                             "none)")
    fast = gates.warn_once_if_off()
    if options.strict and not fast.on:
        raise KenpoDocsError(f"fast path off ({fast.reason}); refused with --strict")
    letter = get_letter(options.letter)
    envelope = load_envelope(options.envelope)
    specs = enc.parse_enclosures(options.enclosures)
    static = [e for e in specs if e.static]
    workers = options.workers if options.workers > 0 else (os.cpu_count() or 1)
    pool = None
    early: dict[int, Future[bytes]] = {}
    cluster = None
    if options.cluster is not None:
        # Reached (or started) before the roster is read: a wrong address is said at once.
        cluster = Cluster(options.cluster)
        workers = 1  # this process's own share (cover sheets): the chunks go to the cluster
    elif workers > 1 and (any(e.kind == "notice" for e in static)
                          or _may_start_early(options)):
        # The worker pool starts now and renders the notices to enclose while this process
        # reads the roster (seconds each at 10,000 households), and the first chunks when the
        # roster is in print order (mailing/early.py): the first piece comes sooner.
        # (A pool starts its processes as work arrives: one notice, one process so far.)
        pool = executor.pool(workers)
        with executor.held_sigint():
            early = {i: pool.submit(enc.render_static, e) for i, e in enumerate(static)
                     if e.kind == "notice"}
    # The folder's lock is released last, once no worker can write into it any more.
    with contextlib.ExitStack() as claim:
        try:
            return _merge(Path(roster_path), options, progress, proof_progress, started=started,
                          letter=letter, envelope=envelope, specs=specs, workers=workers,
                          pool=pool, early=early, claim=claim, cluster=cluster)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            if cluster is not None:
                cluster.close()


def _merge(
    roster_path: Path,
    options: MergeOptions,
    progress: Progress | None,
    proof_progress: Progress | None,
    *,
    started: float,
    letter: LetterSpec,
    envelope: Envelope,
    specs: list[enc.Enclosure],
    workers: int,
    pool: ProcessPoolExecutor | None,
    early: dict[int, Future[bytes]],
    claim: contextlib.ExitStack,
    cluster: Cluster | None = None,
) -> MergeResult:
    # The roster's rows and the plan are staged on disk (input/store.py): memory stays flat
    # with the roster's size; the store goes when the merge ends.
    store = claim.enter_context(Store())
    static = [e for e in specs if e.static]
    settings = LetterSettings(window_months=options.window_months)
    starter = None
    roster_hash = None
    if pool is not None and store.folder is not None and _may_start_early(options):
        # The early start numbers pieces as the plan will: it needs the batch id now (a file
        # that cannot be read is said by the roster's reading, as without it).
        with contextlib.suppress(OSError):
            roster_hash = roster_sha256(roster_path)
            batch_id = options.batch_id or default_batch_id(
                letter, options.as_of, batch_fingerprint(roster_hash, options, static))
            if BATCH_ID_RE.match(batch_id):
                starter = _early_start(store.folder / "early", options, letter, envelope,
                                       specs, static, settings, batch_id, pool, early,
                                       limit=workers * options.worker_chunks)
                claim.callback(starter.abandon)  # before the store (and its folder) goes
    roster = fit_households(stage_roster(
        roster_path, store=store, as_of=options.as_of, sheet=options.sheet,
        allow_columns=options.allow_columns,
        on_columns=starter.on_columns if starter else None,
        observe=starter.observe if starter else None), envelope)
    if starter is not None:
        starter.read()
    note = roster_extrapolation_note(roster)  # once per batch, as `check` says it
    if note:
        logger.warning(note)
    cards = _cards(letter, options, roster)
    roster_hash = roster_hash or roster_sha256(roster_path)
    fingerprint = batch_fingerprint(roster_hash, options, static)
    batch_id = options.batch_id or default_batch_id(letter, options.as_of, fingerprint)
    plan = plan_batch(
        roster, letter, as_of=options.as_of, batch_id=batch_id, sort=options.sort,
        settings=settings,
    )

    out = Path(options.out)
    # Hardening: the folder is new, empty or this batch's, and locked until the merge ends
    # (see :mod:`kenpo_docs.mailing.folder`); the batch id is this input's and this folder's
    # in the tracking database. Both before anything is rendered.
    folder.check_sides(out, options.sides)  # one line, before the database says "other options"
    if options.db is not None:
        claim_batch(options.db, batch_id, fingerprint=fingerprint, out=out, letter=letter.name,
                    as_of=options.as_of.isoformat(),
                    roster_sha256=roster_hash.hexdigest())
    resumed_folder = claim.enter_context(folder.claimed(out, batch_id, fingerprint,
                                                        sides=options.sides))
    if letter.name == "kakuninsho" and options.cards:
        # Said once the batch is ours: a merge refused (another batch's id or folder) says
        # only why it was refused.
        note = no_sex_note(roster)
        if note:
            logger.warning(note)
    if protect.is_encrypted_batch(out):
        # Hardening: the command was checked like any other (roster, letter, enclosures, the
        # folder's batch); a run killed while encrypting has left only encryption to do.
        if options.password is None:
            protect.refuse_encrypted_batch(out)
        return _finish_encrypted(out, plan, options, started)
    pieces_dir = folder.subfolder(out, "pieces")
    folder.clean_temps(pieces_dir)
    # Hardening (crash safety): a run killed while writing the manifest, batch.json or a print
    # file leaves its temp file there too.
    folder.clean_temps(out)
    folder.clean_temps(out / "print")
    static_dir = folder.subfolder(out, "static")
    static_pdfs = enc.static_paths(static, static_dir)

    def static_ready() -> None:
        # Notices may still be rendering in a worker: the first chunk lays out its letters
        # and forms first and waits for them only when it adds the enclosure pages.
        enc.materialise_static(static, static_dir, rendered=early)

    finished_ids = _finished_pieces(pieces_dir)
    total = len(plan.pieces)
    resumed = sum(1 for p in plan.index() if p.piece_id in finished_ids) if finished_ids else 0
    parts_dir = folder.subfolder(out, "parts")
    folder.clean_temps(parts_dir)
    # The chunks rendered while the roster was read that are the plan's own (mailing/early.py)
    adopted = starter.adopt(plan, pieces_dir, parts_dir) if starter is not None else []
    spent = starter.used if starter is not None and pool is not None else 0
    if spent >= workers * options.worker_chunks and pool is not None:
        pool.shutdown(wait=True)  # it has had its generation of chunks: fresh workers now
        pool, spent = None, 0
    result = MergeResult(out, batch_id, resumed=resumed, fast_path=gates.fast_path().on)
    if starter is not None:
        result.early = sum(len(chunk.pieces) for chunk in adopted)
        result.early_redone = starter.redone
    full_layout: Counter[str] = Counter()
    if resumed_folder:
        logger.info("resuming batch %s: %d of %d pieces already done",
                    batch_id, result.resumed, total)

    job_base = _chunk_job(options, letter, envelope, specs, static_pdfs, pieces_dir,
                          parts_dir, cards)
    done = result.resumed
    if progress:
        progress(done, total)
    # Hardening (crash safety): chunks are cut from the whole plan, not from what is left, so
    # a resumed batch lays each piece out with the same neighbours (same font subsets, same
    # part file) and writes the same bytes as an uninterrupted run. A chunk is redone whole
    # when one of its pieces is missing, or its part file is (killed between the two) while
    # the print files are still to be made; the manifest, written last, says they are made.
    # Chunks are read from the plan as they are handed out, never all at once.
    complete = (out / "manifest.csv").exists()
    chunk_ids: list[str] = []  # each chunk's first piece: its part file's name
    made = len(adopted)  # chunks handed out to render (those rendered early too)

    rendered_early = frozenset(pid for chunk in adopted for pid, _ in chunk.pieces)

    def cut() -> Iterator[ChunkJob]:
        nonlocal made
        for c in executor.chunks(plan.pieces, options.chunk_size):
            chunk_ids.append(c[0].piece_id)
            if (any(p.piece_id not in finished_ids and p.piece_id not in rendered_early
                    for p in c)
                    or (not complete and not (parts_dir / f"{c[0].piece_id}.json").exists())):
                made += 1
                yield replace(job_base, pieces=tuple(c))

    def finished(chunk: ChunkResult) -> None:
        nonlocal done
        plan.set_pages(chunk.pieces)
        full_layout.update(chunk.full_layout)
        done += sum(1 for piece_id, _ in chunk.pieces if piece_id not in finished_ids)
        if progress:
            progress(done, total)

    for chunk in adopted:
        finished(chunk)
    jobs = cut()
    if cluster is not None:
        # The workers read the static enclosures and write into the parts folder: both on a
        # folder they must share with this process (checked first), the enclosures made here.
        cluster.check_shared(parts_dir)
        static_ready()
        cluster.run(jobs, finished)
        folder.clean_temps(pieces_dir)  # a worker lost mid-chunk may have left a temp file
    else:
        _render_local(jobs, finished, static_ready, workers=workers, pool=pool,
                      generation=workers * options.worker_chunks, spent=spent)
    static_ready()  # nothing to render (all done before): the files are there, or made now
    result.rendered = total - resumed
    result.full_layout = dict(full_layout.most_common())
    if full_layout:
        logger.info("%d letters and forms laid out in full (%s)", full_layout.total(),
                    ", ".join(f"{why}: {n}" for why, n in full_layout.most_common()))

    page_counts = manifest.page_counts(plan, pieces_dir)
    if complete:  # hardening: made from the part files, which a finished batch no longer has
        result.print_files = sorted((out / "print").glob("*.pdf"))
    else:
        listed = sum(1 for p in plan.index() if p.kind == "workplace")
        if workers > 1 and listed > COVER_ROWS_PER_DOCUMENT:
            # Cover sheets of a big batch are made in parallel (~0.7 ms per listed piece once
            # a process has its four sheet shapes, loaded from the parts folder if another
            # process laid them out).
            with executor.pool(workers) as cover_pool:
                result.print_files = write_print_files(
                    plan, out, page_counts, as_of=options.as_of, enclosure_count=len(specs),
                    pool=cover_pool, sides=options.sides,
                    document_number=options.document_number)
        else:
            result.print_files = write_print_files(
                plan, out, page_counts, as_of=options.as_of, enclosure_count=len(specs),
                sides=options.sides, document_number=options.document_number)
    manifest.write_manifest(plan, out, page_counts)
    if options.db is not None:
        record_batch(options.db, plan, roster=roster_path, page_counts=page_counts,
                     notice=options.notice, duplex=options.sides == "duplex")
    folder.remove_parts(parts_dir, chunk_ids)
    if options.proof:
        result.proofs = write_proofs(
            pieces_dir, folder.subfolder(out, "proof"),
            [p.piece_id for p in plan.pieces[:options.proof]], envelope,
            progress=proof_progress)
    if options.password is not None:
        result.encrypted = protect.encrypt_batch(out, options.password)
    # A rerun of a finished batch: nothing rendered, no print file made, nothing encrypted.
    result.already_complete = complete and not made and not result.encrypted
    return _counted(result, plan, page_counts, started)


def _may_start_early(options: MergeOptions) -> bool:
    """Whether the first chunks may be rendered while the roster is read: a batch folder
    that is new or empty (a resumed batch renders only what is missing), no cluster."""
    if options.cluster is not None:
        return False
    try:
        return not any(Path(options.out).iterdir())
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _early_start(folder: Path, options: MergeOptions, letter: LetterSpec, envelope: Envelope,
                 specs: list[enc.Enclosure], static: list[enc.Enclosure],
                 settings: LetterSettings, batch_id: str, pool: ProcessPoolExecutor,
                 early: dict[int, Future[bytes]], *, limit: int) -> EarlyStart:
    """The early start of this batch's first chunks (see :mod:`kenpo_docs.mailing.early`),
    rendering in ``pool`` once the static enclosures (``early``: being rendered) are made."""

    def job(columns: frozenset[str], statics: list[Path], pieces_dir: Path,
            parts_dir: Path) -> ChunkJob:
        return _chunk_job(options, letter, envelope, specs, statics, pieces_dir, parts_dir,
                          _cards(letter, options, columns))

    def statics(static_dir: Path) -> list[Path] | None:
        if not all(f.done() for f in early.values()):
            return None
        return enc.materialise_static(static, static_dir, rendered=early)

    def submit(job: ChunkJob) -> Future[ChunkResult]:
        with executor.held_sigint():
            return pool.submit(render_chunk, job)

    return EarlyStart(private_dir(folder), letter=letter, as_of=options.as_of,
                      settings=settings, sort=options.sort, batch_id=batch_id,
                      envelope=envelope, chunk_size=options.chunk_size, job=job,
                      statics=statics, submit=submit, limit=limit)


def _render_local(jobs: Iterator[ChunkJob], finished: Callable[[ChunkResult], None],
                  static_ready: Callable[[], None], *, workers: int,
                  pool: ProcessPoolExecutor | None, generation: int, spent: int = 0) -> None:
    """Render the chunks in this process, or in local worker processes (``workers`` > 1).
    ``spent``: chunks ``pool`` rendered already (the early start's), of its generation."""
    head = list(itertools.islice(jobs, 2))
    if workers == 1 or len(head) <= 1:
        for job in itertools.chain(head, jobs):
            finished(render_chunk(job, static_ready=static_ready))
    else:
        # Fresh workers now and then: WeasyPrint's caches grow with every document laid
        # out, and a long batch must stay in bounded memory. Each generation of chunks gets
        # its own pool (see MergeOptions.worker_chunks); the first is the one started early.
        rest = itertools.chain(head[1:], jobs)
        start = 0
        while batch := list(itertools.islice(
                rest, generation - spent if start == 0 and pool is not None else generation)):
            current = pool if start == 0 and pool is not None else executor.pool(workers)
            with current:
                futures: list[Future[ChunkResult]] = []
                try:
                    if start == 0:
                        # This process, already warm, renders the small first chunk before
                        # the workers get theirs: on 2 cores, workers starting up beside
                        # it (imports, fonts, the shapes' backgrounds) made the first
                        # proof wait seconds longer, for a gain of about a second of work.
                        finished(render_chunk(head[0], static_ready=static_ready))
                    with executor.held_sigint():
                        futures = [current.submit(render_chunk, job) for job in batch]
                    for future in futures:
                        finished(future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
            start += 1


def _chunk_job(options: MergeOptions, letter: LetterSpec, envelope: Envelope,
               specs: list[enc.Enclosure], static_pdfs: list[Path], pieces_dir: Path,
               parts_dir: Path | None, cards: str | None) -> ChunkJob:
    """The chunk job every chunk of the batch is made from (its pieces still to fill in)."""
    return ChunkJob(
        pieces=(),
        letter=letter.name,
        as_of=options.as_of,
        notice=options.notice,
        envelope=envelope,
        forms=tuple(e.name for e in specs if not e.static),
        static=tuple(static_pdfs),
        pieces_dir=pieces_dir,
        stamp_codes=options.stamp_codes,
        parts_dir=parts_dir,
        enclosures=tuple(e.spec for e in specs),
        document_number=options.document_number,
        sides=options.sides,
        cards=cards,
        card_stock=options.card_stock,
    )


def proof_first(roster_path: str | Path, *, options: MergeOptions, count: int,
                dpi: int = PROOF_DPI) -> ProofResult:
    """Proof pictures of the first ``count`` pieces of the batch ``options`` describe,
    before it is run: the pieces are rendered as the merge will render them (same plan,
    same piece ids when ``options.batch_id`` is given) into ``options.out`` (a scratch
    folder: ``pieces/``, ``static/``, ``proof/``), nothing is recorded in the tracking
    database, and every page becomes a PNG with the window outlined on its first
    (:func:`~kenpo_docs.mailing.proof.write_proofs`).

    Raises:
        RosterError, KenpoDocsError: as :func:`merge` for the same input.
    """
    letter = get_letter(options.letter)
    envelope = load_envelope(options.envelope)
    specs = enc.parse_enclosures(options.enclosures)
    roster_path = Path(roster_path)
    with Store() as store:
        return _proof_first(roster_path, options, count, dpi, letter, envelope, specs, store)


def _proof_first(roster_path: Path, options: MergeOptions, count: int, dpi: int,
                 letter: LetterSpec, envelope: Envelope, specs: list[enc.Enclosure],
                 store: Store) -> ProofResult:
    roster = fit_households(stage_roster(roster_path, store=store, as_of=options.as_of,
                                         sheet=options.sheet,
                                         allow_columns=options.allow_columns), envelope)
    static = [e for e in specs if e.static]
    batch_id = options.batch_id or default_batch_id(
        letter, options.as_of, batch_fingerprint(roster_sha256(roster_path), options, static))
    plan = plan_batch(roster, letter, as_of=options.as_of, batch_id=batch_id,
                      sort=options.sort,
                      settings=LetterSettings(window_months=options.window_months))
    out = Path(options.out)
    pieces_dir = folder.subfolder(out, "pieces")
    static_dir = folder.subfolder(out, "static")
    static_pdfs = enc.static_paths(static, static_dir)
    job = replace(_chunk_job(options, letter, envelope, specs, static_pdfs, pieces_dir, None,
                             _cards(letter, options, roster)),
                  pieces=tuple(plan.pieces[:count]))
    done = render_chunk(job, static_ready=lambda: enc.materialise_static(static, static_dir))
    proof_dir = folder.subfolder(out, "proof")
    images = write_proofs(pieces_dir, proof_dir, [pid for pid, _ in done.pieces], envelope,
                          dpi=dpi)
    return ProofResult(pieces=done.pieces, images=images,
                       routes=tuple(str(p.route) for p in plan.pieces[:count]),
                       total=len(plan.pieces))


def _counted(result: MergeResult, plan: BatchPlan, page_counts: Mapping[str, int],
             started: float) -> MergeResult:
    result.pieces = len(plan.pieces)
    result.pages = (page_counts.total() if isinstance(page_counts, PageCounts)
                    else sum(page_counts.values()))
    for o in plan.outcomes:
        setattr(result, o.status, getattr(result, o.status) + 1)
    result.seconds = time.monotonic() - started
    return result


def _finish_encrypted(out: Path, plan: BatchPlan, options: MergeOptions,
                      started: float) -> MergeResult:
    """Encrypt what a killed ``--encrypt`` run left in clear; the batch itself is complete
    (encryption starts once the manifest is written)."""
    assert options.password is not None
    result = MergeResult(out, plan.batch_id, resumed=len(plan.pieces),
                         fast_path=gates.fast_path().on)
    result.encrypted = protect.encrypt_batch(out, options.password)
    result.already_complete = result.encrypted == 0  # nothing was left in clear
    result.print_files = sorted((out / "print").glob("*.pdf"))
    counts = manifest.read_page_counts(out)
    return _counted(result, plan, counts, started)




def _finished_pieces(pieces_dir: Path) -> frozenset[str]:
    """The ids of the piece files a run before this one finished (none in a new batch)."""
    with os.scandir(pieces_dir) as entries:
        names = [e.name for e in entries if e.name.endswith(".pdf")]
    return frozenset(name[:-4] for name in names if folder.is_own_file(pieces_dir / name))
