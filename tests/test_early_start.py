"""The early start (issue 23): a roster in print order starts rendering while it is read, and
the batch is byte for byte what the merge makes without it.

The reference is always the same merge with one process (``workers=1``: nothing starts
early), never a file of the early start's own pasted back: every file of the batch folder
must be the same bytes. The rosters hold what the checks between rows decide (a duplicate
key, a rejected dependent, a rejected insured person, an unreadable key), so the early
start's guess of each household is tested against the real plan.
"""

from __future__ import annotations

import csv
import errno
import io
import logging
import stat
import tempfile
from datetime import date
from pathlib import Path

import pytest

from kenpo_docs.errors import RosterError
from kenpo_docs.input.mynumber import check_digit
from kenpo_docs.mailing import early as early_module
from kenpo_docs.mailing.options import MergeOptions, MergeResult
from kenpo_docs.mailing.run import merge
from kenpo_docs.paths import samples_dir

AS_OF = date(2026, 12, 1)
HEADER = ["記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "資格喪失日",
          "加入区分", "資格確認書交付日", "郵便番号", "住所1", "住所2", "就労先コード", "就労先名",
          "備考"]


def _insured(i: int, **change: str) -> list[str]:
    home = i % 3 == 0
    row = {"記号": "0012", "番号": f"{i:06d}", "枝番": "00", "氏名": f"試験 太郎{i}",
           "フリガナ": "シケン タロウ", "生年月日": "1970-04-01", "資格取得日": "2010-04-01",
           "資格喪失日": "", "加入区分": "任意継続" if home else "一般",
           "資格確認書交付日": "2025-12-01", "郵便番号": f"{100 + i % 7:03d}{i % 10000:04d}",
           "住所1": "東京都千代田区霞が関1丁目3番2号", "住所2": "",
           "就労先コード": "" if home else f"W{i % 5:03d}",
           "就労先名": "" if home else f"第{i % 5}事業所", "備考": ""}
    row.update(change)
    return [row[h] for h in HEADER]


def _dependent(i: int, branch: int, **change: str) -> list[str]:
    row = dict(zip(HEADER, [""] * len(HEADER), strict=True))
    row.update({"記号": "0012", "番号": f"{i:06d}", "枝番": f"{branch:02d}",
                "氏名": f"試験 花子{i}", "フリガナ": "シケン ハナコ", "生年月日": "1975-05-05",
                "資格取得日": "2010-04-01", "資格確認書交付日": "2025-12-01"})
    row.update(change)
    return [row[h] for h in HEADER]


def _rows(households: int) -> list[list[str]]:
    """Households in roster order, each household's rows together, with what the checks
    between rows reject inside them."""
    rows: list[list[str]] = []
    for i in range(1, households + 1):
        if i == 11:  # the insured person rejected (home route without postal code): no piece
            rows.append(_insured(i, 加入区分="任意継続", 就労先コード="", 就労先名="", 郵便番号=""))
            rows.append(_dependent(i, 1))
            continue
        rows.append(_insured(i))
        if i == 7:  # the same key twice: the second row is a duplicate
            rows.append(_insured(i))
        if i % 4 == 0:
            rows.append(_dependent(i, 1))
        if i == 9:  # a dependent born after the letter date: rejected, the household prints
            rows.append(_dependent(i, 2, 生年月日="2030-01-01"))
        if i == 12:  # a key that cannot be read between two households
            rows.append(_dependent(i, 1, 番号="12a"))
        if i == 14:  # a dependent before the insured person would be out of order: after
            rows.append(_dependent(i, 3, 資格喪失日="2020-03-31"))
    return rows


def _write(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER, *rows])
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def _merge(roster: Path, out: Path, *, workers: int, sort: str = "roster",
           enclosures: tuple[str, ...] = ()) -> MergeResult:
    return merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF,
                                              workers=workers, sort=sort, batch_id="EARLY-1",
                                              enclosures=enclosures))


#: The packet with every kind of enclosure: a notice (rendered by a worker while the roster is
#: read), a form prefilled per household and an external PDF.
PACKET = ("form:bessou1", "notice:539", f"file:{samples_dir() / 'bessou3-standin.pdf'}")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _same_batch(a: Path, b: Path) -> None:
    files_a, files_b = _files(a), _files(b)
    assert sorted(files_a) == sorted(files_b)
    different = [name for name in files_a if files_a[name] != files_b[name]]
    assert different == []


def test_a_roster_in_order_renders_early_and_writes_the_same_batch(tmp_path: Path) -> None:
    # The roster is read before the notice is rendered: the chunks cut meanwhile go to the
    # workers once it is made, while the roster is checked and planned.
    roster = _write(tmp_path / "roster.csv", _rows(70))
    early = _merge(roster, tmp_path / "early", workers=2, enclosures=PACKET)
    alone = _merge(roster, tmp_path / "alone", workers=1, enclosures=PACKET)
    # 68 pieces (households 11 and the unreadable row print nothing): chunks of 2, 13 and 40
    # are cut while the roster is read; the last household is complete only at the end.
    assert early.pieces == alone.pieces == 69
    assert (early.early, early.early_redone) == (55, 0)
    assert (alone.early, alone.early_redone) == (0, 0)
    assert (early.ok, early.rejected, early.skipped) == (alone.ok, alone.rejected,
                                                         alone.skipped)
    assert early.rejected >= 5
    _same_batch(tmp_path / "early", tmp_path / "alone")
    # The pieces follow the roster: the first piece is the first household's.
    with (tmp_path / "early" / "manifest.csv").open(encoding="utf-8-sig") as fh:
        first = next(r for r in csv.DictReader(fh) if r["piece_id"].endswith("-00001"))
    assert first["member_key"] == "0012-000001-00"


def test_a_household_split_across_the_roster_is_rendered_again(tmp_path: Path) -> None:
    rows = _rows(70)
    # Household 8's dependent comes last: the early start sees household 8 without them
    # (its piece is in the second chunk); the plan puts them in the same envelope.
    moved = next(i for i, r in enumerate(rows) if r[1] == "000008" and r[2] == "01")
    rows.append(rows.pop(moved))
    roster = _write(tmp_path / "roster.csv", rows)
    early = _merge(roster, tmp_path / "early", workers=2)
    _merge(roster, tmp_path / "alone", workers=1)
    assert early.early_redone == 13  # the second chunk (pieces 3-15) was thrown away
    assert early.early == 42  # the first and the third were the plan's own
    _same_batch(tmp_path / "early", tmp_path / "alone")


def test_a_roster_out_of_print_order_stops_the_guess(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    # Sorted by workplace, a roster in key order breaks the order at once (households 1-2
    # workplace W001/W002, 3 home, 4 W004, 5 W000 ...): at most the first chunk is guessed.
    roster = _write(tmp_path / "roster.csv", _rows(40))
    with caplog.at_level(logging.INFO, logger="kenpo_docs.mailing.early"):
        early = _merge(roster, tmp_path / "early", workers=2, sort="workplace")
    assert any("not in print order" in r.getMessage() for r in caplog.records)
    _merge(roster, tmp_path / "alone", workers=1, sort="workplace")
    assert early.early + early.early_redone <= 2
    _same_batch(tmp_path / "early", tmp_path / "alone")


def test_a_roster_refused_at_its_end_leaves_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    # The last rows fill an extra column with My Numbers: the roster is refused as a whole
    # once it is read, after the first chunks were started. Nothing may be written.
    rows = _rows(70)
    for n, row in enumerate(rows[-12:]):
        eleven = f"{12345678900 + n:011d}"
        row[HEADER.index("備考")] = eleven + str(check_digit(eleven))
    roster = _write(tmp_path / "roster.csv", rows)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with caplog.at_level(logging.INFO, logger="kenpo_docs.mailing.early"), \
            pytest.raises(RosterError, match="個人番号"):
        _merge(roster, tmp_path / "out", workers=2)
    assert any("thrown away" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "out").exists()
    assert list(scratch.iterdir()) == []  # the private staging folder went with the merge


def test_an_early_piece_crosses_file_systems_as_a_private_file(tmp_path: Path) -> None:
    source, target = tmp_path / "a.pdf", tmp_path / "pieces" / "b.pdf"
    source.write_bytes(b"%PDF-1.7 piece")
    target.parent.mkdir()

    def cross(_a: Path, _b: Path) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    early_module._move(source, target, rename=cross)
    assert target.read_bytes() == b"%PDF-1.7 piece"
    assert not source.exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.pdf"]  # no temp file left
    other = tmp_path / "c.pdf"
    other.write_bytes(b"x")

    def broken(_a: Path, _b: Path) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    with pytest.raises(PermissionError):  # only a move across file systems is copied
        early_module._move(other, target, rename=broken)
