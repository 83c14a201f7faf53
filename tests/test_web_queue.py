"""The batch queue without the runner process: cancel reaches a running merge, one runner
per data folder, and a server error is logged without the data that caused it."""

from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path

import pytest

from kenpo_docs.web import jobs, runner, uploads
from kenpo_docs.web.accounts import get_user
from kenpo_docs.web.store import DataFolder
from tests.web_helpers import AS_OF, SAMPLE, client, log_in, make_data, upload, uploaded_id

OPTIONS = {"letter": "kakuninsho", "as_of": AS_OF, "enclosures": [], "sides": "duplex"}


def queued(folder: DataFolder) -> jobs.Batch:
    alice, bob = get_user(folder, "alice"), get_user(folder, "bob")
    upload_id, _ = uploads.store(folder, SAMPLE.read_bytes(), alice)
    batch = jobs.create(folder, upload=upload_id, options=OPTIONS, user=alice)
    jobs.request_approval(folder, batch.id)
    return jobs.approve(folder, batch.id, bob)


def test_cancel_stops_a_running_merge_and_run_again_resumes(tmp_path: Path) -> None:
    folder = DataFolder(make_data(tmp_path))
    batch = queued(folder)
    taken = jobs.take_next(folder)
    assert taken is not None and taken.id == batch.id
    jobs.cancel(folder, batch.id)  # running: the runner is asked to stop
    assert jobs.get(folder, batch.id).cancel
    # the merge's first progress report (after the roster is read) sees the cancel
    assert runner.run_batch(folder, taken, workers=1) == "cancelled"
    stopped = jobs.get(folder, batch.id)
    assert stopped.state == "cancelled" and "続きから" in stopped.message
    assert not list((folder.batch_dir(batch.id) / "pieces").glob("*.pdf"))
    jobs.run_again(folder, batch.id)
    assert jobs.take_next(folder).id == batch.id
    with pytest.raises(jobs.StateError, match="再実行"):  # it is running again
        jobs.run_again(folder, batch.id)


def test_interrupted_batches_go_back_to_the_queue(tmp_path: Path) -> None:
    folder = DataFolder(make_data(tmp_path))
    first, second = queued(folder), queued(folder)
    jobs.take_next(folder)
    jobs.take_next(folder)
    jobs.cancel(folder, second.id)  # asked while the server was going down
    assert jobs.requeue_interrupted(folder) == 1
    assert jobs.get(folder, first.id).state == "queued"
    assert jobs.get(folder, second.id).state == "cancelled"


def test_one_runner_per_data_folder(tmp_path: Path) -> None:
    """A second server on the same data folder: its runner waits for the first one's."""
    folder = DataFolder(make_data(tmp_path))
    stop = multiprocessing.get_context("spawn").Event()
    with runner._only_runner(folder, stop) as mine:
        assert mine
        second = runner.start(folder, workers=1)
        try:
            batch = queued(folder)
            time.sleep(3 * runner.POLL_SECONDS + 2.0)  # spawn, import, look at the queue
            assert jobs.get(folder, batch.id).state == "queued"  # not taken
            assert second.alive
        finally:
            second.stop()
    assert not second.alive


def test_server_errors_are_logged_without_the_data(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    data = make_data(tmp_path)
    c = client(data)
    token = log_in(c, "alice")
    upload_id = uploaded_id(upload(c, token, "r.csv", SAMPLE.read_bytes()))

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("高橋 一郎 東京都千代田区")

    monkeypatch.setattr("kenpo_docs.web.routes.roster.check_for_mailing", broken)
    # nothing reaches the server (uvicorn would log the message with its traceback)
    with caplog.at_level(logging.ERROR):
        r = c.get(f"/roster/{upload_id}")
    assert r.status_code == 500
    assert "サーバーでエラーが起きました" in r.text
    assert "高橋" not in r.text and "高橋" not in caplog.text
    assert "ValueError" in caplog.text and f"/roster/{upload_id}" in caplog.text


def test_a_roster_the_merge_refuses_fails_the_batch_with_its_message(tmp_path: Path) -> None:
    folder = DataFolder(make_data(tmp_path))
    alice, bob = get_user(folder, "alice"), get_user(folder, "bob")
    upload_id, _ = uploads.store(folder, "名前,住所\nA,B\n".encode(), alice)
    batch = jobs.create(folder, upload=upload_id, options=OPTIONS, user=alice)
    jobs.request_approval(folder, batch.id)
    jobs.approve(folder, batch.id, bob)
    assert runner.run_batch(folder, jobs.take_next(folder), workers=1) == "failed"
    failed = jobs.get(folder, batch.id)
    assert failed.state == "failed"
    assert "\n" not in failed.message and "Traceback" not in failed.message
    assert "記号" in failed.message  # the roster reader's own words: a missing column


def test_time_left() -> None:
    from datetime import UTC, datetime, timedelta

    from kenpo_docs.web.routes.run import progress_event, time_left

    start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    batch = jobs.Batch(
        id="W1", upload="U1", options=OPTIONS, state="running", prepared_by="a",
        approved_by="b", created="", requested=None, approved=None,
        started=start.isoformat(), finished=None, done=100, total=1000, cancel=False,
        message="", result={})
    # 100 pieces in 60 s: 900 more take 9 minutes
    assert time_left(batch, start + timedelta(seconds=60)) == "残り 約 9 分"
    assert time_left(batch, start + timedelta(seconds=2)) == "残り 約 20 秒"
    assert progress_event(batch)["percent"] == 10
    from dataclasses import replace

    assert time_left(replace(batch, state="queued")) == ""
    assert time_left(replace(batch, done=0)) == ""
