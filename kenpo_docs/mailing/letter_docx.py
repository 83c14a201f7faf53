"""One personalised letter as an editable Word file (for staff who must amend a single letter).

The DOCX gets exactly what the PDF letter gets for that envelope: the merge's plan decides who
is in the piece and with which facts, and ``letter_context`` builds the context, plus ``piece``
for the one piece (the HTML frame loops over ``pieces`` instead). The piece id matches what a
merge of the same roster and options without enclosures would print.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kenpo_docs.documents.letters import LetterSettings, get_letter, load_envelope
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.input.roster import read_roster
from kenpo_docs.mailing.chunk import ChunkJob, letter_context
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.plan import default_batch_id, plan_batch
from kenpo_docs.mailing.run import batch_fingerprint
from kenpo_docs.mailing.window import fit_households
from kenpo_docs.render import RenderOptions, render_docx


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
    """The DOCX of the piece (envelope) that holds ``member_key`` (記号-番号-枝番).

    Raises:
        KenpoDocsError: unknown letter or member, or the member gets no such letter (the
            reason is the one the merge manifest would give).
        RosterError, TemplateError, RenderError: as for the merge.
    """
    spec = get_letter(letter)
    roster_path = Path(roster_path)
    roster = read_roster(roster_path, as_of=as_of, sheet=sheet)
    options = MergeOptions(
        letter=letter, out=Path("."), as_of=as_of, notice=notice,
        window_months=window_months, sheet=sheet,
    )
    batch = batch_id or default_batch_id(
        spec, as_of, batch_fingerprint(roster_path.read_bytes(), options, [])
    )
    envelope = load_envelope(options.envelope)
    plan = plan_batch(  # as the merge plans it, so the piece ids are the merge's
        fit_households(roster, envelope), spec, as_of=as_of, batch_id=batch,
        settings=LetterSettings(window_months=window_months),
    )
    outcome = next((o for o in plan.outcomes if o.member_key == member_key), None)
    if outcome is None:
        raise KenpoDocsError("member not found in the roster", file=roster_path,
                             member_key=member_key)
    if outcome.status != "ok":
        raise KenpoDocsError(f"no {letter} letter for this member ({outcome.status}: "
                             f"{outcome.reason})", file=roster_path, row=outcome.row,
                             member_key=member_key)
    piece = next(p for p in plan.pieces if p.piece_id == outcome.piece_id)
    job = ChunkJob(
        pieces=(piece,), letter=letter, as_of=as_of, notice=notice,
        envelope=envelope, forms=(), static=(), pieces_dir=Path("."),
    )
    context = letter_context(job)
    context["piece"] = context["pieces"][0]
    return render_docx(spec.docx_template, context, options=RenderOptions(as_of=as_of))
