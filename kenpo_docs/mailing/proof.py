"""Proofs of a batch: PNG pictures of its first pieces (``merge --proof N``), for a look
before printing.

Each page of the first N pieces (in the batch's order) is rendered with pdfium at
:data:`PROOF_DPI` into ``OUT/proof/<piece id>-p<page>.png`` (0600, like every file of a
batch). The first page of a piece carries the envelope window's outline (the profile of
``data/envelopes.toml``, as the letter lays its address block out): whatever shows inside the
outline shows through the window, so a proof tells at a glance whether the address, the name
and the customer barcode sit in it. The outline is drawn on the picture only, in the margin
the address block keeps from the window's edge for the sheet shifting in the envelope (see
:attr:`~kenpo_docs.documents.letters.Envelope.block`), so it never covers a printed mark.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

from kenpo_docs.documents.letters import Envelope
from kenpo_docs.files import write_atomic

#: Proof resolution: A4 is 1240 x 1754 pixels.
PROOF_DPI = 150
#: The window outline: colour and width in pixels (1 px = 0.17 mm at 150 dpi).
OUTLINE_RGB = (230, 0, 18)
OUTLINE_PX = 3


def window_box(envelope: Envelope, dpi: int = PROOF_DPI) -> tuple[int, int, int, int]:
    """The window on a page rendered at ``dpi``: (left, top, right, bottom) pixels, the
    outline's centre line."""
    px = dpi / 25.4
    return (round(envelope.window_left * px), round(envelope.window_top * px),
            round((envelope.window_left + envelope.window_width) * px),
            round((envelope.window_top + envelope.window_height) * px))


def proof_name(piece_id: str, page: int) -> str:
    """``<piece id>-p<page>.png``: a piece id is ours (batch id and number), never a roster
    value, so it is safe as a file name."""
    return f"{piece_id}-p{page}.png"


def write_proofs(
    pieces_dir: Path,
    proof_dir: Path,
    piece_ids: Sequence[str],
    envelope: Envelope,
    *,
    dpi: int = PROOF_DPI,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render every page of ``piece_ids`` (their files in ``pieces_dir``) to PNG proofs in
    ``proof_dir``, the window outlined on each first page; returns the files in order.
    ``progress(done, total)`` is called after each piece."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    written: list[Path] = []
    total = len(piece_ids)
    box = window_box(envelope, dpi)
    for done, piece_id in enumerate(piece_ids, start=1):
        pdf = pdfium.PdfDocument(pieces_dir / f"{piece_id}.pdf")
        try:
            for index in range(len(pdf)):
                page = pdf[index]
                # pdfium rounds a partial last pixel up (A4: 1240.16 -> 1241 px); the proof is
                # the page's size in whole pixels, as a print driver's raster is.
                size = (round(page.get_width() * dpi / 72), round(page.get_height() * dpi / 72))
                image = page.render(scale=dpi / 72).to_pil().convert("RGB")
                page.close()
                if image.size != size:
                    image = image.crop((0, 0, *size))
                if index == 0:
                    ImageDraw.Draw(image).rectangle(
                        [box[0] - OUTLINE_PX // 2, box[1] - OUTLINE_PX // 2,
                         box[2] + OUTLINE_PX // 2, box[3] + OUTLINE_PX // 2],
                        outline=OUTLINE_RGB, width=OUTLINE_PX)
                png = io.BytesIO()
                image.save(png, format="PNG", dpi=(dpi, dpi))
                path = proof_dir / proof_name(piece_id, index + 1)
                write_atomic(path, png.getvalue())
                written.append(path)
        finally:
            pdf.close()
        if progress:
            progress(done, total)
    return written
