"""Plan a batch: which envelope (piece) each roster row ends up in, or why it does not.

Planning is pure and cheap: it reads nothing but the parsed roster, so the same input gives
the same pieces, the same order and the same piece ids every time (resuming relies on it).
Every roster data row gets exactly one :class:`RowOutcome`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from kenpo_docs.documents.letters import LetterSettings, LetterSpec
from kenpo_docs.domain.facts import Route, certificate_expiry, delivery_route
from kenpo_docs.errors import KenpoDocsError, ManifestError, RuleError
from kenpo_docs.input.check import no_documents_reason
from kenpo_docs.input.roster import Household, Member, Roster

BATCH_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")

Status = Literal["ok", "skipped", "rejected"]


@dataclass(frozen=True)
class MemberPart:
    """One member's part of a piece and the facts the letter prints for them."""

    member: Member
    facts: dict[str, Any]


@dataclass(frozen=True)
class PiecePlan:
    """One envelope: a household's documents for this letter."""

    piece_id: str
    seq: int
    household: Household
    route: Route
    parts: tuple[MemberPart, ...]

    @property
    def addressee(self) -> Member:
        return self.household.insured

    @property
    def postal_code(self) -> str | None:
        return self.household.insured.postal_code if self.route.kind == "home" else None


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one roster data row (one manifest line)."""

    row: int
    member_key: str
    status: Status
    reason: str = ""
    piece_id: str = ""
    route: str = ""
    certificate_expiry: date | None = None


@dataclass(frozen=True)
class BatchPlan:
    batch_id: str
    letter: LetterSpec
    as_of: date
    pieces: tuple[PiecePlan, ...]
    outcomes: tuple[RowOutcome, ...]


def default_batch_id(letter: LetterSpec, as_of: date, fingerprint: str) -> str:
    """A batch id that is the same for the same input, so a rerun resumes instead of duplicating."""
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:6].upper()
    return f"{letter.code}{as_of:%Y%m%d}-{digest}"


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID_RE.match(batch_id):
        raise KenpoDocsError(
            f"batch id {batch_id!r} may use only letters, digits, '.', '_' and '-' "
            "(at most 30 characters, starting with a letter or digit)"
        )
    return batch_id


def _certificate_expiry(member: Member, settings: LetterSettings) -> date | None:
    if member.certificate_issued_on is None:
        return None
    try:
        return certificate_expiry(member.certificate_issued_on, rules=settings.rules)
    except RuleError:
        return None


def _covered(member: Member, insured: Member) -> Member:
    """``member`` as a letter decides on it: a dependent's coverage ends when the insured
    person's does (a 資格喪失日 of the insured person's that comes first is the dependent's)."""
    if member is insured or insured.lost_on is None:
        return member
    if member.lost_on is not None and member.lost_on <= insured.lost_on:
        return member
    return replace(member, lost_on=insured.lost_on)


def _sort_key(sort: str, household: Household, route: Route) -> tuple[Any, ...]:
    insured = household.insured
    postal = insured.postal_code or ""
    if sort == "postal":
        return (postal, route.kind, route.workplace_code or "", household.key)
    # Default: one run per workplace (the payroll group hands them out), then home by postcode.
    if route.kind == "workplace":
        return (0, route.workplace_code or "", household.key)
    return (1, postal, household.key)


def plan_batch(
    roster: Roster,
    letter: LetterSpec,
    *,
    as_of: date,
    batch_id: str,
    sort: str = "workplace",
    settings: LetterSettings | None = None,
) -> BatchPlan:
    """Decide every row's fate and the pieces, in print order, with stable ids."""
    if sort not in ("workplace", "postal"):
        raise KenpoDocsError(f"unknown sort {sort!r} (use postal or workplace)")
    settings = settings or LetterSettings()
    check_batch_id(batch_id)
    outcomes: dict[int, RowOutcome] = {}
    for err in roster.errors:
        outcomes[err.row] = RowOutcome(err.row, err.member_key or "", "rejected", err.text)

    staged: list[tuple[tuple[Any, ...], Household, Route, list[MemberPart]]] = []
    pending: dict[int, tuple[Member, Route]] = {}
    for household in roster.households:
        insured = household.insured
        try:
            route = delivery_route(
                membership=insured.membership or "", workplace_code=insured.workplace_code
            )
        except RuleError as exc:
            for m in household.members:
                outcomes[m.row] = RowOutcome(m.row, m.key, "rejected", exc.message)
            continue
        parts: list[MemberPart] = []
        for member in household.members:
            expiry = _certificate_expiry(member, settings)
            reason = no_documents_reason(member, as_of=as_of, insured=insured)
            facts = None
            if reason is None:
                facts, reason = letter.decide(_covered(member, insured), as_of, settings)
            if facts is None:
                outcomes[member.row] = RowOutcome(
                    member.row, member.key, "skipped", reason or "", route=str(route),
                    certificate_expiry=expiry,
                )
            else:
                parts.append(MemberPart(member, facts))
                pending[member.row] = (member, route)
        if parts:
            staged.append((_sort_key(sort, household, route), household, route, parts))

    staged.sort(key=lambda item: item[0])
    pieces: list[PiecePlan] = []
    for seq, (_, household, route, parts) in enumerate(staged, start=1):
        piece = PiecePlan(f"{batch_id}-{seq:05d}", seq, household, route, tuple(parts))
        pieces.append(piece)
        for part in parts:
            m = part.member
            outcomes[m.row] = RowOutcome(
                m.row, m.key, "ok", "", piece.piece_id, str(route),
                _certificate_expiry(m, settings),
            )
    if len(outcomes) != roster.row_count:
        raise ManifestError(
            f"internal error: {roster.row_count} roster rows read but "
            f"{len(outcomes)} accounted for"
        )
    ordered = tuple(outcomes[r] for r in sorted(outcomes))
    return BatchPlan(batch_id, letter, as_of, tuple(pieces), ordered)
