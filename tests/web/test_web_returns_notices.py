"""Pages 6 (返戻・状況) and 7 (お知らせ・申請書) through FastAPI's test client: what each
shows, what each action changes, and every refusal (not logged in, no CSRF token, bad input,
someone else's file).

Expected values come from the roster written here (tests/tracking_roster.py: households,
routes and postal codes counted by hand), never from the pages read back against themselves.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from docx import Document
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader

from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.tracking.events import mark
from kenpo_docs.web.accounts import User
from kenpo_docs.web.store import DataFolder
from kenpo_docs.web.uploads import store
from tests.tracking_roster import HEADER, ROWS
from tests.web_helpers import client, log_in, make_data

AS_OF = date(2026, 12, 1)
BATCH = "B-web-returns"
# Hand count from tests/tracking_roster.py: six households (20-3007 is rejected).
HOUSEHOLDS = {"20-3001": "workplace:W01", "20-3002": "workplace:W01",
              "20-3003": "workplace:W02", "20-3004": "home", "20-3005": "home",
              "20-3006": "home"}


def _roster_bytes() -> bytes:
    return ("\n".join([HEADER, *ROWS]) + "\n").encode("cp932")


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose tracking database holds one real merge of the tracking roster."""
    base = tmp_path_factory.mktemp("webdata")
    roster = base / "roster.csv"
    roster.write_bytes(_roster_bytes())
    data = base / "data"
    merge(roster, options=MergeOptions(letter="kakuninsho", out=data / "batches" / BATCH,
                                       as_of=AS_OF, batch_id=BATCH, workers=1,
                                       db=data / "tracking.sqlite"))
    return data


@pytest.fixture
def data(merged: Path, tmp_path: Path) -> Path:
    """A private copy of the merged data folder (tests change its database)."""
    copy = tmp_path / "data"
    shutil.copytree(merged, copy)
    return copy


def _pieces(data: Path) -> dict[str, str]:
    """household key -> piece id, from the merge's manifest (not from the page)."""
    text = (data / "batches" / BATCH / "manifest.csv").read_bytes().decode("utf-8-sig")
    lines = [line.split(",") for line in text.splitlines()]
    head = lines[0]
    rows = [dict(zip(head, line, strict=False)) for line in lines[1:]]
    return {r["member_key"].rsplit("-", 1)[0]: r["piece_id"] for r in rows
            if r["piece_id"] and r["member_key"].endswith("-00")}


class Staff:
    """A logged-in test client and its CSRF token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def post(self, url: str, data: dict[str, str], *, htmx: bool = True,
             token: str | None = None) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(url, data={**data, "csrf_token": token or self.token},
                                headers=headers)


@pytest.fixture
def staff(data: Path) -> Iterator[Staff]:
    """alice (preparer) logged in; bob (approver) and carol (admin) exist."""
    assert make_data(data.parent) == data
    with client(data) as c:
        yield Staff(c, log_in(c, "alice"))


def _audit(data: Path) -> list[dict[str, object]]:
    path = data / "web" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# --------------------------------------------------------------------------------------------
# Page 6: returns and status


def test_returns_page_needs_a_login(data: Path) -> None:
    with client(data) as c:
        for url in ("/returns", "/notices", "/notices/539/download/pdf",
                    "/notices/539/proof/1.png", "/notices/forms/bessou1-20-3001.pdf"):
            res = c.get(url)
            assert res.status_code == 303 and res.headers["location"] == "/login", url


def test_report_postal_and_chart_show_the_hand_counts(staff: Staff, data: Path) -> None:
    pieces = _pieces(data)
    mark(data / "tracking.sqlite", "printed", [pieces["20-3001"], pieces["20-3004"]])
    html = staff.client.get("/returns").text
    assert "封筒 6 通" in html
    # the chart: one bar of 6 pieces, split 4 作成済 + 2 印刷済
    assert re.findall(r'class="seg-(\w+)"[^>]*data-count="(\d+)"', html) == [
        ("generated", "4"), ("printed", "2")]
    assert f"{BATCH} 印刷済 2</title>" in html
    # route rows: 勤務先経由 W01 2, W02 1, 自宅あて 3 (hand count)
    for label, total in (("勤務先経由 W01", 2), ("勤務先経由 W02", 1), ("自宅あて", 3)):
        assert re.search(rf"<th>{label}</th>(<td class=\"num\">\d+</td>){{6}}"
                         rf"<td class=\"num\">{total}</td>", html), label
    # postal: three home pieces, districts 100 (1) and 263 (2)
    assert "自宅あて 3 通" in html
    assert re.search(r"<td>100</td><td class=\"num\">1</td>", html)
    assert re.search(r"<td>263</td><td class=\"num\">2</td>", html)
    # no names reach the page (the database has none, and nothing else is read)
    for name in ("青木", "井上", "江藤", "大野"):
        assert name not in html


def test_report_shows_the_latest_batch_unless_all_are_asked_for(
    staff: Staff, data: Path, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(_roster_bytes())
    merge(roster, options=MergeOptions(letter="kakuninsho", out=data / "batches" / "B-second",
                                       as_of=AS_OF, batch_id="B-second", workers=1,
                                       db=data / "tracking.sqlite"))
    html = staff.client.get("/returns").text
    assert "追跡レポート（B-second）" in html and "封筒 6 通" in html
    assert 'hx-get="/returns/status?batch=B-second"' in html  # a scan keeps the choice
    html = staff.client.get("/returns", params={"batch": "all"}).text
    assert "追跡レポート（すべての一括処理）" in html and "封筒 12 通" in html
    html = staff.client.get("/returns", params={"batch": BATCH}).text
    assert f"追跡レポート（{BATCH}）" in html and "封筒 6 通" in html
    # the chart has both batches, oldest first
    assert re.findall(r"<title>(\S+) 作成済 6</title>", html) == [BATCH, "B-second"]


def test_returns_page_without_a_database_says_so(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    with client(data) as c:
        log_in(c, "alice")
        res = c.get("/returns")
    assert res.status_code == 200 and "まだ一括処理がありません" in res.text


def test_unknown_batch_is_the_one_line_error(staff: Staff) -> None:
    res = staff.client.get("/returns", params={"batch": "NOPE"})
    assert res.status_code == 400
    assert "batch NOPE is not in the tracking database" in res.text


def test_scan_marks_and_answers_with_household_and_route(staff: Staff, data: Path) -> None:
    pieces = _pieces(data)
    pid = pieces["20-3004"]
    db = data / "tracking.sqlite"
    # as a scanner types the page code of page 1 of 2, then Enter
    res = staff.post("/returns/scan", {"code": f"{pid}|1/2", "action": "printed"})
    assert res.status_code == 200
    assert res.text.lstrip().startswith("<tr")  # the answer line only (htmx swaps it in)
    assert pid in res.text and "20-3004" in res.text and "自宅あて" in res.text
    assert "印刷済にしました" in res.text and "井上" not in res.text
    assert res.headers["HX-Trigger"] == "tracking-changed"  # the tables reload themselves
    staff.post("/returns/scan", {"code": pid, "action": "mailed"})
    res = staff.post("/returns/scan", {"code": pid, "action": "returned", "reason": "転居先不明"})
    assert "返戻（転居先不明）にしました" in res.text
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT status, reason FROM events WHERE piece = ? ORDER BY id",
                              (pid,)).fetchall()
    assert events == [("generated", None), ("printed", None), ("mailed", None),
                      ("returned", "転居先不明")]
    # a workplace piece answers with its workplace
    res = staff.post("/returns/scan", {"code": pieces["20-3003"], "action": "printed"})
    assert "勤務先経由 W02" in res.text and "20-3003" in res.text
    # the report lists the returned piece with its member keys (the tables alone, as htmx
    # reloads them after a scan, and within the whole page)
    html = staff.client.get("/returns/status").text
    assert html.startswith('<div id="returns-status"') and "<html" not in html
    assert html in staff.client.get("/returns").text
    returned = html.split('id="returned"')[1]
    assert pid in returned and "転居先不明" in returned and "20-3004-00 20-3004-01" in returned
    marks = [e for e in _audit(data) if e["action"] == "track-mark"]
    assert [(e["piece"], e["status"], e["reason"]) for e in marks] == [
        (pid, "printed", None), (pid, "mailed", None), (pid, "returned", "転居先不明"),
        (pieces["20-3003"], "printed", None)]
    assert all(e["user"] == "alice" for e in marks)


def test_scan_refusals_answer_in_the_line(staff: Staff, data: Path) -> None:
    pid = _pieces(data)["20-3001"]
    res = staff.post("/returns/scan", {"code": pid, "action": "returned", "reason": "宛所不明"})
    assert res.status_code == 200 and "変更できません" in res.text and "作成済" in res.text
    res = staff.post("/returns/scan", {"code": "no such thing!", "action": "printed"})
    assert "封筒のコードとして読めません" in res.text
    res = staff.post("/returns/scan", {"code": "B-nope-0001", "action": "printed"})
    assert "追跡データベースにありません" in res.text
    res = staff.post("/returns/scan", {"code": "  ", "action": "printed"})
    assert "コードが空です" in res.text and "HX-Trigger" not in res.headers
    staff.post("/returns/scan", {"code": pid, "action": "printed"})
    res = staff.post("/returns/scan", {"code": pid, "action": "printed"})
    assert "すでに印刷済です" in res.text and "HX-Trigger" not in res.headers
    # a tampered form: an unknown action or a return without a reason is a 400
    assert staff.post("/returns/scan", {"code": pid, "action": "delivered"}).status_code == 400
    res = staff.post("/returns/scan", {"code": pid, "action": "returned", "reason": "x"})
    assert res.status_code == 400


def test_a_damaged_database_is_the_one_line_error_not_a_500(staff: Staff, data: Path) -> None:
    pid = _pieces(data)["20-3002"]
    for side in ("tracking.sqlite-wal", "tracking.sqlite-shm"):
        (data / side).unlink(missing_ok=True)
    (data / "tracking.sqlite").write_bytes(b"not a database at all, " * 100)
    res = staff.client.get("/returns")
    assert res.status_code == 400 and "SQLite のデータベースではありません" in res.text
    res = staff.post("/returns/scan", {"code": pid, "action": "printed"})
    assert res.status_code == 200 and "SQLite のデータベースではありません" in res.text
    assert "HX-Trigger" not in res.headers


def test_every_role_may_scan_and_build(data: Path) -> None:
    make_data(data.parent)
    pieces = _pieces(data)
    for name, household in (("bob", "20-3001"), ("carol", "20-3002")):
        with client(data) as c:
            staff = Staff(c, log_in(c, name))
            res = staff.post("/returns/scan", {"code": pieces[household], "action": "printed"})
            assert "印刷済にしました" in res.text, name
            assert staff.post("/notices/539/build", {"fmt": "pdf"}).status_code == 200


def test_scan_without_htmx_answers_with_the_whole_page(staff: Staff, data: Path) -> None:
    pid = _pieces(data)["20-3002"]
    res = staff.post("/returns/scan", {"code": pid, "action": "printed"}, htmx=False)
    assert res.status_code == 200 and "<html" in res.text
    assert "印刷済にしました" in res.text and "20-3002" in res.text


def test_scan_needs_the_csrf_token(staff: Staff, data: Path) -> None:
    pid = _pieces(data)["20-3002"]
    res = staff.post("/returns/scan", {"code": pid, "action": "printed"}, token="forged")
    assert res.status_code == 403
    with sqlite3.connect(data / "tracking.sqlite") as conn:
        assert conn.execute("SELECT status FROM pieces WHERE id = ?",
                            (pid,)).fetchone() == ("generated",)


# --------------------------------------------------------------------------------------------
# Page 7: notices and forms


def test_notices_page_lists_the_register(staff: Staff) -> None:
    html = staff.client.get("/notices").text
    assert "第539号" in html and "マイナ保険証への移行について" in html
    assert "令和6年11月19日" in html and "発行済" in html


def test_build_and_download_notice_pdf_and_docx(staff: Staff, data: Path) -> None:
    res = staff.post("/notices/539/build", {"fmt": "pdf"})
    assert res.status_code == 200 and "/notices/539/download/pdf" in res.text
    pdf = staff.client.get("/notices/539/download/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "マイナ保険証への移行について" in text.replace(" ", "")
    assert (data / "notices" / "notice-539.pdf").stat().st_mode & 0o077 == 0
    staff.post("/notices/539/build", {"fmt": "docx"})
    docx = staff.client.get("/notices/539/download/docx")
    body = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "マイナ保険証への移行について" in body
    assert [(e["action"], e["notice"], e["fmt"]) for e in _audit(data)
            if e["action"] == "notice-build"] == [("notice-build", 539, "pdf"),
                                                  ("notice-build", 539, "docx")]


def test_proof_shows_one_png_per_page(staff: Staff, data: Path) -> None:
    res = staff.post("/notices/539/proof", {})
    assert res.status_code == 200
    shown = re.findall(r'src="/notices/539/proof/(\d+)\.png"', res.text)
    staff.post("/notices/539/build", {"fmt": "pdf"})
    pages = len(pdfium.PdfDocument(staff.client.get("/notices/539/download/pdf").content))
    assert pages >= 2 and shown == [str(n) for n in range(1, pages + 1)]
    png = staff.client.get("/notices/539/proof/1.png")
    assert png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.width < image.height  # an A4 page, portrait
    assert staff.client.get(f"/notices/539/proof/{len(shown) + 1}.png").status_code == 404


def test_notice_errors(staff: Staff) -> None:
    assert staff.client.get("/notices/539/download/docx").status_code == 404  # not built
    res = staff.post("/notices/999/build", {"fmt": "pdf"})
    assert res.status_code == 400 and "999" in res.text
    assert staff.post("/notices/539/build", {"fmt": "html"}).status_code == 400
    assert staff.post("/notices/539/build", {"fmt": "pdf"}, token="x").status_code == 403
    assert staff.client.get("/notices/539/download/..%2Fweb%2Fsecret").status_code == 404


def _upload(data: Path) -> str:
    """The roster stored as the roster page stores an upload; returns its id."""
    upload_id, _ = store(DataFolder(data), _roster_bytes(), User("alice", "preparer", data))
    return upload_id


def test_prefilled_form_for_one_member(staff: Staff, data: Path) -> None:
    upload = _upload(data)
    assert upload in staff.client.get("/notices").text
    res = staff.post("/notices/forms", {"form": "bessou1", "upload": upload,
                                        "member": "20-3004", "fmt": "pdf", "as_of": "2026-12-01"})
    assert res.status_code == 200 and "bessou1-20-3004.pdf" in res.text
    pdf = staff.client.get("/notices/forms/bessou1-20-3004.pdf")
    assert pdf.status_code == 200 and "attachment" in pdf.headers["content-disposition"]
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    # the household's own values, as the roster row has them
    assert "資格確認書（再）交付申請書" in text.replace(" ", "")
    assert "井上" in text and "3004" in text
    assert (data / "forms" / "alice" / "bessou1-20-3004.pdf").stat().st_mode & 0o077 == 0
    res = staff.post("/notices/forms", {"form": "bessou2", "upload": upload,
                                        "member": "20-3001-01", "fmt": "docx"})
    assert "bessou2-20-3001-01.docx" in res.text
    docx = staff.client.get("/notices/forms/bessou2-20-3001-01.docx")
    cells = " ".join(c.text for t in Document(io.BytesIO(docx.content)).tables
                     for r in t.rows for c in r.cells)
    assert "青木" in cells
    builds = [e for e in _audit(data) if e["action"] == "form-build"]
    assert [(e["form"], e["member"]) for e in builds] == [("bessou1", "20-3004"),
                                                         ("bessou2", "20-3001-01")]
    assert "井上" not in (data / "web" / "audit.jsonl").read_text("utf-8")


def test_form_errors_are_one_line_and_name_no_path(staff: Staff, data: Path) -> None:
    upload = _upload(data)
    res = staff.post("/notices/forms", {"form": "bessou1", "upload": upload,
                                        "member": "20-9999", "fmt": "pdf"})
    assert res.status_code == 200 and "no such member in the roster" in res.text
    assert f"名簿 {upload}" in res.text and str(data) not in res.text
    res = staff.post("/notices/forms", {"form": "bessou1", "upload": upload,
                                        "member": "../../web/secret", "fmt": "pdf"})
    assert "記号-番号" in res.text
    res = staff.post("/notices/forms", {"form": "bessou1", "upload": "U-nope",
                                        "member": "20-3004", "fmt": "pdf"})
    assert "名簿を選んでください" in res.text
    res = staff.post("/notices/forms", {"form": "bessou9", "upload": upload,
                                        "member": "20-3004", "fmt": "pdf"}, htmx=False)
    assert res.status_code == 400 and "bessou9" in res.text
    assert not (data / "forms").exists() or not any((data / "forms").rglob("*.*"))


def test_a_form_is_downloaded_only_by_who_built_it(staff: Staff, data: Path) -> None:
    upload = _upload(data)
    staff.post("/notices/forms", {"form": "bessou1", "upload": upload, "member": "20-3004",
                                  "fmt": "pdf"})
    with client(data) as other:
        log_in(other, "bob")
        assert other.get("/notices/forms/bessou1-20-3004.pdf").status_code == 404
    for name in ("secret", "..%2F..%2Fweb%2Fsecret", "bessou1-20-3004.pdf.png"):
        assert staff.client.get(f"/notices/forms/{name}").status_code == 404


def test_chart_bars_are_proportional_and_escape_ids() -> None:
    from kenpo_docs.tracking.reports import BatchStatus
    from kenpo_docs.web.chart import status_chart

    zero = dict.fromkeys(("generated", "printed", "mailed", "delivered", "returned",
                          "reissued"), 0)
    svg = status_chart([
        BatchStatus("B<1>", "kakuninsho", "2026-12-01T00:00:00+00:00",
                    {**zero, "generated": 30, "returned": 10}),
        BatchStatus("B2", "oshirase", "2026-12-02T00:00:00+00:00", {**zero, "mailed": 20}),
    ])
    widths = {(m[0], m[1]): float(m[2]) for m in re.findall(
        r'<rect class="seg-(\w+)"[^>]*?y="(\d+)" width="([\d.]+)"', svg)}
    # the longest bar (40 pieces) is the full width (520); 30 : 10 and 20 as the counts
    assert widths == {("generated", "38"): 390.0, ("returned", "38"): 130.0,
                      ("mailed", "66"): 260.0}
    assert "B&lt;1&gt;" in svg and "B<1>" not in svg
    assert "まだ一括処理がありません" in status_chart([])
