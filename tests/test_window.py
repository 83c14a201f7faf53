"""The address block never loses the addressee's name out of the envelope window.

長形3号 profile (kenpo_docs/data/envelopes.toml): window 90 x 45 mm at 23 mm from the left and
13 mm from the top, 3 mm kept free all round for the sheet shifting, so the block is 84 x 39
mm. Worked out by hand from the letter's CSS (templates/letters/_letter.html): the address is
10.5 pt (3.70 mm, one kanji of BIZ UDPGothic is one em) with line height 1.35 (5.0 mm a line);
postal code line 11 pt x 1.35 = 5.2 mm; name 13 pt x 1.35 = 6.2 mm plus 1.5 mm; customer
barcode 1 + 7.6 mm. Home route: 39 - 5.2 - 7.7 - 8.6 = 17.5 mm, three address lines. A line
of 84 mm holds 22 kanji (21 with a few per cent kept back for kinsoku). Workplace route:
39 - 7.7 = 31.3 mm, six lines: the workplace name and the （…経由） line.

The pages are read back: the text pdfium finds inside the window rectangle of the printed page
must hold the name and 様.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pypdfium2
from click.testing import CliRunner

from kenpo_docs.cli import cli

HEADER = ("記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,加入区分,資格確認書交付日,"
          "郵便番号,住所1,住所2,就労先コード,就労先名")
KANJI = "国"  # one em wide in BIZ UDPGothic, like every kanji
PT_PER_MM = 72 / 25.4
A4_HEIGHT_PT = 297 * PT_PER_MM


def _home(number: int, name: str, address2: str) -> str:
    return (f"40,{number},00,{name},カナ,1970-04-01,2010-04-01,任意継続,2024-12-02,263-0023,"
            f"千葉県千葉市稲毛区緑町3丁目30-8,{address2},,")


def _work(number: int, name: str, workplace: str) -> str:
    return (f"40,{number},00,{name},カナ,1970-04-01,2010-04-01,一般,2024-12-02,100-0013,"
            f"東京都千代田区霞が関1丁目3番2号,,W{number:02d},{workplace}")


def _window_text(pdf: Path) -> str:
    """Text inside the 90 x 45 mm window (23 mm from the left, 13 mm from the top)."""
    doc = pypdfium2.PdfDocument(pdf)
    try:
        text = doc[0].get_textpage()
        left, right = 23 * PT_PER_MM, (23 + 90) * PT_PER_MM
        top, bottom = A4_HEIGHT_PT - 13 * PT_PER_MM, A4_HEIGHT_PT - (13 + 45) * PT_PER_MM
        return text.get_text_bounded(left, bottom, right, top).replace("\r\n", "")
    finally:
        doc.close()


def test_longest_addresses_that_fit_keep_the_name_in_the_window(tmp_path: Path) -> None:
    rows = [
        _home(1, "窓内 一郎", KANJI * 42),  # 1 + 2 address lines: the most that fit
        _home(2, "窓外 二郎", KANJI * 43),  # 1 + 3 lines: one too many
        "40,2,01,窓外 花子,カナ,1975-04-01,2010-04-01,,2024-12-02,,,,,",  # travels with 40-2-00
        _work(3, "窓内 三郎", KANJI * 105),  # 5 lines + the 経由 line
        _work(4, "窓外 四郎", KANJI * 106),  # 6 + 1 lines
        _home(5, "普通 五郎", "郵便ビル403号"),
    ]
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["merge", str(roster), "--letter", "kakuninsho",
                                      "--as-of", date(2026, 12, 1).isoformat(),
                                      "--out", str(out), "--workers", "1",
                                      "--db", str(tmp_path / "track.sqlite")])
    assert result.exit_code == 1, result.output  # some rows rejected, the batch completed
    manifest = {r["member_key"]: r for r in csv.DictReader(io.StringIO(
        (out / "manifest.csv").read_bytes().decode("utf-8-sig")))}

    for key in ("40-2-00", "40-4-00"):
        row = manifest[key]
        assert row["status"] == "rejected" and row["piece_file"] == "", row
        assert "too long for the envelope window" in row["reason"], row
        assert KANJI * 5 not in row["reason"]  # names the columns, never the address
    dependent = manifest["40-2-01"]
    assert dependent["status"] == "rejected" and "3 行目" in dependent["reason"], dependent
    assert manifest["40-2-00"]["reason"].startswith("住所1, 住所2: 封筒の窓")
    assert "it needs 4 lines, the window holds 3" in manifest["40-2-00"]["reason"]
    assert manifest["40-4-00"]["reason"].startswith("就労先名: 封筒の窓")
    assert "it needs 7 lines, the window holds 6" in manifest["40-4-00"]["reason"]

    for key, name in (("40-1-00", "窓内 一郎"), ("40-3-00", "窓内 三郎"),
                      ("40-5-00", "普通 五郎")):
        row = manifest[key]
        assert row["status"] == "ok", row
        window = _window_text(out / row["piece_file"])
        assert f"{name} 様" in window, (key, window)
    # The whole address is in the window too, not only the name.
    assert KANJI * 42 in _window_text(out / manifest["40-1-00"]["piece_file"])


def test_check_reports_what_the_merge_will_reject(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join([HEADER, _home(1, "窓内 一郎", KANJI * 42),
                                 _home(2, "窓外 二郎", KANJI * 43)]) + "\n", encoding="utf-8")
    report = tmp_path / "rejects.csv"
    result = CliRunner().invoke(cli, ["check", str(roster), "--as-of", "2026-12-01",
                                      "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert "窓外" not in result.output and KANJI * 5 not in result.output  # no personal data
    rows = list(csv.DictReader(io.StringIO(report.read_bytes().decode("utf-8-sig"))))
    assert [(r["row"], r["member_key"], r["column"]) for r in rows] == \
        [("3", "40-2-00", "住所1, 住所2")]
    assert "it needs 4 lines, the window holds 3" in rows[0]["reason"]


def test_line_count_sums_a_line_that_fits_whole_as_the_loop_lays_it_out() -> None:
    """line_count's shortcut (a line whose summed widths fit is one line) agrees with the
    character-by-character layout on texts of every length around the window's width,
    also the ones within rounding of the edge."""
    import random

    from kenpo_docs.mailing import window

    def laid_out(text: str, size_pt: float, width_mm: float) -> int:
        return window._laid_out(text, size_pt, width_mm * window.WIDTH_USED / window.MM_PER_PT)

    rng = random.Random(539)
    alphabet = "東京都千代田区丸の内１２３４５６７８９0123456789-ー（）ABCabc 　𠀋髙﨑"
    width = 90.0
    seen = set()
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        for size in (window.ADDRESS_PT, window.NAME_PT):
            count = window.line_count(text, size, width)
            assert count == laid_out(text, size, width), text
            seen.add(count)
    # exactly at the edge: widths chosen so the sum meets the room
    for n in range(1, 40):
        text = "東" * n
        edge = len(text) * window._advances()[ord("東")] * window.ADDRESS_PT \
            * window.MM_PER_PT / window.WIDTH_USED
        for w in (edge, edge * (1 + 1e-12), edge * (1 - 1e-12)):
            assert window.line_count(text, window.ADDRESS_PT, w) == \
                laid_out(text, window.ADDRESS_PT, w)
    assert {1, 2, 3} <= seen


def test_check_counts_routes_in_the_window_tests_walk_as_a_second_walk_would(
        tmp_path: Path) -> None:
    """check counts routes and members without documents while it walks the households for
    the window test (one walk): the same result as counting the fitted roster again."""
    from kenpo_docs.documents.letters import load_envelope
    from kenpo_docs.input.check import summarize
    from kenpo_docs.input.roster import stage_roster
    from kenpo_docs.input.store import Store
    from kenpo_docs.mailing.window import check_for_mailing, fit_households

    lines = [HEADER + ",資格喪失日"]
    for n in range(1, 61):
        long = KANJI * (60 if n % 7 == 0 else 4)  # every seventh household does not fit
        row = _home(n, f"氏名{n}", long) if n % 2 else _work(n, f"氏名{n}", long)
        lost = "2026-06-30" if n % 5 == 0 else ("2027-03-31" if n % 3 == 0 else "")
        lines.append(f"{row},{lost}")
        for branch in range(1, n % 3 + 1):  # dependents, one of them without coverage
            lines.append(f"40,{n},{branch:02d},家族{n},カナ,2001-04-01,2010-04-01,,,,,,,,"
                         f"{'2025-03-31' if branch == 2 else ''}")
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    as_of = date(2026, 12, 1)
    one_walk = check_for_mailing(path, as_of=as_of)
    with Store() as store:
        roster = fit_households(stage_roster(path, store=store, as_of=as_of),
                                load_envelope("naga3"))
        two_walks = summarize(roster, as_of=as_of)
    assert one_walk == two_walks
    # the merge's window test reads a staged roster's insured people only, and the
    # households it drops whole: the same as the test on the roster held in memory
    from kenpo_docs.input.roster import read_roster
    in_memory = fit_households(read_roster(path, as_of=as_of), load_envelope("naga3"))
    with Store() as store:
        staged = fit_households(stage_roster(path, store=store, as_of=as_of),
                                load_envelope("naga3"))
        assert staged.errors == in_memory.errors
        assert list(staged.households) == list(in_memory.households)
        assert list(staged.members) == list(in_memory.members)
        assert staged.certificates == in_memory.certificates
        assert staged.extrapolated_dates == in_memory.extrapolated_dates
    assert len(one_walk.no_documents) > 10 and len(one_walk.errors) >= 8
    assert {r.route for r in one_walk.routes} >= {"home", "workplace:W02"}
