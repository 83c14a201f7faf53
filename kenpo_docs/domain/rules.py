"""The rules data of notice No. 539 (年金機構けんぽからのお知らせ 第539号): its types and loading.

The facts (dates, table rows, wording, contact) live in ``data/rules.toml`` so staff can
extend them without code. This module reads and validates that file into :class:`Rules`
(:func:`load_rules`; :func:`default_rules` reads the packaged file once and caches it), and
names each mistake by file and dotted key. What the rules say about a given date or member
is :mod:`kenpo_docs.domain.facts`. The insurer's own settings (name, 保険者番号, address,
contact) are :mod:`kenpo_docs.domain.insurer` (``data/insurer.toml``). Rules the notice
leaves open are settings in the data file, documented there, rather than policy invented here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from kenpo_docs.errors import RuleError
from kenpo_docs.paths import data_dir

__all__ = [
    "CardHandling",
    "CertificatePattern",
    "CertificatePeriod",
    "IssueTiming",
    "Rules",
    "default_rules",
    "load_rules",
]

DEFAULT_RULES_FILE = "rules.toml"

_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class CertificatePeriod:
    """A 資格確認書 issue period (交付期間) and the expiry (有効期限) of what is issued in it."""

    start: date
    end: date
    expiry: date


@dataclass(frozen=True)
class CertificatePattern:
    """The yearly continuation of the issue periods beyond the explicit ones."""

    enabled: bool
    year_start_month: int
    year_start_day: int
    expiry_years: int


@dataclass(frozen=True)
class CardHandling:
    """One row of the notice's table 「健康保険証の取り扱いについて」, as booleans."""

    label: str
    card_use: bool
    new_issue: bool
    reissue: bool
    collection_required: bool
    self_disposal: bool
    myna_use: bool


@dataclass(frozen=True)
class _HandlingRow:
    start: date | None
    end: date | None
    handling: CardHandling


@dataclass(frozen=True)
class IssueTiming:
    """One row of the 資格情報のお知らせ issue table (対象者 / 取得日 / 発行時期)."""

    key: str
    who: str
    acquired_from: date | None
    acquired_until: date | None
    issued: str


@dataclass(frozen=True)
class _VisitText:
    condition: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    """Everything in ``rules.toml``, typed and validated."""

    source: str
    card_new_issue_ends: date
    card_usable_until: date
    card_usable_on_loss_date: bool
    card_issued_if_acquired_until: date
    card_handling_rows: tuple[_HandlingRow, ...]
    certificate_first_issue_date: date
    certificate_periods: tuple[CertificatePeriod, ...]
    certificate_pattern: CertificatePattern
    elderly_age: int
    elderly_previous_month_if_born_on_day: int
    eligibility_notice_rows: tuple[IssueTiming, ...]
    visit_texts: tuple[tuple[str, _VisitText], ...]
    registration_steps: tuple[str, ...]
    delivery_routes: tuple[tuple[str, str], ...]


# --------------------------------------------------------------------------- loading


class _Reader:
    """Typed access to the parsed TOML that names the file and key on every error."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> RuleError:
        key = key or "(top level)"
        return RuleError(f"{key}: {message}", file=self.file, column=key)

    def table(self, data: Any, key: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "expected a table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(key, f"unknown key(s) {', '.join(unknown)}")
        return data

    def get(
        self, t: Mapping[str, Any], key: str, path: str, kind: type, *, required: bool = True
    ) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in t:
            if required:
                raise self.fail(full, "missing")
            return None
        value = t[key]
        if kind is date:
            ok = isinstance(value, date) and not isinstance(value, datetime)
            what = "a date (YYYY-MM-DD)"
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            what = "an integer"
        elif kind is bool:
            ok = isinstance(value, bool)
            what = "true or false"
        elif kind is str:
            ok = isinstance(value, str) and value.strip() != ""
            what = "a non-empty string"
        elif kind is list:
            ok = isinstance(value, list)
            what = "an array"
        else:  # pragma: no cover - programming error
            raise TypeError(kind)
        if not ok:
            raise self.fail(full, f"expected {what}, got {value!r}")
        return value

    def flag(self, t: Mapping[str, Any], key: str, path: str, yes: str, no: str) -> bool:
        value: str = self.get(t, key, path, str)
        if value not in (yes, no):
            raise self.fail(f"{path}.{key}", f"expected {yes!r} or {no!r}, got {value!r}")
        return value == yes

    def strings(self, t: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        items = self.get(t, key, path, list)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{path}.{key}[{i}]", "expected a non-empty string")
        if not items:
            raise self.fail(f"{path}.{key}", "must not be empty")
        return tuple(items)


_VISIT_KEYS = ("smartphone", "notice_with_card", "get_card")


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and validate a rules file (the packaged ``rules.toml`` when ``path`` is None).

    Raises:
        RuleError: the file is missing, not TOML, or a key is missing, unknown or ill-typed;
            the error's ``file`` is the path and its ``column`` the dotted key.
    """
    file = Path(path) if path is not None else data_dir() / DEFAULT_RULES_FILE
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise RuleError(f"cannot read rules file: {exc.strerror or exc}", file=file) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"not valid TOML: {exc}", file=file) from exc
    r = _Reader(str(file))
    top = r.table(
        raw,
        "",
        {"card", "certificate", "elderly", "eligibility_notice", "visit", "delivery"},
    )
    for name in (
        "card",
        "certificate",
        "elderly",
        "eligibility_notice",
        "visit",
        "delivery",
    ):
        if name not in top:
            raise r.fail(name, "missing")

    # R1 card
    card = r.table(
        top["card"],
        "card",
        {
            "new_issue_ends",
            "usable_until",
            "usable_on_loss_date",
            "issued_if_acquired_until",
            "handling",
        },
    )
    rows = _handling_rows(r, card)

    # R2 certificate
    cert = r.table(top["certificate"], "certificate", {"first_issue_date", "periods", "pattern"})
    first_issue = r.get(cert, "first_issue_date", "certificate", date)
    periods = _periods(r, cert, first_issue)
    pat = r.table(
        cert.get(
            "pattern",
            {"enabled": False, "year_start_month": 12, "year_start_day": 1, "expiry_years": 3},
        ),
        "certificate.pattern",
        {"enabled", "year_start_month", "year_start_day", "expiry_years"},
    )
    pattern = CertificatePattern(
        enabled=r.get(pat, "enabled", "certificate.pattern", bool),
        year_start_month=r.get(pat, "year_start_month", "certificate.pattern", int),
        year_start_day=r.get(pat, "year_start_day", "certificate.pattern", int),
        expiry_years=r.get(pat, "expiry_years", "certificate.pattern", int),
    )
    try:
        date(2001, pattern.year_start_month, pattern.year_start_day)
    except ValueError as exc:
        raise r.fail(
            "certificate.pattern", f"year start is not a day of every year: {exc}"
        ) from exc
    if pattern.expiry_years < 1:
        raise r.fail("certificate.pattern.expiry_years", "must be at least 1")

    # R3 elderly
    eld = r.table(top["elderly"], "elderly", {"age", "previous_month_if_born_on_day"})
    age = r.get(eld, "age", "elderly", int)
    born_day = r.get(eld, "previous_month_if_born_on_day", "elderly", int)
    if not 0 < age < 150:
        raise r.fail("elderly.age", f"implausible age {age}")
    if not 1 <= born_day <= 31:
        raise r.fail("elderly.previous_month_if_born_on_day", f"not a day of month: {born_day}")

    # R5 visit texts
    visit = r.table(top["visit"], "visit", {*_VISIT_KEYS, "registration"})
    texts: list[tuple[str, _VisitText]] = []
    for key in _VISIT_KEYS:
        if key not in visit:
            raise r.fail(f"visit.{key}", "missing")
        v = r.table(visit[key], f"visit.{key}", {"condition", "steps"})
        texts.append(
            (
                key,
                _VisitText(
                    r.get(v, "condition", f"visit.{key}", str),
                    r.strings(v, "steps", f"visit.{key}"),
                ),
            )
        )
    if "registration" not in visit:
        raise r.fail("visit.registration", "missing")
    reg_steps: list[str] = []
    circled = "①②③④⑤⑥⑦⑧⑨"
    for i, item in enumerate(r.get(visit, "registration", "visit", list)):
        p = f"visit.registration[{i}]"
        t = r.table(item, p, {"title", "options"})
        options = r.strings(t, "options", p)
        if len(options) > len(circled):
            raise r.fail(f"{p}.options", f"at most {len(circled)} options")
        listed = " ".join(f"{circled[j]}{o}" for j, o in enumerate(options))
        reg_steps.append(f"STEP{i + 1} {r.get(t, 'title', p, str)}（{listed}）")
    if not reg_steps:
        raise r.fail("visit.registration", "must not be empty")

    # delivery
    delivery = r.table(top["delivery"], "delivery", {"routes"})
    if "routes" not in delivery:
        raise r.fail("delivery.routes", "missing")
    routes_raw = delivery["routes"]
    if not isinstance(routes_raw, dict):
        raise r.fail("delivery.routes", "expected a table of membership = route")
    routes: list[tuple[str, str]] = []
    for membership in routes_raw:
        kind = r.get(routes_raw, membership, "delivery.routes", str)
        if kind not in ("workplace", "home"):
            raise r.fail(
                f"delivery.routes.{membership}", f"expected 'workplace' or 'home', got {kind!r}"
            )
        routes.append((membership, kind))
    if not routes:
        raise r.fail("delivery.routes", "must not be empty")

    return Rules(
        source=str(file),
        card_new_issue_ends=r.get(card, "new_issue_ends", "card", date),
        card_usable_until=r.get(card, "usable_until", "card", date),
        card_usable_on_loss_date=r.get(card, "usable_on_loss_date", "card", bool),
        card_issued_if_acquired_until=r.get(card, "issued_if_acquired_until", "card", date),
        card_handling_rows=rows,
        certificate_first_issue_date=first_issue,
        certificate_periods=periods,
        certificate_pattern=pattern,
        elderly_age=age,
        elderly_previous_month_if_born_on_day=born_day,
        eligibility_notice_rows=_timing_rows(r, top),
        visit_texts=tuple(texts),
        registration_steps=tuple(reg_steps),
        delivery_routes=tuple(routes),
    )


def _handling_rows(r: _Reader, card: Mapping[str, Any]) -> tuple[_HandlingRow, ...]:
    items = r.get(card, "handling", "card", list)
    rows: list[_HandlingRow] = []
    for i, item in enumerate(items):
        p = f"card.handling[{i}]"
        t = r.table(
            item,
            p,
            {
                "label",
                "from",
                "until",
                "card_use",
                "new_issue",
                "reissue",
                "collection",
                "self_disposal",
                "myna_use",
            },
        )
        rows.append(
            _HandlingRow(
                start=r.get(t, "from", p, date, required=False),
                end=r.get(t, "until", p, date, required=False),
                handling=CardHandling(
                    label=r.get(t, "label", p, str),
                    card_use=r.flag(t, "card_use", p, "可", "不可"),
                    new_issue=r.flag(t, "new_issue", p, "可", "不可"),
                    reissue=r.flag(t, "reissue", p, "可", "不可"),
                    collection_required=r.flag(t, "collection", p, "必要", "不要"),
                    self_disposal=r.flag(t, "self_disposal", p, "可", "不可"),
                    myna_use=r.flag(t, "myna_use", p, "可", "不可"),
                ),
            )
        )
    _check_contiguous(r, "card.handling", [(x.start, x.end) for x in rows], ("from", "until"))
    return tuple(rows)


def _timing_rows(r: _Reader, top: Mapping[str, Any]) -> tuple[IssueTiming, ...]:
    items = r.get(top, "eligibility_notice", "", list)
    rows: list[IssueTiming] = []
    for i, item in enumerate(items):
        p = f"eligibility_notice[{i}]"
        t = r.table(item, p, {"key", "who", "acquired_from", "acquired_until", "issued"})
        rows.append(
            IssueTiming(
                key=r.get(t, "key", p, str),
                who=r.get(t, "who", p, str),
                acquired_from=r.get(t, "acquired_from", p, date, required=False),
                acquired_until=r.get(t, "acquired_until", p, date, required=False),
                issued=r.get(t, "issued", p, str),
            )
        )
    keys = [x.key for x in rows]
    if len(set(keys)) != len(keys):
        raise r.fail("eligibility_notice", f"duplicate key in {keys}")
    _check_contiguous(
        r,
        "eligibility_notice",
        [(x.acquired_from, x.acquired_until) for x in rows],
        ("acquired_from", "acquired_until"),
    )
    return tuple(rows)


def _check_contiguous(
    r: _Reader, key: str, ranges: list[tuple[date | None, date | None]], names: tuple[str, str]
) -> None:
    """Rows must cover all dates exactly once: open first start, open last end, no gaps."""
    if not ranges:
        raise r.fail(key, "must have at least one row")
    lo, hi = names
    if ranges[0][0] is not None:
        raise r.fail(f"{key}[0].{lo}", "the first row must be open-ended (no start)")
    if ranges[-1][1] is not None:
        raise r.fail(f"{key}[{len(ranges) - 1}].{hi}", "the last row must be open-ended (no end)")
    for i in range(1, len(ranges)):
        prev_end, start = ranges[i - 1][1], ranges[i][0]
        if prev_end is None or start is None or start != prev_end + _ONE_DAY:
            raise r.fail(
                f"{key}[{i}].{lo}",
                f"must be the day after {key}[{i - 1}].{hi} ({prev_end}), got {start}",
            )
        end = ranges[i][1]
        if end is not None and end < start:
            raise r.fail(f"{key}[{i}].{hi}", f"{end} is before {lo} {start}")


def _periods(
    r: _Reader, cert: Mapping[str, Any], first_issue: date
) -> tuple[CertificatePeriod, ...]:
    items = r.get(cert, "periods", "certificate", list)
    periods: list[CertificatePeriod] = []
    for i, item in enumerate(items):
        p = f"certificate.periods[{i}]"
        t = r.table(item, p, {"start", "end", "expiry"})
        period = CertificatePeriod(
            r.get(t, "start", p, date), r.get(t, "end", p, date), r.get(t, "expiry", p, date)
        )
        if period.end < period.start:
            raise r.fail(f"{p}.end", f"{period.end} is before start {period.start}")
        if period.expiry < period.end:
            raise r.fail(f"{p}.expiry", f"{period.expiry} is before the period's end {period.end}")
        if period.start < first_issue:
            raise r.fail(
                f"{p}.start", f"{period.start} is before certificate.first_issue_date {first_issue}"
            )
        periods.append(period)
    ordered = sorted(periods, key=lambda x: x.start)
    for a, b in pairwise(ordered):
        if b.start <= a.end:
            raise r.fail(
                "certificate.periods", f"periods {a.start}..{a.end} and {b.start}..{b.end} overlap"
            )
    return tuple(ordered)


@cache
def default_rules() -> Rules:
    """The packaged rules, read once per process."""
    return load_rules()
