"""The request forms the notice encloses (別添1, 別添2): what each says to a household.

A form is printed from ``templates/forms/<name>/form.html`` (PDF, and its Word twin made
from the same page: :mod:`kenpo_docs.render.twin`). It receives ``forms``: a list of
per-form dicts made by :func:`form_context`, so the mail merge can print one prefilled
form per household in a single document and split the pages by each form's ``anchor``.
What the roster knows is printed (記号・番号, 氏名, フリガナ, 生年月日 in era form,
the dependents, the 送付先 the rules give); what only the member knows (申請日, 理由,
電話, 署名) is left as boxes for the hand, or as empty AcroForm fields when fillable.

Where the form must be sent is taken from the rules data (:func:`kenpo_docs.domain.facts.insurer`)
and worded as notice 539 words it:

* 別添1: 「別添１「資格確認書（再）交付申請書」を日本年金機構本部給与Ｇへ提出してください。」 and
  「任意継続加入者となる場合は、「任意継続被保険者資格取得申出書」を提出する際、別添１
  「資格確認書（再）交付申請書」を健康保険組合へ提出してください。」
* 別添2: 「別添２「資格情報のお知らせ再交付申請書」を健保組合へ提出してください。」
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kenpo_docs.domain import facts
from kenpo_docs.domain.addresses import address_notation
from kenpo_docs.domain.era import format_wareki
from kenpo_docs.errors import KenpoDocsError, RuleError, TemplateError
from kenpo_docs.input.roster import Household, Member

FORMATS = ("pdf", "docx")
#: Rows of the 対象者 table: enough for a household written by hand (more if it is larger).
MIN_TARGET_ROWS = 6


@dataclass(frozen=True)
class FormSpec:
    """One request form: its 別添 label, exact title, templates and 申請理由 choices."""

    name: str
    label: str
    title: str
    reasons: tuple[tuple[str, str], ...]  # (field key, label)

    @property
    def template(self) -> str:
        return f"forms/{self.name}/form.html"



FORMS: dict[str, FormSpec] = {
    "bessou1": FormSpec(
        name="bessou1",
        label="別添1",
        title="資格確認書（再）交付申請書",
        reasons=(("new", "新規"), ("lost", "紛失"), ("damaged", "き損"), ("other", "その他")),
    ),
    "bessou2": FormSpec(
        name="bessou2",
        label="別添2",
        title="資格情報のお知らせ再交付申請書",
        reasons=(("lost", "紛失"), ("damaged", "き損"), ("other", "その他")),
    ),
}


def get_form(name: str) -> FormSpec:
    """The form called ``name`` or a one-line error listing the known ones."""
    try:
        return FORMS[name]
    except KeyError:
        raise TemplateError(
            f"unknown form {name!r} (known: {', '.join(sorted(FORMS))})"
        ) from None


def _route_lines(spec: FormSpec, household: Household | None) -> list[dict[str, Any]]:
    """The 提出先 lines, with the one that applies to this household marked."""
    ins = facts.insurer()
    membership = (household.insured.membership or "") if household else ""
    continuation = False
    if household is not None:
        try:
            continuation = facts.delivery_route(
                membership=membership, workplace_code=household.insured.workplace_code
            ).kind == "home"
        except RuleError:
            continuation = False
    if spec.name == "bessou1":
        return [
            {
                "text": f"この申請書は{ins.payroll_group}へ提出してください。",
                "applies": household is not None and not continuation,
            },
            {
                "text": "任意継続被保険者となる方は、「任意継続被保険者資格取得申出書」を"
                f"提出する際、この申請書を一緒に健康保険組合（{ins.name}"
                + (f"　{ins.postal_display} {ins.address}" if continuation else "")
                + "）へ提出してください。",
                "applies": continuation,
            },
        ]
    return [
        {
            "text": f"この申請書は健康保険組合（{ins.name} {ins.department}"
            + (f"　{ins.postal_display} {ins.address}" if continuation else "")
            + "）へ提出してください。",
            "applies": household is not None,
        }
    ]


def _notes(spec: FormSpec, route: str | None = None) -> list[str]:
    """Short reminders quoted from the notice, printed under the form.

    The return instruction follows the household's route (the insurer settings'
    ``[return_instruction]``): a 任意継続 member (home route) has no employer to return the
    certificate through and is given the kenpo's address instead.
    """
    if spec.name == "bessou1":
        # 「日本年金機構本部給与G経由で被保険者の就労先へ送付（任継の方はご自宅宛に送付）」
        return [
            f"資格確認書は、{facts.insurer().payroll_group}経由で被保険者の就労先へ送付します"
            "（任継の方はご自宅宛に送付）。",
            "資格確認書（再）申請書を受付後、送付までに数日かかります。",
            facts.insurer().return_instruction(route or "workplace"),
        ]
    return [
        "マイナポータルの資格情報画面を確認できる場合、再交付の手続きは不要です。",
        "資格情報のお知らせは、「資格取得日」の変更がある場合のみ再交付します。",
    ]


def _target(member: Member | None, *, checked: bool = False) -> dict[str, Any]:
    if member is None:
        return {"filled": False, "checked": False, "kind": "", "branch": "", "name": "",
                "kana": "", "birth": ""}
    return {
        "filled": True,
        "checked": checked,
        "kind": "被保険者" if member.is_insured else "被扶養者",
        "branch": member.branch,
        "name": member.name,
        "kana": member.kana or "",
        "birth": format_wareki(member.birth_date),
    }


def form_context(
    name: str,
    household: Household | None,
    *,
    as_of: date,
    fillable: bool = False,
    anchor: str | None = None,
    branch: str | None = None,
) -> dict[str, Any]:
    """The per-form dict a form template prints (one item of its ``forms`` list).

    Args:
        name: ``bessou1`` or ``bessou2``.
        household: Whose form; ``None`` gives a blank form.
        as_of: The date the route is decided on (the form itself leaves 申請日 blank).
        fillable: Print AcroForm fields instead of plain boxes (PDF only).
        anchor: Element id the form starts with, so a merged document can be split.
        branch: 枝番 of the one member the form is for; that 対象者 row is pre-ticked.

    Raises:
        TemplateError: unknown form name.
        KenpoDocsError: ``branch`` is not a member of the household.
    """
    spec = get_form(name)
    insured = household.insured if household is not None else None
    if household is not None and branch is not None:
        if branch not in {m.branch for m in household.members}:
            raise KenpoDocsError(
                "no such 枝番 in the household", member_key=f"{household.key}-{branch}"
            )
    members = household.members if household is not None else ()
    targets = [_target(m, checked=m.branch == branch) for m in members]
    targets += [_target(None)] * max(MIN_TARGET_ROWS - len(targets), 0)

    send: dict[str, Any] = {"workplace": False, "home": False, "workplace_name": "",
                            "postal": "", "address": ""}
    send_route: str | None = None
    if insured is not None:
        route = facts.household_route(
            insured_membership=insured.membership or "",
            insured_workplace_code=insured.workplace_code,
        )
        send_route = route.kind
        if route.kind == "home":
            send["home"] = True
            if insured.postal_code:
                send["postal"] = f"{insured.postal_code[:3]}-{insured.postal_code[3:]}"
            send["address"] = "　".join(address_notation(a) for a in
                                       (insured.address1, insured.address2) if a)
        else:
            send["workplace"] = True
            send["workplace_name"] = insured.workplace_name or ""
    ins = facts.insurer()
    return {
        "anchor": anchor,
        "name": spec.name,
        "label": spec.label,
        "title": spec.title,
        "fillable": fillable,
        "blank": household is None,
        "as_of": as_of,
        "key": household.key if household is not None else "",
        "symbol": insured.symbol if insured else "",
        "number": insured.number if insured else "",
        "applicant_name": insured.name if insured else "",
        "applicant_kana": (insured.kana or "") if insured else "",
        "applicant_birth": format_wareki(insured.birth_date) if insured else "",
        "targets": targets,
        "reasons": [{"key": k, "label": label} for k, label in spec.reasons],
        "send": send,
        "route_lines": _route_lines(spec, household),
        "notes": _notes(spec, send_route),
        "insurer": {"name": ins.name, "department": ins.department, "phone": ins.phone,
                    "payroll_group": ins.payroll_group},
    }


def find_household(households: Sequence[Household], key: str) -> tuple[Household, str | None]:
    """The household a ``記号-番号`` or ``記号-番号-枝番`` key names, and the 枝番 if given.

    Raises:
        RosterError: no such member in the roster (named by the key only).
    """
    from kenpo_docs.errors import RosterError

    parts = key.strip().split("-")
    if len(parts) not in (2, 3) or not all(parts):
        raise RosterError(f"--member {key!r}: use 記号-番号 or 記号-番号-枝番")
    household_key, branch = "-".join(parts[:2]), (parts[2] if len(parts) == 3 else None)
    for household in households:
        if household.key == household_key and (
            branch is None or branch in {m.branch for m in household.members}
        ):
            return household, branch
    raise RosterError("no such member in the roster", member_key=key)
