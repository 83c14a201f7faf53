"""A merge's settings (:class:`MergeOptions`, one frozen object) and what it did
(:class:`MergeResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kenpo_docs.mailing.executor import MAX_TASKS_PER_WORKER
from kenpo_docs.pdf.sides import DEFAULT_SIDES, Sides

Progress = Callable[[int, int], None]
#: What a rerun of a finished batch says instead of a rate.
ALREADY_COMPLETE = "この一括処理は完了済みです (batch already complete)"


@dataclass(frozen=True)
class MergeOptions:
    """Settings of one merge run (keyword-only in every call; unknown keys are a TypeError)."""

    letter: str
    out: Path
    as_of: date
    batch_id: str | None = None
    enclosures: tuple[str, ...] = ()
    sort: str = "workplace"
    notice: str | None = None
    #: The batch's 文書番号 N, printed in the insurer settings' format (「年けん発第N号」);
    #: None prints none.
    document_number: int | None = None
    workers: int = 1
    chunk_size: int = 40  # WeasyPrint lays out ~40 letters per document fastest
    window_months: int = 3
    envelope: str = "naga3"
    #: ``duplex``: every piece starts on a front side (a blank back page after an odd page
    #: count) and the print files ask for two-sided printing; ``simplex``: no blank pages,
    #: print one-sided (see :mod:`kenpo_docs.pdf.sides`).
    sides: Sides = DEFAULT_SIDES
    sheet: str | None = None
    allow_columns: tuple[str, ...] = ()  # hardening: columns exempt from the My Number check
    stamp_codes: bool = True
    db: Path | None = None  # tracking database to record the batch in (None: do not)
    strict: bool = False  # stop, rather than warn, when the fast path is off
    #: Render the chunks on a Dask cluster: ``tcp://HOST:PORT`` of a running scheduler, or
    #: ``local:N`` worker processes started here (see :mod:`kenpo_docs.mailing.cluster`).
    cluster: str | None = None
    worker_chunks: int = MAX_TASKS_PER_WORKER  # chunks a worker renders before it is replaced
    #: PNG proofs of the first N pieces in OUT/proof/ (see :mod:`kenpo_docs.mailing.proof`);
    #: 0 writes none.
    proof: int = 0
    #: Enclose the cards of the letter (資格確認書 with ``kakuninsho``, the 資格情報のお知らせ
    #: card part with ``oshirase``) after it; see :mod:`kenpo_docs.documents.cards`.
    cards: bool = True
    #: Cards one per card-size page (85.6 x 54 mm, a card printer) instead of A4 sheets.
    card_stock: bool = False
    #: Encrypt the pieces and print files with this password once the batch is written (see
    #: :mod:`kenpo_docs.mailing.protect`); never shown in a repr.
    password: str | None = field(default=None, repr=False)


@dataclass
class MergeResult:
    out: Path
    batch_id: str
    pieces: int = 0
    pages: int = 0
    rendered: int = 0
    resumed: int = 0
    ok: int = 0
    skipped: int = 0
    rejected: int = 0
    seconds: float = 0.0
    print_files: list[Path] = field(default_factory=list)
    #: The fast path: on, and how many letters and forms were laid out in full, by reason.
    fast_path: bool = True
    full_layout: dict[str, int] = field(default_factory=dict)
    #: Files encrypted by this run (``password`` given), and where they are: an encrypted
    #: batch is finished (encrypted) without rendering anything again.
    encrypted: int = 0
    #: The proof pictures written (``proof``).
    proofs: list[Path] = field(default_factory=list)
    #: The batch was complete before this run (a rerun of a finished batch): nothing was
    #: rendered, made or encrypted (proofs asked for are written again).
    already_complete: bool = False
    #: Pieces rendered while the roster was still being read and kept (the plan's own), and
    #: those rendered then but thrown away and rendered again (see mailing/early.py).
    early: int = 0
    early_redone: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        counts = (f"{self.pieces} pieces, {self.pages} pages, {self.rejected} rejected, "
                  f"{self.skipped} skipped")
        if self.already_complete:  # a rate of nothing rendered would mean nothing
            return f"{counts}, {ALREADY_COMPLETE}"
        rate = self.pieces / self.seconds if self.seconds else 0.0
        return f"{counts}, {self.seconds:.1f} s ({rate:.1f} pieces/s)"


@dataclass(frozen=True)
class ProofResult:
    """What :func:`~kenpo_docs.mailing.run.proof_first` made: ``(piece_id, pages)`` of each
    proofed piece, its route (``home`` or ``workplace:<code>``), the PNG files in order, and
    the batch's piece count."""

    pieces: tuple[tuple[str, int], ...]
    images: list[Path]
    routes: tuple[str, ...]
    total: int
