"""The tracking database against a real merge: what the manifest says went out is what the
database holds, statuses move only forward, and the postal form's counts match a hand count.

Expected values come from the roster written here (households, routes, postal codes counted by
hand) and from Japan Post's rate table (定形 up to 50 g 110 yen; 定形外 up to 100 g 180 yen,
from 2024-10-01), never from the database read back against itself.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import sqlite3
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.errors import ManifestError
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.tracking.db import MIGRATIONS, connect, open_db
from kenpo_docs.tracking.events import STATUSES, mark
from kenpo_docs.tracking.postage import load_postage
from kenpo_docs.tracking.postal import postal_report
from kenpo_docs.tracking.reports import report, status_by_batch
from tests.tracking_roster import HEADER, ROWS

# Hand count from the rows above.
HOUSEHOLDS = {"20-3001": "workplace:W01", "20-3002": "workplace:W01", "20-3003": "workplace:W02",
              "20-3004": "home", "20-3005": "home", "20-3006": "home"}
HOME_DISTRICTS = {"100": 1, "263": 2}
HOME_POSTAL_ORDER = ["1000013", "2630021", "2630023"]
AS_OF = date(2026, 12, 1)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _clock() -> datetime:
    return T0


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(roster, out folder, db) of one real merge, shared read-only by the tests."""
    base = tmp_path_factory.mktemp("merged")
    roster = base / "roster.csv"
    roster.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("cp932"))
    out, db = base / "out", base / "t.sqlite"
    merge(roster, options=_options(out, db))
    return roster, out, db


def _options(out: Path, db: Path) -> MergeOptions:
    return MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, workers=1, db=db)


@pytest.fixture
def db(merged: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    """A private copy of the merged database, for tests that change it."""
    copy = tmp_path / "copy.sqlite"
    src = sqlite3.connect(merged[2])
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    return copy


def _manifest(out: Path) -> list[dict[str, str]]:
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def _piece_of(out: Path, household: str) -> str:
    return next(r["piece_id"] for r in _manifest(out) if r["member_key"] == f"{household}-00")


def _run(*args: str, input: str | None = None) -> object:
    return CliRunner().invoke(cli, ["track", *args], input=input)


# --------------------------------------------------------------------------------------------
# The merge records the batch


def test_db_holds_what_the_manifest_says(merged: tuple[Path, Path, Path]) -> None:
    roster, out, db = merged
    manifest = _manifest(out)
    ok = [r for r in manifest if r["status"] == "ok"]
    assert len(ok) == 8 and sum(r["status"] == "rejected" for r in manifest) == 1
    pieces = _rows(db, "SELECT id, household_key, route, postal_code, pages, status FROM pieces "
                       "ORDER BY seq")
    # One piece per household, in the manifest's piece order.
    manifest_ids = list(dict.fromkeys(r["piece_id"] for r in manifest if r["piece_id"]))
    assert sorted(manifest_ids) == [p[0] for p in pieces]
    assert {p[1]: p[2] for p in pieces} == HOUSEHOLDS
    by_id = {p[0]: p for p in pieces}
    for r in ok:
        piece = by_id[r["piece_id"]]
        assert piece[2] == r["route"] and str(piece[4]) == r["pages"]
        assert piece[5] == "generated"
    members: dict[str, list[str]] = {}
    for r in ok:
        members.setdefault(r["piece_id"], []).append(r["member_key"])
    got: dict[str, list[str]] = {}
    for piece, key in _rows(db, "SELECT piece, member_key FROM piece_members ORDER BY row"):
        got.setdefault(str(piece), []).append(str(key))
    assert got == members
    assert "20-3001-01" in got[_piece_of(out, "20-3001")]
    batch = _rows(db, "SELECT id, letter, as_of, roster_sha256, pieces, ok_rows, rejected_rows "
                      "FROM batches")
    import hashlib

    assert batch == [(manifest[0]["batch_id"], "kakuninsho", "2026-12-01",
                      hashlib.sha256(roster.read_bytes()).hexdigest(), 6, 8, 1)]
    # Every piece has its 'generated' event; the file is private.
    assert _rows(db, "SELECT count(*), count(DISTINCT piece) FROM events "
                     "WHERE status = 'generated'") == [(6, 6)]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert _rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_rerun_does_not_duplicate_or_move_status_back(
    merged: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    roster, out, _ = merged
    out2 = tmp_path / "out"
    shutil.copytree(out, out2)
    db = tmp_path / "t.sqlite"
    merge(roster, options=_options(out2, db))
    counts = [_rows(db, f"SELECT count(*) FROM {t}")[0][0]
              for t in ("batches", "pieces", "piece_members", "events")]
    assert counts == [1, 6, 8, 6]
    piece = _piece_of(out2, "20-3004")
    assert mark(db, "printed", [piece]).changed == [piece]
    merge(roster, options=_options(out2, db))  # a resume of the same batch
    assert [_rows(db, f"SELECT count(*) FROM {t}")[0][0]
            for t in ("batches", "pieces", "piece_members", "events")] == [1, 6, 8, 7]
    assert _rows(db, "SELECT status FROM pieces WHERE id = ?", piece) == [("printed",)]


def test_same_batch_id_from_another_roster_is_refused(
    merged: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    roster, out, db = merged
    other = tmp_path / "other.csv"
    renamed = roster.read_bytes().replace("大野 聡".encode("cp932"), "大野 悟".encode("cp932"))
    other.write_bytes(renamed)
    copy = tmp_path / "t.sqlite"
    shutil.copy(db, copy)
    options = MergeOptions(letter="kakuninsho", out=tmp_path / "o", as_of=AS_OF, workers=1,
                           db=copy, batch_id=_manifest(out)[0]["batch_id"])
    with pytest.raises(ManifestError, match="other input"):
        merge(other, options=options)
    assert not (tmp_path / "o").exists()  # refused before anything was rendered


# --------------------------------------------------------------------------------------------
# Marking


def test_mark_by_args_stdin_and_page_codes(merged: tuple[Path, Path, Path], db: Path) -> None:
    _, out, _ = merged
    home = [_piece_of(out, h) for h in ("20-3004", "20-3005", "20-3006")]
    res = _run("mark", "printed", "--db", str(db), *home)
    assert res.exit_code == 0, res.output
    # A scanner types one code per line: full page codes, pages of one piece twice, blanks.
    scanned = f"{home[0]}|1/1\n\n{home[1]}|1/2\n{home[1]}|2/2\n{home[2]}\n"
    res = _run("mark", "mailed", "--db", str(db), input=scanned)
    assert res.exit_code == 0, res.output
    assert "3 marked mailed, 0 already mailed" in res.output  # two pages of one piece: once
    res = _run("mark", "returned", "--reason", "宛所不明", "--note", "戻り 12/10", "--db",
               str(db), f"{home[0]}|1/1")
    assert res.exit_code == 0, res.output
    assert _rows(db, "SELECT status FROM pieces WHERE id = ?", home[0]) == [("returned",)]
    events = _rows(db, "SELECT status, reason, note FROM events WHERE piece = ? ORDER BY id",
                   home[0])
    assert events == [("generated", None, "merge"), ("printed", None, ""), ("mailed", None, ""),
                      ("returned", "宛所不明", "戻り 12/10")]
    shown = _run("show", "--db", str(db), home[0])
    assert shown.exit_code == 0, shown.output
    assert "20-3004-00" in shown.output and "20-3004-01" in shown.output
    assert "宛所不明" in shown.output and "returned" in shown.output
    assert "井上" not in shown.output  # keys only, no names


def test_illegal_transition_is_refused_naming_the_piece_unless_forced(
    merged: tuple[Path, Path, Path], db: Path
) -> None:
    _, out, _ = merged
    piece, other = _piece_of(out, "20-3001"), _piece_of(out, "20-3002")
    res = _run("mark", "mailed", "--db", str(db), piece, other)
    assert res.exit_code == 1
    assert piece in res.output and "generated" in res.output and "--force" in res.output
    assert _rows(db, "SELECT DISTINCT status FROM pieces WHERE id IN (?, ?)", piece, other) == [
        ("generated",)]
    res = _run("mark", "mailed", "--force", "--note", "printed outside", "--db", str(db), piece)
    assert res.exit_code == 0, res.output
    assert _rows(db, "SELECT status, note FROM events WHERE piece = ? ORDER BY id DESC LIMIT 1",
                 piece) == [("mailed", "forced generated -> mailed; printed outside")]
    # Backwards is refused too, and delivered is final.
    assert mark(db, "printed", [piece]).refused[0][0] == piece
    assert mark(db, "delivered", [piece], clock=_clock).changed == [piece]
    assert _rows(db, "SELECT at FROM events WHERE piece = ? AND status = 'delivered'", piece) == [
        ("2026-12-01T09:00:00+00:00",)]
    refused = mark(db, "returned", [piece], reason="受取拒否").refused
    assert refused and "final" in refused[0][1]


def test_mark_lists_unknown_ids_and_processes_the_rest(
    merged: tuple[Path, Path, Path], db: Path
) -> None:
    _, out, _ = merged
    piece = _piece_of(out, "20-3003")
    res = _run("mark", "printed", "--db", str(db), "NOPE-00001", piece, "not a code|x")
    assert res.exit_code == 1
    assert "NOPE-00001" in res.output and "1 marked printed" in res.output
    assert _rows(db, "SELECT status FROM pieces WHERE id = ?", piece) == [("printed",)]
    assert _run("show", "--db", str(db), "NOPE-00001").exit_code == 1


def test_returned_needs_a_known_reason(merged: tuple[Path, Path, Path], db: Path) -> None:
    _, out, _ = merged
    piece = _piece_of(out, "20-3005")
    res = _run("mark", "returned", "--db", str(db), piece)
    assert res.exit_code == 2 and "宛所不明" in res.output
    res = _run("mark", "printed", "--reason", "宛所不明", "--db", str(db), piece)
    assert res.exit_code == 2


def test_no_database_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    for args in (["mark", "printed", "X-1"], ["show", "X-1"], ["report"], ["postal"]):
        res = _run(*args, "--db", str(missing))
        assert res.exit_code == 2, (args, res.output)
        assert res.output.count("\n") == 1 and "no tracking database" in res.output
        assert "Traceback" not in res.output
    assert not missing.exists()


# --------------------------------------------------------------------------------------------
# Reports


def test_report_counts_match_the_manifest(
    merged: tuple[Path, Path, Path], db: Path, tmp_path: Path
) -> None:
    _, out, _ = merged
    manifest = _manifest(out)
    returned = _piece_of(out, "20-3006")
    mark(db, "printed", [returned])
    mark(db, "mailed", [returned])
    mark(db, "returned", [returned], reason="転居先不明")
    report_csv = tmp_path / "report.csv"
    res = _run("report", "--db", str(db), "--csv", str(report_csv))
    assert res.exit_code == 0, res.output
    rep = report(db)
    route_of = {r["piece_id"]: r["route"] for r in manifest if r["piece_id"]}
    per_route: dict[str, int] = {}
    for route in route_of.values():
        per_route[route] = per_route.get(route, 0) + 1
    assert {k: sum(v.values()) for k, v in rep.by_route.items()} == per_route
    assert per_route == {"workplace:W01": 2, "workplace:W02": 1, "home": 3}  # hand count
    assert {k: sum(v.values()) for k, v in rep.by_workplace.items()} == {"W01": 2, "W02": 1}
    assert rep.by_status["generated"] == 5 and rep.by_status["returned"] == 1
    assert [(r.piece_id, r.reason, r.member_keys) for r in rep.returned] == [
        (returned, "転居先不明", ("20-3006-00",))]
    assert "転居先不明" in res.output and "20-3006-00" in res.output
    rows = list(csv.DictReader(io.StringIO(report_csv.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 6 and stat.S_IMODE(report_csv.stat().st_mode) == 0o600
    keys = {r["piece_id"]: r["member_keys"].split() for r in rows}
    for r in manifest:
        if r["piece_id"]:
            assert r["member_key"] in keys[r["piece_id"]]
    bad = _run("report", "--db", str(db), "--batch", "NOPE")
    assert bad.exit_code == 2 and "NOPE" in bad.output


def test_status_by_batch_counts_every_status_of_every_batch(
    merged: tuple[Path, Path, Path], db: Path
) -> None:
    _, out, _ = merged
    printed, mailed = _piece_of(out, "20-3001"), _piece_of(out, "20-3004")
    mark(db, "printed", [printed, mailed])
    mark(db, "mailed", [mailed])
    (batch,) = status_by_batch(db)
    assert batch.letter == "kakuninsho" and batch.total == len(HOUSEHOLDS)
    assert batch.counts == {"generated": 4, "printed": 1, "mailed": 1, "delivered": 0,
                            "returned": 0, "reissued": 0}
    assert status_by_batch(db, limit=1) == [batch]
    with pytest.raises(ManifestError):
        status_by_batch(db.parent / "none.sqlite")


def test_postal_counts_per_district_and_postage(
    merged: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, out, db = merged
    csv_path = tmp_path / "postal.csv"
    res = _run("postal", "--db", str(db), "--csv", str(csv_path))
    assert res.exit_code == 0, res.output
    rep = postal_report(db)
    assert rep.districts == HOME_DISTRICTS
    assert [p.postal_code for p in rep.pieces] == HOME_POSTAL_ORDER
    pages = {r["piece_id"]: int(r["pages"]) for r in _manifest(out) if r["route"] == "home"}
    assert {p.piece_id for p in rep.pieces} == set(pages)
    for p in rep.pieces:
        # duplex (merge's default --sides): two pages a sheet; 4.0 g a sheet + 5.0 g envelope
        # (data/postage.toml); <= 50 g is 定形 110 yen
        assert p.sheets == math.ceil(pages[p.piece_id] / 2)
        assert p.weight_g == 5.0 + 4.0 * p.sheets and p.weight_g <= 50
        assert (p.cls, p.yen) == ("定形", 110)
    assert rep.total_yen == 330
    assert "3 home pieces" in res.output and "263: 2" in res.output and "100: 1" in res.output
    rows = list(csv.DictReader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    assert [r["postal_code"] for r in rows] == HOME_POSTAL_ORDER


def test_postage_bands_follow_japan_post(tmp_path: Path) -> None:
    table = load_postage()
    assert table.rate(25) == ("定形", 110)
    assert table.rate(50) == ("定形", 110)
    assert table.rate(50.1) == ("定形外", 180)  # 定形外 規格内 up to 100 g
    assert table.rate(1000) == ("定形外", 750)
    with pytest.raises(ManifestError):
        table.rate(1000.5)
    bad = tmp_path / "p.toml"
    bad.write_text("[paper]\nsheet_g = 4\nenvelope_g = 5\n[typo]\n", "utf-8")
    with pytest.raises(ManifestError, match="typo"):
        load_postage(bad)


# --------------------------------------------------------------------------------------------
# Schema


def test_schema_is_made_in_an_empty_file_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with connect(empty) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"batches", "pieces", "piece_members", "events"} <= tables
        # Migration 1 froze the status list in its CHECKs: the statuses in use match it.
        check = "CHECK (status IN ({}))".format(", ".join(f"'{s}'" for s in STATUSES))
        for table in ("pieces", "events"):
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            assert check in sql[0], table
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO events (piece, status, at) VALUES ('x', 'printed', 'now')")
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(ManifestError, match="newer"):
        open_db(newer)
    res = _run("report", "--db", str(newer))
    assert res.exit_code == 2 and "newer" in res.output
    fresh = tmp_path / "sub" / "fresh.sqlite"
    with connect(fresh) as conn:
        conn.execute("INSERT INTO batches VALUES ('B', 'kakuninsho', NULL, '2026-12-01', 'x', "
                     "'t', 't', 0, 0, 0, 0, 0)")
        # WAL side files exist while a connection is open: private as well.
        for f in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
