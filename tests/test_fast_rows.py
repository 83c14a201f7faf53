"""The common row read in one pass (input/fastrows.py) against the full parse (rows.parse_row).

FastRows may only ever say "this row is the Member parse_row makes, with no problem and no
warning"; everything else goes the full way. Held here on rows nobody wrote for this test:
the bench's generated roster, the bundled sample roster, and thousands of their rows with one
or several cells changed to values staff really type (和暦, full-width digits, hyphens, 〒,
blank, out of range, contradictory, unprintable). End to end, a roster read with and without
the one-pass reading gives the same members, rejects and warnings.
"""

from __future__ import annotations

import csv
import importlib.util
import pickle
import random
from datetime import date
from pathlib import Path

import pytest

from kenpo_docs.domain.insurer import key_widths
from kenpo_docs.input import fastrows
from kenpo_docs.input.cells import Row, plain_cells, scan_cells
from kenpo_docs.input.columns import map_header
from kenpo_docs.input.fastrows import FastRows
from kenpo_docs.input.members import Member
from kenpo_docs.input.roster import read_roster
from kenpo_docs.input.rows import parse_row, row_key
from kenpo_docs.input.tables import iter_table

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 12, 1)


def _generated(households: int) -> list[list[str]]:
    spec = importlib.util.spec_from_file_location("roster_gen", ROOT / "bench" / "roster_gen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows: list[list[str]] = module.roster_rows(households)
    return rows


def _sample() -> list[list[str]]:
    _, records = iter_table(ROOT / "samples" / "roster.csv")
    return [[str(c) for c in cells] for _, cells in records]


# Values staff type, per column (the header's Japanese names): valid ones in other spellings,
# and wrong ones of every kind parse_row knows.
VARIANTS: dict[str, list[str]] = {
    "記号": ["", " 0012 ", "００１２", "12", "0012a", "123456789012", "-1", "0 12"],
    "番号": ["", "000101 ", "１０１", "101", "1234567890123", "10-1"],
    "枝番": ["", "0", "1", "001", "00", "０１", "a", " 02"],
    "氏名": ["", " 髙橋 太郎 ", "A", "\ue000太郎", "ｶﾀｶﾅ", "髙橋\u3000太郎", "e\u0301", "﨑 一"],
    "フリガナ": ["", "たかはし", "ﾀｶﾊｼ ﾀﾛｳ", "タカハシ・タロウ", "Takahashi", "タカハシ\u3000"],
    "生年月日": ["", "昭和45年4月1日", "S45.4.1", "2030-01-01", "2026-12-01", "2026-12-02",
             "1980/2/30", "abc", "R7.12.1", "25000", " 1980-01-01 ", "1940-01-15",
             "平成31年5月1日"],
    "資格取得日": ["", "2026-12-01", "2026-12-02", "令和6年12月1日", "1900-01-01", "x",
              "2025-04-01"],
    "資格喪失日": ["", "2026-12-01", "2000-01-01", "2027-03-31", "令和8年3月31日", "bad",
              "2026-12-02", "2025-12-01"],
    "加入区分": ["", "一般", "任意継続", "任継", "その他", " 一般 ", "ｲｯﾊﾟﾝ"],
    "資格確認書交付日": ["", "2024-12-01", "2024-12-02", "2025-12-01", "2026-12-01",
                  "2026-12-02", "2035-01-01", "2000-01-01", "令和7年12月1日", "?"],
    "郵便番号": ["", "100-0001", "1000001", "100001", "〒100-0001", "１００－０００１",
             "100 0001", "10000011", "abc", "100ー0001"],
    "住所1": ["", "東京都千代田区千代田1-1", "\ue000", "𠀋町1", " 大阪府 "],
    "住所2": ["", "ビル10F", "\ue001", "ﾋﾞﾙ"],
    "就労先コード": ["", "W001", "0123", "Ｗ００１", "1001", " W002 "],
    "就労先名": ["", "本社", "\ue002", "第1事業所"],
    "マイナ保険証": ["", "有", "無", "Yes", "Y", "1", "0", "maybe", "登録済", "ｙｅｓ", "未登録"],
    "マイナンバーカード": ["", "有", "無", "no", "×", "?"],
    "スマートフォン": ["", "有", "無", "TRUE", "2"],
    "交付理由": ["", "未取得", "未登録", "紛失", "その他", "不明", "要配慮"],
    "性別": ["", "男", "女", "1", "2", "3", "男性", "Ｍ", "女 "],
    "負担割合": ["", "2割", "3割", "2", "1割", "２割", " 2 割"],
    "発効期日": ["", "2026-10-01", "2020-01-01", "abc", "2026-12-01"],
}


def _header() -> list[str]:
    header = list(_generated(0)[0])
    header.insert(header.index("性別"), "交付理由")
    return header


def _rows(base: list[list[str]], base_header: list[str], header: list[str]) -> list[list[str]]:
    """``base``'s rows in ``header``'s columns (a column ``base`` lacks is blank)."""
    at = {name: i for i, name in enumerate(base_header)}
    return [[row[at[name]] if name in at and at[name] < len(row) else "" for name in header]
            for row in base]


def _mutated(seed: int = 539) -> list[list[str]]:
    """Rows of the generated and the sample roster, each with one cell changed to every
    variant, then rows with two to four cells changed at random."""
    header = _header()
    generated = _generated(40)
    sample = _sample()
    base = (_rows(generated[1:], generated[0], header)
            + _rows(sample[1:], sample[0], header))
    out = []
    for row in base[::2]:
        for name, values in VARIANTS.items():
            i = header.index(name)
            for value in values:
                changed = list(row)
                changed[i] = value
                out.append(changed)
    rng = random.Random(seed)
    for _ in range(3000):
        changed = list(rng.choice(base))
        for name in rng.sample(sorted(VARIANTS), rng.randint(2, 4)):
            changed[header.index(name)] = rng.choice(VARIANTS[name])
        out.append(changed)
    return out


def _compare(header: list[str], rows: list[list[str]], *,
             cold: bool = False) -> list[tuple[bool, bool]]:
    """Read each row both ways (one pass first, as the roster reader does, then the full
    parse); returns per row (read in one pass, accepted by the full parse). ``cold``: no
    date remembered from the rows before."""
    columns, _ = map_header(list(header), Path("roster.csv"))
    names = {i: name for i, name in enumerate(header)}
    used = frozenset(columns.values())
    widths = key_widths()
    glyphs: dict[str, bool] = {}
    printable: set[str] = set()
    dates: dict[str, date] = {}
    out = []
    for number, cells in enumerate(rows, start=2):
        if cold:  # every date met for the first time: the one pass parses it itself
            dates = {}
        reader = FastRows(columns, names, AS_OF, widths, dates, printable)
        fast = reader.member(number, list(cells)) if plain_cells(list(cells), names) else None
        row = Row(number, list(cells), columns, glyphs, printable, dates)
        scan_cells(row, names, used, frozenset(), {})
        slow = parse_row(row, AS_OF, widths)
        out.append((fast is not None, slow is not None))
        if fast is None:
            continue
        assert slow is not None, (number, cells, row.problems)
        assert not row.problems and not row.notes, (number, cells, row.problems, row.notes)
        assert fast == slow, (number, cells)
        for field in fast.__dict__:
            assert type(getattr(fast, field)) is type(getattr(slow, field)), field
        assert row_key(row, widths) == (fast.key, fast.household_key)
        assert pickle.loads(pickle.dumps(fast)) == slow
    return out


def test_generated_and_sample_rows_read_in_one_pass_are_what_parse_row_makes() -> None:
    generated = _generated(1000)
    read = _compare(generated[0], generated[1:])
    assert all(accepted for _, accepted in read)
    # the one-pass reading must carry the common row, or it buys nothing: once the first
    # rows have met the dates and characters, nearly every row
    later = read[len(read) // 2:]
    assert sum(fast for fast, _ in later) >= 0.95 * len(later)
    sample = _sample()
    assert any(fast for fast, _ in _compare(sample[0], sample[1:]))


@pytest.mark.parametrize("cold", [False, True], ids=["memos-shared", "memos-cold"])
def test_rows_changed_in_one_or_several_cells(cold: bool) -> None:
    rows = _mutated()
    read = _compare(_header(), rows, cold=cold)
    fast = sum(f for f, _ in read)
    accepted = sum(a for _, a in read)
    assert len(rows) > 8000
    # both ways are exercised: rows accepted in one pass, rows the full way rejects
    assert 0.2 * len(rows) < fast <= accepted < len(rows)


def test_member_pickles_by_its_values() -> None:
    """Dates travel as day numbers and come back as dates; every date field is one."""
    member = Member(
        row=7, symbol="0012", number="000101", branch="00", name="髙橋 太郎", kana=None,
        birth_date=date(1950, 1, 31), acquired_on=date(2000, 4, 1), lost_on=date(2027, 3, 31),
        membership="一般", certificate_issued_on=date(2025, 12, 1), postal_code="1000001",
        address1="東京都", address2=None, workplace_code="W001", workplace_name="本社",
        myna_registered=None, has_mynumber_card=False, has_smartphone=True,
        issue_reason="紛失", sex="男", copay_ratio="2割", effective_on=date(2020, 2, 1))
    back = pickle.loads(pickle.dumps(member))
    assert back == member and back.__dict__ == member.__dict__
    assert all(type(getattr(back, f)) is date for f in
               ("birth_date", "acquired_on", "lost_on", "certificate_issued_on",
                "effective_on"))
    assert back.with_membership("任意継続").membership == "任意継続"
    assert member.membership == "一般"  # the original is frozen and unchanged


def test_roster_read_with_and_without_one_pass_reading(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Members, households, rejects and warnings of a roster of changed rows: the same."""
    path = tmp_path / "roster.csv"
    rows = _mutated()[::3]
    # no 性別 column, a column the roster ignores (holding what a 性別 would), rows cut short
    header = _header()
    at = header.index("性別")
    header = [*header[:at], *header[at + 1:], "備考"]
    rows = [[*row[:at], *row[at + 1:], "男"] if n % 4 else row[:n % 23]
            for n, row in enumerate(rows)]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    seen: list[bool] = []
    member = fastrows.FastRows.member

    def counted(self: FastRows, number: int, cells: list[object]) -> Member | None:
        found = member(self, number, cells)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(fastrows.FastRows, "member", counted)
    one_pass = read_roster(path, as_of=AS_OF)
    assert sum(seen) > len(rows) // 10
    monkeypatch.setattr(fastrows.FastRows, "member", lambda self, number, cells: None)
    full = read_roster(path, as_of=AS_OF)
    assert full.row_count == one_pass.row_count == sum(1 for row in rows if any(row))
    assert list(full.members) == list(one_pass.members)
    assert list(full.households) == list(one_pass.households)
    assert full.errors == one_pass.errors and full.warnings == one_pass.warnings
    assert full.extrapolated_dates == one_pass.extrapolated_dates
    assert len(full.errors) > 100 and len(full.members) > 100
