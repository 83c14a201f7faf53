"""``kenpo-docs notice pack``: the notice, then 別添1, 別添2, 別添3 in the order the notice's
添付資料 lists them (【別添１】資格確認書（再）交付申請書 【別添２】資格情報のお知らせ再交付申請書
【別添３】厚労省ちらし_マイナンバーカードは持ち歩いても大丈夫), one bookmark each; an external flyer
is included page for page and a bad one is refused in one line naming the file.
"""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from kenpo_docs.cli import cli
from kenpo_docs.publish.notices import render_notice

ROOT = Path(__file__).resolve().parent.parent


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def notice_pages() -> int:
    return len(PdfReader(io.BytesIO(render_notice(539, "pdf"))).pages)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    result = CliRunner().invoke(cli, ["notice", "pack", "539", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "notice-539-pack.pdf"


def test_pack_has_notice_then_three_attachments_with_bookmarks(
    pack: Path, notice_pages: int
) -> None:
    assert stat.S_IMODE(os.stat(pack).st_mode) == 0o600
    reader = PdfReader(pack)
    n = notice_pages
    assert len(reader.pages) == n + 3
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert outline == [
        ("第539号 マイナ保険証への移行について", 0),
        ("別添1 資格確認書（再）交付申請書", n),
        ("別添2 資格情報のお知らせ再交付申請書", n + 1),
        ("別添3 厚労省ちらし_マイナンバーカードは持ち歩いても大丈夫", n + 2),
    ]
    texts = [flat(p.extract_text()) for p in reader.pages]
    assert "年金機構けんぽからのお知らせ" in texts[0]
    assert "資格確認書（再）交付申請書" in texts[n] and "別添1" in texts[n]
    assert "資格情報のお知らせ再交付申請書" in texts[n + 1] and "別添2" in texts[n + 1]
    # The committed stand-in says on the page what it is.
    assert "見本（差し替え用）" in texts[n + 2]
    assert "STAND-IN" in texts[n + 2] and "マイナンバーカードは持ち歩いても大丈夫" in texts[n + 2]


def two_page_flyer(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595.28, height=841.89)
    writer.add_blank_page(width=841.89, height=595.28)  # a landscape page stays landscape
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def test_flyer_replaces_the_stand_in_page_for_page(tmp_path: Path, notice_pages: int) -> None:
    flyer = two_page_flyer(tmp_path / "ministry flyer.pdf")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["notice", "pack", "539", "--out", str(out),
                                      "--flyer", str(flyer)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out / "notice-539-pack.pdf")
    n = notice_pages
    assert len(reader.pages) == n + 2 + 2
    assert reader.get_destination_page_number(reader.outline[3]) == n + 2
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
             for p in reader.pages[n + 2:]]
    assert sizes == [(595, 842), (842, 595)]
    assert "見本" not in "".join(p.extract_text() for p in reader.pages[n + 2:])


def _one_line_error(args: list[str], name: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error:") and name in lines[0]


def test_encrypted_flyer_is_refused_naming_the_file(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595.28, height=841.89)
    writer.encrypt("secret")
    flyer = tmp_path / "locked.pdf"
    with flyer.open("wb") as fh:
        writer.write(fh)
    out = tmp_path / "out"
    _one_line_error(["notice", "pack", "539", "--out", str(out), "--flyer", str(flyer)],
                    "locked.pdf")
    assert not out.exists()


def test_broken_or_missing_flyer_is_refused_naming_the_file(tmp_path: Path) -> None:
    good = (ROOT / "samples" / "bessou3-standin.pdf").read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(good[: len(good) // 3])
    not_pdf = tmp_path / "flyer.pdf"
    not_pdf.write_text("<html>not a pdf</html>")
    for path in (broken, not_pdf, tmp_path / "missing.pdf"):
        out = tmp_path / "out"
        _one_line_error(["notice", "pack", "539", "--out", str(out), "--flyer", str(path)],
                        path.name)
        assert not out.exists()


def test_stand_in_flyer_is_what_its_build_script_makes(tmp_path: Path) -> None:
    """The committed sample is reproducible from its template (nothing hand-edited).

    Compared by what it shows, not byte for byte: the committed sample was made before the
    font subsetter was pinned (uharfbuzz), so its font bytes differ, its pages do not. Same
    page count and sizes, same text on every page, and the same picture: each page rendered
    at 60 dpi differs from the committed one by less than one grey level on average.
    """
    from datetime import date

    import pypdfium2
    from PIL import ImageChops, ImageStat

    from kenpo_docs.render import RenderOptions, render_pdf

    data = render_pdf("enclosures/bessou3-standin/flyer.html", {},
                      options=RenderOptions(as_of=date(2024, 11, 19)))
    committed = (ROOT / "samples" / "bessou3-standin.pdf").read_bytes()
    fresh_reader, committed_reader = PdfReader(io.BytesIO(data)), PdfReader(io.BytesIO(committed))
    assert len(fresh_reader.pages) == len(committed_reader.pages)
    for fresh_page, committed_page in zip(fresh_reader.pages, committed_reader.pages, strict=True):
        assert list(fresh_page.mediabox) == list(committed_page.mediabox)
        assert fresh_page.extract_text() == committed_page.extract_text()
    fresh_doc, committed_doc = pypdfium2.PdfDocument(data), pypdfium2.PdfDocument(committed)
    try:
        for index in range(len(fresh_doc)):
            a = fresh_doc[index].render(scale=60 / 72).to_pil().convert("L")
            b = committed_doc[index].render(scale=60 / 72).to_pil().convert("L")
            assert a.size == b.size
            mean_difference = ImageStat.Stat(ImageChops.difference(a, b)).mean[0]
            assert mean_difference < 1.0, f"page {index + 1} looks different"
    finally:
        fresh_doc.close()
        committed_doc.close()
