"""The roster columns of the cards (docs/cards.md): 性別, 負担割合 and 発効期日.

性別 is a required item of the 資格確認書: where the roster has the column, a member with a
資格確認書交付日 (whose card prints) must have it. 負担割合 and 発効期日 are the 一部負担金の割合
of a member 70 or over and the day it applies from: printed together on the card, so one
without the other, or on a member under 70 on that day, is rejected. Reasons as the rest of
the roster's: Japanese, then English in parentheses.
"""

from __future__ import annotations

from datetime import date

from kenpo_docs.input.cells import Row
from kenpo_docs.input.cells import shown as value_shown
from kenpo_docs.input.columns import COPAY_RATIOS, SEXES


def card_items(row: Row, birth_date: date | None, issued_on: date | None
               ) -> tuple[str | None, str | None, date | None]:
    """性別, 負担割合 and 発効期日: the card items beyond the identifying ones (docs/cards.md).

    性別 is a required item of the 資格確認書: where the column exists, a member with a
    資格確認書交付日 (whose card prints) must have it. 負担割合 and 発効期日 print together
    on the card of a member 70 or over, so one without the other, or on a member under 70
    on the 発効期日, is rejected.
    """
    sex = None
    text = row.nfkc("sex")
    if text is not None:
        sex = SEXES.get(text.casefold())
        if sex is None:
            row.fail("sex", f"{value_shown(text)}男 か 女 (または 1 か 2) で書いてください "
                            "(write 男 or 女, or the codes 1 or 2 of ISO/IEC 5218)")
    elif issued_on is not None and "sex" in row.columns:
        row.fail("sex", "資格確認書交付日がある方には必須です。資格確認書の記載事項です "
                        "(required with a 資格確認書交付日: the certificate prints it)")
    ratio = None
    text = row.nfkc("copay_ratio")
    if text is not None:
        ratio = COPAY_RATIOS.get(text.replace(" ", ""))
        if ratio is None:
            row.fail("copay_ratio", f"{value_shown(text)}2割 か 3割 で書いてください "
                                    "(write 2割 or 3割)")
    effective_on = row.date("effective_on", required=False)
    if ratio is not None and effective_on is None and "発効期日" not in row.problems:
        row.fail("effective_on", "負担割合がある方には必須です (required with 負担割合)")
    elif effective_on is not None and ratio is None and "負担割合" not in row.problems:
        row.fail("copay_ratio", "発効期日がある方には必須です (required with 発効期日)")
    elif (ratio is not None and effective_on is not None and birth_date is not None
          and age(birth_date, effective_on) < 70):
        row.fail("copay_ratio", f"{ratio}: 発効期日 {effective_on.isoformat()} に70歳未満です。"
                                "負担割合は70歳以上の方だけに書きます (only for members 70 or "
                                "over on the 発効期日)")
    return sex, ratio, effective_on


def age(birth_date: date, on: date) -> int:
    """Completed years on ``on`` (a 発効期日 is the first of a month after the birthday,
    so the day of the birthday itself never decides)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
