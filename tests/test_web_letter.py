"""The results page offers one member's letter as its Word twin (issue 22: 「and the web
page's download」): the letter of the envelope the batch mailed, same 管理番号 and 文書番号,
named by the piece id; an unknown member or an unfinished batch is a 404 with one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import docx
import pytest

from kenpo_docs.web import jobs
from kenpo_docs.web.runner import run_batch
from kenpo_docs.web.store import DataFolder
from tests.web_helpers import client, log_in, make_data, prepare

pytestmark = pytest.mark.slow

MEMBER = "0034-000201-00"  # a home-route member of the sample roster


def test_a_members_letter_as_word_from_the_results_page(tmp_path: Path) -> None:
    data = make_data(tmp_path)
    folder = DataFolder(data)
    c = client(data)
    token = log_in(c, "alice")
    batch_id = prepare(c, token, data, notice="539", document_number="12")
    assert c.get(f"/results/{batch_id}/letter", params={"member": MEMBER}).status_code == 404
    # the merge as the runner runs it, in this process
    jobs.finish(folder, batch_id, "queued", "")
    batch = jobs.take_next(folder)
    assert batch is not None and run_batch(folder, batch, workers=1) == "done"

    page = c.get(f"/results/{batch_id}").text
    assert f'action="/results/{batch_id}/letter"' in page
    r = c.get(f"/results/{batch_id}/letter", params={"member": MEMBER})
    assert r.status_code == 200, r.text
    manifest = (data / "batches" / batch_id / "manifest.csv").read_text("utf-8-sig")
    piece = next(row["piece_id"] for row in csv.DictReader(manifest.splitlines())
                 if row["member_key"] == MEMBER)
    assert f'filename="{piece}.docx"' in r.headers["content-disposition"]
    body = "".join(docx.Document(io.BytesIO(r.content)).element.body.itertext())
    assert f"管理番号 {piece}" in body and "文書番号 年けん発第12号" in body
    audit = [json.loads(x) for x in (data / "web" / "audit.jsonl").read_text().splitlines()]
    assert any(a.get("file") == f"letter:{piece}" for a in audit)
    assert MEMBER not in (data / "web" / "audit.jsonl").read_text()

    r = c.get(f"/results/{batch_id}/letter", params={"member": "9999-999999-00"})
    assert r.status_code == 404 and "member not found" in r.text
