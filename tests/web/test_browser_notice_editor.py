"""The notice editor in a real browser (Debian's chromium through pytest-playwright) against
``kenpo-docs serve`` started as staff start it, on a private copy of templates/ (the
``home`` fixture: the register written here is never the checkout's).

Notice 540 is registered from the terminal first (``notice new``, as ``make demo``'s sample
is), so the page's notice is 541: the preparer creates it from pasted Markdown, edits it and
sees the proof pictures change (the debounced save) and the validation warning of an empty
section with its line; fixes it; the approver issues it; the PDF downloaded from the page
holds the edited sentence (pypdf). A screenshot after each step; with
``KENPO_DOCS_SCREENSHOTS=docs/img`` the editor's picture for docs/web.md and docs/notices.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.web.conftest import (
    LiveServer,
    Steps,
    assert_japanese_renders,
    kenpo_docs,
    start_server,
    stop_server,
)
from tests.web.test_browser_e2e import log_in

PREPARER, APPROVER, PASSWORD = "alice", "bob", "correct horse 1"
TITLE = "年末年始の窓口について"
FIRST = "年末年始は窓口を休みます。"
EDITED = "12月29日から1月3日までのお問い合わせは、1月5日以降にお願いします。"
SOURCE = f"""## 休業期間

{FIRST}

::: contact
{{{{ contact.name }}}} {{{{ contact.department }}}}
電話番号 {{{{ contact.phone }}}}
:::
"""
#: The edit: one more sentence, and an empty section on line 5 (a warning).
WITH_EMPTY = f"""## 休業期間

{FIRST}{EDITED}

## お問い合わせ

## 連絡先

::: contact
{{{{ contact.name }}}} {{{{ contact.department }}}}
電話番号 {{{{ contact.phone }}}}
:::
"""
FIXED = SOURCE.replace(FIRST, FIRST + EDITED)
#: The text selected in the source box.
SELECTED_JS = """() => { const s = document.getElementById("source");
  return s.value.substring(s.selectionStart, s.selectionEnd); }"""
#: Milliseconds a save with its proof may take on a busy 2-core machine.
PROOF_TIMEOUT_MS = 60_000


@pytest.fixture
def editor_server(home: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """``kenpo-docs serve`` whose templates are ``home``'s copy (KENPO_DOCS_HOME is set by
    the ``home`` fixture before the server starts), with notice 540 already registered."""
    data = tmp_path / "data"
    data.mkdir()
    kenpo_docs("notice", "new", "--title", "年金機構けんぽからのお知らせ", "--date",
               "2026-12-01", data=data)
    server = start_server(data, tmp_path / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


def proof_src(page: Any) -> str:
    src: str = page.locator("#check img.proof").first.get_attribute("src")
    return src


def test_a_notice_written_edited_and_issued_in_the_browser(
        editor_server: LiveServer, page: Any, steps: Steps, tmp_path: Path) -> None:
    server = editor_server
    server.add_user(PREPARER, "preparer", PASSWORD)
    server.add_user(APPROVER, "approver", PASSWORD)

    with steps("login-preparer"):
        log_in(page, server, PREPARER)
    with steps("new-notice-from-markdown"):
        page.goto(server.url + "/notices")
        page.click("#new-notice-link")
        page.fill("input[name=title]", TITLE)
        page.fill("input[name=on]", "2026-12-10")
        page.check("input[name=start][value=markdown]")
        page.fill("textarea[name=markdown]", SOURCE)
        page.click("#new-notice button[type=submit]")
        expect(page).to_have_url(re.compile(r"/notices/541/edit$"))
        expect(page.locator("h1")).to_contain_text(f"第541号 {TITLE}")
        expect(page.locator("#check img.proof")).to_have_count(1, timeout=PROOF_TIMEOUT_MS)
        assert_japanese_renders(page, "#source", "休業期間窓口")
    first = proof_src(page)
    first_png = page.request.get(server.url + first).body()

    with steps("edit-warning-and-proof", keep="web-notice-editor.png"):
        page.fill("#source", WITH_EMPTY)  # no click: the pause in typing saves
        warning = page.locator("#check li.message.warn")
        expect(warning).to_contain_text("「お問い合わせ」の本文がありません",
                                        timeout=PROOF_TIMEOUT_MS)
        expect(warning.locator(".line")).to_have_text("5行目")
        expect(page.locator("#check img.proof").first).not_to_have_attribute(
            "src", first, timeout=PROOF_TIMEOUT_MS)
        updated = page.request.get(server.url + proof_src(page)).body()
        assert updated.startswith(b"\x89PNG") and updated != first_png
        warning.click()  # the finding's line is selected in the source
        assert page.evaluate(SELECTED_JS) == "## お問い合わせ"

    with steps("fix-and-save"):
        page.fill("#source", FIXED)
        page.click("#editor-form button[type=submit]")
        expect(page.locator("#check")).to_contain_text("検査で問題は見つかりませんでした",
                                                       timeout=PROOF_TIMEOUT_MS)
        expect(page.locator("#issue")).to_contain_text("承認者に確認を依頼してください")

    with steps("refused-save-is-said"):  # an expired form: said beside the text, not lost
        page.evaluate("""() => document.body.setAttribute("hx-headers",
                                                           '{"X-CSRF-Token": "expired"}')""")
        page.fill("#source", FIXED + "\n追記\n")
        expect(page.locator("#check .message.error")).to_contain_text(
            "保存できませんでした（403）", timeout=PROOF_TIMEOUT_MS)

    with steps("approver-issues"):
        page.reload()
        expect(page.locator("#source")).to_have_value(FIXED)  # the refused text was not saved
        page.click("header .who button")
        expect(page).to_have_url(re.compile(r"/login$"))
        log_in(page, server, APPROVER)
        page.goto(server.url + "/notices/541/edit")
        page.click("#issue button[type=submit]")
        expect(page.locator("h1 .badge")).to_have_text("発行済")
        expect(page.locator("#issue")).to_contain_text("承認: bob")
        expect(page.locator("#source")).to_have_attribute("readonly", "")

    with steps("download-pdf"):
        page.click("#issue form[action$='/build'] button:has-text('PDF')")
        link = page.locator("#files a[href='/notices/541/download/pdf']")
        expect(link).to_be_visible(timeout=PROOF_TIMEOUT_MS)
        with page.expect_download() as info:
            link.click()
        pdf = tmp_path / "notice-541.pdf"
        info.value.save_as(pdf)
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(pdf).pages))
    assert EDITED in text and FIRST in text and TITLE in text

    with steps("register"):
        page.goto(server.url + "/notices")
        row = page.locator("#notice-541")
        expect(row).to_contain_text("発行済")
        expect(row).to_contain_text("bob")
    listed = kenpo_docs("notice", "list", data=server.data).stdout
    assert re.search(r"^541\t.*\tissued\t" + TITLE + r"\t承認 bob$", listed, re.M), listed
