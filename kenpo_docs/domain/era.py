"""Japanese era calendar (和暦): read any date a roster or a clerk gives us, write the
notice's forms.

Official text uses the era, rosters use whatever Excel or a person typed. One reader
(:func:`parse_date`) accepts them all and refuses, with a plain message, dates that do not
exist (``令和7年2月30日``) or that name a day outside their era (``平成32年1月1日``: the
message suggests ``令和2年1月1日``). The writers produce the notice's forms::

    format_wareki      令和7年12月1日 / 令和元年5月1日 / 令和6年12月1日（日）
    format_year_month  令和8年12月
    format_short       6.11.19         (notice header, no era letter)
    format_abbrev      R7.12.1

Month and day are Gregorian throughout, as in all modern official text: 明治 is taken to start
on 1868-01-25 (明治元年 = 1868) and nothing earlier is in scope.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import NamedTuple

from kenpo_docs.errors import DateError


class Era(NamedTuple):
    """One era: its name (令和), its Latin initial (R) and its first day."""

    name: str
    letter: str
    start: date


ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 1, 25)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)

FIRST_DAY = ERAS[0].start
_WEEKDAYS = "月火水木金土日"  # date.weekday(): Monday is 0
_BY_TOKEN = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}

# Excel's 1900 date system: serial 1 is 1900-01-01 and serial 60 is 1900-02-29, a day that
# never existed (kept for Lotus 1-2-3 compatibility). From serial 61 on, day 0 is 1899-12-30.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_FAKE_LEAP_DAY = 60
_EXCEL_MAX = (date(9999, 12, 31) - _EXCEL_EPOCH).days

_ERA = "|".join([e.name for e in ERAS] + [e.letter for e in ERAS])
#: A time of day after a western date, as spreadsheets write date cells exported to CSV
#: ("2025-12-01 00:00:00", "2025/12/1 0:00", "2025-12-01T00:00"): dropped, like the time of
#: a ``datetime`` cell.
_TIME_SUFFIX = re.compile(r"^([0-9]{4}[./-][0-9]{1,2}[./-][0-9]{1,2})(?:[ T]+(?:[01]?[0-9]|2[0-3])"
                          r":[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?)$")
_WEEKDAY_SUFFIX = re.compile(r"\s*\(\s*([月火水木金土日])(?:曜日?)?\s*\)$")
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("wareki", re.compile(
        rf"(?P<era>{_ERA})\s*(?P<y>元|[0-9]{{1,4}})\s*年\s*(?P<m>[0-9]{{1,2}})\s*月"
        rf"\s*(?P<d>[0-9]{{1,2}})\s*日"
    )),
    ("wareki", re.compile(
        rf"(?P<era>{_ERA})(?P<y>元|[0-9]{{1,4}})(?P<sep>[./-])(?P<m>[0-9]{{1,2}})(?P=sep)"
        rf"(?P<d>[0-9]{{1,2}})"
    )),
    ("western", re.compile(
        r"(?P<y>[0-9]{4})(?P<sep>[./-])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    )),
    ("western", re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")),
    ("western", re.compile(
        r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*日"
    )),
)


def era_of(d: date) -> tuple[Era, int]:
    """Return the era of ``d`` and its year in that era (1 for 元年)."""
    if d < FIRST_DAY:
        raise DateError(f"{d.isoformat()} is before 明治 ({FIRST_DAY.isoformat()}), out of scope")
    era = next(e for e in reversed(ERAS) if d >= e.start)
    return era, d.year - era.start.year + 1


def weekday_ja(d: date) -> str:
    """One-character Japanese weekday, 月 for Monday .. 日 for Sunday."""
    return _WEEKDAYS[d.weekday()]


def _year_ja(year: int) -> str:
    return "元" if year == 1 else str(year)


def format_wareki(d: date, *, weekday: bool = False) -> str:
    """``令和7年12月1日``; with ``weekday`` the notice's ``令和6年12月1日（日）``."""
    era, year = era_of(d)
    text = f"{era.name}{_year_ja(year)}年{d.month}月{d.day}日"
    return f"{text}（{weekday_ja(d)}）" if weekday else text


def format_year_month(d: date) -> str:
    """``令和8年12月``, for "issued around ..." lines that name a month only."""
    era, year = era_of(d)
    return f"{era.name}{_year_ja(year)}年{d.month}月"


def format_short(d: date) -> str:
    """The notice header's ``6.11.19``: era year, month, day, without the era letter."""
    _, year = era_of(d)
    return f"{year}.{d.month}.{d.day}"


def format_abbrev(d: date) -> str:
    """``R7.12.1``: compact, unambiguous, for tables and file names."""
    era, year = era_of(d)
    return f"{era.letter}{year}.{d.month}.{d.day}"


def parse_date(value: object, *, field: str | None = None) -> date:
    """Read a date from a roster cell or a command-line option.

    Accepts ``date``/``datetime`` objects, Excel serial numbers (int/float only, 1900 date
    system) and text: ISO ``2025-12-01``, ``2025/12/1``, ``20251201``, ``令和7年12月1日``,
    ``令和元年5月1日``, ``R7.12.1``/``r07-12-01``, full-width forms, an optional weekday
    ``（月）`` that must match. ``field`` names the column in the error.

    Raises:
        DateError: the value is not a date, names a day that does not exist, or a day outside
            the era it names (the message suggests the date probably meant).
    """
    try:
        d = _parse(value)
    except DateError as exc:
        raise DateError(exc.message, column=field) from None
    if d < FIRST_DAY:
        raise DateError(
            f"{d.isoformat()} is before 明治 ({FIRST_DAY.isoformat()}), out of scope", column=field
        )
    return d


def _parse(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise DateError(f"expected a date, got {value!r}")
    if isinstance(value, int | float):
        return _from_excel(value)
    if isinstance(value, str):
        return _parse_text(value)
    raise DateError(f"expected a date, got {type(value).__name__}")


def _from_excel(serial: float) -> date:
    """Excel 1900-system serial -> date; a fraction is a time of day and is dropped."""
    if not math.isfinite(serial) or not 1 <= serial < _EXCEL_MAX + 1:
        raise DateError(f"Excel serial {serial!r} is not a date (valid: 1 .. {_EXCEL_MAX})")
    days = math.floor(serial)
    if days == _EXCEL_FAKE_LEAP_DAY:
        raise DateError("Excel serial 60 is 1900-02-29, a day that does not exist")
    if days < _EXCEL_FAKE_LEAP_DAY:
        days += 1
    return _EXCEL_EPOCH + timedelta(days=days)


#: A roster repeats its dates (issue dates, 資格取得日) thousands of times: parse each once.
@functools.lru_cache(maxsize=8192)
def _parse_text(raw: str) -> date:
    text = unicodedata.normalize("NFKC", raw).strip()
    shown = raw.strip()[:40] or repr(raw)
    if not text:
        raise DateError("empty date")
    wanted_weekday = None
    if m := _WEEKDAY_SUFFIX.search(text):
        wanted_weekday = m.group(1)
        text = text[: m.start()].rstrip()
    if m := _TIME_SUFFIX.fullmatch(text):
        text = m.group(1)
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(text) or pattern.fullmatch(text.upper())
        if m is None:
            continue
        if kind == "wareki":
            d = _wareki_date(m, shown)
        else:
            d = _make_date(int(m["y"]), int(m["m"]), int(m["d"]), shown)
        if wanted_weekday is not None and weekday_ja(d) != wanted_weekday:
            raise DateError(
                f"{shown}: {format_wareki(d) if d >= FIRST_DAY else d.isoformat()} is a "
                f"{weekday_ja(d)}曜日, not {wanted_weekday}曜日"
            )
        return d
    raise DateError(
        f"cannot read {shown!r} as a date (write e.g. 2025-12-01, 令和7年12月1日 or R7.12.1)"
    )


def _make_date(year: int, month: int, day: int, shown: str) -> date:
    if year == 0:
        raise DateError(f"{shown}: year 0 does not exist (the first year of an era is 元年)")
    if not 1 <= month <= 12:
        raise DateError(f"{shown}: month {month} does not exist")
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= year <= 9999:
            raise DateError(f"{shown}: {month}月{day}日 does not exist in {year}") from None
        raise DateError(f"{shown}: year {year} is out of range") from None


def _wareki_date(m: re.Match[str], shown: str) -> date:
    era = _BY_TOKEN[m["era"]]
    year = 1 if m["y"] == "元" else int(m["y"])
    if year == 0:
        raise DateError(f"{shown}: {era.name}0年 does not exist (the first year is {era.name}元年)")
    d = _make_date(era.start.year + year - 1, int(m["m"]), int(m["d"]), shown)
    if d < era.start:
        if d < FIRST_DAY:
            raise DateError(f"{shown}: before {era.name} began on {era.start.isoformat()}")
        raise DateError(
            f"{shown}: {era.name} began on {era.start.isoformat()}; "
            f"did you mean {format_wareki(d)} ({d.isoformat()})?"
        )
    actual, _ = era_of(d)
    if actual != era:
        last = actual.start - timedelta(days=1)
        raise DateError(
            f"{shown}: {era.name} ended on {last.isoformat()} ({format_wareki(last)}); "
            f"did you mean {format_wareki(d)} ({d.isoformat()})?"
        )
    return d
