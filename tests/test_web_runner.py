"""The runner process: a real merge of the sample roster queued from the page, run in the
runner (never in the server process), followed live, interrupted by a server stop and
resumed at the next start; then the proof, the downloads and track verify of its files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from kenpo_docs.web import jobs
from kenpo_docs.web.store import DataFolder
from tests.web_helpers import client, log_in, make_data, prepare

pytestmark = pytest.mark.slow


def wait_for(folder: DataFolder, batch_id: str, states: tuple[str, ...],
             timeout: float = 120.0, total: bool = False) -> jobs.Batch:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        batch = jobs.get(folder, batch_id)
        if batch.state in states and (not total or batch.total):
            return batch
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} is {batch.state}, not {states}")


def test_merge_runs_in_the_runner_and_resumes_after_a_restart(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    folder = DataFolder(data)
    settings = {"runner": True, "workers": 1}
    alice, bob = client(data, **settings), client(data)
    with alice:  # the app's lifespan starts (and ends) the runner
        ta, tb = log_in(alice, "alice"), log_in(bob, "bob")
        batch_id = prepare(alice, ta, data)
        alice.post(f"/batches/{batch_id}/request", data={"csrf_token": ta})
        assert bob.post(f"/batches/{batch_id}/approve",
                        data={"csrf_token": tb}).status_code == 303
        running = wait_for(folder, batch_id, ("running", "done"), total=True)
        assert running.state == "running", "the merge ended before the server stopped"
    # the server stopped mid-merge: the batch is back in the queue, nothing lost
    stopped = jobs.get(folder, batch_id)
    assert stopped.state == "queued" and "中断" in stopped.message
    c = client(data, **settings)
    with c:
        token = log_in(c, "alice")
        assert "実行待ち" in c.get("/run").text or "実行中" in c.get("/run").text
        # the live progress: server-sent events until the end
        with c.stream("GET", f"/batches/{batch_id}/events") as r:
            events = [json.loads(line[6:]) for line in r.iter_lines()
                      if line.startswith("data: ")]
        done = wait_for(folder, batch_id, ("done", "failed"))
        assert done.state == "done", done.message
        progress = [e for e in events if "done" in e]
        assert progress[-1] == {"state": "done"} or progress[-1]["state"] == "done"
        assert any(e.get("total") == 8 for e in progress)
        assert done.result["pieces"] == 8 and done.result["rejected"] == 6
        assert done.result["print_files"] == ["workplace-001.pdf", "workplace-002.pdf",
                                              "home.pdf"]
        # merged in the runner process, into the batch's own folder
        out = data / "batches" / batch_id
        assert len(list((out / "pieces").glob("*.pdf"))) == 8
        assert (data / "tracking.sqlite").exists()
        actions = [json.loads(x) for x in (data / "web" / "audit.jsonl").read_text()
                   .splitlines()]
        assert [a["action"] for a in actions if a["user"] == "runner"] == [
            "batch-start", "batch-start", "batch-done"]

        # results: history, downloads of the batch's files only, track verify
        page = c.get("/results").text
        assert batch_id in page and "alice" in page and "bob" in page
        page = c.get(f"/results/{batch_id}").text
        assert "print/home.pdf" in page and "manifest.csv" in page
        assert "print/home.inserter.csv" in page
        r = c.get(f"/results/{batch_id}/files/print/home.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.content == (out / "print" / "home.pdf").read_bytes()
        assert len(PdfReader(io.BytesIO(r.content)).pages) > 0
        manifest = c.get(f"/results/{batch_id}/files/manifest.csv").content.decode("utf-8-sig")
        rows = list(csv.DictReader(manifest.splitlines()))
        assert len(rows) == 40 and {r["batch_id"] for r in rows} == {batch_id}
        # the tables as Excel workbooks too, keys as text
        r = c.get(f"/results/{batch_id}/xlsx/manifest.csv")
        book = load_workbook(io.BytesIO(r.content)).active
        table = list(book.iter_rows(values_only=True))
        assert len(table) == 41 and table[1][1] == rows[0]["member_key"]
        r = c.get(f"/results/{batch_id}/xlsx/print/home.inserter.csv")
        table = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert table[0][0] == "piece_id" and isinstance(table[1][1], int)
        assert c.get(f"/results/{batch_id}/xlsx/print/home.pdf").status_code == 404
        assert c.get(f"/results/{batch_id}/files/batch.json").status_code == 404
        assert c.get(f"/results/{batch_id}/files/pieces/{batch_id}-00001.pdf"
                     ).status_code == 404
        r = c.post(f"/results/{batch_id}/verify/print/home.pdf", data={"csrf_token": token})
        assert r.status_code == 303
        page = c.get(f"/results/{batch_id}").text
        assert "問題なし" in page and "home.pdf" in page
        assert re.search(r"home\.pdf: \d+ pages, \d+ pieces, OK", page)
        # the proof of the same batch (rendered on demand, not recorded anywhere)
        r = c.post(f"/batches/{batch_id}/proof", data={"csrf_token": token},
                   headers={"HX-Request": "true"})
        assert r.status_code == 200, r.text
        names = re.findall(rf'src="/batches/{batch_id}/proof/([^"]+\.png)"', r.text)
        assert names[0] == f"{batch_id}-00001-p1.png"
        assert len(names) == 3 * 10  # three pieces of 10 pages each (letter, cards, notice)
        assert "郵便料金の見積もり" in r.text and "円" in r.text
        png = c.get(f"/batches/{batch_id}/proof/{names[0]}")
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.environ.get("KENPO_DOCS_PASSWORD") is None
