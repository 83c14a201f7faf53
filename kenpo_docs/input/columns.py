"""The roster's columns: the contract with the people who prepare rosters.

:data:`COLUMNS` names each column in Japanese and by its English alias and says whether the
header must be present; the words accepted for 加入区分 and for yes/no columns are here too.
:func:`map_header` turns a header row into column positions, ignoring unknown columns with a
"did you mean" hint and refusing a missing required column or a My Number column. Reading
the rows themselves is :mod:`kenpo_docs.input.roster`.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.errors import RosterError
from kenpo_docs.input.mynumber import is_my_number_header
from kenpo_docs.input.tables import HEADER_LINES, cell_text

MEMBERSHIPS = ("一般", "任意継続")
# The notice itself writes 「任継の方」; accepted and stored as 任意継続.
MEMBERSHIP_ALIASES = {"一般": "一般", "任意継続": "任意継続", "任継": "任意継続"}
# The words a yes/no column (マイナ保険証, マイナンバーカード, スマートフォン) accepts, casefolded.
YES = frozenset({"有", "あり", "登録済", "登録済み", "済", "yes", "y", "true", "1", "○", "〇"})
NO = frozenset({"無", "なし", "未登録", "未", "no", "n", "false", "0", "×"})


@dataclass(frozen=True)
class Column:
    """One roster column: Japanese header, English alias, and whether the header must exist."""

    name: str
    alias: str
    header_required: bool


# The contract with the people who prepare rosters (and with the acceptance tests): names,
# aliases and which headers must be present. 就労先コード/就労先名 are needed only on 一般
# insured rows, so a roster of 任意継続 members alone may omit them.
COLUMNS: tuple[Column, ...] = (
    Column("記号", "symbol", True),
    Column("番号", "number", True),
    Column("枝番", "branch", True),
    Column("氏名", "name", True),
    Column("フリガナ", "kana", False),
    Column("生年月日", "birth_date", True),
    Column("資格取得日", "acquired_on", True),
    Column("資格喪失日", "lost_on", False),
    Column("加入区分", "membership", True),
    Column("資格確認書交付日", "certificate_issued_on", False),
    Column("郵便番号", "postal_code", True),
    Column("住所1", "address1", True),
    Column("住所2", "address2", False),
    Column("就労先コード", "workplace_code", False),
    Column("就労先名", "workplace_name", False),
    Column("マイナ保険証", "myna_registered", False),
    Column("マイナンバーカード", "has_mynumber_card", False),
    Column("スマートフォン", "has_smartphone", False),
    Column("交付理由", "issue_reason", False),
    # The cards (資格確認書, 資格情報のお知らせ; docs/cards.md). 性別 is a required item of the
    # 資格確認書: a roster that has the column must fill it for every member with a
    # 資格確認書交付日; a roster without it (written before the cards) gets no 資格確認書 cards.
    Column("性別", "sex", False),
    # 70歳以上: 一部負担金の割合 and its 発効期日, printed on the card when the roster gives them.
    Column("負担割合", "copay_ratio", False),
    Column("発効期日", "effective_on", False),
)
# Why a 資格確認書 was issued (optional column 交付理由). Notice 539 names only members who
# cannot use マイナ保険証 (no card, or card not registered); other insurers also issue one on
# application to registered members whose card is lost or being renewed, or who need support
# to use it (domain-rules.md R6). The letter's wording follows the reason.
ISSUE_REASONS = ("未取得", "未登録", "紛失", "更新中", "要配慮", "その他")
#: Reasons that mean the member cannot use マイナ保険証 (the notice's own target group).
CANNOT_USE_MYNA = frozenset({"未取得", "未登録"})
# 性別 as the roster may write it, NFKC-folded and casefolded -> as the card prints it. The
# digits are the codes of ISO/IEC 5218 (JIS X 0303): 1 male, 2 female (0 not known and
# 9 not applicable are not a 性別 a certificate can print).
SEXES = {"男": "男", "男性": "男", "1": "男", "女": "女", "女性": "女", "2": "女"}
# 一部負担金の割合 of members 70 to 74 (健康保険法 第74条: 2割, 3割 for 現役並み所得者),
# NFKC-folded -> as the card prints it.
COPAY_RATIOS = {"2割": "2割", "3割": "3割", "2": "2割", "3": "3割"}
# Column alias -> its Japanese header name, the name every message uses.
NAME_BY_ALIAS = {c.alias: c.name for c in COLUMNS}


def header_key(value: object) -> str:
    """A header cell as compared: NFKC, casefolded, no spaces, ``-`` as ``_``."""
    text = unicodedata.normalize("NFKC", cell_text(value)).strip().casefold()
    return "".join(text.split()).replace("-", "_")


def _by_header() -> dict[str, str]:
    """Normalised header text (Japanese name or alias) -> alias."""
    found = {header_key(c.name): c.alias for c in COLUMNS}
    found.update({header_key(c.alias): c.alias for c in COLUMNS})
    return found


def _closest(shown: str) -> str | None:
    """The known column a mistyped header most likely meant (生年月目 -> 生年月日)."""
    key = header_key(shown)
    names = {header_key(c.name): c.name for c in COLUMNS}
    names.update({header_key(c.alias): c.name for c in COLUMNS})
    match = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return names[match[0]] if match else None


HEADER_ROWS = HEADER_LINES


def find_header(table: list[tuple[int, list[object]]]) -> int | None:
    """Index in ``table`` of the header row: the first of the first :data:`HEADER_ROWS` rows
    that names at least three of our columns; else the first row with any text there (its
    missing columns are then reported as such); None when those rows are all blank."""
    known = _by_header()
    first_text = None
    for index, (_, cells) in enumerate(table[:HEADER_ROWS]):
        texts = [cell_text(c).strip() for c in cells]
        if not any(texts):
            continue
        if first_text is None:
            first_text = index
        if len({known[k] for k in map(header_key, texts) if k in known}) >= 3:
            return index
    return first_text


def map_header(
    cells: list[object], path: Path, allowed: frozenset[str] = frozenset(), *, row: int = 1
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Column alias -> cell index; unknown headers become (header, reason) warnings for row 1.

    A header naming a My Number column stops the roster unless it was allowed explicitly.
    """
    known = _by_header()
    found: dict[str, int] = {}
    notes: list[tuple[str, str]] = []
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        shown = cell_text(cell).strip()
        if not shown:
            continue
        alias = known.get(header_key(cell))
        if alias is None:
            if is_my_number_header(header_key(shown)) and header_key(shown) not in allowed:
                raise RosterError(my_number_column_message(shown), file=path, row=row,
                                  column=shown)
            unknown.append(shown)
            guess = _closest(shown)
            hint = f" {guess} のことですか (did you mean {guess}?)" if guess else ""
            notes.append((shown, f"不明な列のため無視しました (unknown column ignored){hint}"))
            continue
        if alias in found:
            name = NAME_BY_ALIAS[alias]
            raise RosterError(f"列 {name} が2回あります (column appears twice)", file=path,
                              row=row, column=name)
        found[alias] = index
    missing = [c.name for c in COLUMNS if c.header_required and c.alias not in found]
    if missing:
        typos = [f"{u} -> {_closest(u)}" for u in unknown if _closest(u) in missing]
        hint = f" 見出しの誤字? (typo? {', '.join(typos)})" if typos else ""
        raise RosterError(
            f"必須の列がありません (missing required column): {', '.join(missing)}{hint}",
            file=path,
            row=row,
            column=missing[0],
        )
    return found, notes


def my_number_column_message(column: str) -> str:
    """Why a column of My Numbers stops the roster, and what to do."""
    return (f"列 {column} は個人番号(マイナンバー)です。印刷してはならないため、列を削除して"
            "ください (a My Number column must not be printed: delete the column, or name it "
            "with --allow-column if it is not one)")
