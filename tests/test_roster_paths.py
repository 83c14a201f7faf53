"""Roster values never become paths (hardening round 2, item 1).

就労先コード named the workplace print file: ``../../x`` wrote outside ``--out``, ``/etc/passwd``
made a subfolder, ``x/../W01`` and ``W01`` overwrote each other's print file (pieces lost, exit
0), and a 300-character code or one with a newline failed after rendering. Now print files are
numbered by us, and ``check`` rejects a code that is not a code before anything is rendered.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "bad"))
import make_bad

AS_OF = "2026-12-01"
HOSTILE = {
    2: "../../x",
    3: "/etc/passwd",
    4: "x/../W01",
    5: "W" * 300,
    6: "W01\nW02",
    7: "..",
    8: "W 01",
    9: "ＷＯ１/",  # full width: NFKC makes it "WO1/"
}


def _roster(tmp_path: Path) -> Path:
    rows = [make_bad.row(1, 就労先コード="W01")]
    rows += [make_bad.row(n, 就労先コード=code) for n, code in HOSTILE.items()]
    rows += [make_bad.row(10, 就労先コード="w01"), make_bad.row(11, 就労先コード="Ｗ０２")]
    path = tmp_path / "in" / "roster.csv"
    path.parent.mkdir()
    path.write_text(make_bad.csv_text(rows), encoding="utf-8")
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_check_rejects_codes_that_are_not_codes_before_rendering(tmp_path: Path) -> None:
    roster = _roster(tmp_path)
    report = tmp_path / "in" / "report.csv"
    result = CliRunner().invoke(cli, ["check", str(roster), "--as-of", AS_OF,
                                      "--report", str(report)])
    assert result.exit_code == 1, result.output
    rows = _csv(report)
    rejected = {int(r["row"]) - 1 for r in rows if r["column"] == "就労先コード"}
    assert rejected == set(HOSTILE), rows
    for r in rows:
        if r["column"] == "就労先コード":
            assert "英数字" in r["reason"], r
            assert "passwd" not in r["reason"] and ".." not in r["reason"]


def test_merge_writes_only_inside_out_under_names_of_its_own(tmp_path: Path) -> None:
    roster = _roster(tmp_path)
    out = tmp_path / "out"
    result = merge(roster, options=MergeOptions(
        letter="kakuninsho", out=out, workers=1, as_of=date.fromisoformat(AS_OF),
        db=tmp_path / "t.sqlite"))
    assert (result.ok, result.rejected) == (3, len(HOSTILE))
    assert result.exit_code == 1
    # Nothing outside --out but what we were given and the database.
    outside = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if out not in p.parents and p != out)
    assert outside == ["in", "in/roster.csv", "t.sqlite"], outside
    names = sorted(p.name for p in (out / "print").iterdir())
    assert all(re.fullmatch(r"(workplace-\d{3}|home)\.(pdf|inserter\.csv)|index\.csv", n)
               for n in names), names
    assert [p for p in (out / "print").rglob("*") if p.is_dir()] == []
    # W01, w01 and W02 are three bundles (a file system that ignores case keeps them apart
    # too), and every ok piece is in the print file the manifest names, once.
    manifest = [r for r in _csv(out / "manifest.csv") if r["status"] == "ok"]
    assert len({r["print_file"] for r in manifest}) == 3
    for r in manifest:
        inserter = _csv(out / r["print_file"].replace(".pdf", ".inserter.csv"))
        assert [x["piece_id"] for x in inserter].count(r["piece_id"]) == 1
        pages = sum(int(x["pages"]) for x in inserter)
        assert len(PdfReader(out / r["print_file"]).pages) == pages
    covers = {}
    for r in manifest:
        first = PdfReader(out / r["print_file"]).pages[0].extract_text()
        covers[r["route"]] = first
    assert {"workplace:W01", "workplace:w01", "workplace:W02"} == set(covers)
    for route, text in covers.items():
        assert route.split(":")[1] in text  # the cover names its workplace
    # print/index.csv says which file is which bundle.
    index = {r["print_file"]: r for r in _csv(out / "print" / "index.csv")}
    for r in manifest:
        assert index[r["print_file"]]["route"] == r["route"]
    assert sorted(index) == sorted(f"print/{n}" for n in names if n.endswith(".pdf"))


@pytest.mark.parametrize("code", ["W01", "123-45", "A_b-9", "Ｗ０１"])
def test_ordinary_codes_are_still_codes(tmp_path: Path, code: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(make_bad.csv_text([make_bad.row(1, 就労先コード=code)]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(path), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
