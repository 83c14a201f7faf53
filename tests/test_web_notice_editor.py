"""The notice editor of the staff web page (issue 24's last item) through FastAPI's test
client: a notice made from the starter, pasted Markdown or a house-style Word file; its
source saved with the validation shown by line and the proof re-rendered; a Word re-upload;
issuing by an approver who did not make the last edit (the two-person setting), with the
approver's name in the register; the issued notice read-only. Every refusal: not logged in,
no CSRF token, wrong role, not a Word file, the last editor issuing.

Expected values come from the sources written here (their line numbers counted by hand) and
from the library's own rules, never from the pages read back against themselves.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from docx.shared import RGBColor
from fastapi.testclient import TestClient
from pypdf import PdfReader

from kenpo_docs.cli import cli
from kenpo_docs.documents.notices import get_notice, load_register
from tests.test_notice_word import house_document
from tests.web_helpers import client, csrf, log_in, make_data

SENTENCE = "窓口は12月29日から1月3日まで休みます。"
#: A notice in Markdown: line 1 title, line 3 heading 1, line 5 the body sentence.
GOOD = f"""# 年末年始の窓口

## 休業期間

{SENTENCE}

::: contact
{{{{ contact.name }}}} {{{{ contact.department }}}}
電話番号 {{{{ contact.phone }}}}
:::
"""
TITLE = "年末年始の窓口"


@pytest.fixture
def data(home: Path, tmp_path: Path) -> Path:
    return make_data(tmp_path)


def _audit(data: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in
            (data / "web" / "audit.jsonl").read_text("utf-8").splitlines()]


def _session(data: Path, name: str, **settings: object) -> tuple[TestClient, str]:
    c = client(data, **settings)
    return c, log_in(c, name)


def _new(c: TestClient, token: str, **form: str) -> object:
    fields = {"csrf_token": token, "title": TITLE, "on": "2026-12-10", "start": "markdown",
              "markdown": GOOD, **form}
    return c.post("/notices/new", data=fields)


def _save(c: TestClient, token: str, number: int, text: str) -> object:
    return c.post(f"/notices/{number}/source", data={"csrf_token": token, "source": text},
                  headers={"HX-Request": "true"})


def _docx(*, red: bool = False) -> bytes:
    d = house_document()
    d.add_paragraph("年末年始の窓口", style="Title")
    d.add_paragraph("休業期間", style="Heading 1")
    para = d.add_paragraph("Word で書いた文です。", style="Body Text")
    if red:
        para.add_run("赤い文字").font.color.rgb = RGBColor(0xFF, 0, 0)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_editor_pages_need_a_login_and_posts_the_csrf_token(data: Path) -> None:
    c = client(data)
    for url in ("/notices/new", "/notices/539/edit", "/notices/house-style.docx"):
        r = c.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/login", url
    c, _token = _session(data, "alice")
    r = _new(c, "wrong")
    assert r.status_code == 403 and "CSRF" in r.text
    assert [n.number for n in load_register()] == [539]  # nothing registered


def test_house_style_template_is_offered_for_download(data: Path) -> None:
    c, _ = _session(data, "alice")
    assert 'href="/notices/house-style.docx"' in c.get("/notices/new").text
    r = c.get("/notices/house-style.docx")
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "word/styles.xml" in names


def test_a_preparer_makes_a_notice_from_markdown_and_edits_it(data: Path, home: Path) -> None:
    c, token = _session(data, "alice")
    r = _new(c, token)
    assert r.status_code == 303 and r.headers["location"] == "/notices/540/edit"
    notice = get_notice(540)
    assert (notice.title, notice.date, notice.status) == (TITLE, date(2026, 12, 10), "draft")
    source = home / "templates" / "notices" / "540" / "notice.md"
    assert source.read_text("utf-8") == GOOD
    page = c.get("/notices/540/edit").text
    assert SENTENCE in page and 'name="source"' in page
    assert "検査で問題は見つかりませんでした" in page
    # The register lists it with a link to the editor.
    assert 'href="/notices/540/edit"' in c.get("/notices").text

    edited = GOOD.replace(SENTENCE, SENTENCE + "お急ぎの方はお電話ください。")
    r = _save(c, token, 540, edited)
    assert r.status_code == 200 and "お急ぎの方はお電話ください。" in source.read_text("utf-8")
    shown = re.findall(r'src="/notices/540/proof/(\d+)\.png\?v=[^"]+"', r.text)
    pdf = c.post("/notices/540/build", data={"csrf_token": token, "fmt": "pdf"})
    assert pdf.status_code == 200
    pages = len(pdfium.PdfDocument(c.get("/notices/540/download/pdf").content))
    assert shown == [str(p) for p in range(1, pages + 1)]  # one picture per page
    png = c.get("/notices/540/proof/1.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    entries = [(e["user"], e["action"], e.get("notice")) for e in _audit(data)
               if str(e["action"]).startswith("notice-")]
    assert entries == [("alice", "notice-new", 540), ("alice", "notice-edit", 540),
                       ("alice", "notice-build", 540)]
    assert all(SENTENCE not in json.dumps(e, ensure_ascii=False) for e in _audit(data))


@pytest.mark.parametrize(("text", "line", "severity", "words"), [
    # A heading 1 (line 1) followed by a heading 3 (line 5): a jump.
    ("## 休業期間\n\n本文です。\n\n#### 細目\n\n細かい話。\n", 5, "エラー", "1段ずつ"),
    # An empty section: the heading on line 3 has nothing under it.
    ("## 休業期間\n\n## 窓口\n\n## 連絡先\n\n本文です。\n", 3, "注意", "本文がありません"),
    # A picture without its alt text on line 3.
    ("## 休業期間\n\n![](map.png)\n", 3, "エラー", "代替テキスト"),
    # An undefined variable on line 3.
    ("## 休業期間\n\n{{ phone }} にお電話ください。\n", 3, "エラー", "phone"),
])
def test_validation_is_shown_with_its_line(data: Path, text: str, line: int, severity: str,
                                           words: str) -> None:
    c, token = _session(data, "alice")
    _new(c, token)
    r = _save(c, token, 540, text)
    assert r.status_code == 200, r.text
    found = re.findall(r'<li class="message (error|warn)" data-line="(\d+)">\s*<b>(\S+)</b>'
                       r'\s*<span class="line">(\d+)行目</span>([^<]*)</li>', r.text)
    assert any(int(n) == line and sev == severity and words in msg
               for _cls, n, sev, _n2, msg in found), found
    if severity == "エラー":  # no proof of a notice that cannot be built
        assert "エラーを直すと校正画像が更新されます" in r.text
        assert "/proof/1.png" not in r.text


def test_unprintable_characters_and_a_long_title_are_refused(data: Path) -> None:
    c, token = _session(data, "alice")
    _new(c, token)
    r = _save(c, token, 540, "## 休業期間\n\n顔文字 \U0001F600 です。\n")
    assert r.status_code == 200 and "印刷できない文字があります" in r.text
    long_title = "あ" * 30  # the masthead holds 29 full-width characters
    r = _new(c, token, title=long_title)
    assert r.status_code == 400 and "長すぎます" in r.text
    assert [n.number for n in load_register()] == [539, 540]  # the long title made nothing


def test_the_starter_notice_warns_of_its_placeholders(data: Path, home: Path) -> None:
    c, token = _session(data, "alice")
    r = _new(c, token, start="starter", markdown="")
    assert r.headers["location"] == "/notices/540/edit"
    skeleton = (home / "templates" / "notices" / "_skeleton" / "notice.md").read_text("utf-8")
    assert (home / "templates" / "notices" / "540" / "notice.md").read_text("utf-8") == skeleton
    page = c.get("/notices/540/edit").text
    assert "（本文）が残っています" in page and "3行目" in page  # line 3 of the skeleton


def test_a_word_upload_makes_the_notice_and_a_reupload_replaces_it(data: Path,
                                                                   home: Path) -> None:
    c, token = _session(data, "alice")
    r = c.post("/notices/new", data={"csrf_token": token, "title": TITLE, "on": "2026-12-10",
                                     "start": "word"},
               files={"word": ("../../etc/passwd.docx", _docx(), "application/octet-stream")})
    assert r.status_code == 303 and r.headers["location"] == "/notices/540/edit?word=1"
    assert "Word の書式の警告" not in c.get(r.headers["location"]).text  # only house styles
    folder = home / "templates" / "notices" / "540"
    assert "Word で書いた文です。" in (folder / "notice.md").read_text("utf-8")
    stored = sorted((data / "web" / "uploads").glob("*.docx"))
    assert [re.fullmatch(r"D\d{8}-\d{6}-[0-9a-f]{6}\.docx", p.name) is not None
            for p in stored] == [True]
    assert stored[0].stat().st_mode & 0o777 == 0o600
    # The re-upload: its red run is a warning naming paragraph 3, the source is replaced.
    r = c.post("/notices/540/word", data={"csrf_token": token},
               files={"word": ("x.docx", _docx(red=True), "application/octet-stream")})
    assert r.status_code == 303 and r.headers["location"] == "/notices/540/edit?word=1"
    r = c.get(r.headers["location"])
    assert "Word の書式の警告（1 件）" in r.text
    warnings = re.findall(r'<li class="message warn">([^<]*)</li>', r.text)
    assert len(warnings) == 1 and warnings[0].startswith("段落 3「Word で書いた文です…」"), warnings
    assert "「赤い文字」" in warnings[0] and "colour" in warnings[0]
    assert "赤い文字" in (folder / "notice.md").read_text("utf-8")
    latest = max((data / "web" / "uploads").glob("*.docx"), key=lambda p: p.stat().st_mtime_ns)
    assert (folder / "source.docx").read_bytes() == latest.read_bytes()
    assert [e["action"] for e in _audit(data)] [-2:] == ["notice-new", "notice-word"]


@pytest.mark.parametrize(("content", "words"), [
    (b"", "空のファイル"),
    (b"## just text\n", "Word 文書 (.docx) ではありません"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "古い形式 (.doc)"),
    (None, "ではない zip"),
])
def test_what_is_not_a_word_file_is_refused(data: Path, content: bytes | None,
                                            words: str) -> None:
    if content is None:  # a zip, but a workbook's
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", "<workbook/>")
        content = out.getvalue()
    c, token = _session(data, "alice")
    r = c.post("/notices/new", data={"csrf_token": token, "title": TITLE, "on": "2026-12-10",
                                     "start": "word"},
               files={"word": ("n.docx", content, "application/octet-stream")})
    assert r.status_code == 400 and words in r.text
    assert [n.number for n in load_register()] == [539]
    assert not list((data / "web" / "uploads").glob("*.docx"))
    _new(c, token)
    r = c.post("/notices/540/word", data={"csrf_token": token},
               files={"word": ("n.docx", content, "application/octet-stream")})
    assert r.status_code == 400 and words in r.text


def test_issuing_takes_an_approver_who_did_not_make_the_last_edit(data: Path,
                                                                  home: Path) -> None:
    alice, a_token = _session(data, "alice")
    _new(alice, a_token)
    r = alice.post("/notices/540/issue", data={"csrf_token": a_token})
    assert r.status_code == 403 and "権限がありません" in r.text  # a preparer
    assert "承認者に確認を依頼してください" in alice.get("/notices/540/edit").text

    bob, b_token = _session(data, "bob")
    assert bob.post("/notices/540/issue", data={}).status_code == 403  # no CSRF token
    _save(bob, b_token, 540, GOOD.replace(SENTENCE, SENTENCE + "よろしくお願いします。"))
    r = bob.post("/notices/540/issue", data={"csrf_token": b_token})
    assert r.status_code == 403 and "最後に編集した人は発行できません" in r.text
    assert get_notice(540).status == "draft"

    _save(alice, a_token, 540, GOOD)  # the preparer's edit is the last: bob may issue
    r = bob.post("/notices/540/issue", data={"csrf_token": b_token})
    assert r.status_code == 303, r.text
    issued = get_notice(540)
    assert (issued.status, issued.approved_by) == ("issued", "bob") and issued.hash
    assert 'approved_by = "bob"' in (home / "templates" / "notices" / "register.toml").read_text(
        "utf-8")
    listed = CliRunner().invoke(cli, ["notice", "list"])
    assert listed.exit_code == 0 and "540\t" in listed.output and "承認 bob" in listed.output
    assert re.search(r'<td class="nowrap">発行済</td>\s*<td class="nowrap">bob</td>',
                     bob.get("/notices").text)
    assert ("bob", "notice-issue", 540) in [(e["user"], e["action"], e.get("notice"))
                                            for e in _audit(data)]

    # Read-only from now on: no form, and a save or Word upload is refused by the library.
    page = alice.get("/notices/540/edit").text
    assert "readonly" in page and 'action="/notices/540/source"' not in page
    assert "承認: bob" in page
    r = _save(alice, a_token, 540, "## 変えた\n\n本文。\n")
    assert r.status_code == 400 and "発行済み" in r.text
    r = alice.post("/notices/540/word", data={"csrf_token": a_token},
                   files={"word": ("n.docx", _docx(), "application/octet-stream")})
    assert r.status_code == 400 and "発行済み" in r.text
    assert (home / "templates" / "notices" / "540" / "notice.md").read_text("utf-8") == GOOD
    # The issued notice builds (its hash matches) and prints the text.
    r = alice.post("/notices/540/build", data={"csrf_token": a_token, "fmt": "pdf"})
    assert r.status_code == 200
    pdf = alice.get("/notices/540/download/pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert SENTENCE in re.sub(r"\s+", "", text)


def test_without_the_two_person_setting_the_editor_may_issue(data: Path) -> None:
    bob, token = _session(data, "bob", require_approval=False)
    _new(bob, token)
    r = bob.post("/notices/540/issue", data={"csrf_token": token})
    assert r.status_code == 303
    assert get_notice(540).approved_by == "bob"


def test_an_incomplete_notice_is_not_issued(data: Path) -> None:
    alice, a_token = _session(data, "alice")
    _new(alice, a_token, start="starter", markdown="")
    bob, b_token = _session(data, "bob")
    r = bob.post("/notices/540/issue", data={"csrf_token": b_token})
    assert r.status_code == 400 and "not complete" in r.text and "（本文）" in r.text
    assert get_notice(540).status == "draft"


def test_an_html_notice_has_no_editor(data: Path) -> None:
    c, token = _session(data, "carol")
    r = c.get("/notices/539/edit")
    assert r.status_code == 404 and "HTML" in r.text
    assert c.get("/notices/999/edit").status_code == 400
    assert 'href="/notices/539/edit"' not in c.get("/notices").text
    assert csrf(c.get("/notices/new").text) == token


def test_a_paste_with_an_undefined_variable_registers_nothing(data: Path) -> None:
    c, token = _session(data, "alice")
    r = _new(c, token, markdown="## 見出し\n\n{{ member_name }} 様\n")
    assert r.status_code == 400
    assert "作れませんでした" in r.text and "member_name" in r.text and "line 3" in r.text
    assert [n.number for n in load_register()] == [539]
    _new(c, token)
    r = _save(c, token, 540, "")  # an emptied box is saved and checked, not refused
    assert r.status_code == 200 and "check-result" in r.text
