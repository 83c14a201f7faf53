"""One member's personalised letter as an editable Word file, the twin of the mailed piece.

Staff who must amend a single letter get the letter the envelope holds, not a look-alike:
the merge's plan decides who is in the piece and with which facts, the merge's context
(``letter_context``) fills the letter's own HTML template, and the DOCX is written from that
page as WeasyPrint lays it out (:mod:`kenpo_docs.render.twin`): the address block in a Word
frame at the envelope window's place, the customer barcode as a picture on the home route.

The piece id and the 文書番号 are the mailed piece's: the batch id is derived exactly as
the merge derives it (:func:`~kenpo_docs.mailing.run.batch_fingerprint` of the roster and the
merge's options, or ``--batch-id``), and the 文書番号 is the merge's ``--document-number``.
Given the batch folder of a merge already made (``batch_dir``), its ``batch.json`` must hold
the same fingerprint (same roster, same options; otherwise the letter would not be the one
mailed and we refuse), the batch id is taken from it and the piece id is checked against
the folder's ``manifest.csv``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kenpo_docs.documents.letters import LetterSettings, get_letter, load_envelope
from kenpo_docs.domain import facts
from kenpo_docs.errors import KenpoDocsError, ManifestError
from kenpo_docs.files import write_atomic
from kenpo_docs.input.roster import read_roster
from kenpo_docs.mailing import enclosures as enc
from kenpo_docs.mailing import folder
from kenpo_docs.mailing.chunk import ChunkJob, letter_context
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.plan import default_batch_id, plan_batch
from kenpo_docs.mailing.run import _cards, batch_fingerprint
from kenpo_docs.mailing.window import fit_households
from kenpo_docs.render import RenderOptions, render_docx_twin


@dataclass(frozen=True)
class LetterDocx:
    """A letter's DOCX and the ids it carries (those of the mailed piece)."""

    data: bytes
    batch_id: str
    piece_id: str
    document_number: str | None


def _held_batch(batch_dir: Path, fingerprint: str) -> str:
    """The batch id of the merge in ``batch_dir``, after checking it was this input's."""
    try:
        held = json.loads((batch_dir / folder.STAMP).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{batch_dir}: バッチのフォルダではありません (no readable "
                            f"{folder.STAMP}: not a merge's folder)", file=batch_dir) from exc
    if held.get("fingerprint") != fingerprint:
        raise ManifestError(
            f"{batch_dir}: 名簿か指定がこのバッチと違います。merge と同じ名簿と指定"
            "（--as-of, --notice, --enclose, --document-number, --sides …）を指定してください "
            "(the roster or the options differ from the batch's: the letter would not be "
            "the one mailed)", file=batch_dir)
    return str(held["batch_id"])


def _manifest_piece(batch_dir: Path, member_key: str) -> str | None:
    path = batch_dir / "manifest.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("member_key") == member_key:
                return row.get("piece_id") or None
    return None


@dataclass(frozen=True)
class LetterPage:
    """What the letter of one piece is printed from: its template and the merge's context."""

    template: str
    context: dict[str, Any]
    batch_id: str
    piece_id: str
    document_number: str | None


def letter_page(
    roster_path: str | Path,
    *,
    member_key: str,
    options: MergeOptions,
    batch_dir: Path | None = None,
) -> LetterPage:
    """The template and context of the letter in the piece (envelope) that holds
    ``member_key`` (記号-番号-枝番), as the merge with ``options`` prints it.

    Raises:
        KenpoDocsError: unknown letter or member, or the member gets no such letter (the
            reason is the one the merge manifest would give).
        ManifestError: ``batch_dir`` is not a merge of this roster with these options.
        RosterError, TemplateError, RenderError: as for the merge.
    """
    spec = get_letter(options.letter)
    roster_path = Path(roster_path)
    envelope = load_envelope(options.envelope)
    roster = fit_households(read_roster(roster_path, as_of=options.as_of, sheet=options.sheet,
                                        allow_columns=options.allow_columns), envelope)
    specs = enc.parse_enclosures(options.enclosures)
    static = [e for e in specs if e.static]
    fingerprint = batch_fingerprint(roster_path.read_bytes(), options, static)
    batch_id = options.batch_id
    if batch_dir is not None:
        held = _held_batch(Path(batch_dir), fingerprint)
        if batch_id is not None and batch_id != held:
            raise ManifestError(f"{batch_dir}: --batch-id {batch_id} ではなく {held} の"
                                f"フォルダです (the folder holds batch {held})",
                                file=batch_dir)
        batch_id = held
    batch_id = batch_id or default_batch_id(spec, options.as_of, fingerprint)
    plan = plan_batch(  # as the merge plans it, so the piece ids are the merge's
        roster, spec, as_of=options.as_of, batch_id=batch_id, sort=options.sort,
        settings=LetterSettings(window_months=options.window_months),
    )
    outcome = next((o for o in plan.outcomes if o.member_key == member_key), None)
    if outcome is None:
        raise KenpoDocsError("member not found in the roster", file=roster_path,
                             member_key=member_key)
    if outcome.status != "ok":
        raise KenpoDocsError(f"no {spec.name} letter for this member ({outcome.status}: "
                             f"{outcome.reason})", file=roster_path, row=outcome.row,
                             member_key=member_key)
    piece = next(p for p in plan.pieces if p.piece_id == outcome.piece_id)
    if batch_dir is not None:
        mailed = _manifest_piece(Path(batch_dir), member_key)
        if mailed is not None and mailed != piece.piece_id:  # cannot happen: same plan
            raise ManifestError(f"{batch_dir}: manifest.csv の管理番号 {mailed} と一致しません "
                                f"(the manifest says piece {mailed})", file=batch_dir)
    job = ChunkJob(
        pieces=(piece,), letter=spec.name, as_of=options.as_of, notice=options.notice,
        envelope=envelope, forms=tuple(e.name for e in specs if not e.static), static=(),
        pieces_dir=Path("."), enclosures=tuple(e.spec for e in specs),
        document_number=options.document_number, sides=options.sides,
        cards=_cards(spec, options, roster), card_stock=options.card_stock,
    )
    context = letter_context(job)
    context["piece"] = context["pieces"][0]
    docno = (None if options.document_number is None
             else facts.insurer().document_number(options.document_number))
    return LetterPage(spec.template, context, batch_id, piece.piece_id, docno)


def letter_docx(
    roster_path: str | Path,
    *,
    member_key: str,
    options: MergeOptions,
    batch_dir: Path | None = None,
) -> LetterDocx:
    """The DOCX of the letter :func:`letter_page` describes (the mailed piece's letter)."""
    page = letter_page(roster_path, member_key=member_key, options=options,
                       batch_dir=batch_dir)
    data = render_docx_twin(page.template, page.context,
                            options=RenderOptions(as_of=options.as_of))
    return LetterDocx(data, page.batch_id, page.piece_id, page.document_number)


def write_letter_docx(
    roster_path: str | Path,
    *,
    member_key: str,
    options: MergeOptions,
    batch_dir: Path | None = None,
    out: Path | None = None,
) -> tuple[Path, LetterDocx]:
    """Write :func:`letter_docx` to ``out`` (default ``output/letters/<piece id>.docx``,
    named by our ids only), mode 0600; nothing is written if anything fails."""
    made = letter_docx(roster_path, member_key=member_key, options=options,
                       batch_dir=batch_dir)
    path = Path(out) if out is not None else Path("output") / "letters" / \
        f"{made.piece_id}.docx"
    write_atomic(path, made.data)
    return path, made


def render_letter_docx(
    roster_path: str | Path,
    *,
    letter: str,
    member_key: str,
    as_of: date,
    window_months: int = 3,
    notice: str | None = None,
    batch_id: str | None = None,
    sheet: str | None = None,
) -> bytes:
    """The DOCX bytes of :func:`letter_docx` for a merge with these options and no others
    (kept for callers of the first version)."""
    options = MergeOptions(letter=letter, out=Path("."), as_of=as_of, notice=notice,
                           window_months=window_months, sheet=sheet, batch_id=batch_id)
    return letter_docx(roster_path, member_key=member_key, options=options).data


__all__ = ["LetterDocx", "LetterPage", "letter_docx", "letter_page", "render_letter_docx",
           "write_letter_docx"]
