"""Every PDF we write is tagged (docs/accessibility.md): /Lang ja, MarkInfo, a title shown,
every marked-content sequence in the structure tree or an artifact, every data cell linked to
the header cells the HTML table model gives it (computed here from the source HTML, with
tinyhtml5, independently of the PDF), page numbers and piece codes artifacts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import tinyhtml5

from kenpo_docs.documents.forms import form_context, get_form
from kenpo_docs.documents.notices import get_notice, notice_context
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.paths import samples_dir
from kenpo_docs.publish.forms import build_form
from kenpo_docs.publish.notices import render_notice
from kenpo_docs.render import RenderOptions
from kenpo_docs.render.pdf import render_html
from tests.tagged import element_text, kids, marked_content, page_texts, parent_tree, walk
from tests.test_duplex import HEADER, ROWS  # two home pieces and a workplace one

AS_OF = date(2026, 12, 1)
_NS = "{http://www.w3.org/1999/xhtml}"


# -- the HTML table model (https://html.spec.whatwg.org/#header-and-data-cell-semantics) -----

def _text(el: Any) -> str:
    return re.sub(r"\s+", "", "".join(el.itertext()))


def _html_tables(html: str) -> list[list[tuple[str, list[str]]]]:
    """For each table of ``html``: every non-empty data cell's text with its header cells'
    texts, by the HTML table model's header assignment (scope attributes and the auto
    state, then the scanning algorithm)."""
    doc = tinyhtml5.parse(html)
    return [_html_cells(table) for table in doc.iter(f"{_NS}table")]


def _html_cells(table: Any) -> list[tuple[str, list[str]]]:
    rows = [tr for tr in table.iter(f"{_NS}tr")]
    grid: dict[tuple[int, int], tuple[Any, int, int, int, int]] = {}
    for y, tr in enumerate(rows):
        x = 0
        for cell in tr:
            if cell.tag not in (f"{_NS}th", f"{_NS}td"):
                continue
            while (y, x) in grid:
                x += 1
            h, w = int(cell.get("rowspan", 1)), int(cell.get("colspan", 1))
            entry = (cell, y, x, h, w)
            for dy in range(h):
                for dx in range(w):
                    grid[(y + dy, x + dx)] = entry
            x += w
    is_th = lambda e: e[0].tag == f"{_NS}th"  # noqa: E731

    def column_header(e: Any) -> bool:
        scope = e[0].get("scope", "auto")
        if scope == "col":
            return True
        if scope != "auto":
            return False
        return all(is_th(grid[k]) for k in grid if e[1] <= k[0] < e[1] + e[3])

    def row_header(e: Any) -> bool:
        scope = e[0].get("scope", "auto")
        if scope == "row":
            return True
        if scope != "auto" or column_header(e):
            return False
        return all(is_th(grid[k]) for k in grid if e[2] <= k[1] < e[2] + e[4])

    def scan(principal: Any, x: int, y: int, dx: int, dy: int, found: list[Any]) -> None:
        opaque: list[Any] = []
        in_block = False
        block: list[Any] = []
        while True:
            x, y = x + dx, y + dy
            if x < 0 or y < 0:
                return
            current = grid.get((y, x))
            if current is None or current is principal:
                continue
            if is_th(current):
                in_block = True
                block.append(current)
                blocked = False
                if dx == 0:
                    blocked = any(o[2] == current[2] and o[4] == current[4] for o in opaque) \
                        or not column_header(current)
                else:
                    blocked = any(o[1] == current[1] and o[3] == current[3] for o in opaque) \
                        or not row_header(current)
                if not blocked and current not in found:
                    found.append(current)
            elif in_block:
                in_block = False
                opaque.extend(block)
                block = []

    cells = []
    for entry in dict.fromkeys(grid.values()):
        if is_th(entry) or not _text(entry[0]):
            continue
        found: list[Any] = []
        for dy in range(entry[3]):
            scan(entry, entry[2], entry[1] + dy, -1, 0, found)
        for dx in range(entry[4]):
            scan(entry, entry[2] + dx, entry[1], 0, -1, found)
        cells.append((_text(entry[0]), sorted(_text(h[0]) for h in found)))
    return cells


def _pdf_tables(pdf: pikepdf.Pdf) -> list[list[tuple[str, list[str]]]]:
    """The same from the PDF's structure tree: each TD's text and its /Headers' texts."""
    texts = page_texts(pdf)
    root = pdf.Root.StructTreeRoot
    ids = {str(e.ID): e for top in kids(root) for e in walk(top) if e.S == "/TH"}
    out = []
    for top in kids(root):
        for table in (e for e in walk(top) if e.S == "/Table"):
            cells = []
            for td in (e for e in walk(table) if e.S == "/TD"):
                text = re.sub(r"\s+", "", element_text(td, texts))
                if not text:
                    continue
                headers = [re.sub(r"\s+", "", element_text(ids[str(h)], texts))
                           for h in td.A.get("/Headers", [])]
                cells.append((text, sorted(headers)))
            out.append(cells)
    return out


# -- the checks every tagged PDF passes ------------------------------------------------------

def check_tagged(data: bytes) -> pikepdf.Pdf:
    """The document-level and marked-content checks; returns the opened PDF."""
    pdf = pikepdf.open(io.BytesIO(data))
    assert str(pdf.Root.Lang) == "ja"
    assert bool(pdf.Root.MarkInfo.Marked) is True
    assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
    assert str(pdf.docinfo.get("/Title", "")).strip()
    root = pdf.Root.StructTreeRoot
    tree = parent_tree(pdf)
    in_tree = {e.objgen for top in kids(root) for e in walk(top)}
    for index, page in enumerate(pdf.pages):
        marked = marked_content(page)
        assert not [m for m in marked if m.tag == "(unmarked)" and "".join(m.text).strip()], \
            f"page {index + 1}: text outside marked content"
        assert not [m for m in marked if m.tag == "(unmarked paint)"], \
            f"page {index + 1}: a rule, a box or a picture neither tagged nor an artifact"
        for m in marked:
            if m.tag in ("/Artifact", "(unmarked)", "(unmarked paint)"):
                continue
            assert m.mcid is not None, f"page {index + 1}: {m.tag} without MCID"
            owner = m.xobject if m.xobject is not None else page
            elem = tree[int(owner.StructParents)][m.mcid]
            assert isinstance(elem, pikepdf.Dictionary), f"page {index + 1}: MCID {m.mcid}"
            assert elem.objgen in in_tree, f"page {index + 1}: MCID {m.mcid} not in the tree"
            if m.xobject is None:
                assert m.mcid in kids(elem), f"page {index + 1}: element lacks MCID {m.mcid}"
            else:
                assert any(isinstance(k, pikepdf.Dictionary) and k.get("/Type") == "/MCR"
                           and k.Stm.objgen == m.xobject.objgen and int(k.MCID) == m.mcid
                           for k in kids(elem)), f"page {index + 1}: no MCR for {m.mcid}"
    # every figure says what it shows
    for top in kids(root):
        for e in walk(top):
            if e.S == "/Figure":
                assert str(e.get("/Alt", "")).strip(), "a figure without /Alt"
    return pdf



def _headers_match(pdf: pikepdf.Pdf, html: str) -> None:
    got, want = _pdf_tables(pdf), _html_tables(html)
    assert len(got) == len(want)
    for pdf_cells, html_cells in zip(got, want, strict=True):
        # a table split over two pages is two PDF tables; compare cell by cell in order
        assert pdf_cells == html_cells


# -- the notice and the forms ----------------------------------------------------------------

@pytest.fixture(scope="module")
def notice() -> bytes:
    return render_notice(539)


def test_notice_is_tagged(notice: bytes) -> None:
    pdf = check_tagged(notice)
    root = pdf.Root.StructTreeRoot
    tags = [e.S for top in kids(root) for e in walk(top)]
    assert "/H1" in tags and "/H2" in tags and "/Table" in tags
    # the three STEP titles are headings (from the notice: STEP１ … STEP３)
    texts = page_texts(pdf)
    steps = [re.sub(r"\s+", "", element_text(e, texts)) for top in kids(root)
             for e in walk(top) if e.S == "/H3"]
    assert [s for s in steps if s.startswith("STEP")] == [
        "STEP１マイナンバーカードを申請・作成する",
        "STEP２マイナンバーカードを健康保険証として登録する",
        "STEP３医療機関・薬局でマイナンバーカードを用いて受付する"]
    # the page numbers are pagination artifacts, not text of the document
    for page in pdf.pages:
        pagination = [m for m in marked_content(page)
                      if m.tag == "/Artifact" and isinstance(m.props, pikepdf.Dictionary)
                      and m.props.get("/Type") == "/Pagination"]
        assert re.fullmatch(r"\d+/\d+", "".join(pagination[0].text).replace(" ", ""))


def test_notice_table_headers_follow_the_html(notice: bytes) -> None:
    spec = get_notice(539)
    html = render_html(spec.template, notice_context(spec),
                       options=RenderOptions(as_of=spec.date))
    pdf = pikepdf.open(io.BytesIO(notice))
    _headers_match(pdf, html)
    # the 健康保険証 table, from the notice: a 可/不可 cell has its row's date, its column
    # and 健康保険証 or マイナ保険証 above it (WeasyPrint 70 linked the column to its right)
    table = next(t for t in _pdf_tables(pdf) if any("新規発行再交付" in h for _, hs in t
                                                    for h in hs))
    first = table[:5]
    assert [sorted(h for h in hs if not h.startswith("令和")) for _, hs in first] == [
        ["使用", "健康保険証"], ["健康保険証", "新規発行再交付"], ["健康保険証", "退職時等の回収"],
        ["健康保険証", "自己破棄"], ["マイナ保険証", "使用"]]


@pytest.mark.parametrize("fillable", [False, True])
def test_form_is_tagged(fillable: bool) -> None:
    data = build_form("bessou1", as_of=AS_OF, fillable=fillable)
    pdf = check_tagged(data)
    item = form_context("bessou1", None, as_of=AS_OF, fillable=fillable)
    html = render_html(get_form("bessou1").template, {"forms": [item]},
                       options=RenderOptions(as_of=AS_OF))
    _headers_match(pdf, html)
    root = pdf.Root.StructTreeRoot
    tags = [e.S for top in kids(root) for e in walk(top)]
    assert "/H1" in tags
    if fillable:
        forms = [e for top in kids(root) for e in walk(top) if e.S == "/Form"]
        boxes = [e for e in forms
                 if kids(e)[0].Obj.get("/FT") == "/Btn"]
        assert boxes and all(str(e.Alt).endswith("（チェックボックス）") for e in boxes)
        unticked = [e for e in boxes if kids(e)[0].Obj.get("/V") == "/Off"]
        assert unticked and all(str(e.Alt) for e in unticked)
        assert all(str(e.Alt).strip() for e in forms)


# -- pieces and print files ------------------------------------------------------------------

#: What each letter's first page says first (the window's address block), from the rows.
ADDRESS_BLOCKS = {
    "3001": "〒263-0023千葉県千葉市稲毛区緑町3丁目30-8郵便ビル403号井上和子様",
    "3002": "〒100-0013東京都千代田区霞が関1丁目3番2号岡田進様",
    "3003": "本部事務局",
}
NAMES = {"3001": "井上和子", "3002": "岡田進", "3003": "青木一郎"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("tagged")
    roster = tmp / "roster.csv"
    roster.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("cp932"))
    out = tmp / "out"
    result = merge(roster, options=MergeOptions(
        letter="kakuninsho", out=out, as_of=AS_OF, workers=1, notice="539",
        enclosures=("notice:539", "form:bessou1",
                    f"file:{samples_dir() / 'bessou3-standin.pdf'}"),
        db=tmp / "t.sqlite"))
    assert result.exit_code == 0 and result.pieces == 3
    # tagging sends nothing to the full layout (a form's long address goes there anyway,
    # so a page laid out in full is checked too)
    assert not {"background: untagged", "a picture in a tagged page"} & set(result.full_layout)
    return out


def _pieces(batch: Path) -> dict[str, Path]:
    rows = list(csv.DictReader(io.StringIO((batch / "manifest.csv").read_text("utf-8-sig"))))
    return {r["member_key"].split("-")[1]: batch / r["piece_file"] for r in rows}


def test_pieces_and_print_files_are_tagged(batch: Path) -> None:
    files = [*sorted((batch / "pieces").glob("*.pdf")), *sorted((batch / "print").glob("*.pdf"))]
    assert len(files) == 5
    for path in files:
        check_tagged(path.read_bytes())


def test_a_letter_is_read_from_its_address_block(batch: Path) -> None:
    for number, path in _pieces(batch).items():
        pdf = pikepdf.open(path)
        texts = page_texts(pdf)
        document = kids(pdf.Root.StructTreeRoot)[0]
        first = [e for e in kids(document) if e.Pg.objgen == pdf.pages[0].objgen]
        text = re.sub(r"\s+", "", "".join(element_text(e, texts) for e in first))
        assert text.startswith(ADDRESS_BLOCKS[number]), (number, text[:60])
        # the drawn values are part of the letter's own elements (the members table)
        cells = {re.sub(r"\s+", "", element_text(td, texts)): td
                 for e in first for td in walk(e) if td.S == "/TD"}
        ids = {str(th.ID): re.sub(r"\s+", "", element_text(th, texts))
               for e in first for th in walk(e) if th.S == "/TH"}
        key = f"10-{number}-00"
        assert [ids[str(h)] for h in cells[key].A.Headers] == ["記号・番号・枝番"]
        name = next(t for t in cells if t.startswith(NAMES[number]))
        assert [ids[str(h)] for h in cells[name].A.Headers] == ["氏名"]


def test_piece_codes_and_barcodes_are_artifacts(batch: Path) -> None:
    home = _pieces(batch)["3001"]
    pdf = pikepdf.open(home)
    for page in pdf.pages:
        artifacts = [m for m in marked_content(page) if m.tag == "/Artifact"]
        assert artifacts  # the piece code at least
    first = marked_content(pdf.pages[0])
    # the customer barcode and the piece code: drawn by us after the values, artifacts
    assert sum(1 for m in first if m.tag == "/Artifact" and m.xobject is None) >= 2


def test_a_print_file_holds_every_piece_in_its_tree(batch: Path) -> None:
    pdf = pikepdf.open(batch / "print" / "home.pdf")
    root = pdf.Root.StructTreeRoot
    document = kids(root)[0]
    articles = [e for e in kids(document) if e.S == "/Art"]
    assert len(articles) == 2  # the two home letters
    ids = [str(e.ID) for e in walk(document) if "/ID" in e]
    assert len(ids) == len(set(ids))
    tree = parent_tree(pdf)
    assert int(root.ParentTreeNextKey) > max(tree)
    for page in pdf.pages:
        if "/StructParents" in page:
            assert int(page.StructParents) in tree


def test_a_piece_file_read_back_keeps_its_structure(batch: Path, tmp_path: Path) -> None:
    """A print file made from piece files (a resumed batch whose chunk parts are gone) reads
    each piece's tree back and writes it again: the same text in the same order."""
    from pypdf import PdfReader

    from kenpo_docs.pdf.stream import PdfStreamWriter
    from kenpo_docs.pdf.tagtree import Tagged, compile_tags, read_tags

    piece = _pieces(batch)["3001"]
    reader = PdfReader(piece)
    tags = read_tags(reader)
    with PdfStreamWriter(tmp_path / "again.pdf") as out:
        for page, own in zip(reader.pages, tags, strict=True):
            out.add_page(page, tags=Tagged(compile_tags(own)) if own else None)
        out.info = {"Title": "again"}
        out.close()
    again = check_tagged((tmp_path / "again.pdf").read_bytes())
    first = pikepdf.open(piece)

    def reading(pdf: pikepdf.Pdf) -> str:
        texts = page_texts(pdf)
        return "".join(element_text(e, texts) for e in kids(kids(pdf.Root.StructTreeRoot)[0]))

    assert reading(again) == reading(first) and len(reading(first)) > 1000


def test_untagged_only_through_the_bench_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``make bench``'s untagged reference (BENCH_TAGS=1) is the one way to untagged
    documents by default, and only with the variable's exact value; the notice rendered so
    has no structure tree, and without it has one."""
    from kenpo_docs.render.options import BENCH_UNTAGGED

    monkeypatch.delenv(BENCH_UNTAGGED, raising=False)
    assert RenderOptions().pdf_tags
    monkeypatch.setenv(BENCH_UNTAGGED, "yes")
    assert RenderOptions().pdf_tags
    monkeypatch.setenv(BENCH_UNTAGGED, "1")
    assert not RenderOptions().pdf_tags
    assert RenderOptions(pdf_tags=True).pdf_tags
    with pikepdf.open(io.BytesIO(render_notice(539, "pdf"))) as pdf:
        assert "/StructTreeRoot" not in pdf.Root
    monkeypatch.delenv(BENCH_UNTAGGED)
    with pikepdf.open(io.BytesIO(render_notice(539, "pdf"))) as pdf:
        assert "/StructTreeRoot" in pdf.Root


def test_structure_read_with_pikepdf_as_with_pypdf(notice: bytes, batch: Path) -> None:
    """The backgrounds' structure is read with pikepdf (read_tags_fast, for speed): the
    same nodes, attributes and alternatives byte for byte, as pypdf's reading gives, for
    the notice (tables with headers, ids) and for piece and print files (shared XObjects)."""
    from pypdf import PdfReader

    from kenpo_docs.pdf.tagtree import read_tags, read_tags_fast, walk

    files = [notice, *(p.read_bytes() for p in sorted((batch / "pieces").glob("*.pdf"))),
             *(p.read_bytes() for p in sorted((batch / "print").glob("*.pdf")))]
    for data in files:
        slow = read_tags(PdfReader(io.BytesIO(data)))
        assert slow == read_tags_fast(data)
        nodes = [n for page in slow if page for n in walk(page)]
        assert nodes and any(n.attrs for n in nodes)
    assert any(n.headers for page in read_tags_fast(notice) if page for n in walk(page))
