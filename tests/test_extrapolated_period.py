"""Issue 18, section 5: a 資格確認書 issued after the periods notice 539 lists (after
2026-11-30) has an extrapolated expiry; `check` says so once per batch, and so does `merge`."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from kenpo_docs.domain.facts import certificate_period_extrapolated
from kenpo_docs.input.check import check
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

AS_OF = date(2027, 1, 15)
HEADER = ("記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
          "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン,"
          "性別")  # 性別: a roster of today (one without it gets a note of its own, issue 19)
WORK = "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局"


def _roster(tmp: Path, *issued: str) -> Path:
    rows = [f"30,{100 + i},00,試験 {i},シケン,1970-01-01,2024-12-02,,一般,{d},{WORK},無,無,無,男"
            for i, d in enumerate(issued)]
    path = tmp / "r.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_periods_of_the_notice_are_not_extrapolated() -> None:
    # 「交付期間（２回目） 令和7年12月1日～令和8年11月30日 有効期限 令和10年11月30日」
    assert not certificate_period_extrapolated(date(2024, 12, 2))
    assert not certificate_period_extrapolated(date(2026, 11, 30))
    assert certificate_period_extrapolated(date(2026, 12, 1))


def test_check_says_it_once_per_batch(tmp_path: Path) -> None:
    result = check(_roster(tmp_path, "2026-12-01", "2027-01-05", "2026-11-30"), as_of=AS_OF)
    notes = [line for line in result.lines() if line.startswith("note:")]
    assert len(notes) == 1, result.lines()
    assert "2026-12-01 ほか 1 日" in notes[0] and "推定" in notes[0]
    assert "2029-11-30" in notes[0]  # the pattern's expiry, stated as an estimate


def test_no_note_within_the_notices_periods(tmp_path: Path) -> None:
    result = check(_roster(tmp_path, "2025-12-01", "2026-11-30"), as_of=AS_OF)
    assert not result.notes


def test_merge_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    roster = _roster(tmp_path, "2026-12-01", "2027-01-05")
    with caplog.at_level(logging.WARNING, logger="kenpo_docs"):
        merge(roster, options=MergeOptions(letter="kakuninsho", out=tmp_path / "out",
                                           as_of=AS_OF, workers=1))
    hits = [r for r in caplog.records if "推定" in r.getMessage()]
    assert len(hits) == 1
