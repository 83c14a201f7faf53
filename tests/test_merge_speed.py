"""The fast merge path: worker processes, shared static enclosures, streamed print files.

Independent expectations: notice 539 is a five-page notice that opens with 「マイナ保険証への
移行について」 (notice-539-source.txt); a piece code is ``<piece_id>|<page>/<pages>`` read back
from the rendered page with zxing-cpp; ids and text must not depend on the number of workers.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from kenpo_docs.barcodes.verify import read_expected, verify_pdf
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.pdf.stream import STATIC_KEY

HEADER = (
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,資格喪失日,加入区分,資格確認書交付日,"
    "郵便番号,住所1,住所2,就労先コード,就労先名,マイナ保険証,マイナンバーカード,スマートフォン"
)
AS_OF = date(2026, 12, 1)
NOTICE_PAGES = 5


def _rows() -> list[str]:
    """Seven households: four via two workplaces, three to the home address (任意継続)."""
    rows = []
    names = ["青木", "井上", "上田", "江藤", "小野", "加藤", "木村"]
    for i, surname in enumerate(names):
        number = f"{3001 + i}"
        if i < 4:
            tail = f"1000013,東京都千代田区霞が関1丁目3番2号,,W0{i % 2 + 1},第{i % 2 + 1}事業所"
            kind = "一般"
        else:
            tail = "2630023,千葉県千葉市稲毛区緑町3丁目30-8,,,"
            kind = "任意継続"
        rows.append(f"20,{number},00,{surname} 太郎,カナ タロウ,1970-01-0{i + 1},2015-04-01,,"
                    f"{kind},2024-12-02,{tail},,,")
        if i % 2:
            rows.append(f"20,{number},01,{surname} 花子,カナ ハナコ,1972-02-02,2015-04-01,,,"
                        "2025-12-01,,,,,,,,")
    return rows


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "roster.csv"
    path.write_bytes(("\n".join([HEADER, *_rows()]) + "\n").encode("utf-8"))
    return path


def _run(roster: Path, out: Path, workers: int) -> None:
    options = MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF, workers=workers,
                           chunk_size=2, enclosures=("notice:539",))
    merge(roster, options=options)


@pytest.fixture(scope="module")
def outputs(roster: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The same batch with one worker and with two. Cover sheets are cut into documents of
    at most 2 listed pieces (one per workplace here), so with two workers they are laid out
    in the worker pool, and the print files must still come out the same."""
    import importlib

    from kenpo_docs.mailing import printfiles

    # (kenpo_docs.mailing.run the module, not the function the package exports)
    merge_module = importlib.import_module("kenpo_docs.mailing.run")

    base = tmp_path_factory.mktemp("merge")
    result = {}
    saved = printfiles.COVER_ROWS_PER_DOCUMENT
    printfiles.COVER_ROWS_PER_DOCUMENT = merge_module.COVER_ROWS_PER_DOCUMENT = 2
    try:
        for workers in (1, 2):
            out = base / f"w{workers}"
            _run(roster, out, workers)
            result[workers] = out
    finally:
        printfiles.COVER_ROWS_PER_DOCUMENT = merge_module.COVER_ROWS_PER_DOCUMENT = saved
    return result


def _manifest(out: Path) -> list[dict[str, str]]:
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _raw(value: object) -> bytes:
    """The bytes of a PDF string (pypdf gives text strings for bytes that decode)."""
    return bytes(getattr(value, "original_bytes", value))  # type: ignore[arg-type]


def test_one_worker_and_two_give_the_same_batch(outputs: dict[int, Path]) -> None:
    one, two = _manifest(outputs[1]), _manifest(outputs[2])
    assert one == two
    ids = [r["piece_id"] for r in one if r["piece_id"]]
    assert len(set(ids)) == 7
    for piece_id in set(ids):
        assert _text(outputs[1] / "pieces" / f"{piece_id}.pdf") == \
            _text(outputs[2] / "pieces" / f"{piece_id}.pdf"), piece_id
    for name in ("home.pdf", "workplace-001.pdf", "workplace-002.pdf"):
        assert _text(outputs[1] / "print" / name) == _text(outputs[2] / "print" / name)
    assert not (outputs[2] / "parts").exists()  # scratch files are cleaned up
    # Every file has a PDF file identifier (two equal halves, as written first), the same
    # for the same content whatever the worker count, and no two files share one.
    files = (sorted((outputs[1] / "pieces").glob("*.pdf"))
             + sorted((outputs[1] / "print").glob("*.pdf")))
    ids = {}
    for path in files:
        first, second = (_raw(x) for x in PdfReader(path).trailer["/ID"])
        assert first == second and len(first) == 16, path
        ids[path.name] = first
        twin = outputs[2] / path.parent.name / path.name
        assert _raw(PdfReader(twin).trailer["/ID"][0]) == first, path.name
    assert len(set(ids.values())) == len(files)


def test_every_piece_page_carries_its_own_code(outputs: dict[int, Path]) -> None:
    for row in _manifest(outputs[2]):
        if not row["piece_file"]:
            continue
        path = outputs[2] / row["piece_file"]
        report = verify_pdf(path)
        pages = int(row["pages"])
        assert pages == 1 + NOTICE_PAGES
        assert [(c.piece_id, c.page, c.pages) for c in report.codes if c] == [
            (row["piece_id"], n, pages) for n in range(1, pages + 1)
        ]
        assert "マイナ保険証への移行について" in _text(path)[1]


def _static_forms(path: Path) -> set[int]:
    """Object numbers of the shared static enclosure pages drawn by the file's pages (not
    the letter and form backgrounds, which are marked the same way)."""
    found = set()
    for page in PdfReader(path).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        for ref in xobjects.values():
            marker = ref.get_object().get(STATIC_KEY)
            if marker is not None and not str(marker).startswith(("letter-", "form-")):
                found.add(ref.idnum)
    return found


def test_print_file_holds_each_static_page_once(outputs: dict[int, Path]) -> None:
    home = outputs[2] / "print" / "home.pdf"
    reader = PdfReader(home)
    pieces = list({r["piece_id"]: r for r in _manifest(outputs[2])
                   if r["route"] == "home" and r["piece_file"]}.values())
    assert len(pieces) == 3
    assert len(reader.pages) == 3 * (1 + NOTICE_PAGES)
    # Three pieces draw the notice, but its five pages are stored once.
    assert len(_static_forms(home)) == NOTICE_PAGES
    # Nor its fonts: the file holds less than three notices' worth (the notice alone, with
    # its fonts) for three pieces that each draw the notice.
    static = next((outputs[2] / "static").glob("*.pdf")).stat().st_size
    assert home.stat().st_size < 3 * static
    report = verify_pdf(home, expected=read_expected(home.with_suffix(".inserter.csv")))
    assert not report.problems
    # The inserter file tells the machine how many inserts go with each letter: one (notice).
    rows = list(csv.DictReader(io.StringIO(
        home.with_suffix(".inserter.csv").read_bytes().decode("utf-8-sig"))))
    assert [r["enclosures"] for r in rows] == ["1", "1", "1"]


def test_workers_are_replaced_without_hanging(roster: Path, outputs: dict[int, Path],
                                              tmp_path: Path) -> None:
    """More chunks than the workers may render before they are replaced: the merge must go
    on with fresh workers and finish (Python 3.11's ``max_tasks_per_child`` deadlocked here,
    CPython gh-115634, hanging every batch over ~3,200 pieces). Run in a child process so a
    hang fails the test instead of stopping the suite."""
    out = tmp_path / "recycled"
    script = (
        "import sys\n"
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from kenpo_docs.mailing.options import MergeOptions\n"
        "from kenpo_docs.mailing.run import merge\n"
        # 6 chunks for 2 workers, 2 chunks a worker: each is replaced once
        "merge(Path(sys.argv[1]), options=MergeOptions(letter='kakuninsho',"
        " out=Path(sys.argv[2]), as_of=date(2026, 12, 1), workers=2, chunk_size=1,"
        " enclosures=('notice:539',), worker_chunks=2))\n"
    )
    temp = tmp_path / "temp"
    temp.mkdir()
    try:
        done = subprocess.run([sys.executable, "-c", script, str(roster), str(out)],
                              timeout=300, capture_output=True, text=True,
                              env={**os.environ, "TMPDIR": str(temp)})
    except subprocess.TimeoutExpired:
        pytest.fail("the merge hung when its worker processes were replaced")
    assert done.returncode == 0, done.stderr[-2000:]
    # Every process (this one and 3 generations of 2 workers) loaded the fonts, which
    # WeasyPrint copies into a temp folder (15 MB) that nothing removed at process exit.
    assert sorted(p.name for p in temp.iterdir()) == []
    assert _manifest(out) == _manifest(outputs[1])
    for row in _manifest(out):
        if row["piece_file"]:
            assert _text(out / row["piece_file"]) == _text(outputs[1] / row["piece_file"])


def test_values_drawn_again_from_memory_give_the_same_bytes(roster: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The merge remembers how it drew a value (dates, codes and labels repeat from piece to
    piece) and draws it again without shaping it. A batch merged with that memory full (the
    same batch, merged just before in this process) must give the same bytes as with it
    empty, pieces and print files alike."""
    from kenpo_docs.shapes import draw as overlaytext
    redrawn = []
    real = overlaytext._redraw

    def counting(*args: object) -> None:
        redrawn.append(args)
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(overlaytext, "_redraw", counting)
    overlaytext._DRAWN.clear()
    runs = {}
    for name in ("empty", "full"):
        before = len(redrawn)
        out = tmp_path / name
        merge(roster, options=MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF,
                                           workers=1, chunk_size=3,
                                           enclosures=("form:bessou1", "notice:539")))
        runs[name] = (out, len(redrawn) - before)
    (empty, first), (full, second) = runs["empty"], runs["full"]
    assert second > first > 0  # both drew some values from memory, the second far more
    files = sorted(p.relative_to(empty) for p in empty.rglob("*.pdf"))
    assert files and files == sorted(p.relative_to(full) for p in full.rglob("*.pdf"))
    for name in files:
        assert (empty / name).read_bytes() == (full / name).read_bytes(), name
