"""The web page's pages 1-5 through the test client (no runner process: the queue is
driven by hand where a test needs a finished batch; tests/test_web_runner.py runs the real
one)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from kenpo_docs.web import jobs
from kenpo_docs.web.store import DataFolder
from tests.web_helpers import AS_OF, SAMPLE, client, log_in, make_data, prepare, upload, uploaded_id


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_data(tmp_path)


def test_every_page_needs_a_login(data: Path) -> None:
    c = client(data)
    for path in ("/roster", "/roster/U1", "/roster/U1/rejects.csv", "/mailing",
                 "/batches/W1", "/approvals", "/run", "/results", "/results/W1",
                 "/batches/W1/events", "/results/W1/files/manifest.csv"):
        r = c.get(path)
        assert (r.status_code, r.headers.get("location")) == (303, "/login"), path


def test_posts_need_the_csrf_token(data: Path) -> None:
    c = client(data)
    log_in(c, "bob")
    for path in ("/roster", "/mailing", "/batches/W1/proof", "/batches/W1/request",
                 "/batches/W1/approve", "/batches/W1/send-back", "/batches/W1/run",
                 "/batches/W1/cancel", "/batches/W1/run-again", "/results/W1/verify/x.pdf"):
        assert c.post(path, data={"x": "1"}).status_code == 403, path


def test_upload_and_check_the_sample_roster(data: Path) -> None:
    c = client(data)
    token = log_in(c, "alice")
    page = c.get("/roster").text
    assert "ドラッグ＆ドロップ" in page and 'type="file"' in page
    upload_id = uploaded_id(upload(c, token, "名簿.csv", SAMPLE.read_bytes()))
    stored = data / "web" / "uploads" / f"{upload_id}.csv"
    assert stored.read_bytes() == SAMPLE.read_bytes()
    assert stored.stat().st_mode & 0o777 == 0o600
    r = c.get(f"/roster/{upload_id}?as_of={AS_OF}")
    assert r.status_code == 200
    text = r.text
    # the counts and routes `kenpo-docs check` prints for the sample (README: 40 rows, 6 bad)
    assert re.search(r"<span>行</span><b>40</b>", text)
    assert re.search(r"<span>不合格の行</span><b>6</b>", text)
    assert "令和8年12月1日" in text
    assert "勤務先経由" in text and "自宅あて" in text
    # every rejected row with its row number, column and reason; keys, never names
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td>'
                      r'<td class="mono nowrap">([^<]*)</td>', text.split('id="rejected"')[1])
    assert len(rows) >= 6
    assert "高橋" not in text and "髙橋" not in text
    r = c.get(f"/roster/{upload_id}/rejects.csv?as_of={AS_OF}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,member_key,column,reason"
    assert len(lines) == 1 + 6
    assert "attachment" in r.headers["content-disposition"]
    # the same rows as a typed workbook: the row a number, the member key text (leading 0s)
    r = c.get(f"/roster/{upload_id}/rejects.xlsx?as_of={AS_OF}")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("row", "member_key", "column", "reason")
    assert len(values) == 1 + 6
    assert all(isinstance(v[0], int) for v in values[1:])
    assert {v[1][:4] for v in values[1:]} >= {"0012"}
    assert c.get(f"/roster/{upload_id}/rejects.pdf").status_code == 404


def test_the_check_page_equals_the_cli(data: Path, tmp_path: Path) -> None:
    """The page shows what `kenpo-docs check` says, row for row."""
    from click.testing import CliRunner

    from kenpo_docs.cli import cli

    report = tmp_path / "rejects.csv"
    CliRunner().invoke(cli, ["check", str(SAMPLE), "--as-of", AS_OF, "--report", str(report)])
    c = client(data)
    token = log_in(c, "alice")
    upload_id = uploaded_id(upload(c, token, "r.csv", SAMPLE.read_bytes()))
    web = c.get(f"/roster/{upload_id}/rejects.csv?as_of={AS_OF}").content
    assert web == report.read_bytes()


def test_xlsx_upload_is_accepted(data: Path) -> None:
    book = Workbook()
    sheet = book.active
    lines = SAMPLE.read_bytes().decode("cp932").splitlines()
    import csv
    for row in csv.reader(lines):
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    c = client(data)
    token = log_in(c, "alice")
    upload_id = uploaded_id(upload(c, token, "meibo.xlsx", buf.getvalue()))
    assert (data / "web" / "uploads" / f"{upload_id}.xlsx").exists()
    r = c.get(f"/roster/{upload_id}?as_of={AS_OF}")
    assert r.status_code == 200 and re.search(r"<span>行</span><b>40</b>", r.text)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "空のファイル"),
    (b"%PDF-1.7\n\x00\x01\x02binary", "名簿（.xlsx か CSV）ではありません"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "名簿（.xlsx か CSV）ではありません"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
])
def test_a_file_that_is_not_a_roster_is_refused(data: Path, content: bytes,
                                                message: str) -> None:
    c = client(data)
    token = log_in(c, "alice")
    r = upload(c, token, "roster.csv", content)  # the name says csv: the content decides
    assert r.status_code == 400
    assert message in r.text
    assert list((data / "web" / "uploads").iterdir()) == []


def test_a_zip_that_is_not_a_workbook_is_refused(data: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../etc/passwd", "x")
    c = client(data)
    token = log_in(c, "alice")
    r = upload(c, token, "../../roster.xlsx", buf.getvalue())
    assert r.status_code == 400 and "zip" in r.text


def test_a_bad_roster_shows_the_cli_message_not_a_500(data: Path) -> None:
    c = client(data)
    token = log_in(c, "alice")
    upload_id = uploaded_id(upload(c, token, "x.csv", "名前,住所\nA,B\n".encode()))
    r = c.get(f"/roster/{upload_id}")
    assert r.status_code == 400
    assert 'class="message error"' in r.text
    assert "Traceback" not in r.text
    # a date the era calendar cannot read: its one-line message
    r = c.get(f"/roster/{upload_id}?as_of=2026-02-30")
    assert r.status_code == 400 and "2月30日 does not exist" in r.text


def test_the_upload_limit(data: Path) -> None:
    c = client(data, upload_limit=2000)
    token = log_in(c, "alice")
    r = upload(c, token, "big.csv", b"a,b\n" * 5000)  # over the limit: the page says so
    assert r.status_code == 413 and "ファイルが大きすぎます" in r.text
    r = upload(c, token, "big.csv", b"a,b\n" * 50_000)  # far over: refused before parsing
    assert r.status_code == 413
    assert list((data / "web" / "uploads").iterdir()) == []


def test_unknown_upload_is_404(data: Path) -> None:
    c = client(data)
    log_in(c, "alice")
    assert c.get("/roster/U20990101-000000-abcdef").status_code == 404
    assert c.get("/roster/..%2F..%2Fetc%2Fpasswd/rejects.csv").status_code == 404


def test_mailing_form_and_batch_page(data: Path) -> None:
    c = client(data)
    token = log_in(c, "alice")
    page = c.get("/mailing").text
    assert "資格確認書の送付について" in page and "notice:539" in page
    assert "form:bessou1" in page
    batch_id = prepare(c, token, data)
    r = c.get(f"/batches/{batch_id}")
    assert r.status_code == 200
    assert "令和8年12月1日" in r.text  # the as-of date in 和暦
    assert "作成中" in r.text and "承認を依頼する" in r.text
    # the piece count per route is check --letter's: 8 envelopes for the sample
    assert re.search(r"<span>封筒（通）</span><b>8</b>", r.text)
    # worked out once per batch (a big roster takes seconds), the same on the next view
    assert (data / "web" / "proofs" / batch_id / "estimate.json").exists()
    assert re.search(r"<span>封筒（通）</span><b>8</b>", c.get(f"/batches/{batch_id}").text)


@pytest.mark.parametrize(("form", "message"), [
    ({"letter": "nosuch"}, "unknown letter"),
    ({"as_of": "2026-13-01"}, "日付"),
    ({"enclosures": ["file:samples/bessou3-standin.pdf"]}, "同封物"),
    ({"enclosures": ["notice:999"]}, "999"),
    ({"sides": "triplex"}, "triplex"),
    ({"document_number": "abc"}, "文書番号"),
    ({"upload": "U20990101-000000-abcdef"}, "名簿を選んでください"),
])
def test_mailing_form_errors(data: Path, form: dict[str, object], message: str) -> None:
    c = client(data)
    token = log_in(c, "alice")
    upload_id = uploaded_id(upload(c, token, "r.csv", SAMPLE.read_bytes()))
    fields = {"csrf_token": token, "upload": upload_id, "letter": "kakuninsho",
              "as_of": AS_OF, "sides": "duplex", **form}
    r = c.post("/mailing", data=fields)
    assert r.status_code == 400
    assert message in r.text
    assert jobs.all_batches(DataFolder(data)) == []


def test_approval_needs_another_person(data: Path) -> None:
    alice, bob, carol = client(data), client(data), client(data)
    ta, tb = log_in(alice, "alice"), log_in(bob, "bob")
    log_in(carol, "carol")
    batch_id = prepare(alice, ta, data)
    # a preparer cannot approve at all (403), nor run without approval
    assert alice.post(f"/batches/{batch_id}/approve", data={"csrf_token": ta}).status_code == 403
    assert alice.post(f"/batches/{batch_id}/run", data={"csrf_token": ta}).status_code == 403
    # not yet requested
    r = bob.post(f"/batches/{batch_id}/approve", data={"csrf_token": tb})
    assert r.status_code == 409 and "承認できません" in r.text
    assert alice.post(f"/batches/{batch_id}/request",
                      data={"csrf_token": ta}).status_code == 303
    assert "承認待ち" in bob.get("/approvals").text
    # an approver who prepared the batch cannot approve it
    own = prepare(bob, tb, data)
    bob.post(f"/batches/{own}/request", data={"csrf_token": tb})
    r = bob.post(f"/batches/{own}/approve", data={"csrf_token": tb})
    assert r.status_code == 409 and "作成した本人は承認できません" in r.text
    # send back, request again, approve
    r = bob.post(f"/batches/{batch_id}/send-back", data={"csrf_token": tb, "reason": "日付"})
    assert r.status_code == 303
    batch = jobs.get(DataFolder(data), batch_id)
    assert batch.state == "draft" and "bob さんが差し戻しました：日付" in batch.message
    alice.post(f"/batches/{batch_id}/request", data={"csrf_token": ta})
    assert bob.post(f"/batches/{batch_id}/approve",
                    data={"csrf_token": tb}).status_code == 303
    batch = jobs.get(DataFolder(data), batch_id)
    assert (batch.state, batch.prepared_by, batch.approved_by) == ("queued", "alice", "bob")
    # a second click (another approver) finds it approved already
    r = carol.post(f"/batches/{batch_id}/approve", data={"csrf_token": log_in(carol, "carol")})
    assert r.status_code == 409
    # an admin has every role: carol approves alice's next batch
    other = prepare(alice, ta, data)
    alice.post(f"/batches/{other}/request", data={"csrf_token": ta})
    tc = log_in(carol, "carol")
    assert carol.post(f"/batches/{other}/approve", data={"csrf_token": tc}).status_code == 303
    assert jobs.get(DataFolder(data), other).approved_by == "carol"
    actions = [json.loads(x)["action"]
               for x in (data / "web" / "audit.jsonl").read_text().splitlines()]
    assert actions.count("approve") == 2 and "send-back" in actions  # bob once, carol once


def test_approval_can_be_turned_off(data: Path) -> None:
    c = client(data, require_approval=False)
    token = log_in(c, "alice")
    batch_id = prepare(c, token, data)
    page = c.get(f"/batches/{batch_id}").text
    assert "実行する" in page and "承認を依頼する" not in page
    assert c.post(f"/batches/{batch_id}/request", data={"csrf_token": token}).status_code == 409
    assert c.post(f"/batches/{batch_id}/run", data={"csrf_token": token}).status_code == 303
    assert jobs.get(DataFolder(data), batch_id).state == "queued"


def test_cancel_a_queued_batch(data: Path) -> None:
    c = client(data, require_approval=False)
    token = log_in(c, "alice")
    batch_id = prepare(c, token, data)
    c.post(f"/batches/{batch_id}/run", data={"csrf_token": token})
    assert "実行待ち" in c.get("/run").text
    assert c.post(f"/batches/{batch_id}/cancel", data={"csrf_token": token}).status_code == 303
    assert jobs.get(DataFolder(data), batch_id).state == "cancelled"
    r = c.post(f"/batches/{batch_id}/cancel", data={"csrf_token": token})
    assert r.status_code == 409 and "取り消しできません" in r.text
    # run again (approval off: the preparer may)
    assert c.post(f"/batches/{batch_id}/run-again",
                  data={"csrf_token": token}).status_code == 303
    assert jobs.get(DataFolder(data), batch_id).state == "queued"


def test_progress_events(data: Path) -> None:
    c = client(data, require_approval=False)
    token = log_in(c, "alice")
    batch_id = prepare(c, token, data)
    folder = DataFolder(data)
    c.post(f"/batches/{batch_id}/run", data={"csrf_token": token})
    jobs.take_next(folder)
    jobs.progress(folder, batch_id, 2, 8)
    jobs.finish(folder, batch_id, "failed", "テスト")
    r = c.get(f"/batches/{batch_id}/events")
    assert r.headers["content-type"].startswith("text/event-stream")
    events = re.findall(r"event: (\w+)\ndata: (.*)\n", r.text)
    assert events[0][0] == "progress"
    first = json.loads(events[0][1])
    assert (first["done"], first["total"], first["percent"]) == (2, 8, 25)
    assert events[-1][0] == "end"


def test_unknown_batch_and_files_are_404(data: Path) -> None:
    c = client(data)
    token = log_in(c, "alice")
    for path in ("/batches/W1", "/results/W1", "/batches/W1/events",
                 "/results/W1/files/manifest.csv", "/batches/W1/proof/x.png"):
        assert c.get(path).status_code == 404, path
    batch_id = prepare(c, token, data)
    # a batch that has not run offers no file; a path is never followed
    for name in ("manifest.csv", "../../web/web.sqlite", "%2e%2e/%2e%2e/web/secret",
                 "print/../../../web/secret"):
        assert c.get(f"/results/{batch_id}/files/{name}").status_code == 404, name
    assert c.get(f"/batches/{batch_id}/proof/../../secret").status_code == 404


def test_a_bad_roster_on_the_batch_page_and_its_proof(data: Path) -> None:
    c = client(data)
    token = log_in(c, "alice")
    upload_id = uploaded_id(upload(c, token, "x.csv", "名前,住所\nA,B\n".encode()))
    r = c.post("/mailing", data={"csrf_token": token, "upload": upload_id,
                                 "letter": "kakuninsho", "as_of": AS_OF, "sides": "duplex"})
    batch_id = r.headers["location"].rsplit("/", 1)[1]
    page = c.get(f"/batches/{batch_id}")
    assert page.status_code == 200 and 'class="message error"' in page.text
    r = c.post(f"/batches/{batch_id}/proof", data={"csrf_token": token},
               headers={"HX-Request": "true"})
    assert r.status_code == 400
    assert "記号" in r.text and "<html" not in r.text  # the fragment, with the reader's words
    assert not (data / "web" / "proofs" / batch_id / "proof.json").exists()
