"""The cards an envelope holds: 資格確認書 and the card part of 資格情報のお知らせ.

What each card prints (docs/cards.md has the sources):

* **資格確認書** (健康保険法 第51条の3; 健康保険法施行規則 第47条, 令和6年12月2日施行, and
  the ministry's material of 2025-03 on its items, domain-rules.md R6): 記号・番号・枝番,
  氏名, 生年月日, 性別, 被保険者/被扶養者 (and the 被保険者氏名 on a dependent's card),
  交付年月日, 有効期限, 保険者番号, 保険者名称 and 所在地; for members 70 and over the
  一部負担金の割合 and its 発効期日 when the roster gives them (as municipal 国保 prints
  them since 令和6年12月2日). One card per member of the piece with a 資格確認書交付日 (the
  kakuninsho letter's members); its expiry is the letter's own fact (``facts`` ->
  :func:`kenpo_docs.domain.facts.certificate_period`), never computed here.
* **資格情報のお知らせ** (資格情報通知書, 健康保険法施行規則 第51条の3): the same items less
  性別 and 有効期限 (it has none), with the 資格取得年月日 and the day it is issued (the
  letter's date); the cut-out card part of the real document, one per member the oshirase
  letter is for.

The back of the card is left blank: the 臓器提供意思表示欄 is one a card *may* carry (記入は
任意, and an insurer may choose to provide it), so it is not printed (docs/cards.md).

Cards are laid out as cut-out cards on A4 (:data:`PER_SHEET` a sheet, crop marks) or, with
``card_stock``, one card per page of the card-printer size (CR80, 85.6 x 54 mm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kenpo_docs.domain import facts
from kenpo_docs.domain.era import format_wareki
from kenpo_docs.input.roster import Household, Member

#: The letters that enclose cards, and the card each one encloses.
CARD_LETTERS = {"kakuninsho": "資格確認書", "oshirase": "資格情報のお知らせ"}
#: The cards' template (one page per sheet or, on card stock, per card).
TEMPLATE = "cards/cards.html"
#: Cards on one A4 sheet: 2 columns x 5 rows of 85.6 x 54 mm.
PER_SHEET = 10
#: A name longer than this is set smaller, so it stays on its line on the card.
LONG_NAME = 12


@dataclass(frozen=True)
class CardSheet:
    """One page of cards: its anchor (``cards-<piece_id>-<n>``) and cards, in member order."""

    anchor: str
    cards: tuple[dict[str, str], ...]


def card(kind: str, member: Member, household: Household, member_facts: dict[str, Any], *,
         as_of: date) -> dict[str, str]:
    """What one card prints, as text: ``kind`` is the letter (``kakuninsho``, ``oshirase``),
    ``member_facts`` what that letter decided for the member (the 交付日 and 有効期限 of a
    資格確認書 come from there)."""
    insurer = facts.insurer()
    insured = household.insured
    values = {
        "kind": kind,
        "title": CARD_LETTERS[kind],
        "symbol": member.symbol,
        "number": member.number,
        "branch": member.branch,
        "name": member.name,
        "name_class": "long" if len(member.name) > LONG_NAME else "",
        "birth": format_wareki(member.birth_date),
        "role": "被保険者" if member.is_insured else "被扶養者",
        "insured_name": "" if member.is_insured else insured.name,
        "insured_class": "" if len(insured.name) <= LONG_NAME else "long",
        "copay": member.copay_ratio or "",
        "effective": format_wareki(member.effective_on) if member.effective_on else "",
        "insurer_name": insurer.name,
        "insurer_number": insurer.number_display,
        "insurer_address": f"{insurer.postal_display} {insurer.address}",
    }
    if kind == "kakuninsho":
        values.update(sex=member.sex or "",
                      issued=format_wareki(member_facts["issued_on"]),
                      expiry=format_wareki(member_facts["expiry"]))
    else:
        values.update(issued=format_wareki(as_of), acquired=format_wareki(member.acquired_on))
    return values


def piece_cards(kind: str, household: Household, parts: Sequence[tuple[Member, dict[str, Any]]],
                *, as_of: date) -> list[dict[str, str]]:
    """The cards of a piece: one per member the letter is for, in the piece's order."""
    return [card(kind, member, household, member_facts, as_of=as_of)
            for member, member_facts in parts]


def sheets(piece_id: str, cards: list[dict[str, str]], *, card_stock: bool) -> list[CardSheet]:
    """A piece's card pages: :data:`PER_SHEET` cards an A4 sheet, or one a card-stock page."""
    per = 1 if card_stock else PER_SHEET
    return [CardSheet(f"cards-{piece_id}-{n}", tuple(cards[i:i + per]))
            for n, i in enumerate(range(0, len(cards), per), start=1)]


def sheet_context(sheet: CardSheet, *, anchor: str | None = None) -> dict[str, Any]:
    """A sheet as the template's ``sheets`` list holds it (``anchor``: another anchor)."""
    return {"anchor": anchor or sheet.anchor, "cards": list(sheet.cards)}


def template_context(kind: str, card_stock: bool, sheet_contexts: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    """What the cards template gets: the cards' kind, the page kind and the sheets."""
    return {"kind": kind, "card_stock": card_stock, "sheets": sheet_contexts}
