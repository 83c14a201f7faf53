"""Issue 18, section 5: notice 539's 「マイナポータルの資格情報画面のダウンロード方法」 is an image
in the original. The template takes an insert file from the notice folder; while it is missing
(or a section is empty, or the skeleton's 「（本文）」 is left), build and proof warn and issue
refuses unless forced."""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from kenpo_docs.documents.notices import get_notice, incomplete_sections, issue_notice, new_notice
from kenpo_docs.errors import TemplateError
from kenpo_docs.publish.notices import build_notice, incomplete, issue, proof_notice

ROOT = Path(__file__).resolve().parents[1]


def _images(pdf: Path) -> int:
    return sum(len(page.images) for page in PdfReader(pdf).pages)


def test_missing_insert_warns_on_build_and_proof_and_blocks_issue(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [line] = incomplete_sections(get_notice(539))
    assert "inserts/download.png" in line
    with caplog.at_level(logging.WARNING, logger="kenpo_docs"):
        assert build_notice(539, "pdf", out_dir=tmp_path / "b", force=True).is_file()
        assert proof_notice(539, out_dir=tmp_path / "p", force=True)
    warned = [r for r in caplog.records if "inserts/download.png" in r.getMessage()]
    assert len(warned) == 2  # build and proof
    with pytest.raises(TemplateError, match="--force"):
        issue_notice(539)
    assert issue_notice(539, force=True).status == "issued"


def test_insert_file_is_printed_and_lets_the_notice_issue(home: Path, tmp_path: Path) -> None:
    before = _images(build_notice(539, "pdf", out_dir=tmp_path / "before", force=True))
    inserts = home / "templates" / "notices" / "539" / "inserts"
    inserts.mkdir()
    png = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(png, format="PNG")
    (inserts / "download.png").write_bytes(png.getvalue())
    assert incomplete_sections(get_notice(539)) == []
    after = build_notice(539, "pdf", out_dir=tmp_path / "after", force=True)
    assert _images(after) > before
    assert issue_notice(539).status == "issued"


def test_skeleton_placeholder_blocks_issue(home: Path) -> None:
    n = new_notice("テスト", date(2026, 12, 1))
    assert any("（本文）" in line for line in incomplete(n.number))
    with pytest.raises(TemplateError, match="本文"):
        issue(n.number)
    with pytest.raises(TemplateError, match=r"notice\.md"):  # not issued unchecked either
        issue_notice(n.number)


def test_empty_section_is_reported(home: Path) -> None:
    n = new_notice("テスト", date(2026, 12, 1))
    page = home / "templates" / "notices" / str(n.number) / "notice.md"
    sections = "## 第一\n\n本文です。\n\n## 第二\n\n## 第三\n\n本文です。\n"
    page.write_text(page.read_text("utf-8").replace("## （見出し）\n\n（本文）\n", sections),
                    "utf-8")
    lines = incomplete(n.number)
    assert any("「第二」の本文がありません" in line for line in lines), lines
    assert not any("第一" in line or "第三" in line for line in lines), lines
