"""The mail merge, end to end: a roster in, pieces, print files and a manifest out.

Expected expiry dates are derived by hand from notice 539's table 「資格確認書の有効期限に
ついて」 (交付期間（１回目）令和6年12月2日～令和7年11月30日 → 有効期限 令和9年11月30日;
（２回目）令和7年12月1日～令和8年11月30日 → 令和10年11月30日) and the yearly continuation in
domain-rules.md R2 (2026-12-01 → 2029-11-30). Nothing here is our own output pasted back.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.mailing.manifest import MANIFEST_COLUMNS
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)
# row 2.. ; (key, name, certificate issue date as typed, expected expiry in era form or None)
ROWS = [
    # household 1 (一般, workplace W01): insured + two dependents in different periods
    "10,2001,00,青木 一郎,アオキ イチロウ,1975-06-01,2015-04-01,,一般,2024-12-02,"
    "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局,,,",
    "10,2001,01,青木 花子,アオキ ハナコ,1978-01-20,2015-04-01,,,2025-11-30,,,,,,,,",
    "10,2001,02,青木 三郎,アオキ サブロウ,2010-03-03,2015-04-01,,,令和7年12月1日,,,,,,,,",
    # household 2 (任意継続, home): 2nd period end and continuation period
    "10,2002,00,井上 和子,イノウエ カズコ,1958-09-09,2000-04-01,,任意継続,R8.11.30,"
    "2630023,千葉県千葉市稲毛区緑町3丁目30-8,郵便ビル403号,,,,,",
    "10,2002,01,井上 誠,イノウエ マコト,1956-02-02,2000-04-01,,,2026-12-01,,,,,,,,",
    # household 3 (一般, W02): member without a certificate date -> skipped;
    # one too early -> rejected
    "10,2003,00,上田 健,ウエダ ケン,1990-10-10,2018-04-01,,一般,,"
    "1100016,東京都台東区台東5-6-3,ABCビル10F,W02,台東支所,,,",
    "10,2003,01,上田 ゆり,ウエダ ユリ,1992-12-12,2018-04-01,,,2024-12-01,,,,,,,,",
    # household 4: coverage ended before the as-of date -> skipped
    "10,2004,00,江藤 進,エトウ ススム,1970-01-01,2010-04-01,2026-03-31,一般,2025-01-10,"
    "1000013,東京都千代田区霞が関1丁目3番2号,,W01,本部事務局,,,",
]
EXPECTED = {
    "10-2001-00": ("青木 一郎", "令和9年11月30日", "2027-11-30", "ok"),
    "10-2001-01": ("青木 花子", "令和9年11月30日", "2027-11-30", "ok"),
    "10-2001-02": ("青木 三郎", "令和10年11月30日", "2028-11-30", "ok"),
    "10-2002-00": ("井上 和子", "令和10年11月30日", "2028-11-30", "ok"),
    "10-2002-01": ("井上 誠", "令和11年11月30日", "2029-11-30", "ok"),
    "10-2003-00": ("上田 健", None, "", "skipped"),
    "10-2003-01": ("上田 ゆり", None, "", "rejected"),
    "10-2004-00": ("江藤 進", None, "2027-11-30", "skipped"),
}
AS_OF = date(2026, 12, 1)


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("cp932"))
    return path


def _manifest(out: Path) -> list[dict[str, str]]:
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def _run(roster: Path, out: Path, **kw: object) -> object:
    options = MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, workers=1, **kw)
    return merge(roster, options=options)


def test_every_row_is_accounted_for_with_the_right_expiry(roster: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(roster, out)
    rows = _manifest(out)
    assert list(rows[0]) [: len(MANIFEST_COLUMNS)] == list(MANIFEST_COLUMNS)
    assert [int(r["row"]) for r in rows] == list(range(2, 2 + len(ROWS)))
    by_key = {r["member_key"]: r for r in rows}
    assert set(by_key) == set(EXPECTED)
    for key, (name, era_expiry, iso_expiry, status) in EXPECTED.items():
        row = by_key[key]
        assert row["status"] == status, (key, row)
        assert row["certificate_expiry"] == iso_expiry, key
        if status == "ok":
            assert row["reason"] == ""
            assert row["piece_file"] == f"pieces/{row['piece_id']}.pdf"
            text = _text(out / row["piece_file"])
            assert name in text and era_expiry in text, key
        else:
            assert row["reason"], key
            assert row["piece_id"] == ""
    reason = by_key["10-2003-01"]["reason"]
    assert "2024-12-02" in reason or "2024" in reason
    assert "2026-03-31" in by_key["10-2004-00"]["reason"]
    # One envelope per household: the two dependents travel with their insured person.
    assert len({by_key[k]["piece_id"] for k in ("10-2001-00", "10-2001-01", "10-2001-02")}) == 1
    assert by_key["10-2001-00"]["route"] == "workplace:W01"
    assert by_key["10-2002-00"]["route"] == "home"
    assert by_key["10-2002-01"]["route"] == "home"
    assert (result.ok, result.skipped, result.rejected) == (5, 2, 1)
    assert result.exit_code == 1


def test_print_files_group_by_route_with_covers_and_bookmarks(roster: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(roster, out)
    files = sorted(p.name for p in (out / "print").glob("*.pdf"))
    assert files == ["home.pdf", "workplace-001.pdf"]
    work = PdfReader(out / "print" / "workplace-001.pdf")
    first_page = work.pages[0].extract_text()
    assert "本部事務局" in first_page and "送付一覧" in first_page
    titles = [item.title for item in work.outline]
    assert titles[0].startswith("表紙") and len(titles) == 2
    home = PdfReader(out / "print" / "home.pdf")
    assert "井上 和子" in home.pages[0].extract_text()
    inserter = (out / "print" / "home.inserter.csv").read_bytes().decode("utf-8-sig")
    assert inserter.splitlines()[0].startswith("piece_id,first_page,pages")
    for path in out.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_resumed_batch_equals_an_uninterrupted_one(roster: Path, tmp_path: Path) -> None:
    # Same options as the interrupted run (the chunk size is part of how pieces are laid out).
    whole = tmp_path / "whole"
    _run(roster, whole, chunk_size=1)
    part = tmp_path / "part"

    class Interrupt(Exception):
        pass

    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done >= 1:
            raise Interrupt

    options = MergeOptions(letter="kakuninsho", out=part, as_of=AS_OF, workers=1, chunk_size=1)
    with pytest.raises(Interrupt):
        merge(roster, options=options, progress=progress)
    assert not (part / "manifest.csv").exists()
    done_before = sorted(p.name for p in (part / "pieces").glob("*.pdf"))
    assert 0 < len(done_before) < 3
    result = merge(roster, options=options)
    assert result.resumed == len(done_before)
    assert _manifest(part) == _manifest(whole)
    for row in _manifest(whole):
        if row["piece_file"]:
            assert _text(part / row["piece_file"]) == _text(whole / row["piece_file"])


def test_same_input_gives_same_ids_and_text_and_other_folder_is_refused(
    roster: Path, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _run(roster, a)
    _run(roster, b)
    assert _manifest(a) == _manifest(b)
    other = tmp_path / "other.csv"
    other.write_bytes(
        roster.read_bytes().replace("青木 一郎".encode("cp932"), "青木 一".encode("cp932"))
    )
    runner = CliRunner()
    res = runner.invoke(cli, ["merge", str(other), "--letter", "kakuninsho", "--as-of",
                              "2026-12-01", "--out", str(a), "--batch-id",
                              _manifest(a)[0]["batch_id"], "--workers", "1",
                              "--db", str(tmp_path / "t.sqlite")])
    assert res.exit_code == 2
    assert "other input" in res.output


def test_window_block_sits_inside_the_envelope_window(roster: Path, tmp_path: Path) -> None:
    """Pixel test on the rendered page.

    The sheet may shift by ``shift`` mm in the envelope, so anything printed within the window
    grown by ``shift`` can show through it. In that area, ink is allowed only inside the
    address block (the window shrunk by ``shift``), and the block must hold the address.
    """
    from kenpo_docs.documents.letters import load_envelope

    env = load_envelope()
    out = tmp_path / "out"
    _run(roster, out)
    piece = next(r for r in _manifest(out) if r["route"] == "home" and r["piece_file"])
    dpi = 100
    px = dpi / 25.4
    pdf = pdfium.PdfDocument(out / piece["piece_file"])
    image = pdf[0].render(scale=dpi / 72).to_pil().convert("L")
    pdf.close()
    s = env.shift
    left, top = env.window_left, env.window_top
    right, bottom = left + env.window_width, top + env.window_height
    inside = outside = 0
    for y in range(int((top - s - 1) * px), int((bottom + s + 1) * px)):
        for x in range(int((left - s - 1) * px), int((right + s + 1) * px)):
            if image.getpixel((x, y)) < 160:
                xm, ym = x / px, y / px
                if (left + s - 0.3 <= xm <= right - s + 0.3
                        and top + s - 0.3 <= ym <= bottom - s + 0.3):
                    inside += 1
                else:
                    outside += 1
    assert inside > 500  # the address, name and customer barcode are there
    assert outside == 0


def test_cli_merge_reports_and_exits_1_on_rejects(roster: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(cli, ["merge", str(roster), "--letter", "kakuninsho", "--as-of",
                              "令和8年12月1日", "--out", str(out), "--workers", "1",
                              "--db", str(tmp_path / "t.sqlite")])
    assert res.exit_code == 1, res.output
    assert "2 pieces" in res.output and "1 rejected" in res.output
    bad = runner.invoke(cli, ["merge", str(roster), "--letter", "nope", "--out", str(out),
                              "--db", str(tmp_path / "t.sqlite")])
    assert bad.exit_code == 2 and "unknown letter" in bad.output
    assert "Traceback" not in bad.output


def test_print_files_verify_clean_against_their_inserter_files(
    roster: Path, tmp_path: Path
) -> None:
    """Every page of every print file carries a readable code, pieces complete and in order."""
    from kenpo_docs.barcodes.verify import read_expected, verify_pdf

    out = tmp_path / "out"
    _run(roster, out)
    for pdf in (out / "print").glob("*.pdf"):
        expected = read_expected(pdf.with_suffix(".inserter.csv"))
        report = verify_pdf(pdf, expected=expected)
        assert not report.problems, (pdf.name, report.problems)
        assert report.pages == len(PdfReader(pdf).pages)
