"""The whole mailing in a real browser (Debian's chromium through pytest-playwright) against
``kenpo-docs serve`` started as staff start it (see conftest.py).

One test goes the whole way: the preparer logs in, uploads the sample roster, sees its
rejected rows, makes the proof and asks for approval; the approver logs in, approves and
watches the progress reach 100 %; the home print file is downloaded and checked as
``track verify`` checks it (its piece codes read back from the rendered pages against the
tracking database); two envelopes of it are scanned as returned in the scan box and appear in
the report. Every page is checked to draw its Japanese text with the served fonts (not tofu).

Expected values come from samples/README.md (the six deliberately bad rows, with their row
numbers and member keys; the 4 任意継続 households sent home), not from the pages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from pypdf import PdfReader

from kenpo_docs.barcodes.verify import check_reading, read_pdf
from kenpo_docs.tracking.expected import expected_for
from tests.web.conftest import LiveServer, Steps, assert_japanese_renders

ROOT = Path(__file__).resolve().parent.parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
AS_OF = "2026-12-01"
PREPARER, APPROVER, PASSWORD = "alice", "bob", "correct horse 1"
#: samples/README.md, "Deliberately bad rows": spreadsheet row -> member key.
REJECTED = {36: "0012-000104-03", 37: "0078-000401-02", 38: "0012-000101-01",
            39: "0090-000599-01", 40: "0034-000204-00", 41: "0034-000204-01"}
#: samples/README.md: 4 任意継続 households are sent home.
HOME_HOUSEHOLDS = 4
#: Milliseconds the merge of the sample roster may take on a busy 2-core machine.
RUN_TIMEOUT_MS = 240_000
#: Reports every change of the progress line and bar on the console ("progress 3/8 3 / 8 通
#: （37 %）"): the test sees each value the page showed, although the page reloads at the end.
WATCH_PROGRESS_JS = """document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("progress-text");
  const bar = document.getElementById("progress-bar");
  if (!text || !bar) return;
  const report = () => console.log(`progress ${bar.value}/${bar.max} ${text.textContent}`);
  report();
  new MutationObserver(report).observe(text, {childList: true, characterData: true,
                                              subtree: true});
});"""


#: An image's width once it has loaded: visible is not loaded (the proof PNG may still be
#: arriving when the <img> is laid out).
LOADED_WIDTH = ("img => img.complete && img.naturalWidth ? img.naturalWidth : new Promise("
                "done => { img.addEventListener('load', () => done(img.naturalWidth));"
                " img.addEventListener('error', () => done(0)); })")


def log_in(page: Any, server: LiveServer, name: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text(name)


def log_out(page: Any) -> None:
    page.click("header .who button")
    expect(page).to_have_url(re.compile(r"/login$"))


def scan(page: Any, action: str, codes: list[str], reason: str | None = None) -> None:
    """Type each code into the scan box and press Enter, as a barcode reader does."""
    page.check(f"#scan-form input[name=action][value={action}]")
    if reason:
        page.select_option("#scan-form select[name=reason]", reason)
    answers = page.locator("#scan-answers tr")
    for code in codes:
        before = answers.count()
        page.locator("#scan-code").press_sequentially(code)
        page.locator("#scan-code").press("Enter")
        expect(answers).to_have_count(before + 1)
        expect(page.locator("#scan-code")).to_have_value("")


def test_the_whole_mailing_in_the_browser(live_server: LiveServer, page: Any, steps: Steps,
                                          tmp_path: Path) -> None:
    live_server.add_user(PREPARER, "preparer", PASSWORD)
    live_server.add_user(APPROVER, "approver", PASSWORD)
    page.set_default_timeout(30_000)

    with steps("login-preparer"):
        page.goto(live_server.url + "/")
        expect(page).to_have_url(re.compile(r"/login$"))
        assert_japanese_renders(page, "h1")
        log_in(page, live_server, PREPARER)

    with steps("upload-roster"):
        page.set_input_files("#roster-file", str(ROSTER))
        page.click("#upload-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/roster/U[\w-]+"))
        page.fill("input[name=as_of]", AS_OF)
        page.click("form[method=get] button[type=submit]")

    with steps("rejected-rows", keep="web-roster-check.png"):
        expect(page.locator("h2#rejected")).to_contain_text(f"（{len(REJECTED)}）")
        rows = page.locator("h2#rejected ~ table").first.locator("tbody tr")
        expect(rows).to_have_count(len(REJECTED))
        shown = {int(r.locator("td").nth(0).inner_text()): r.locator("td").nth(2).inner_text()
                 for r in rows.all()}
        assert shown == REJECTED
        assert_japanese_renders(page, "h2#rejected")
        upload_id = page.url.split("/roster/")[1].split("?")[0]

    with steps("prepare-mailing"):
        page.goto(f"{live_server.url}/mailing?upload={upload_id}")
        page.select_option("select[name=letter]", "kakuninsho")
        page.fill("input[name=as_of]", AS_OF)
        page.click("form.card button[type=submit]")
        expect(page).to_have_url(re.compile(r"/batches/W[\w-]+$"))
        batch_url = page.url
        batch_id = batch_url.rsplit("/", 1)[1]

    with steps("proof", keep="web-proof.png", at="#proof"):
        page.click("#proof button[type=submit]")
        expect(page.locator("#proof .proofs img").first).to_be_visible(timeout=120_000)
        assert page.locator("#proof .proofs img").first.evaluate(LOADED_WIDTH) > 100

    with steps("request-approval"):
        page.click("form[action$='/request'] button")
        expect(page.locator("h1 .badge")).to_have_text("承認待ち")
        log_out(page)

    with steps("approve"):
        log_in(page, live_server, APPROVER)
        page.goto(batch_url)
        seen: list[str] = []  # every text the progress line shows, across reloads
        page.on("console", lambda msg: seen.append(msg.text)
                if msg.text.startswith("progress ") else None)
        page.add_init_script(WATCH_PROGRESS_JS)
        page.click("form[action$='/approve'] button")
        expect(page.locator("#progress-bar")).to_be_visible()

    with steps("progress-100"):
        # the bar, fed by server-sent events, reaches total / total (100 %); then the page
        # reloads and shows the batch done
        expect(page.locator("h1 .badge")).to_have_text("完了", timeout=RUN_TIMEOUT_MS)
        expect(page.locator("#status .message.ok")).to_contain_text("完了しました")
        done = [tuple(map(int, m.groups())) for t in seen
                if (m := re.match(r"progress (\d+)/(\d+) ", t))]
        assert done, f"no progress was shown: {seen}"
        assert [d for d, _ in done] == sorted(d for d, _ in done)  # it only moves forward
        total = done[-1][1]
        assert done[-1] == (total, total) and total > 0
        assert f"{total} / {total} 通（100 %）" in seen[-1]

    with steps("download-home-print-file", keep="web-results.png"):
        page.goto(f"{live_server.url}/results/{batch_id}")
        with page.expect_download() as info:
            page.click("a[href$='home.pdf']")
        home = tmp_path / "home.pdf"
        info.value.save_as(home)

    with steps("verify-home-print-file"):
        # what `kenpo-docs track verify home.pdf` does, against the server's database
        reading = read_pdf(home)
        expected = expected_for(live_server.data / "tracking.sqlite", "home.pdf",
                                reading.piece_ids)
        report = check_reading(reading, expected.pieces, elsewhere=expected.elsewhere)
        assert report.problems == [], report.summary()
        pieces = list(dict.fromkeys(reading.piece_ids))
        assert len(pieces) == HOME_HOUSEHOLDS
        # the code texts as the reader types them: "<piece id>|<page>/<pages>"
        codes = [next(c.text for c in reading.codes if c is not None and c.piece_id == pid)
                 for pid in pieces[:2]]

    with steps("scan-returned"):
        page.goto(live_server.url + "/returns")
        scan(page, "printed", codes)
        scan(page, "mailed", codes)
        scan(page, "returned", codes, reason="宛所不明")
        answers = page.locator("#scan-answers tr")
        for row, pid in zip(answers.all()[:2], reversed(pieces[:2]), strict=True):
            expect(row).to_contain_text("返戻（宛所不明）にしました")
            expect(row).to_contain_text(pid)
            expect(row.locator("td").nth(3)).to_have_text("自宅あて")
        assert_japanese_renders(page, "#scan-answers")

    with steps("report", keep="web-returns.png"):
        # the tables below the scan box reloaded themselves after each scan (htmx)
        returned = page.locator("#returned tbody tr")
        expect(returned).to_have_count(2)
        for pid in pieces[:2]:
            expect(page.locator("#returned")).to_contain_text(pid)
        expect(page.locator("#returned")).to_contain_text("宛所不明")
        expect(page.locator("svg.status-chart rect.seg-returned")).to_have_attribute(
            "data-count", "2")
        assert_japanese_renders(page, "#report h2")


def test_notices_and_forms_in_the_browser(live_server: LiveServer, page: Any, steps: Steps,
                                          tmp_path: Path) -> None:
    """Page 7 with htmx in a real browser: the proof pictures and the files appear in the
    page without a reload, and a prefilled 別添1 comes back as a PDF with the member's
    values (household 0012-000101 of samples/roster.csv)."""
    live_server.add_user(PREPARER, "preparer", PASSWORD)
    page.set_default_timeout(60_000)
    with steps("login"):
        log_in(page, live_server, PREPARER)
    with steps("upload-roster"):
        page.set_input_files("#roster-file", str(ROSTER))
        page.click("#upload-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/roster/U[\w-]+"))
    with steps("notice-proof", keep="web-notices.png"):
        page.goto(live_server.url + "/notices")
        page.click("#notice-539 form[action$='/proof'] button")
        first = page.locator("#notice-539-files .proofs img").first
        expect(first).to_be_visible()
        assert first.evaluate(LOADED_WIDTH) > 100
        assert_japanese_renders(page, "#notice-539")
    with steps("notice-pdf"):
        page.click("#notice-539 form[action$='/build'] button >> text=PDF")
        link = page.locator("#notice-539-files a[href='/notices/539/download/pdf']")
        with page.expect_download() as info:
            link.click()
        assert info.value.suggested_filename == "notice-539.pdf"
        notice = tmp_path / "notice-539.pdf"
        info.value.save_as(notice)
        assert notice.read_bytes().startswith(b"%PDF-")
    with steps("prefilled-form"):
        page.fill("#forms input[name=member]", "0012-000101")
        page.fill("#forms input[name=as_of]", AS_OF)
        page.click("#forms button[type=submit]")
        link = page.locator("#form-result a")
        expect(link).to_have_text("bessou1-0012-000101.pdf")
        with page.expect_download() as info:
            link.click()
        form = tmp_path / "form.pdf"
        info.value.save_as(form)
        text = PdfReader(form).pages[0].extract_text()
        # the household's row of samples/roster.csv: 髙橋 一郎, 0012-000101, 昭和45年4月1日
        assert "0012" in text and "000101" in text and "一郎" in text
        assert "昭和45年4月1日" in text.replace(" ", "")
