"""One roster row: its cells screened and typed into a :class:`~.members.Member`, or its
problems (see :mod:`.roster` for the rules on the roster as a whole)."""

from __future__ import annotations

import unicodedata
from datetime import date

from kenpo_docs.domain.facts import certificate_expiry, delivery_route
from kenpo_docs.domain.rules import default_rules
from kenpo_docs.errors import RuleError
from kenpo_docs.fonts import missing_glyphs, units
from kenpo_docs.input.cardcolumns import card_items
from kenpo_docs.input.cells import Row, is_number
from kenpo_docs.input.cells import shown as value_shown
from kenpo_docs.input.columns import ISSUE_REASONS, MEMBERSHIP_ALIASES
from kenpo_docs.input.members import INSURED_BRANCH, Member, RowError

_DASHES = "-‐‑‒–—―−ー－"



#: Characters found to be katakana (or a space, ・ or ー) so far: most フリガナ are checked by
#: one set look-up, not a Unicode name per character.
KANA: set[str] = set(" ・ー　")


def _katakana(kana: str) -> bool:
    """Every character of ``kana`` a katakana (its Unicode name says so), ・, ー or a space."""
    for ch in kana:
        if ch not in KANA:
            if not unicodedata.name(ch, "").startswith("KATAKANA"):
                return False
            KANA.add(ch)
    return True


def _postal_code(row: Row) -> str | None:
    value = row.raw("postal_code")
    text = row.nfkc("postal_code")
    if text is None:
        return None
    text = text.removeprefix("〒").strip()
    for dash in _DASHES:
        text = text.replace(dash, "")
    if is_number(value) and text.isdigit():
        text = text.zfill(7)  # 0600001 stored as the number 600001
    if not (text.isascii() and text.isdigit() and len(text) == 7):
        hint = " 先頭の0が落ちていませんか (leading zero lost?)" if len(text) == 6 else ""
        row.fail("postal_code", f"郵便番号は7桁です (postal code must be 7 digits){hint}")
        return None
    return text


def _glyph_check(row: Row, alias: str, value: str | None) -> None:
    """Reject a printed field with a character no font of the chain prints (外字, a code point
    with no character, a kanji outside every vendored font, a variation sequence the font
    lacks): on paper it would be a box or another glyph. The reason names the code points,
    and the character itself only when it is a real one (never the rest of the cell)."""
    if not value:
        return
    printable = row.printable
    if printable.issuperset(value):
        # every character printed before, and no variation selector (a selector is never in
        # ``printable`` on its own): nothing to ask
        return
    known = row.glyphs
    bad: set[str] = set()
    for unit in units(value):
        lacks = known.get(unit)
        if lacks is None:  # ask the fonts once per character per roster: 10,000 rows stay fast
            lacks = bool(missing_glyphs(unit))  # the whole chain; 外字 and non-characters too
            known[unit] = lacks
        if lacks:
            bad.add(unit)
        elif len(unit) == 1:
            printable.add(unit)
    if bad:
        shown = []
        for unit in sorted(bad):
            codes = " ".join(f"U+{ord(ch):04X}" for ch in unit)
            real = unicodedata.category(unit[0]) not in ("Co", "Cn", "Cs", "Mn")
            shown.append(f"{unit} ({codes})" if real else codes)
        row.fail(alias, f"印刷できない文字です: {', '.join(shown)} "
                        "(no font prints this character; the row is not printed)")


def parse_row(row: Row, as_of: date, widths: tuple[int, int]) -> Member | None:
    """Validate one row; problems go to ``row.problems``, warnings to ``row.notes``."""
    symbol, number = (_key_part(row, alias, width, label) for alias, width, label in
                      zip(("symbol", "number"), widths, ("記号", "番号"), strict=True))
    branch = row.digits("branch", width=2)
    if branch is not None and len(branch) < 2:
        branch = branch.zfill(2)  # a CSV saved by Excel writes 枝番 1 as "1"
    elif branch is not None and len(branch) > 2:
        row.fail("branch", f"{branch}: 枝番は2桁です "
                           "(two digits: 00 insured person, 01… dependents)")
        branch = None
    insured = branch == INSURED_BRANCH

    name = row.nfc("name")
    if name is None:
        row.fail("name", "空欄です (required)")
    _glyph_check(row, "name", name)
    kana = row.nfkc("kana")  # NFKC turns half-width ｶﾅ into full-width カナ
    if kana is not None and not KANA.issuperset(kana) and not _katakana(kana):
        row.warn("kana", "カタカナ以外の文字があります (not katakana)")

    birth_date = row.date("birth_date", required=True)
    if birth_date is not None and birth_date > as_of:
        row.fail("birth_date", f"基準日 {as_of.isoformat()} より後の日付です (in the future)")
    acquired_on = row.date("acquired_on", required=True)
    lost_on = row.date("lost_on", required=False)
    if lost_on is not None and acquired_on is not None and lost_on < acquired_on:
        row.fail("lost_on", "資格取得日より前です (before 資格取得日)")

    membership_text = row.nfkc("membership")
    membership = None
    if membership_text is not None:
        membership = MEMBERSHIP_ALIASES.get(membership_text)
        if membership is None:
            row.fail("membership", f"{value_shown(membership_text)}一般 か 任意継続 で"
                                   "書いてください (write 一般 or 任意継続)")
    elif insured:
        row.fail("membership", "被保険者(枝番00)の行には必須です (required on 枝番 00)")

    certificate_issued_on = row.date("certificate_issued_on", required=False)
    if certificate_issued_on is not None:
        _check_issue_date(row, certificate_issued_on, acquired_on, lost_on, as_of)
    if acquired_on is not None and acquired_on > as_of:
        # No letter announces future coverage today: one that does would pass a flag here.
        row.fail("acquired_on", f"{acquired_on.isoformat()}: 基準日(お知らせの日付) "
                                f"{as_of.isoformat()} より後です。まだ加入者ではありません "
                                "(not yet a member on the letter date)")

    postal_code = _postal_code(row)
    address1 = row.nfc("address1")
    address2 = row.nfc("address2")
    workplace_code = row.nfkc("workplace_code")
    workplace_name = row.nfc("workplace_name")
    if insured:
        if postal_code is None and "郵便番号" not in row.problems:
            row.fail("postal_code", "被保険者(枝番00)の行には必須です (required on 枝番 00)")
        if address1 is None:
            row.fail("address1", "被保険者(枝番00)の行には必須です (required on 枝番 00)")
        if membership == "一般":
            if workplace_code is None:
                row.fail("workplace_code", "一般の被保険者には必須です (required for 一般)")
            if workplace_name is None:
                row.fail("workplace_name", "一般の被保険者には必須です (required for 一般)")
        if membership is not None and not row.problems:
            try:
                delivery_route(membership=membership, workplace_code=workplace_code)
            except RuleError as exc:
                row.fail(exc.column or "membership", exc.message)
    for alias, value in (("address1", address1), ("address2", address2),
                         ("workplace_name", workplace_name)):
        _glyph_check(row, alias, value)

    myna_registered = row.yes_no("myna_registered")
    has_mynumber_card = row.yes_no("has_mynumber_card")
    has_smartphone = row.yes_no("has_smartphone")
    issue_reason = _issue_reason(row, myna_registered, has_mynumber_card)
    if myna_registered is True and certificate_issued_on is not None:
        # Not an error: a registered member may receive one on application (card lost or
        # being renewed, support needed); staff confirm, the letter never says "cannot use".
        why = f" ({issue_reason})" if issue_reason else ""
        row.warn("certificate_issued_on",
                 f"マイナ保険証 有 の方に資格確認書を交付しています{why}。交付理由を確認して"
                 "ください (registered for マイナ保険証 and given a 資格確認書: check the reason)")

    sex, copay_ratio, effective_on = card_items(row, birth_date, certificate_issued_on)

    if row.problems:
        return None
    assert symbol and number and branch and name and birth_date and acquired_on
    return Member(
        row=row.number, symbol=symbol, number=number, branch=branch, name=name, kana=kana,
        birth_date=birth_date, acquired_on=acquired_on, lost_on=lost_on, membership=membership,
        certificate_issued_on=certificate_issued_on, postal_code=postal_code,
        address1=address1, address2=address2, workplace_code=workplace_code,
        workplace_name=workplace_name, myna_registered=myna_registered,
        has_mynumber_card=has_mynumber_card, has_smartphone=has_smartphone,
        issue_reason=issue_reason, sex=sex, copay_ratio=copay_ratio,
        effective_on=effective_on,
    )


def _check_issue_date(row: Row, issued_on: date, acquired_on: date | None,
                      lost_on: date | None, as_of: date) -> None:
    """A 資格確認書交付日 must be a day a certificate can be issued, within the member's
    coverage, and not after the letter date (the letter says the certificate is enclosed)."""
    value = issued_on.isoformat()
    first = default_rules().certificate_first_issue_date
    if issued_on < first:
        row.fail("certificate_issued_on",
                 f"{value}: 資格確認書を交付できる最初の日 {first.isoformat()} より前です "
                 f"(before {first.isoformat()}, the first day a 資格確認書 can be issued)")
        return
    try:
        certificate_expiry(issued_on)
    except RuleError as exc:
        row.fail("certificate_issued_on", f"{value}: 交付期間が設定されていません ({exc.message})")
        return
    if acquired_on is not None and issued_on < acquired_on:
        row.fail("certificate_issued_on",
                 f"{value}: 資格取得日 {acquired_on.isoformat()} より前です。交付日が資格の"
                 "期間外です (交付日 outside coverage: before 資格取得日)")
    elif lost_on is not None and issued_on >= lost_on:
        row.fail("certificate_issued_on",
                 f"{value}: 資格喪失日 {lost_on.isoformat()} 以後です。交付日が資格の期間外です"
                 " (交付日 outside coverage: on or after 資格喪失日)")
    elif issued_on > as_of:
        row.fail("certificate_issued_on",
                 f"{value}: 基準日(お知らせの日付) {as_of.isoformat()} より後です。手紙は資格確認書"
                 "を「お送りします」と書くため、交付済みの日付が必要です (after the letter date: "
                 "the letter says the certificate is enclosed, so it must already be issued)")


def issued_after_insured_lost(row: Row, member: Member, insured: Member) -> bool:
    """A dependent's coverage ends with the insured person's (notice 539: 資格を喪失した場合は、
    その時までとなります): a 交付日 on or after the insured person's 資格喪失日 is outside it."""
    issued_on, lost_on = member.certificate_issued_on, insured.lost_on
    if issued_on is None or lost_on is None or issued_on < lost_on:
        return False
    row.fail("certificate_issued_on",
             f"{issued_on.isoformat()}: 被保険者の資格喪失日 {lost_on.isoformat()} 以後です。"
             "交付日が資格の期間外です (交付日 outside coverage: on or after the insured "
             "person's 資格喪失日)")
    return True


def _issue_reason(row: Row, myna_registered: bool | None,
                  has_mynumber_card: bool | None) -> str | None:
    """The 交付理由 column, checked against the マイナ保険証 and マイナンバーカード answers;
    also rejects マイナ保険証 有 with マイナンバーカード 無 (registration needs a card)."""
    if myna_registered is True and has_mynumber_card is False:
        row.fail("myna_registered",
                 "有: マイナンバーカード 無 と矛盾します。利用登録にはカードが必要です "
                 "(inconsistent: registering as マイナ保険証 needs a My Number card)")
    text = row.nfkc("issue_reason")
    if text is None:
        return None
    if text not in ISSUE_REASONS:
        row.fail("issue_reason", f"{value_shown(text)}{'・'.join(ISSUE_REASONS)} のどれかで"
                                 f"書いてください (one of {', '.join(ISSUE_REASONS)})")
        return None
    if text == "未取得" and (has_mynumber_card is True or myna_registered is True):
        row.fail("issue_reason", "未取得: マイナンバーカード 有 または マイナ保険証 有 と矛盾します"
                                 " (inconsistent: 未取得 means no My Number card)")
    elif text == "未登録" and myna_registered is True:
        row.fail("issue_reason", "未登録: マイナ保険証 有 と矛盾します"
                                 " (inconsistent: 未登録 means not registered as マイナ保険証)")
    return text


def _key_part(row: Row, alias: str, width: int, label: str) -> str | None:
    """記号 or 番号: digits, a numeric cell padded to ``width``, longer values rejected."""
    text = row.digits(alias, width=width)
    if text is not None and len(text) > width:
        row.fail(alias, f"{text}: {label}は{width}桁以内です (at most {width} digits, as the "
                        "insurer settings say)")
        return None
    return text


def row_key(row: Row, widths: tuple[int, int]) -> tuple[str | None, str | None]:
    """(member key, household key) from the raw cells, or None where they cannot be read."""
    parts = []
    for alias, width in zip(("symbol", "number", "branch"), (*widths, 2), strict=True):
        text = row.nfkc(alias)
        if text is None or not text.isascii() or not text.isdigit():
            return None, None
        if alias == "branch":
            if len(text) > 2:
                return None, None
            text = text.zfill(2)
        elif is_number(row.raw(alias)):
            text = text.zfill(width)
        parts.append(text)
    return "-".join(parts), "-".join(parts[:2])


def rejection(row: Row, key: str | None) -> RowError:
    if len(row.problems) == 1:
        ((column, reason),) = row.problems.items()
        return RowError(row.number, column, reason, key)
    columns = [c for c in row.problems if c is not None]
    reason = "; ".join(f"{c}: {r}" if c else r for c, r in row.problems.items())
    return RowError(row.number, ", ".join(columns) or None, reason, key)
