"""Cover sheets (送付一覧) of the workplace print files.

A cover is cut into pages (kenpo_docs/mailing/covers.py) and each page printed as its shape's
background plus the values drawn on it. Every cover here is also laid out in full (the same
template, no overlay) and the two must be the same picture at 100 dpi; the texts are read
back from the PDF. The piece ids and names are made up for the test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from kenpo_docs.barcodes.verify import verify_pdf
from kenpo_docs.documents.letters import get_letter
from kenpo_docs.domain import facts
from kenpo_docs.mailing import covers
from kenpo_docs.pdf.stream import PdfStreamWriter

AS_OF = date(2026, 12, 1)
BATCH = "KKS20261201-C55B65"


def _pieces(count: int, start: int = 1, name: str = "青木 一郎") -> list[dict[str, object]]:
    return [{"piece_id": f"{BATCH}-{n:05d}", "household_key": f"0010-{n:06d}", "name": name,
             "members": 1 + n % 4, "pages": 7} for n in range(start, start + count)]


def _context(*cover_items: dict[str, object]) -> dict[str, object]:
    return {"covers": list(cover_items), "batch_id": BATCH, "letter": get_letter("kakuninsho"),
            "as_of": AS_OF, "insurer": facts.insurer(), "document_number": None}


def _write(context: dict[str, object], path: Path, *, overlay: bool = True,
           monkeypatch: pytest.MonkeyPatch | None = None) -> dict[str, tuple[int, int]]:
    if not overlay:
        assert monkeypatch is not None
        monkeypatch.setattr(covers, "_overlays", lambda *args: {})
    # simplex: the pages laid out, no blank back page (tests/test_duplex.py has the padding)
    segment, ranges = covers.render_covers(context, AS_OF, sides="simplex")
    if not overlay:
        monkeypatch.undo()  # type: ignore[union-attr]
    with PdfStreamWriter(path) as out:
        for index in range(len(segment.pages)):
            out.add_segment_page(segment, index)
        out.close()
    return ranges


def _pages(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(path)
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


def _same_pictures(a: Path, b: Path) -> None:
    from PIL import ImageChops

    first, second = pdfium.PdfDocument(a), pdfium.PdfDocument(b)
    assert len(first) == len(second)
    for i in range(len(first)):
        x = first[i].render(scale=100 / 72).to_pil().convert("L")
        y = second[i].render(scale=100 / 72).to_pil().convert("L")
        assert ImageChops.difference(x, y).getbbox() is None, f"page {i + 1} differs"


def test_cover_pages_cut_rows_in_order() -> None:
    pages = covers.cover_pages("c", _pieces(covers.ROWS_FIRST + covers.ROWS_NEXT + 1))
    assert [len(p["rows"]) for p in pages] == [covers.ROWS_FIRST, covers.ROWS_NEXT,
                                               covers.ROWS_NEXT]  # every sheet's lines
    assert [sum(r is not None for r in p["rows"]) for p in pages] == [
        covers.ROWS_FIRST, covers.ROWS_NEXT, 1]
    assert pages[-1]["rows"][1:] == [None] * (covers.ROWS_NEXT - 1)
    assert [p["first"] for p in pages] == [True, False, False]
    assert [p["last"] for p in pages] == [False, False, True]
    assert [p["label"] for p in pages] == ["1／3ページ", "2／3ページ", "3／3ページ"]
    numbers = [row["number"] for p in pages for row in p["rows"] if row is not None]
    assert numbers == list(range(1, covers.ROWS_FIRST + covers.ROWS_NEXT + 2))


def test_a_long_cover_lists_every_envelope_once_and_repeats_the_header(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """60 envelopes: the list starts under the 送付状 on page 1, each further page repeats
    the column headings and names the workplace, every piece id is whole on one line exactly
    once, the 照会先 is in the letter and closes the last page; drawn pages are the full
    layout's pictures."""
    pieces = _pieces(60)
    item = covers.cover_item("cover-w", "W01", "本部事務局", pieces, cover_id=f"{BATCH}-C001")
    drawn, full = tmp_path / "drawn.pdf", tmp_path / "full.pdf"
    assert _write(_context(item), drawn) == {"cover-w": (0, 3)}
    _write(_context(item), full, overlay=False, monkeypatch=monkeypatch)
    pages = _pages(drawn)
    assert len(pages) == 3
    assert "送付状" in "".join(pages[0].split()) and "送付一覧" in pages[0]
    assert pieces[0]["piece_id"] in pages[0]
    # The values are drawn after their page's background: read back, they come after it.
    assert "件数" in pages[0] and "60通" in pages[0] and "W01" in pages[0]
    assert all("管理番号" in text and "本部事務局" in text for text in pages)
    lines = "\n".join(pages).splitlines()
    for piece in pieces:
        assert sum(str(piece["piece_id"]) in line for line in lines) == 1
    assert "照会先" in pages[-1] and "照会先" not in pages[1]
    _same_pictures(drawn, full)
    report = verify_pdf(drawn)
    assert not report.problems and report.pages == 3


def test_covers_of_several_workplaces_share_shapes_and_draw_no_document(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a shape is laid out, the pages of other workplaces with that shape are drawn
    without laying out anything, whatever number of their lines is in use (7 here, 5 on the
    page laid out: unused lines are blank slots); the pictures stay the full layout's."""
    first = covers.cover_item("cover-a", "W01", "本部事務局", _pieces(5), cover_id=f"{BATCH}-C001")
    covers.render_covers(_context(first), AS_OF)  # the 5-row one-page shape, laid out
    from kenpo_docs.render import pages as merge_render
    from kenpo_docs.shapes import letters as letteroverlay
    laid_out = []
    real = merge_render.render_document

    def spy(*args: object, **kwargs: object) -> object:
        laid_out.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(merge_render, "render_document", spy)
    monkeypatch.setattr(letteroverlay, "make_background", lambda *a, **k: pytest.fail(
        "a shape was laid out again"))
    second = covers.cover_item("cover-b", "W02", "第2営業所（千代田区）", _pieces(7, 200),
                               cover_id=f"{BATCH}-C002")
    drawn = tmp_path / "drawn.pdf"
    assert _write(_context(second), drawn) == {"cover-b": (0, 1)}
    assert laid_out == []
    monkeypatch.undo()
    full = tmp_path / "full.pdf"
    _write(_context(second), full, overlay=False, monkeypatch=monkeypatch)
    _same_pictures(drawn, full)
    assert "第2営業所（千代田区）" in _pages(drawn)[0]


def test_a_name_too_long_for_its_cell_is_laid_out_in_full(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A name that wraps in its cell makes its page the full layout's (a taller row); the
    other pages are still drawn, and the cover's page count is what was printed."""
    long_name = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末"
    pieces = _pieces(covers.ROWS_FIRST + 3)
    pieces[-1] = {**pieces[-1], "name": long_name}
    item = covers.cover_item("cover-w", "W01", "本部事務局", pieces, cover_id=f"{BATCH}-C001")
    from kenpo_docs.render import pages as merge_render
    laid_out = []
    real = merge_render.render_document

    def spy(template: str, context: dict[str, object], **kwargs: object) -> object:
        laid_out.append([p["label"] for c in context["covers"] for p in c["pages"]])
        return real(template, context, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(merge_render, "render_document", spy)
    drawn = tmp_path / "drawn.pdf"
    first, end = _write(_context(item), drawn)["cover-w"]
    assert laid_out == [["2／2ページ"]]
    pages = _pages(drawn)
    assert len(pages) == end - first == 2
    assert long_name[:6] in "".join(pages[1].split())
    assert not verify_pdf(drawn).problems
