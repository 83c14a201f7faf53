"""Does a piece's address block fit its envelope window?

The window shows a fixed area of the folded sheet (the envelope profile, minus the margin for
the sheet shifting). A postal address or workplace name too long for it would push the
addressee's name out of view (the window block clips, it cannot grow): a piece the post
cannot deliver, or that reaches the wrong desk. Such a household is therefore rejected before
anything is printed (its insured person's row names the column, with the line count it needs
and the count the window holds; its dependents' rows point at that row). ``kenpo-docs check``
and the merge apply the same test (:func:`fit_households`), so check reports what the merge
will reject.

The estimate lays the text out the way the letter does: the same font (the vendored BIZ
UDPGothic, its real advance widths), the sizes and line heights of the ``.window`` rules in
``templates/letters/_letter.html`` (the constants below; keep them in step), each address line
its own block, and a few per cent of the width kept back for line-breaking rules (kinsoku).
tests/test_window.py renders the longest address the estimate accepts and reads the name
back from inside the window area of the printed page.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from datetime import date
from itertools import repeat
from pathlib import Path

from kenpo_docs.documents.letters import (
    Envelope,
    LetterSettings,
    get_letter,
    load_envelope,
    printed_addressee,
)
from kenpo_docs.domain import facts
from kenpo_docs.errors import RuleError
from kenpo_docs.input.check import CheckResult, RouteCount, Tally, summarize
from kenpo_docs.input.roster import (
    Household,
    Member,
    Roster,
    RowError,
    insured_members,
    stage_roster,
)
from kenpo_docs.input.store import Filtered, Store, Stored
from kenpo_docs.mailing.plan import plan_batch
from kenpo_docs.paths import fonts_dir

MM_PER_PT = 25.4 / 72

# From the .window rules of templates/letters/_letter.html (points unless noted).
ADDRESS_PT = 10.5
POSTAL_PT = 11.0
NAME_PT = 13.0
LINE_HEIGHT = 1.35
NAME_GAP_MM = 1.5
BARCODE_MM = 1.0 + 7.6  # margin-top + the 10 pt customer barcode's drawn height
WIDTH_USED = 0.96  # share of the window width counted as usable (kinsoku moves characters)


@functools.lru_cache(maxsize=1)
def _advances() -> dict[int, float]:
    """Advance width in em of every character BIZ UDPGothic has."""
    from fontTools.ttLib import TTFont

    with TTFont(fonts_dir() / "BIZUDPGothic-Regular.ttf", lazy=True) as font:
        units = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        return {cp: metrics[glyph][0] / units for cp, glyph in font.getBestCmap().items()}


@functools.lru_cache(maxsize=1)
def _char_advances() -> dict[str, float]:
    """:func:`_advances` by character."""
    return {chr(cp): width for cp, width in _advances().items()}


def line_count(text: str, size_pt: float, width_mm: float) -> int:
    """Lines ``text`` takes at ``size_pt`` in a block ``width_mm`` wide (greedy, per character).

    Characters the font lacks (rare kanji drawn by the IPAmj fallback) count one em.
    """
    if not text:
        return 0
    room = width_mm * WIDTH_USED / MM_PER_PT
    # Most lines fit whole: the widths summed in C, with a margin far above the rounding
    # the layout could differ by (so a line near the edge is still laid out).
    if sum(map(_char_advances().get, text, repeat(1.0))) * size_pt <= room * (1 - 1e-9):
        return 1
    return _laid_out(text, size_pt, room)


def _laid_out(text: str, size_pt: float, room: float) -> int:
    """The lines of ``text`` laid out character by character in ``room`` points."""
    advances = _advances()
    lines, used = 1, 0.0
    for ch in text:
        width = advances.get(ord(ch), 1.0) * size_pt
        if used + width > room and used > 0:
            lines, used = lines + 1, 0.0
        used += width
    return lines


def _line_mm(size_pt: float) -> float:
    return size_pt * LINE_HEIGHT * MM_PER_PT


def window_problem(insured: Member, *, home: bool, payroll_group: str,
                   envelope: Envelope) -> tuple[str, str] | None:
    """``(columns, reason)`` when the address block of ``insured``'s piece would not fit the
    window, else None."""
    _, _, width, height = envelope.block
    name_lines = line_count(f"{insured.name} 様", NAME_PT, width)
    used = NAME_GAP_MM + name_lines * _line_mm(NAME_PT)
    if home:
        used += _line_mm(POSTAL_PT) + BARCODE_MM
        what = "住所1, 住所2"
        printed = printed_addressee(insured)  # as the block prints it (「１－２」 -> 「1-2」)
        lines = sum(line_count(a or "", ADDRESS_PT, width)
                    for a in (printed.address1, printed.address2) if a)
    else:
        what = "就労先名"
        lines = line_count(insured.workplace_name or "", ADDRESS_PT, width) \
            + line_count(f"（{payroll_group}経由）", ADDRESS_PT, width)
    room = max(0, math.floor((height - used) / _line_mm(ADDRESS_PT) + 1e-9))
    if lines <= room:
        return None
    return what, (f"封筒の窓（{envelope.label}）に収まりません。{lines} 行必要ですが、窓には"
                  f"氏名のほかに {room} 行しか入りません。建物名を略すなど短くするか、別の封筒を"
                  f"指定してください (too long for the envelope window ({envelope.label}): it "
                  f"needs {lines} lines, the window holds {room} beside the name; shorten it "
                  "(e.g. abbreviate the building name) or use another envelope profile)")


def fit_households(roster: Roster, envelope: Envelope, *,
                   each: Callable[[Household], None] | None = None) -> Roster:
    """``roster`` without the households whose address block would not fit ``envelope``'s
    window: their rows move to ``errors`` (the insured person's with the columns and the
    reason, the dependents' pointing at that row). A staged roster's households are walked
    once; what is left is a view that skips the dropped ones. ``each`` gets every household
    kept, in order, as the walk passes it (check counts its routes in the same walk)."""
    payroll_group = facts.insurer().payroll_group  # printed in the window (workplace route)
    errors = list(roster.errors)
    dropped: set[str] = set()
    households: set[str] = set()
    dates = dict(roster.extrapolated_dates)
    certificates = roster.certificates
    walk: Iterable[tuple[int, Member, Household | None]]
    if each is None and isinstance(roster.households, Stored):
        # the window needs the insured person only: the dependents are read for the
        # households dropped, a page of the store each
        walk = ((i, insured, None) for i, insured in
                enumerate(insured_members(roster.households)))
    else:
        walk = ((i, h.insured, h) for i, h in enumerate(roster.households))
    for index, insured, household in walk:
        try:
            route = facts.delivery_route(membership=insured.membership or "",
                                         workplace_code=insured.workplace_code)
        except RuleError:  # no route: the plan rejects the household with that reason
            if each is not None and household is not None:
                each(household)
            continue
        problem = window_problem(insured, home=route.kind == "home", envelope=envelope,
                                 payroll_group=payroll_group)
        if problem is None:
            if each is not None and household is not None:
                each(household)
            continue
        columns, reason = problem
        if household is None:
            household = roster.households[index]
        households.add(household.key)
        dropped.update(m.key for m in household.members)
        for member in household.members:
            issued = member.certificate_issued_on
            if issued is not None:
                certificates -= 1
                if issued in dates:
                    dates[issued] -= 1
            if member.is_insured:
                errors.append(RowError(member.row, columns, reason, member.key))
            else:
                errors.append(RowError(
                    member.row, None,
                    f"被保険者(枝番00)の {insured.row} 行目が不合格のため "
                    "(the insured person's row was rejected)", member.key))
    if not dropped:
        return roster
    kept: Sequence[Household]
    members: Sequence[Member]
    if isinstance(roster.households, list):
        kept = [h for h in roster.households if h.key not in households]
        members = [m for m in roster.members if m.key not in dropped]
    else:
        kept = Filtered(roster.households, lambda h: h.key in households,
                        len(roster.households) - len(households))
        members = Filtered(roster.members, lambda m: m.key in dropped,
                           len(roster.members) - len(dropped))
    return replace(roster, households=kept, errors=sorted(errors, key=lambda e: e.row),
                   members=members, extrapolated_dates=dates, certificates=certificates)


def check_for_mailing(path: str | Path, *, as_of: date, sheet: str | None = None,
                      allow_columns: Collection[str] = (),
                      envelope: str = "naga3", letter: str | None = None,
                      window_months: int = 3) -> CheckResult:
    """``kenpo-docs check``: the roster as the merge will see it, window test included.

    With ``letter``, the rows the merge of that letter skips are listed with the merge's own
    reasons (an expired 資格確認書, a 高齢受給者証 month after coverage ends …), from the
    same plan the merge makes, and the routes count that letter's pieces.
    """
    with Store() as store:
        tally = Tally(as_of)  # routes counted in the window test's walk: one walk, not two
        roster = fit_households(stage_roster(path, store=store, as_of=as_of, sheet=sheet,
                                             allow_columns=allow_columns),
                                load_envelope(envelope), each=tally.add)
        result = summarize(roster, as_of=as_of, tally=tally)
        if letter is None:
            return result
        plan = plan_batch(roster, get_letter(letter), as_of=as_of, batch_id="check",
                          settings=LetterSettings(window_months=window_months))
        per_route: dict[str, list[int]] = {}
        for piece in plan.index():
            counts = per_route.setdefault(piece.route, [0, 0])
            counts[0] += 1
            counts[1] += piece.members
        order = sorted(per_route, key=lambda r: (r == "home", r))
        return replace(
            result, routes=tuple(RouteCount(r, *per_route[r]) for r in order),
            no_documents=tuple((o.member_key, o.reason) for o in plan.outcomes
                               if o.status == "skipped"))
