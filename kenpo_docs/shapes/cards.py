"""The cards (:mod:`kenpo_docs.documents.cards`) in the merge as a shared background plus
the values of each card drawn over it, as the letters are (:mod:`kenpo_docs.shapes.letters`).

A page of cards (an A4 sheet of up to 10 cut-out cards, or one card-stock card) is the same
page for every piece with as many cards (and no long name set smaller): the template marks
each per-card value with ``slot``, and the lines a card may lack (被保険者氏名, 一部負担金の
割合 and 発効期日) are blank slots where it lacks them, so they make no other shape. Such a
page's background is laid out once per process (or loaded from the batch's shared shapes)
and each piece's page only draws its values over it. A page is laid out in full where a value
cannot be drawn as the full layout would print it (a character the slot's font lacks, such
as 𠮷 in a name, which IPAmj Mincho prints in the full layout).
"""

from __future__ import annotations

from typing import Any

from kenpo_docs.documents import cards as card_documents
from kenpo_docs.shapes.backgrounds import Background
from kenpo_docs.shapes.letters import BG_ANCHOR, template_overlay_pages


def overlay_pages(
    kind: str, card_stock: bool, sheets: list[card_documents.CardSheet], *, options: Any,
) -> list[tuple[str, list[dict[str, Any]], Background]]:
    """The ``(anchor, values, background)`` of the card pages that can take an overlay, for
    :func:`~kenpo_docs.shapes.overlay.render_overlay_pages`; the others are laid out in full."""
    items = [(sheet.anchor, card_documents.template_context(
                kind, card_stock, [card_documents.sheet_context(sheet, anchor=BG_ANCHOR)]))
             for sheet in sheets]
    prefix = f"cards-{kind}-{'stock' if card_stock else 'a4'}"
    return template_overlay_pages(prefix, card_documents.TEMPLATE, items, options=options,
                                  what="cards")
