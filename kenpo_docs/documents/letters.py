"""The personalised letters: which members each one is for, and what it says about them.

A letter decides, member by member, whether it applies (and with which facts) or why not.
The facts come from ``domain.facts``, so a date changed in the rules data changes every letter.
Templates live in ``templates/letters/<name>/letter.html`` and receive the pieces to print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from kenpo_docs.documents.forms import FORMS
from kenpo_docs.domain import facts, rules
from kenpo_docs.domain.addresses import address_notation
from kenpo_docs.errors import KenpoDocsError, RuleError
from kenpo_docs.input.roster import Member

#: What a letter says about one member, or ``None`` plus a reason when it does not apply.
Decision = tuple[dict[str, Any] | None, str | None]


@dataclass(frozen=True)
class LetterSpec:
    """One kind of letter.

    Attributes:
        name: the CLI name (``--letter NAME``) and the template folder.
        code: three letters used in batch and piece ids.
        title: the letter's title, as printed.
        decide: member, as-of date and options -> (facts, None) or (None, reason).
    """

    name: str
    code: str
    title: str
    decide: Callable[[Member, date, LetterSettings], Decision]

    @property
    def template(self) -> str:
        return f"letters/{self.name}/letter.html"



@dataclass(frozen=True)
class LetterSettings:
    """Per-run settings a letter may use (e.g. the 高齢受給者証 look-ahead window)."""

    window_months: int = 3
    rules: rules.Rules | None = field(default=None, compare=False)


def _kakuninsho(member: Member, as_of: date, settings: LetterSettings) -> Decision:
    if member.certificate_issued_on is None:
        return None, "資格確認書交付日がありません (no certificate issue date)"
    try:
        period = facts.certificate_period(member.certificate_issued_on, rules=settings.rules)
    except RuleError as exc:
        return None, exc.message
    if period.expiry < as_of:
        # "有効期限を過ぎたものは返却不要…ご自身にて破棄してください": never mailed.
        return None, (f"有効期限切れ: 送付不要 (有効期限 {period.expiry.isoformat()} が基準日 "
                      f"{as_of.isoformat()} より前) (expired before the letter date: the holder "
                      "destroys an expired certificate, it is not mailed)")
    return {
        "issued_on": member.certificate_issued_on,
        "expiry": period.expiry,
        "period_start": period.start,
        "period_end": period.end,
        **myna_wording(member),
    }, None


#: What the letter says about why a member receives a 資格確認書, by 交付理由 (the column).
#: Only 未取得 and 未登録 are the notice's "マイナ保険証を利用できない方"; a registered member
#: receives one on application and is never told that they cannot use マイナ保険証.
ISSUE_REASON_TEXTS = {
    "未取得": "マイナンバーカードをお持ちでないため",
    "未登録": "マイナ保険証の利用登録がされていないため",
    "紛失": "マイナンバーカードの紛失によるお申し出のため",
    "更新中": "マイナンバーカードの更新中のため",
    "要配慮": "マイナ保険証での受診に介助等が必要な方としてのお申し出のため",
    "その他": "お申し出により",
}


def myna_wording(member: Member) -> dict[str, Any]:
    """Whether the letter may say the member "cannot use マイナ保険証", and the 交付理由 text.

    ``cannot_use_myna`` is True only when the roster says so: 交付理由 未取得/未登録, or (no
    reason given) マイナ保険証 無 or マイナンバーカード 無. A registered member (マイナ保険証
    有) or one whose answers are unknown gets the neutral wording.
    """
    reason = member.issue_reason
    if reason is not None:
        cannot = reason in ("未取得", "未登録")
    else:
        cannot = member.myna_registered is not True and (
            member.myna_registered is False or member.has_mynumber_card is False)
    return {"cannot_use_myna": cannot, "issue_reason": reason,
            "issue_reason_text": ISSUE_REASON_TEXTS.get(reason or "")}


def _oshirase(member: Member, as_of: date, settings: LetterSettings) -> Decision:
    timing = facts.eligibility_notice_timing(member.acquired_on, rules=settings.rules)
    return {"timing": timing}, None


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _koureisha(member: Member, as_of: date, settings: LetterSettings) -> Decision:
    month = facts.elderly_certificate_month(member.birth_date, rules=settings.rules)
    first = date(as_of.year, as_of.month, 1)
    last = _add_months(first, settings.window_months)
    if not first <= month < last:
        return None, (
            f"高齢受給者証の交付月 {month:%Y-%m} が対象期間外 "
            f"({first:%Y-%m} から {settings.window_months} か月) "
            f"(issue month outside the {settings.window_months}-month window)"
        )
    if member.lost_on is not None and member.lost_on < _add_months(month, 1):
        # No promise of a certificate for a month in which (or after which) coverage ends.
        return None, (
            f"資格喪失日 {member.lost_on.isoformat()} が高齢受給者証の交付月 {month:%Y-%m} "
            "以前のため交付しません (coverage ends in or before the issue month: "
            "no certificate is promised)"
        )
    return {"issue_month": month}, None


#: The chart's pointer to an earlier notice: 「「資格情報のお知らせ」について、けんぽからのお知らせ
#: （令和6年9月9日付）をご参照ください。」 Only members who were members on that day received it.
EARLIER_NOTICE_DATE = date(2024, 9, 9)
EARLIER_NOTICE_PHRASE = "（令和6年9月9日付）"


def _guidance(member: Member, as_of: date, settings: LetterSettings) -> Decision:
    """Flowchart path and next steps; the three STEPs unless registration is confirmed.

    ``condition`` is the chart's own question box for the path (None for UNKNOWN, whose
    ``steps`` already carry every question), so the letter prints the notice's words. The
    step that points to the 令和6年9月9日付 notice is left out for a member who joined after
    that day (they never received it). ``answered``: the member gave at least one answer.
    """
    path = facts.visit_path(
        has_card=member.has_mynumber_card,
        has_smartphone=member.has_smartphone,
        myna_registered=member.myna_registered,
    )
    texts = dict((settings.rules or rules.default_rules()).visit_texts)
    condition = texts[path.value].condition if path.value in texts else None
    registration = (
        [] if member.myna_registered is True else facts.registration_steps(rules=settings.rules)
    )
    steps = facts.visit_steps(path, rules=settings.rules)
    if member.acquired_on > EARLIER_NOTICE_DATE:
        steps = [s for s in steps if EARLIER_NOTICE_PHRASE not in s]
    answers = (member.has_mynumber_card, member.has_smartphone, member.myna_registered)
    return {
        "path": path,
        "condition": condition,
        "steps": steps,
        "registration": registration,
        "answered": any(a is not None for a in answers),
    }, None


LETTERS: dict[str, LetterSpec] = {
    spec.name: spec
    for spec in (
        LetterSpec("kakuninsho", "KKS", "資格確認書の送付について", _kakuninsho),
        LetterSpec("oshirase", "OSH", "資格情報のお知らせ", _oshirase),
        LetterSpec("koureisha", "KRS", "高齢受給者証の交付について", _koureisha),
        LetterSpec("guidance", "GUI", "医療機関等での受診方法のご案内", _guidance),
    )
}


#: What the kakuninsho letter says the envelope holds before any ``--enclose``: the
#: certificate itself (staff insert the card or sheet the letter is about).
LETTER_ITEMS: dict[str, tuple[str, ...]] = {"kakuninsho": ("資格確認書",)}


def enclosure_titles(letter: str, enclosures: tuple[str, ...]) -> list[str]:
    """What a letter says is enclosed: its own items, then each ``--enclose`` by its title.

    ``notice:539`` -> 「年金機構けんぽからのお知らせ（第539号）」 (the series title of the
    insurer settings), ``form:bessou1`` -> 「別添1 資格確認書（再）交付申請書」, ``file:PATH``
    -> 「関係資料」 (counted: 「関係資料（2点）」).
    """
    series = facts.insurer().series_title
    titles = list(LETTER_ITEMS.get(letter, ()))
    files = 0
    for spec in enclosures:
        kind, _, name = spec.partition(":")
        if kind == "notice":
            titles.append(f"{series}（第{name}号）")
        elif kind == "form" and name in FORMS:
            titles.append(f"{FORMS[name].label} {FORMS[name].title}")
        else:
            files += 1
    if files:
        titles.append("関係資料" if files == 1 else f"関係資料（{files}点）")
    return titles


def printed_addressee(member: Member) -> Member:
    """``member`` as a piece prints it: 住所1 and 住所2 in Japan Post's notation of the numbers
    (「１丁目２－３」 -> 「1丁目2-3」, see :func:`~kenpo_docs.domain.addresses.address_notation`).
    For the page only: the plan, the manifest, the tracking database and the customer
    barcode keep the roster's own value."""
    return replace(
        member,
        address1=address_notation(member.address1) if member.address1 else member.address1,
        address2=address_notation(member.address2) if member.address2 else member.address2,
    )


def get_letter(name: str) -> LetterSpec:
    """The letter called ``name``; a one-line error listing the known ones otherwise."""
    try:
        return LETTERS[name]
    except KeyError:
        known = ", ".join(sorted(LETTERS))
        raise KenpoDocsError(f"unknown letter {name!r} (known: {known})") from None


@dataclass(frozen=True)
class Envelope:
    """A window-envelope profile (mm on the printed A4 sheet)."""

    name: str
    label: str
    window_left: float
    window_top: float
    window_width: float
    window_height: float
    shift: float

    @property
    def block(self) -> tuple[float, float, float, float]:
        """(left, top, width, height) of the area the address block may use."""
        s = self.shift
        return (
            self.window_left + s,
            self.window_top + s,
            self.window_width - 2 * s,
            self.window_height - 2 * s,
        )


def load_envelope(name: str = "naga3", path: str | None = None) -> Envelope:
    """An envelope profile from ``data/envelopes.toml`` (or ``path``)."""
    import tomllib
    from pathlib import Path

    from kenpo_docs.paths import data_dir

    file = Path(path) if path else data_dir() / "envelopes.toml"
    with file.open("rb") as fh:
        profiles = tomllib.load(fh)
    if name not in profiles:
        raise KenpoDocsError(f"unknown envelope profile {name!r}", file=file)
    p = profiles[name]
    try:
        return Envelope(
            name, str(p["label"]), float(p["window_left"]), float(p["window_top"]),
            float(p["window_width"]), float(p["window_height"]), float(p["shift"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KenpoDocsError(f"envelope profile {name!r} is incomplete: {exc}", file=file) from exc
