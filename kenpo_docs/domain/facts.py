"""What the rules of notice No. 539 say about a date, a member or a route: pure functions.

Each function answers one question of the notice (資格確認書 expiry, whether a 健康保険証 is
still usable, the 受診方法 flowchart, where a document is sent) from a :class:`Rules`
loaded by :mod:`kenpo_docs.domain.rules`. Every function takes ``rules=`` to use another set
(a test's custom TOML, a future notice); by default the packaged rules.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from kenpo_docs.domain.insurer import Insurer, default_insurer
from kenpo_docs.domain.rules import (
    CardHandling,
    CertificatePeriod,
    IssueTiming,
    Rules,
    default_rules,
)
from kenpo_docs.errors import RuleError

__all__ = [
    "Route",
    "VisitPath",
    "card_handling",
    "card_handling_table",
    "card_issued",
    "card_usable",
    "card_usable_until",
    "certificate_expiry",
    "certificate_period",
    "certificate_period_extrapolated",
    "certificate_periods_table",
    "delivery_route",
    "elderly_certificate_month",
    "eligibility_notice_table",
    "eligibility_notice_timing",
    "household_route",
    "insurer",
    "registration_steps",
    "visit_path",
    "visit_steps",
]

_ONE_DAY = timedelta(days=1)


def _r(rules: Rules | None) -> Rules:
    return rules if rules is not None else default_rules()


# --------------------------------------------------------------------------- R2 資格確認書


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February -> 28 February
        return d.replace(year=d.year + years, day=28)


def certificate_period(issued_on: date, *, rules: Rules | None = None) -> CertificatePeriod:
    """The issue period a 資格確認書 issued on ``issued_on`` belongs to.

    Explicit periods from the data file win; otherwise the yearly pattern applies, clipped so
    it never overlaps an explicit period.

    Raises:
        RuleError: before the first issue date (2024-12-02), or no period is configured.
    """
    r = _r(rules)
    if issued_on < r.certificate_first_issue_date:
        raise RuleError(
            f"{issued_on} is before {r.certificate_first_issue_date},"
            " the first day a 資格確認書 can be issued"
        )
    for period in r.certificate_periods:
        if period.start <= issued_on <= period.end:
            return period
    pat = r.certificate_pattern
    if not pat.enabled:
        raise RuleError(f"no 資格確認書 issue period is configured for {issued_on}", file=r.source)
    opening = date(issued_on.year, pat.year_start_month, pat.year_start_day)
    if opening > issued_on:
        opening = _add_years(opening, -1)
    following = _add_years(opening, 1)
    start, end = opening, following - _ONE_DAY
    for period in r.certificate_periods:  # clip the pattern year around explicit periods
        if period.end < issued_on and period.end >= start:
            start = period.end + _ONE_DAY
        if period.start > issued_on and period.start <= end:
            end = period.start - _ONE_DAY
    start = max(start, r.certificate_first_issue_date)
    return CertificatePeriod(start, end, _add_years(opening, pat.expiry_years) - _ONE_DAY)


def certificate_period_extrapolated(issued_on: date, *, rules: Rules | None = None) -> bool:
    """Whether ``issued_on`` falls outside every period the notice (the data file) lists.

    Notice 539 gives two issue periods (to 2026-11-30); a later one is the yearly pattern's
    extrapolation until staff add the period the kenpo publishes to ``[[certificate.periods]]``.
    """
    r = _r(rules)
    if issued_on < r.certificate_first_issue_date:
        return False
    return not any(p.start <= issued_on <= p.end for p in r.certificate_periods)


def certificate_expiry(issued_on: date, *, rules: Rules | None = None) -> date:
    """The 有効期限 of a 資格確認書 issued on ``issued_on`` (e.g. 2024-12-02 -> 2027-11-30)."""
    return certificate_period(issued_on, rules=rules).expiry


def certificate_periods_table(*, rules: Rules | None = None) -> list[CertificatePeriod]:
    """The explicit periods (the notice's two rows plus any added by staff), in date order."""
    return list(_r(rules).certificate_periods)


# --------------------------------------------------------------------------- R1 健康保険証


def card_usable_until(*, lost_on: date | None, rules: Rules | None = None) -> date:
    """The last day a 健康保険証 in hand can be used.

    ``lost_on`` is the 資格喪失日 (the first day without coverage: the day after retirement).
    "ただし、令和7年12月1日より前に…資格を喪失した場合は、その時までとなります": the earlier of
    2025-12-01 and the last covered day, i.e. the day before ``lost_on`` (the data setting
    ``card.usable_on_loss_date`` makes it ``lost_on`` itself).
    """
    r = _r(rules)
    if lost_on is None:
        return r.card_usable_until
    last = lost_on if r.card_usable_on_loss_date else lost_on - _ONE_DAY
    return min(r.card_usable_until, last)


def card_usable(on: date, *, lost_on: date | None = None, rules: Rules | None = None) -> bool:
    """Whether a card issued before the cut-over can still be shown on ``on``."""
    return on <= card_usable_until(lost_on=lost_on, rules=rules)


def card_issued(acquired_on: date, *, rules: Rules | None = None) -> bool:
    """Whether a member acquiring coverage on ``acquired_on`` still gets a 健康保険証.

    "令和6年12月1日に資格取得日の加入者…については、保険証を交付します" (任意継続 included).
    """
    return acquired_on <= _r(rules).card_issued_if_acquired_until


def card_handling(on: date, *, rules: Rules | None = None) -> CardHandling:
    """The row of 「健康保険証の取り扱いについて」 in force on ``on``."""
    for row in _r(rules).card_handling_rows:
        if (row.start is None or row.start <= on) and (row.end is None or on <= row.end):
            return row.handling
    raise AssertionError("card.handling rows are validated to cover every date")  # pragma: no cover


def card_handling_table(*, rules: Rules | None = None) -> list[tuple[str, CardHandling]]:
    """The table's rows as (period label, handling), in the notice's order, for printing."""
    return [(row.handling.label, row.handling) for row in _r(rules).card_handling_rows]


# --------------------------------------------------------------------------- R3 高齢受給者証


def elderly_certificate_month(birth_date: date, *, rules: Rules | None = None) -> date:
    """First day of the month the 高齢受給者証 is issued.

    "70歳誕生月（誕生日が月の初日の場合は前月）": one legally reaches an age on the day before
    the birthday, so those born on the 1st reach 70 in the previous month (born 1957-01-01 ->
    2026-12-01).
    """
    r = _r(rules)
    month = date(birth_date.year + r.elderly_age, birth_date.month, 1)
    if birth_date.day == r.elderly_previous_month_if_born_on_day:
        month = (month - _ONE_DAY).replace(day=1)
    return month


# --------------------------------------------------------------------------- R4 資格情報のお知らせ


def eligibility_notice_timing(acquired_on: date, *, rules: Rules | None = None) -> IssueTiming:
    """When the 資格情報のお知らせ is (or was) issued for a given 資格取得日."""
    for row in _r(rules).eligibility_notice_rows:
        if (row.acquired_from is None or row.acquired_from <= acquired_on) and (
            row.acquired_until is None or acquired_on <= row.acquired_until
        ):
            return row
    raise AssertionError(
        "eligibility_notice rows are validated to cover every date"
    )  # pragma: no cover


def eligibility_notice_table(*, rules: Rules | None = None) -> list[IssueTiming]:
    """The table 「対象者 取得日 発行時期」, in the notice's order."""
    return list(_r(rules).eligibility_notice_rows)


# --------------------------------------------------------------------------- R5 受診方法


class VisitPath(enum.Enum):
    """The three answers of the flowchart 「医療機関等での受診方法について」, or not known."""

    SMARTPHONE = "smartphone"  # マイナンバーカードとスマホを持っている
    NOTICE_WITH_CARD = "notice_with_card"  # カードは持っているが、スマホはもっていない
    GET_CARD = "get_card"  # マイナンバーカードを持っていない
    UNKNOWN = "unknown"  # facts missing: a letter shows the whole chart


def visit_path(
    *, has_card: bool | None, has_smartphone: bool | None, myna_registered: bool | None = None
) -> VisitPath:
    """Walk the flowchart for one member.

    ``myna_registered`` does not change the answer: the chart's smartphone answer itself says
    "ダウンロードするためには、マイナ保険証の利用登録手続きが必要となります", so an unregistered
    member with card and phone still gets SMARTPHONE, whose steps include registering. Letters
    add :func:`registration_steps` when ``myna_registered`` is not True. Without a card the
    phone question is moot (GET_CARD); with a card but an unknown phone answer, UNKNOWN.
    """
    del myna_registered  # accepted so callers can pass the roster's facts; see docstring
    if has_card is None:
        return VisitPath.UNKNOWN
    if not has_card:
        return VisitPath.GET_CARD
    if has_smartphone is None:
        return VisitPath.UNKNOWN
    return VisitPath.SMARTPHONE if has_smartphone else VisitPath.NOTICE_WITH_CARD


def visit_steps(path: VisitPath, *, rules: Rules | None = None) -> list[str]:
    """The notice's own next-step sentences for ``path``.

    For UNKNOWN, the whole chart: each question as 「【…】」 followed by its answer's sentences.
    """
    texts = dict(_r(rules).visit_texts)
    if path is VisitPath.UNKNOWN:
        out: list[str] = []
        for key in (p.value for p in VisitPath if p is not VisitPath.UNKNOWN):  # chart order
            out.append(f"【{texts[key].condition}】")
            out.extend(texts[key].steps)
        return out
    return list(texts[path.value].steps)


def registration_steps(*, rules: Rules | None = None) -> list[str]:
    """The three STEPs to use the card as マイナ保険証 (for members not yet registered)."""
    return list(_r(rules).registration_steps)


# --------------------------------------------------------------------------- delivery, contact


@dataclass(frozen=True)
class Route:
    """Where a 資格確認書 or letter is sent: the workplace (via 本部給与G) or home."""

    kind: str
    workplace_code: str | None

    def __str__(self) -> str:
        return f"workplace:{self.workplace_code}" if self.kind == "workplace" else "home"


def delivery_route(
    *, membership: str, workplace_code: str | None, rules: Rules | None = None
) -> Route:
    """Route by membership, as the notice's 送付方法 says.

    "日本年金機構本部給与G経由で被保険者の就労先へ送付（任継の方はご自宅宛に送付）".

    Raises:
        RuleError: unknown membership, or a workplace route without a workplace code or
            with one that is not :data:`WORKPLACE_CODE_RE`.
    """
    routes = dict(_r(rules).delivery_routes)
    key = membership.strip()
    if key not in routes:
        raise RuleError(
            f"unknown membership {membership!r} (expected one of {', '.join(routes)})",
            column="membership",
        )
    if routes[key] == "home":
        return Route("home", None)
    code = (workplace_code or "").strip()
    if not code:
        raise RuleError(
            f"membership {key!r} is sent to the workplace but no workplace code is given",
            column="workplace_code",
        )
    if not WORKPLACE_CODE_RE.fullmatch(code):
        raise RuleError(
            "就労先コードは英数字で始まる英数字・ハイフン・下線の"
            f"{WORKPLACE_CODE_MAX}文字以内にしてください (letters, digits, '-' and '_', "
            f"at most {WORKPLACE_CODE_MAX})",
            column="workplace_code",
        )
    return Route("workplace", code)


#: What a 就労先コード may be (after NFKC, so full-width digits are digits): it names a
#: bundle on cover sheets, in bookmarks, the manifest and the inserter files. File names never
#: come from it (print files are numbered), but a code with a slash, a newline or 300
#: characters is a roster mistake to catch in ``check``, before any rendering.
WORKPLACE_CODE_MAX = 20
WORKPLACE_CODE_RE = re.compile(rf"[0-9A-Za-z][0-9A-Za-z_-]{{0,{WORKPLACE_CODE_MAX - 1}}}")


def household_route(
    *, insured_membership: str, insured_workplace_code: str | None, rules: Rules | None = None
) -> Route:
    """Route for anything addressed to a household member, dependents (被扶養者) included.

    "被扶養者の手続きの際…についても、日本年金機構本部給与G経由で被保険者の就労先へ送付します":
    a dependent's documents follow the insured person (枝番 00) of the same 記号・番号, so
    callers pass the insured person's membership and workplace, never the dependent's own.
    """
    return delivery_route(
        membership=insured_membership, workplace_code=insured_workplace_code, rules=rules
    )


def insurer(*, rules: Rules | None = None) -> Insurer:
    """The insurer's settings (``data/insurer.toml``): name, 保険者番号, address, 照会先.

    ``rules`` is accepted for symmetry with the other functions; the settings are the
    insurer's, not notice 539's, and do not change with the rules.
    """
    del rules
    return default_insurer()
