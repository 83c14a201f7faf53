"""Era calendar: formats and parsing, checked against the notice's own dates and outside oracles.

Expected values come from notice 539 (its header and its tables, whose weekdays are printed),
from domain-rules.md (era start days) and from openpyxl's independent Excel-serial conversion.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import from_excel

from kenpo_docs.domain.era import (
    ERAS,
    Era,
    era_of,
    format_abbrev,
    format_short,
    format_wareki,
    format_year_month,
    parse_date,
    weekday_ja,
)
from kenpo_docs.errors import DateError, KenpoDocsError

FIRST = date(1868, 1, 25)
LAST = date(2100, 12, 31)
days = st.dates(min_value=FIRST, max_value=LAST)


# --- era table and boundaries (domain-rules.md "Dates and eras") -----------------------------

def test_era_table() -> None:
    assert ERAS == (
        Era("明治", "M", date(1868, 1, 25)),
        Era("大正", "T", date(1912, 7, 30)),
        Era("昭和", "S", date(1926, 12, 25)),
        Era("平成", "H", date(1989, 1, 8)),
        Era("令和", "R", date(2019, 5, 1)),
    )
    assert ERAS[-1].name == "令和" and ERAS[-1].letter == "R"


@pytest.mark.parametrize(
    ("d", "wareki"),
    [
        (date(1868, 1, 25), "明治元年1月25日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2025, 12, 1), "令和7年12月1日"),
        (date(2027, 11, 30), "令和9年11月30日"),  # notice: 有効期限 of the 1st issue period
        (date(2028, 11, 30), "令和10年11月30日"),  # notice: 有効期限 of the 2nd issue period
    ],
)
def test_boundaries_both_ways(d: date, wareki: str) -> None:
    assert format_wareki(d) == wareki
    assert parse_date(wareki) == d


def test_era_of() -> None:
    assert era_of(date(2019, 5, 1)) == (ERAS[4], 1)
    assert era_of(date(2019, 4, 30)) == (ERAS[3], 31)
    assert era_of(date(1989, 1, 7)) == (ERAS[2], 64)
    with pytest.raises(DateError, match="1868-01-25"):
        era_of(date(1868, 1, 24))


# --- the notice's own dates as golden data ---------------------------------------------------

def test_notice_header_short_form() -> None:
    # "年金機構けんぽからのお知らせ （第539号）6.11.19" issued 2024-11-19
    assert format_short(date(2024, 11, 19)) == "6.11.19"
    assert parse_date("令和6年11月19日") == date(2024, 11, 19)


@pytest.mark.parametrize(
    ("text", "d"),
    [  # the card-handling table prints these weekdays
        ("令和6年12月1日（日）", date(2024, 12, 1)),
        ("令和6年12月2日（月）", date(2024, 12, 2)),
        ("令和7年12月1日（月）", date(2025, 12, 1)),
        ("令和7年12月2日（火）", date(2025, 12, 2)),
    ],
)
def test_notice_weekdays(text: str, d: date) -> None:
    assert parse_date(text) == d
    assert format_wareki(d, weekday=True) == text
    assert weekday_ja(d) == text[-2]


def test_notice_text_with_extraction_spaces() -> None:
    # as extracted from the notice PDF: "令和 6年 12 月 2 日から", "令和 10 年 11 月 30 日"
    assert parse_date("令和 6年 12 月 2 日") == date(2024, 12, 2)
    assert parse_date("令和 10 年 11 月 30 日") == date(2028, 11, 30)


# --- formats ---------------------------------------------------------------------------------

def test_formats() -> None:
    assert format_wareki(date(2025, 12, 1)) == "令和7年12月1日"
    assert format_wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert format_wareki(date(2024, 12, 1), weekday=True) == "令和6年12月1日（日）"
    assert format_year_month(date(2026, 12, 1)) == "令和8年12月"
    assert format_year_month(date(2019, 5, 31)) == "令和元年5月"
    assert format_year_month(date(2024, 9, 1)) == "令和6年9月"  # notice: "令和 6年 9月"
    assert format_abbrev(date(2025, 12, 1)) == "R7.12.1"
    assert format_abbrev(date(1989, 1, 7)) == "S64.1.7"
    assert format_short(date(2025, 12, 1)) == "7.12.1"
    assert [weekday_ja(date(2024, 12, 2) + timedelta(days=i)) for i in range(7)] == list(
        "月火水木金土日"
    )
    with pytest.raises(DateError):
        format_wareki(date(1800, 1, 1))


# --- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-12-01", date(2025, 12, 1)),
        ("2025/12/1", date(2025, 12, 1)),
        ("2025.12.1", date(2025, 12, 1)),
        ("20251201", date(2025, 12, 1)),
        ("2025年12月1日", date(2025, 12, 1)),
        ("令和7年12月1日", date(2025, 12, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("R7.12.1", date(2025, 12, 1)),
        ("R07.12.01", date(2025, 12, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("S64.1.7", date(1989, 1, 7)),
        ("T1.7.30", date(1912, 7, 30)),
        ("M45.7.29", date(1912, 7, 29)),
        ("r7.12.1", date(2025, 12, 1)),
        ("h31.4.30", date(2019, 4, 30)),
        ("R7/12/1", date(2025, 12, 1)),
        ("R7-12-1", date(2025, 12, 1)),
        ("令和７年１２月１日", date(2025, 12, 1)),
        ("２０２５－１２－０１", date(2025, 12, 1)),
        ("Ｒ７．１２．１", date(2025, 12, 1)),
        ("ｒ７．１２．１", date(2025, 12, 1)),
        ("  2025-12-01\t", date(2025, 12, 1)),
        ("\u3000令和7年12月1日\u3000", date(2025, 12, 1)),
        ("令和7年12月1日（月）", date(2025, 12, 1)),
        ("令和7年12月1日(月)", date(2025, 12, 1)),
        ("令和7年12月1日 (月)", date(2025, 12, 1)),
        ("2025-12-01（月）", date(2025, 12, 1)),
        ("R7.12.1(月)", date(2025, 12, 1)),
        ("㋿7年12月1日", date(2025, 12, 1)),  # the one-character 令和 sign, NFKC -> 令和
        # Date cells exported to CSV with their time of day (the time is dropped, as for a
        # datetime cell): Python's str(datetime), Excel's "yyyy/m/d h:mm", ISO 8601 with T.
        (str(datetime(2025, 12, 1)), date(2025, 12, 1)),
        ("2025/12/1 0:00", date(2025, 12, 1)),
        ("2025-12-01T00:00", date(2025, 12, 1)),
        ("2025-12-01 23:59:59.5", date(2025, 12, 1)),
        (date(2025, 12, 1), date(2025, 12, 1)),
        (datetime(2025, 12, 1, 23, 59), date(2025, 12, 1)),
    ],
)
def test_parse_forms(value: object, expected: date) -> None:
    got = parse_date(value)
    assert got == expected
    assert type(got) is date


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("令和7年2月30日", ["2月30日 does not exist"]),
        ("2025-02-29", ["2月29日 does not exist"]),
        ("R7.13.1", ["month 13"]),
        ("平成32年1月1日", ["令和2年1月1日", "2019-04-30"]),
        ("H32.1.1", ["令和2年1月1日"]),
        ("令和元年4月30日", ["平成31年4月30日", "2019-05-01"]),
        ("昭和64年1月8日", ["平成元年1月8日"]),
        ("大正15年12月25日", ["昭和元年12月25日"]),
        ("明治45年7月30日", ["大正元年7月30日"]),
        ("令和0年1月1日", ["0年", "元年"]),
        ("0000-01-01", ["year 0"]),
        ("明治元年1月24日", ["1868-01-25"]),
        ("1867-12-31", ["1868-01-25"]),
        ("令和7年12月1日（火）", ["月曜日", "火"]),
        ("2024-12-01(月)", ["日曜日"]),
        ("yesterday", ["cannot read"]),
        ("6.11.19", ["cannot read"]),  # no era: ambiguous, never guessed
        ("45627", ["cannot read"]),  # an Excel serial only counts as a number, never as text
        ("", ["empty"]),
        ("   ", ["empty"]),
        ("2025-12-01 24:00", ["cannot read"]),  # not a time of day
        ("2025-12-01 12:60", ["cannot read"]),
        ("2025-02-29 00:00:00", ["2月29日 does not exist"]),  # the date is still checked
        ("令和7年12月1日 0:00", ["cannot read"]),  # only western dates carry a time
    ],
)
def test_parse_errors(text: str, fragments: list[str]) -> None:
    with pytest.raises(DateError) as info:
        parse_date(text)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_error_names_the_column() -> None:
    with pytest.raises(DateError) as info:
        parse_date("令和7年2月30日", field="資格取得日")
    assert info.value.column == "資格取得日"
    assert str(info.value).startswith("column 資格取得日: ")
    assert isinstance(info.value, KenpoDocsError) and isinstance(info.value, ValueError)
    with pytest.raises(DateError) as info:
        parse_date(None, field="生年月日")
    assert info.value.column == "生年月日"


@pytest.mark.parametrize("value", [None, True, False, b"2025-12-01", [2025, 12, 1], 1.5j])
def test_parse_rejects_other_types(value: object) -> None:
    with pytest.raises(DateError):
        parse_date(value)


# --- Excel serials, against openpyxl's conversion --------------------------------------------

def test_excel_serials_known() -> None:
    assert parse_date(45658) == date(2025, 1, 1)
    assert parse_date(45628) == date(2024, 12, 2)
    assert parse_date(45627) == date(2024, 12, 1)
    assert parse_date(45627.75) == date(2024, 12, 1)  # fraction = time of day
    assert parse_date(1) == date(1900, 1, 1)
    assert parse_date(59) == date(1900, 2, 28)
    assert parse_date(61) == date(1900, 3, 1)
    assert parse_date(2958465) == date(9999, 12, 31)


@pytest.mark.parametrize("serial", [60, 60.5, 0, -1, 0.5, 2958466, float("nan"), float("inf")])
def test_excel_serials_rejected(serial: float) -> None:
    with pytest.raises(DateError):
        parse_date(serial)


@given(st.one_of(st.integers(1, 59), st.integers(61, 2958465)))
def test_excel_serial_matches_openpyxl(serial: int) -> None:
    assert parse_date(serial) == from_excel(serial).date()


@given(st.floats(61, 2958465.99, allow_nan=False))
def test_excel_float_serial_matches_openpyxl(serial: float) -> None:
    assert parse_date(serial) == from_excel(serial).date()


# --- properties ------------------------------------------------------------------------------

def test_every_day_round_trips() -> None:
    """Exhaustive: every day 1868-01-25 .. 2100-12-31 through each writer and back."""
    d = FIRST
    one = timedelta(days=1)
    count = 0
    while d <= LAST:
        for text in (format_wareki(d), format_wareki(d, weekday=True), format_abbrev(d),
                     d.isoformat()):
            assert parse_date(text) == d, text
        d += one
        count += 1
    assert count == (LAST - FIRST).days + 1


@given(days)
def test_round_trip_wareki(d: date) -> None:
    assert parse_date(format_wareki(d)) == d
    assert parse_date(format_wareki(d, weekday=True)) == d


@given(days)
def test_round_trip_abbrev_and_iso(d: date) -> None:
    assert parse_date(format_abbrev(d)) == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(d.strftime("%Y%m%d")) == d


@given(days)
def test_formats_agree(d: date) -> None:
    era, year = era_of(d)
    assert format_wareki(d).startswith(era.name)
    assert format_abbrev(d) == f"{era.letter}{format_short(d)}"
    assert format_year_month(d) == format_wareki(d).split("月")[0] + "月"
    assert era.start <= d and year == d.year - era.start.year + 1


@settings(max_examples=500)
@given(st.text())
def test_fuzz_text_never_crashes(text: str) -> None:
    try:
        assert isinstance(parse_date(text), date)
    except DateError:
        pass


_ERA_TOKENS = st.sampled_from(["明治", "大正", "昭和", "平成", "令和", "M", "T", "S", "H", "R",
                               "r", "Ｒ", "㍻", "X"])
_NUMS = st.one_of(st.just("元"), st.integers(0, 99999).map(str),
                  st.text("0123456789０１", max_size=6))


@settings(max_examples=500)
@given(_ERA_TOKENS, _NUMS, _NUMS, _NUMS, st.sampled_from(["年月日", "..", "//", "--", "./"]),
       st.sampled_from(["", "（月）", "(日)", "（x）"]))
def test_fuzz_near_dates_never_crash(
    era: str, y: str, m: str, d: str, seps: str, suffix: str
) -> None:
    text = f"{era}{y}{seps[0]}{m}{seps[1]}{d}{seps[2] if len(seps) > 2 else ''}{suffix}"
    try:
        assert isinstance(parse_date(text), date)
    except DateError:
        pass


@given(st.one_of(st.integers(), st.floats(), st.none(), st.booleans(), st.binary()))
def test_fuzz_values_never_crash(value: object) -> None:
    try:
        assert isinstance(parse_date(value), date)
    except DateError:
        pass
