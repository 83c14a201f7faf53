"""Every DOCX we write is the same bytes when built again, seconds (or hours) later: the zip
entries carry a fixed time stamp, the core properties the document's own date
(kenpo_docs.render.docxstyle.save_reproducible). The zip module stamps each entry with the
clock; the clock is moved an hour between the two builds here (zipfile's view of it only)."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest

from kenpo_docs.documents.notice_markdown import parse_markdown
from kenpo_docs.documents.notices import get_notice, notice_context
from kenpo_docs.mailing.letter_docx import letter_docx
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.publish.forms import build_form
from kenpo_docs.publish.notices import render_notice
from kenpo_docs.render import RenderOptions, docxstyle, render_docx
from kenpo_docs.render.notice_docx import house_style_template, notice_docx

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 12, 1)
MARKDOWN = """\
## お知らせ

本文です。**太字**もあります。

| 項目 | 内容 |
|------|------|
| 対象者 | 新規加入者 |
"""


def _twice(make: Callable[[], bytes], monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    """``make()`` now and again with the zip module's clock an hour and a second later."""
    first = make()
    later = SimpleNamespace(time=lambda: time.time() + 3601, localtime=time.localtime)
    with monkeypatch.context() as m:
        m.setattr(zipfile, "time", later)
        second = make()
    return first, second


def _stamps(data: bytes) -> set[tuple[int, ...]]:
    return {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}


def _core_dates(data: bytes) -> tuple[datetime | None, datetime | None]:
    """作成日時 and 更新日時 as written (W3CDTF, read back in UTC), without the zone."""
    core = docx.Document(io.BytesIO(data)).core_properties
    assert core.created is not None and core.modified is not None
    assert core.created.tzinfo == core.modified.tzinfo == UTC
    return core.created.replace(tzinfo=None), core.modified.replace(tzinfo=None)


def test_the_clock_does_get_into_a_plain_save(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests below would see the clock: python-docx's own save differs an hour later."""
    def plain() -> bytes:
        document = docx.Document()
        docxstyle.apply_house_style(document, author="健保", title="t")
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    first, second = _twice(plain, monkeypatch)
    assert first != second and _stamps(first) != _stamps(second)


def test_a_markdown_notice_is_the_same_bytes_and_dated_by_its_date(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def make() -> bytes:
        return notice_docx(parse_markdown(MARKDOWN), number=7, date=date(2026, 11, 19),
                           title="テスト", series_title="お知らせ", inserts=tmp_path,
                           author="日本年金機構健康保険組合")

    first, second = _twice(make, monkeypatch)
    assert first == second
    assert _stamps(first) == {(1980, 1, 1, 0, 0, 0)}
    assert _core_dates(first) == (datetime(2026, 11, 19), datetime(2026, 11, 19))


def test_notice_539s_twin_is_the_same_bytes_and_dated_by_the_notice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _twice(lambda: render_notice(539, "docx"), monkeypatch)
    assert first == second
    assert _stamps(first) == {(1980, 1, 1, 0, 0, 0)}
    issued = get_notice(539).date
    assert _core_dates(first) == (datetime(issued.year, issued.month, issued.day),) * 2


def test_a_letter_twin_is_the_same_bytes_and_dated_as_of(
        monkeypatch: pytest.MonkeyPatch) -> None:
    options = MergeOptions(letter="kakuninsho", out=Path("."), as_of=AS_OF, notice="539",
                           document_number=12)

    def make() -> bytes:
        return letter_docx(ROOT / "samples" / "roster.csv", member_key="0012-000101-00",
                           options=options).data

    first, second = _twice(make, monkeypatch)
    assert first == second
    assert _core_dates(first) == (datetime(2026, 12, 1), datetime(2026, 12, 1))


def test_a_form_twin_is_the_same_bytes_and_dated_as_of(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _twice(lambda: build_form("bessou2", as_of=AS_OF, fmt="docx"), monkeypatch)
    assert first == second
    assert _core_dates(first) == (datetime(2026, 12, 1), datetime(2026, 12, 1))


def test_a_docx_template_is_the_same_bytes_and_dated_as_of(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The docxtpl path (render_docx): the old Word template of notice 539."""
    context = notice_context(get_notice(539))
    options = RenderOptions(as_of=AS_OF)
    first, second = _twice(
        lambda: render_docx("notices/539/notice.docx", context, options=options), monkeypatch)
    assert first == second
    assert _stamps(first) == {(1980, 1, 1, 0, 0, 0)}
    assert _core_dates(first) == (datetime(2026, 12, 1), datetime(2026, 12, 1))


def test_the_house_style_template_is_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _twice(lambda: house_style_template(author="健保", series_title="お知らせ"),
                           monkeypatch)
    assert first == second
    assert _core_dates(first) == (datetime(2000, 1, 1), datetime(2000, 1, 1))


def test_restamp_keeps_every_part_and_its_order() -> None:
    document = docx.Document()
    document.add_paragraph("本文")
    out = io.BytesIO()
    document.save(out)
    again = docxstyle.restamp(out.getvalue())
    before, after = zipfile.ZipFile(out), zipfile.ZipFile(io.BytesIO(again))
    assert before.namelist() == after.namelist()
    assert all(before.read(n) == after.read(n) for n in before.namelist())
    assert {i.compress_type for i in after.infolist()} == {zipfile.ZIP_DEFLATED}
    assert docx.Document(io.BytesIO(again)).paragraphs[-1].text == "本文"
