"""Big rosters stream (issue 23): the file is read a block at a time, rows are staged on disk
and the plan is read back chunk by chunk, with the same answers as reading the file whole.

Expected values come from Python's own whole-file decode and csv parse of the same bytes, and
from sorting the households by the keys docs/mailing.md gives for print order, never from the
streaming code's own output.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from kenpo_docs.documents.letters import get_letter
from kenpo_docs.errors import RosterError
from kenpo_docs.input import roster as roster_module
from kenpo_docs.input import store as store_module
from kenpo_docs.input import textfile
from kenpo_docs.input.check import check
from kenpo_docs.input.roster import read_roster, stage_roster
from kenpo_docs.input.store import Store
from kenpo_docs.input.tables import iter_table
from kenpo_docs.mailing.plan import plan_batch

AS_OF = date(2026, 12, 1)
HEADER = ["記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "資格喪失日",
          "加入区分", "資格確認書交付日", "郵便番号", "住所1", "住所2", "就労先コード", "就労先名"]


def _rows(households: int) -> list[list[str]]:
    """Households in an order that is not print order: workplaces and home mixed, keys
    descending, a dependent a few rows after its insured person."""
    rows = []
    for i in range(households, 0, -1):
        home = i % 3 == 0
        rows.append(["0012", f"{i:06d}", "00", f"試験 太郎{i}", "シケン タロウ", "1970-04-01",
                     "2010-04-01", "", "任意継続" if home else "一般", "2025-12-01",
                     f"{100 + i % 7:03d}{i % 10000:04d}", "東京都千代田区霞が関1丁目3番2号", "",
                     "" if home else f"W{i % 5:03d}", "" if home else f"第{i % 5}事業所"])
        if i % 4 == 0:
            rows.append(["0012", f"{i:06d}", "01", f"試験 花子{i}", "シケン ハナコ",
                         "1975-05-05", "2010-04-01", "", "", "2025-12-01", "", "", "", "", ""])
    return rows


def _write(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_blocks_split_characters_and_records_as_a_whole_decode_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 7 bytes cut every multi-byte character (UTF-8: 3 bytes, CP932: 2) and every
    # record somewhere; the DOS end-of-file marks at the end are dropped.
    monkeypatch.setattr(textfile, "_BLOCK", 7)
    rows = _rows(12)
    rows[3][12] = '"引用" と\n改行のある,セル'
    for encoding in ("utf-8", "utf-8-sig", "cp932", "utf-16"):
        path = _write(tmp_path / f"r-{encoding}.csv", rows, encoding=encoding)
        path.write_bytes(path.read_bytes() + "\x1a\x1a".encode(encoding)[
            2 if encoding == "utf-16" else 0:])
        whole = path.read_bytes().decode(encoding).rstrip("\x1a")
        expected = list(csv.reader(io.StringIO(whole, newline="")))
        found, records = iter_table(path)
        assert found == encoding
        assert [cells for _, cells in records] == expected
    # A character cut by the end of the file is reported as by a whole decode.
    cut = tmp_path / "cut.csv"
    cut.write_bytes(_write(tmp_path / "x.csv", rows).read_bytes()[:-1] + "試".encode()[:2])
    with pytest.raises(RosterError, match="truncated file: it ends inside a character"):
        iter_table(cut)


def test_staged_roster_reads_back_as_the_whole_one(tmp_path: Path) -> None:
    rows = _rows(30)
    rows.append(list(rows[0]))  # a duplicate key: rejected, the first row kept
    rows.append(["0012", "999999", "01", "孤児 一郎", "", "1980-01-01", "2010-04-01", "", "", "",
                 "", "", "", "", ""])  # a dependent without an insured person
    path = _write(tmp_path / "r.csv", rows)
    whole = read_roster(path, as_of=AS_OF)
    with Store() as store:
        staged = stage_roster(path, store=store, as_of=AS_OF)
        assert store.folder is not None and (store.folder / "staging.sqlite").is_file()
        assert list(staged.households) == list(whole.households)
        assert list(staged.members) == list(whole.members)
        assert staged.errors == whole.errors and staged.warnings == whole.warnings
        duplicate, orphan = staged.errors
        assert duplicate.row == len(rows)  # header on row 1: the file's second-last row
        assert duplicate.reason == "0012-000030-00 は 2 行目と重複しています (duplicate key)"
        assert (orphan.row, orphan.column) == (len(rows) + 1, "枝番")
        assert staged.households[4] == whole.households[4]
        assert staged.households[2:5] == tuple(whole.households[2:5])
    assert store.folder is None


def test_plan_order_matches_the_documented_print_order(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", _rows(40))
    with Store() as store:
        roster = stage_roster(path, store=store, as_of=AS_OF)
        households = list(roster.households)
        plan = plan_batch(roster, get_letter("kakuninsho"), as_of=AS_OF, batch_id="T1")
        # docs/mailing.md: one run per workplace in 就労先コード order, then home by postal
        # code; household key breaks ties.
        expected = sorted(
            households,
            key=lambda h: ((0, h.insured.workplace_code, h.key)
                           if h.insured.membership == "一般"
                           else (1, h.insured.postal_code, h.key)))
        assert [p.household.key for p in plan.pieces] == [h.key for h in expected]
        assert [p.piece_id for p in plan.pieces[:3]] == ["T1-00001", "T1-00002", "T1-00003"]
        rows = list(plan.index())
        assert [r.seq for r in rows] == list(range(1, len(households) + 1))
        assert {r.print_file for r in rows} == {"workplace-001", "workplace-002",
                                                "workplace-003", "workplace-004",
                                                "workplace-005", "home"}
        home = [r.postal_code for r in plan.group("home")]
        assert home == sorted(home)
        ok = [o for o in plan.outcomes if o.status == "ok"]
        assert len(ok) == len(roster.members)
        assert {o.piece_id for o in ok} == {p.piece_id for p in rows}


def test_staging_holds_no_roster_in_memory(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Staging keeps a page of rows at a time: its peak of Python memory is a fraction of
    what the same roster takes as objects (read_roster), and does not grow with the roster
    (pages of 100 rows and blocks of 16 KB here, so that both sizes are many of them)."""
    monkeypatch.setattr(store_module, "PAGE", 100)
    monkeypatch.setattr(roster_module, "PAGE", 100)
    monkeypatch.setattr(textfile, "_BLOCK", 16 * 1024)  # the file is read in blocks too
    peaks = {}
    for households in (1000, 4000):
        path = _write(tmp_path / f"r{households}.csv", _rows(households))
        read_roster(path, as_of=AS_OF)  # caches (fonts, rules) warm before measuring
        tracemalloc.start()
        try:
            with Store() as store:
                staged = stage_roster(path, store=store, as_of=AS_OF)
                assert len(staged.households) == households
            peaks[("staged", households)] = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            whole = read_roster(path, as_of=AS_OF)
            peaks[("whole", households)] = tracemalloc.get_traced_memory()[1]
            del whole
        finally:
            tracemalloc.stop()
    assert peaks[("staged", 4000)] < peaks[("whole", 4000)] / 2, peaks
    assert peaks[("staged", 4000)] < peaks[("staged", 1000)] * 1.3, peaks


def test_check_leaves_no_staging_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    good = _write(tmp_path / "good.csv", _rows(5))
    assert check(good, as_of=AS_OF).household_count == 5
    bad = tmp_path / "bad.csv"
    bad.write_text("記号,番号,枝番\n", "utf-8")  # a whole-file error: exit 2
    with pytest.raises(RosterError):
        check(bad, as_of=AS_OF)
    assert not [n for n in os.listdir(tmp_path) if n.startswith("kenpo-docs-stage-")]


def test_a_killed_runs_staging_folder_is_swept_by_the_next_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed outright leaves names and addresses in its scratch file: the next store
    removes the folder of a process that is gone, and keeps a living one's."""
    import subprocess
    import sys

    from kenpo_docs.input import store

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dead = tmp_path / f"{store.PREFIX}{gone}-abc"
    dead.mkdir()
    (dead / "staging.sqlite").write_bytes(b"rows")
    living = tmp_path / f"{store.PREFIX}{os.getpid()}-def"
    living.mkdir()
    with store.Store() as fresh:
        assert fresh.folder is not None and fresh.folder.parent == tmp_path
        assert not dead.exists()
        assert living.exists()


def test_observe_sees_each_staged_batch_in_row_order(tmp_path: Path) -> None:
    """The early start's hook: every staged row once, in row order, as inserted."""
    rows = 2 * store_module.PAGE + 17
    path = tmp_path / "r.csv"
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["記号", "番号", "枝番", "氏名", "生年月日", "資格取得日", "加入区分",
                     "郵便番号", "住所1", "就労先コード", "就労先名"])
    for i in range(rows):
        writer.writerow(["0010", f"{i + 1:06d}", "00", "髙橋 一郎", "1970-04-01",
                         "2010-04-01" if i != 5 else "2010-13-01", "一般", "1000013",
                         "東京都千代田区霞が関1丁目", "1001", "本部"])
    path.write_text(buf.getvalue(), encoding="utf-8")
    seen: list[list[tuple[object, ...]]] = []
    with Store(on_disk=False) as store:
        roster = stage_roster(path, store=store, as_of=date(2026, 12, 1),
                              observe=lambda batch: seen.append(list(batch)))
        assert [len(b) for b in seen] == [store_module.PAGE, store_module.PAGE, 17]
        flat = [t for b in seen for t in b]
        assert [t[0] for t in flat] == list(range(2, rows + 2))
        assert flat[5][1] == "0010-000006-00" and flat[5][3] is None  # the rejected row
        assert flat[6][3] is not None
        assert len(roster.members) == rows - 1 and [e.row for e in roster.errors] == [7]


def test_the_roster_memos_give_each_row_its_own_verdict(tmp_path: Path) -> None:
    """Dates, printable characters and katakana are remembered across a roster's rows: a
    repeated bad value is refused on each row, a good one after a bad one is kept."""
    header = ["記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "加入区分",
              "郵便番号", "住所1", "就労先コード", "就労先名"]
    values = [("髙橋 一郎", "タカハシ", "1970-04-01"), ("髙橋 \ue000", "タカハシ", "1970-04-01"),
              ("髙橋 一郎", "たかはし", "1970-02-30"), ("髙橋 \ue000", "たかはし", "1970-02-30"),
              ("葛\U000e0100城", "カツラギ", "昭和45年4月1日"),
              ("髙橋 一郎", "タカハシ", "S45.4.1")]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for i, (name, kana, born) in enumerate(values):
        writer.writerow(["0010", f"{i + 1:06d}", "00", name, kana, born, "2010-04-01", "一般",
                         "1000013", "東京都千代田区", "1001", "本部"])
    path = tmp_path / "r.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    roster = read_roster(path, as_of=date(2026, 12, 1))
    assert [(e.row, e.column) for e in roster.errors] == [
        (3, "氏名"), (4, "生年月日"), (5, "氏名, 生年月日")]
    assert [(w.row, w.column) for w in roster.warnings] == [(4, "フリガナ"), (5, "フリガナ")]
    assert [m.row for m in roster.members] == [2, 6, 7]  # 葛 with its IVS is in the fonts
    assert roster.members[-1].birth_date == date(1970, 4, 1)
