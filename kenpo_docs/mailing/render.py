"""Render a chunk of pieces: one WeasyPrint document per template, split by anchors.

Rendering many letters in one document lays out and subsets the fonts once per chunk instead
of once per letter (the slow part). Each piece starts with an element whose id is its anchor
(``piece-<piece_id>``, ``form-<name>-<piece_id>``); the pages from one anchor to the next belong
to that piece. A chunk job is a plain picklable value so worker processes can run it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter

from kenpo_docs import rules
from kenpo_docs.barcodes.piececode import piece_code_text, stamp_page
from kenpo_docs.errors import RenderError
from kenpo_docs.mailing.letters import Envelope, get_letter
from kenpo_docs.mailing.output import write_atomic
from kenpo_docs.mailing.plan import PiecePlan
from kenpo_docs.render import RenderOptions, render_document, write_pdf

logger = logging.getLogger("kenpo_docs")


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to render and write some pieces."""

    pieces: tuple[PiecePlan, ...]
    letter: str
    as_of: date
    notice: str | None
    envelope: Envelope
    forms: tuple[str, ...]
    static: tuple[Path, ...]
    pieces_dir: Path
    stamp_codes: bool = True


def _format_postal(code: str | None) -> str:
    if not code:
        return ""
    return f"〒{code[:3]}-{code[3:]}"


def _customer_barcode_svg(piece: PiecePlan) -> str | None:
    """The Japan Post customer barcode for home-route pieces, or None where none applies."""
    if piece.route.kind != "home":
        return None
    from kenpo_docs.barcodes.japanpost import japan_post_barcode_or_none

    insured = piece.addressee
    if not insured.postal_code or not insured.address1:
        return None
    address = " ".join(a for a in (insured.address1, insured.address2) if a)
    code = japan_post_barcode_or_none(insured.postal_code, address)
    return code.svg() if code is not None else None


def piece_context(piece: PiecePlan) -> dict[str, Any]:
    """What a letter template gets for one piece."""
    from markupsafe import Markup

    insured = piece.addressee
    svg = _customer_barcode_svg(piece)
    return {
        "piece_id": piece.piece_id,
        "anchor": f"piece-{piece.piece_id}",
        "seq": piece.seq,
        "route": piece.route,
        "is_home": piece.route.kind == "home",
        "addressee": insured,
        "postal": _format_postal(insured.postal_code),
        "barcode_svg": Markup(svg) if svg else None,
        "parts": [{"member": p.member, "facts": p.facts} for p in piece.parts],
    }


def letter_context(job: ChunkJob) -> dict[str, Any]:
    spec = get_letter(job.letter)
    return {
        "letter": spec,
        "as_of": job.as_of,
        "notice": job.notice,
        "insurer": rules.insurer(),
        "envelope": job.envelope,
        "pieces": [piece_context(p) for p in job.pieces],
    }


def page_ranges(document: Any, anchors: list[str]) -> dict[str, tuple[int, int]]:
    """Map each anchor to the (first, end) page indexes it owns in ``document``."""
    starts: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name in anchors and name not in starts:
                starts[name] = index
    missing = [a for a in anchors if a not in starts]
    if missing:
        raise RenderError(f"template did not print the anchors {missing[:3]}")
    order = sorted(anchors, key=lambda a: starts[a])
    if order != anchors:
        raise RenderError("template printed the pieces out of order")
    ranges = {}
    for i, name in enumerate(anchors):
        end = starts[anchors[i + 1]] if i + 1 < len(anchors) else len(document.pages)
        ranges[name] = (starts[name], end)
    return ranges


def _render_split(
    template: str, context: dict[str, Any], anchors: list[str], options: RenderOptions
) -> tuple[PdfReader, dict[str, tuple[int, int]]]:
    document = render_document(template, context, options=options)
    ranges = page_ranges(document, anchors)
    return PdfReader(io.BytesIO(write_pdf(document, options=options))), ranges


def render_chunk(job: ChunkJob) -> list[str]:
    """Render and write the chunk's pieces; returns the piece ids written, in order."""
    options = RenderOptions(as_of=job.as_of, pdf_tags=False)
    spec = get_letter(job.letter)
    ids = [p.piece_id for p in job.pieces]
    letter_pdf, letter_ranges = _render_split(
        spec.template, letter_context(job), [f"piece-{i}" for i in ids], options
    )
    form_parts: list[tuple[PdfReader, dict[str, tuple[int, int]], str]] = []
    for name in job.forms:
        from kenpo_docs import forms as form_module

        anchors = [f"form-{name}-{i}" for i in ids]
        items = [
            form_module.form_context(name, p.household, as_of=job.as_of, anchor=a)
            for p, a in zip(job.pieces, anchors, strict=True)
        ]
        reader, ranges = _render_split(
            form_module.FORMS[name].template, {"forms": items}, anchors, options
        )
        form_parts.append((reader, ranges, name))
    statics = [PdfReader(path) for path in job.static]

    written = []
    for piece in job.pieces:
        writer = PdfWriter()
        first, end = letter_ranges[f"piece-{piece.piece_id}"]
        for i in range(first, end):
            writer.add_page(letter_pdf.pages[i])
        for reader, ranges, name in form_parts:
            first, end = ranges[f"form-{name}-{piece.piece_id}"]
            for i in range(first, end):
                writer.add_page(reader.pages[i])
        for reader in statics:
            for page in reader.pages:
                writer.add_page(page)
        if job.stamp_codes:
            _stamp(writer, piece.piece_id)
        writer.add_metadata({"/Title": f"{spec.title} {piece.piece_id}"})
        buf = io.BytesIO()
        writer.write(buf)
        write_atomic(job.pieces_dir / f"{piece.piece_id}.pdf", buf.getvalue())
        written.append(piece.piece_id)
    return written


def _stamp(writer: PdfWriter, piece_id: str) -> None:
    """Put the piece code on every page (``<piece_id>|<page>/<pages>``)."""
    pages = len(writer.pages)
    for index, page in enumerate(writer.pages, start=1):
        stamp_page(page, piece_code_text(piece_id, index, pages))
