"""Notice 539's rules. Expected values are the notice's own table rows and examples (quoted
beside each) and domain-rules.md, never our output pasted back."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

import kenpo_docs
from kenpo_docs.domain.facts import (
    Route,
    VisitPath,
    card_handling,
    card_handling_table,
    card_issued,
    card_usable,
    card_usable_until,
    certificate_expiry,
    certificate_period,
    certificate_periods_table,
    delivery_route,
    elderly_certificate_month,
    eligibility_notice_table,
    eligibility_notice_timing,
    household_route,
    insurer,
    registration_steps,
    visit_path,
    visit_steps,
)
from kenpo_docs.domain.rules import (
    CardHandling,
    CertificatePeriod,
    IssueTiming,
    default_rules,
    load_rules,
)
from kenpo_docs.errors import RuleError
from kenpo_docs.paths import data_dir

# A verbatim copy of ../shared/reference/notice-539-source.txt, so a clone anywhere runs the tests.
NOTICE = Path(__file__).resolve().parent / "data" / "notice-539-source.txt"
DEFAULT_TOML = data_dir() / "rules.toml"


def _squash(text: str) -> str:
    """The notice text without the extraction's whitespace (and 、 we add when joining lines)."""
    return re.sub(r"[\s、]+", "", text)


@pytest.fixture(scope="module")
def notice_text() -> str:
    return _squash(NOTICE.read_text(encoding="utf-8"))


def _custom(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- R2 資格確認書

# 「交付期間（１回目） 令和6年12月2日～令和7年11月30日 有効期限 令和9年11月30日」
# 「交付期間（２回目） 令和7年12月1日～令和8年11月30日 有効期限 令和10年11月30日」
NOTICE_PERIODS = [
    CertificatePeriod(date(2024, 12, 2), date(2025, 11, 30), date(2027, 11, 30)),
    CertificatePeriod(date(2025, 12, 1), date(2026, 11, 30), date(2028, 11, 30)),
]


def test_certificate_periods_table_is_the_notices_two_rows() -> None:
    assert certificate_periods_table() == NOTICE_PERIODS


@pytest.mark.parametrize(
    ("issued_on", "expiry"),
    [
        (date(2024, 12, 2), date(2027, 11, 30)),  # first day of 1回目
        (date(2025, 6, 15), date(2027, 11, 30)),
        (date(2025, 11, 30), date(2027, 11, 30)),  # last day of 1回目
        (date(2025, 12, 1), date(2028, 11, 30)),  # first day of 2回目
        (date(2026, 11, 30), date(2028, 11, 30)),  # last day of 2回目
        # domain-rules.md: "A 3rd period (2026-12-01 – 2027-11-30) would expire 2029-11-30."
        (date(2026, 12, 1), date(2029, 11, 30)),
        (date(2027, 11, 30), date(2029, 11, 30)),
        (date(2027, 12, 1), date(2030, 11, 30)),
    ],
)
def test_certificate_expiry(issued_on: date, expiry: date) -> None:
    assert certificate_expiry(issued_on) == expiry


def test_pattern_period_spans_december_to_november() -> None:
    assert certificate_period(date(2027, 3, 3)) == CertificatePeriod(
        date(2026, 12, 1), date(2027, 11, 30), date(2029, 11, 30)
    )


def test_validity_is_two_to_three_years() -> None:
    # 「有効期限 ３年間 （※交付時期により、2年～3年となります。）」
    for issued in (date(2024, 12, 2), date(2025, 11, 30), date(2026, 12, 1), date(2027, 11, 30)):
        days = (certificate_expiry(issued) - issued).days
        assert 2 * 365 - 1 <= days <= 3 * 366, issued


def test_every_issue_day_falls_in_one_contiguous_period() -> None:
    """Invariants from the notice for 11 years of issue days: each day lies in its period,
    periods follow each other without gap, expiry is a 30 November (「令和9年11月30日」,
    「令和10年11月30日」) and validity is 2 to 3 years (「交付時期により、2年～3年」)."""
    day = date(2024, 12, 2)
    previous: CertificatePeriod | None = None
    while day <= date(2035, 12, 31):
        period = certificate_period(day)
        assert period.start <= day <= period.end
        assert (period.expiry.month, period.expiry.day) == (11, 30)
        assert 2 <= period.expiry.year - day.year <= 3
        if previous is not None and period != previous:
            assert (period.start - previous.end).days == 1
        previous = period
        day = date.fromordinal(day.toordinal() + 1)


@pytest.mark.parametrize("issued_on", [date(2024, 12, 1), date(2024, 1, 1), date(1999, 12, 2)])
def test_issue_before_first_issue_date_is_refused(issued_on: date) -> None:
    # 「対象者 新規加入者（令和6年12月2日以降）」
    with pytest.raises(RuleError, match="2024-12-02"):
        certificate_expiry(issued_on)
    with pytest.raises(ValueError):
        certificate_period(issued_on)


# --------------------------------------------------------------------------- R1 健康保険証


def test_card_usable_until_without_loss() -> None:
    # 「令和7年12月1日まで使用することができます」
    assert card_usable_until(lost_on=None) == date(2025, 12, 1)
    assert card_usable(date(2025, 12, 1))
    assert not card_usable(date(2025, 12, 2))
    assert card_usable(date(2024, 11, 19))


@pytest.mark.parametrize(
    ("lost_on", "until"),
    [
        # 「令和7年12月1日より前に…資格を喪失した場合は、その時までとなります」; lost_on is the
        # 資格喪失日 (first uncovered day), so the card is good through the day before.
        (date(2025, 6, 1), date(2025, 5, 31)),  # retired 2025-05-31
        (date(2024, 12, 2), date(2024, 12, 1)),
        (date(2025, 12, 1), date(2025, 11, 30)),
        (date(2025, 12, 2), date(2025, 12, 1)),  # loss after the cut-over: 12-01 still holds
        (date(2026, 4, 1), date(2025, 12, 1)),
    ],
)
def test_card_usable_until_with_loss(lost_on: date, until: date) -> None:
    assert card_usable_until(lost_on=lost_on) == until
    assert card_usable(until, lost_on=lost_on)
    assert not card_usable(date.fromordinal(until.toordinal() + 1), lost_on=lost_on)


def test_card_usable_on_loss_date_setting(tmp_path: Path) -> None:
    text = DEFAULT_TOML.read_text(encoding="utf-8").replace(
        "usable_on_loss_date = false", "usable_on_loss_date = true"
    )
    rules = load_rules(_custom(tmp_path, text))
    assert card_usable_until(lost_on=date(2025, 6, 1), rules=rules) == date(2025, 6, 1)
    assert card_usable_until(lost_on=date(2025, 12, 2), rules=rules) == date(2025, 12, 1)


@pytest.mark.parametrize(
    ("acquired_on", "issued"),
    [
        # 「令和6年12月1日に資格取得日の加入者…については、保険証を交付します」
        (date(2024, 12, 1), True),
        (date(2020, 4, 1), True),
        # 「令和6年12月2日から健康保険証の新規発行が終了」
        (date(2024, 12, 2), False),
        (date(2025, 4, 1), False),
    ],
)
def test_card_issued(acquired_on: date, issued: bool) -> None:
    assert card_issued(acquired_on) is issued


def _row(label: str, use: str, issue: str, collect: str, dispose: str, myna: str) -> CardHandling:
    return CardHandling(
        label=label,
        card_use=use == "可",
        new_issue=issue == "可",
        reissue=issue == "可",
        collection_required=collect == "必要",
        self_disposal=dispose == "可",
        myna_use=myna == "可",
    )


# The table 「健康保険証の取り扱いについて」 as extracted from the notice.
ROW1 = _row("令和6年12月1日（日）まで", "可", "可", "必要", "不可", "可")
ROW2 = _row("令和6年12月2日（月）から令和7年12月1日（月）まで", "可", "不可", "必要", "不可", "可")
ROW3 = _row("令和7年12月2日（火）以降", "不可", "不可", "不要", "可", "可")


def test_card_handling_table_is_the_notices() -> None:
    assert card_handling_table() == [(r.label, r) for r in (ROW1, ROW2, ROW3)]


@pytest.mark.parametrize(
    ("on", "row"),
    [
        (date(2020, 1, 1), ROW1),
        (date(2024, 12, 1), ROW1),
        (date(2024, 12, 2), ROW2),
        (date(2025, 12, 1), ROW2),
        (date(2025, 12, 2), ROW3),
        (date(2030, 1, 1), ROW3),
    ],
)
def test_card_handling_by_date(on: date, row: CardHandling) -> None:
    assert card_handling(on) == row


def test_card_handling_agrees_with_card_usable() -> None:
    for on in (date(2024, 12, 1), date(2025, 12, 1), date(2025, 12, 2)):
        assert card_handling(on).card_use is card_usable(on)


# --------------------------------------------------------------------------- R3 高齢受給者証


@pytest.mark.parametrize(
    ("born", "month"),
    [
        # domain-rules.md: "born 1956-12-15 → 2026-12; born 1957-03-01 → 2027-02"
        (date(1956, 12, 15), date(2026, 12, 1)),
        (date(1957, 3, 1), date(2027, 2, 1)),
        # 「誕生日が月の初日の場合は前月」: January 1st -> December of the previous year
        (date(1957, 1, 1), date(2026, 12, 1)),
        (date(1957, 1, 2), date(2027, 1, 1)),
        (date(1956, 12, 31), date(2026, 12, 1)),
        (date(1956, 2, 29), date(2026, 2, 1)),  # leap-day birth, 2026 has no 29 Feb
        (date(1956, 3, 1), date(2026, 2, 1)),
    ],
)
def test_elderly_certificate_month(born: date, month: date) -> None:
    assert elderly_certificate_month(born) == month


# --------------------------------------------------------------------------- R4 資格情報のお知らせ

# 「すでに加入されている方で前回発行対象の方 令和6年7月30日まで 令和6年9月」
# 「すでに加入されている方で前回発行対象とならなかった方
#   令和6年7月31日から令和6年12月1日まで 令和7年1月頃」
# 「新規加入者 令和6年12月2日以降 随時」
NOTICE_TIMING = [
    IssueTiming(
        "previous",
        "すでに加入されている方で前回発行対象の方",
        None,
        date(2024, 7, 30),
        "令和6年9月",
    ),
    IssueTiming(
        "second",
        "すでに加入されている方で前回発行対象とならなかった方",
        date(2024, 7, 31),
        date(2024, 12, 1),
        "令和7年1月頃",
    ),
    IssueTiming("new", "新規加入者", date(2024, 12, 2), None, "随時"),
]


def test_eligibility_notice_table_is_the_notices() -> None:
    assert eligibility_notice_table() == NOTICE_TIMING


@pytest.mark.parametrize(
    ("acquired_on", "key", "issued"),
    [
        (date(1990, 4, 1), "previous", "令和6年9月"),
        (date(2024, 7, 30), "previous", "令和6年9月"),
        (date(2024, 7, 31), "second", "令和7年1月頃"),
        (date(2024, 12, 1), "second", "令和7年1月頃"),
        (date(2024, 12, 2), "new", "随時"),
        (date(2026, 11, 28), "new", "随時"),
    ],
)
def test_eligibility_notice_timing(acquired_on: date, key: str, issued: str) -> None:
    timing = eligibility_notice_timing(acquired_on)
    assert (timing.key, timing.issued) == (key, issued)


# --------------------------------------------------------------------------- R5 受診方法


@pytest.mark.parametrize(
    ("card", "phone", "registered", "path"),
    [
        # 「マイナンバーカードとスマホを持っている はい」 -> download to the phone
        (True, True, True, VisitPath.SMARTPHONE),
        # not registered: still the phone, "ダウンロードするためには…利用登録手続きが必要"
        (True, True, False, VisitPath.SMARTPHONE),
        (True, True, None, VisitPath.SMARTPHONE),
        # 「マイナンバーカードは持っているが、スマホはもっていない はい」
        (True, False, True, VisitPath.NOTICE_WITH_CARD),
        (True, False, None, VisitPath.NOTICE_WITH_CARD),
        # 「マイナンバーカードを持っていない はい」
        (False, True, None, VisitPath.GET_CARD),
        (False, False, None, VisitPath.GET_CARD),
        (False, None, None, VisitPath.GET_CARD),
        # facts missing: the letter shows the whole chart
        (None, True, True, VisitPath.UNKNOWN),
        (None, None, None, VisitPath.UNKNOWN),
        (True, None, True, VisitPath.UNKNOWN),
    ],
)
def test_visit_path(
    card: bool | None, phone: bool | None, registered: bool | None, path: VisitPath
) -> None:
    assert visit_path(has_card=card, has_smartphone=phone, myna_registered=registered) is path


def test_visit_steps_are_the_charts_own_sentences(notice_text: str) -> None:
    assert visit_steps(VisitPath.SMARTPHONE) == [
        "マイナポータルの資格情報画面をスマホにダウンロードしてください。",
        "ダウンロードするためには、マイナ保険証の利用登録手続きが必要となります。",
    ]
    assert visit_steps(VisitPath.NOTICE_WITH_CARD)[0] == (
        "「資格情報のお知らせ」をマイナンバーカードと一緒に携帯してください。"
    )
    assert (
        visit_steps(VisitPath.GET_CARD)[-1]
        == "別添1「資格確認書（再）交付申請書」を提出してください。"
    )
    # Letters use the correct words where the chart has slips (issue 18, section 5): undone
    # here, every sentence is the chart's own.
    slips = {"ご参照ください": "参照ください", "き損": "棄損"}
    for path in VisitPath:
        steps = visit_steps(path)
        assert steps
        for sentence in steps:
            assert "棄損" not in sentence and "を参照ください" not in sentence
            for right, slip in slips.items():
                sentence = sentence.replace(right, slip)
            assert _squash(sentence.strip("【】")) in notice_text, sentence


def test_unknown_path_shows_the_whole_chart() -> None:
    whole = visit_steps(VisitPath.UNKNOWN)
    assert whole[0] == "【マイナンバーカードとスマホを持っている】"
    assert "【マイナンバーカードは持っているが、スマホはもっていない】" in whole
    assert "【マイナンバーカードを持っていない】" in whole
    for path in (VisitPath.SMARTPHONE, VisitPath.NOTICE_WITH_CARD, VisitPath.GET_CARD):
        assert set(visit_steps(path)) <= set(whole)


def test_registration_steps(notice_text: str) -> None:
    steps = registration_steps()
    assert [s[:5] for s in steps] == ["STEP1", "STEP2", "STEP3"]
    assert "セブン銀行ATMから行う" in steps[1]
    for step in steps:
        for piece in re.split(r"[（）①②③ ]+", step.removeprefix(step[:5])):
            if piece and piece not in (
                "パソコン・スマートフォンから",
                "カードリーダー",
                "顔認証・暗証番号",
            ):
                assert _squash(piece) in notice_text, piece


# --------------------------------------------------------------------------- delivery, contact


def test_delivery_route_general_goes_to_workplace() -> None:
    # 「日本年金機構本部給与G経由で被保険者の就労先へ送付」
    route = delivery_route(membership="一般", workplace_code="W012")
    assert route == Route("workplace", "W012")
    assert str(route) == "workplace:W012"


@pytest.mark.parametrize("membership", ["任意継続", "任継"])
def test_delivery_route_voluntary_goes_home(membership: str) -> None:
    # 「（任継の方はご自宅宛に送付）」
    route = delivery_route(membership=membership, workplace_code="W012")
    assert route == Route("home", None)
    assert str(route) == "home"


def test_delivery_route_refuses_unknown_membership_and_missing_workplace() -> None:
    with pytest.raises(RuleError, match="unknown membership"):
        delivery_route(membership="退職者", workplace_code="W1")
    with pytest.raises(RuleError, match="workplace code"):
        delivery_route(membership="一般", workplace_code=None)
    with pytest.raises(RuleError, match="workplace code"):
        delivery_route(membership="一般", workplace_code="  ")


def test_dependents_follow_their_insured_person() -> None:
    # 「被扶養者の手続きの際…についても、日本年金機構本部給与G経由で被保険者の就労先へ送付します。」
    assert household_route(insured_membership="一般", insured_workplace_code="W7") == Route(
        "workplace", "W7"
    )
    assert household_route(insured_membership="任意継続", insured_workplace_code=None) == Route(
        "home", None
    )


def test_insurer(notice_text: str) -> None:
    ins = insurer()
    assert ins.name == "日本年金機構健康保険組合"  # 「照会先 日本年金機構健康保険組合 業務課」
    assert ins.department == "業務課"
    assert ins.phone == "03-5216-3223"  # 「電話番号 03-5216-3223」
    assert ins.hours == "12時～13時を除く"  # 「12時～13時を除いた時間帯にお願いします」
    assert ins.payroll_group == "日本年金機構本部給与G"
    assert _squash(ins.payroll_group.replace("G", "Ｇ")) in notice_text


def test_data_file_labels_appear_in_the_notice(notice_text: str) -> None:
    for label, _ in card_handling_table():
        assert _squash(label) in notice_text, label
    for row in eligibility_notice_table():
        assert _squash(row.who) in notice_text
        assert _squash(row.issued) in notice_text


# --------------------------------------------------------------------------- custom data


def test_default_rules_are_cached() -> None:
    assert default_rules() is default_rules()
    assert default_rules() == load_rules(DEFAULT_TOML)


def test_custom_period_overrides_pattern(tmp_path: Path) -> None:
    text = DEFAULT_TOML.read_text(encoding="utf-8") + (
        "\n[[certificate.periods]]\nstart = 2026-12-01\nend = 2027-05-31\nexpiry = 2029-05-31\n"
    )
    rules = load_rules(_custom(tmp_path, text))
    extra = CertificatePeriod(date(2026, 12, 1), date(2027, 5, 31), date(2029, 5, 31))
    assert certificate_periods_table(rules=rules) == [*NOTICE_PERIODS, extra]
    assert certificate_expiry(date(2026, 12, 1), rules=rules) == date(2029, 5, 31)
    assert certificate_expiry(date(2027, 5, 31), rules=rules) == date(2029, 5, 31)
    # the pattern resumes after the explicit period, clipped so the two never overlap
    assert certificate_period(date(2027, 6, 1), rules=rules) == CertificatePeriod(
        date(2027, 6, 1), date(2027, 11, 30), date(2029, 11, 30)
    )
    # the default rules are untouched
    assert certificate_expiry(date(2026, 12, 1)) == date(2029, 11, 30)


def test_pattern_stops_before_a_later_explicit_period(tmp_path: Path) -> None:
    text = DEFAULT_TOML.read_text(encoding="utf-8") + (
        "\n[[certificate.periods]]\nstart = 2027-06-01\nend = 2027-11-30\nexpiry = 2030-03-31\n"
    )
    rules = load_rules(_custom(tmp_path, text))
    assert certificate_period(date(2026, 12, 15), rules=rules) == CertificatePeriod(
        date(2026, 12, 1), date(2027, 5, 31), date(2029, 11, 30)
    )
    assert certificate_expiry(date(2027, 6, 1), rules=rules) == date(2030, 3, 31)
    assert certificate_expiry(date(2027, 12, 1), rules=rules) == date(2030, 11, 30)


def test_pattern_disabled_accepts_only_explicit_periods(tmp_path: Path) -> None:
    text = DEFAULT_TOML.read_text(encoding="utf-8").replace("enabled = true", "enabled = false")
    rules = load_rules(_custom(tmp_path, text))
    assert certificate_expiry(date(2026, 11, 30), rules=rules) == date(2028, 11, 30)
    with pytest.raises(RuleError, match="no 資格確認書 issue period"):
        certificate_expiry(date(2026, 12, 1), rules=rules)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("usable_until = 2025-12-01", 'usable_until = "2025-12-01"', "card.usable_until"),
        ("age = 70", "age = 70\nagee = 71", "elderly"),  # unknown key
        ('card_use = "不可"', 'card_use = "NG"', "card.handling[2].card_use"),
        ("from = 2025-12-02", "from = 2025-12-03", "card.handling[2].from"),  # gap
        ("start = 2025-12-01", "start = 2025-11-30", "certificate.periods"),  # overlap
        ("expiry = 2028-11-30", "expiry = 2026-01-01", "certificate.periods[1].expiry"),
        (
            "acquired_from = 2024-07-31",
            "acquired_from = 2024-08-01",
            "eligibility_notice[1].acquired_from",
        ),
        ('"任継" = "home"', '"任継" = "office"', "delivery.routes.任継"),
    ],
)
def test_bad_data_names_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    text = DEFAULT_TOML.read_text(encoding="utf-8")
    assert old in text
    path = _custom(tmp_path, text.replace(old, new, 1), "bad.toml")
    with pytest.raises(RuleError) as info:
        load_rules(path)
    assert info.value.file == str(path)
    assert info.value.column == key
    assert str(path) in str(info.value) and key in str(info.value)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = _custom(tmp_path, "[card\nnew_issue_ends = 2024-12-02\n", "broken.toml")
    with pytest.raises(RuleError, match="not valid TOML") as info:
        load_rules(path)
    assert info.value.file == str(path)
    assert "broken.toml" in str(info.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read") as info:
        load_rules(tmp_path / "nope.toml")
    assert "nope.toml" in str(info.value)


def test_public_names_exported() -> None:
    for module, name in ((kenpo_docs.domain.facts, "certificate_expiry"),
                         (kenpo_docs.domain.rules, "load_rules"),
                         (kenpo_docs.domain.facts, "delivery_route"),
                         (kenpo_docs.domain.facts, "visit_path"),
                         (kenpo_docs.domain.facts, "VisitPath")):
        assert name in kenpo_docs.__all__
        assert getattr(kenpo_docs, name) is getattr(module, name)
