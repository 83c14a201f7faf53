"""Page 4, 実行: the queue of approved batches, live progress, cancel.

Batches run in the runner process (:mod:`kenpo_docs.web.runner`), one at a time, in the
order they were approved. ``/batches/<id>/events`` streams the progress the runner writes
(server-sent events, ``text/event-stream``): ``progress`` events with pieces done / total,
per cent and the time left, then ``end`` when the batch is no longer queued or running.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from kenpo_docs.web import jobs
from kenpo_docs.web.accounts import User
from kenpo_docs.web.routes.approval import act
from kenpo_docs.web.routes.mailing import get_batch
from kenpo_docs.web.security import AnyUser, data_folder
from kenpo_docs.web.store import DataFolder
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/run", "4 実行", None)
#: Seconds between two progress events.
EVENT_SECONDS = 0.5
#: A stream ends after this long (the browser's EventSource reconnects by itself).
STREAM_SECONDS = 600.0


def time_left(batch: jobs.Batch, now: datetime | None = None) -> str:
    """「残り 約 N 分」 from the rate since the batch started ("" until it can be said)."""
    if batch.state != "running" or not batch.started or not batch.total or not batch.done:
        return ""
    now = now or datetime.now(UTC)
    elapsed = (now - datetime.fromisoformat(batch.started)).total_seconds()
    if elapsed <= 0 or batch.done >= batch.total:
        return ""
    seconds = elapsed / batch.done * (batch.total - batch.done)
    if seconds < 60:
        return f"残り 約 {max(5, round(seconds / 5) * 5)} 秒"
    return f"残り 約 {round(seconds / 60)} 分"


def progress_event(batch: jobs.Batch) -> dict[str, object]:
    percent = int(100 * batch.done / batch.total) if batch.total else 0
    return {"state": batch.state, "state_label": batch.state_label, "done": batch.done,
            "total": batch.total, "percent": percent, "left": time_left(batch)}


@router.get("/run")
def queue_page(request: Request, user: AnyUser) -> Response:
    folder = data_folder(request)
    return page(request, "run.html", {
        "active": jobs.all_batches(folder, states=("running", "queued")),
        "recent": jobs.all_batches(folder, states=("done", "failed", "cancelled"))[:10]})


async def _events(folder: DataFolder, batch_id: str, request: Request) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    waited = 0.0
    while waited < STREAM_SECONDS:
        batch = await run_in_threadpool(jobs.get, folder, batch_id)
        yield f"event: progress\ndata: {json.dumps(progress_event(batch))}\n\n"
        if batch.state not in ("queued", "running"):
            yield f"event: end\ndata: {json.dumps({'state': batch.state})}\n\n"
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENT_SECONDS)
        waited += EVENT_SECONDS


@router.get("/batches/{batch_id}/events")
def events(request: Request, batch_id: str, user: AnyUser) -> Response:
    folder = data_folder(request)
    batch = get_batch(folder, batch_id)
    return StreamingResponse(_events(folder, batch.id, request),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _may_rerun(request: Request, user: User) -> None:
    if request.app.state.settings.require_approval and not user.has_role("approver"):
        raise HTTPException(403, "この操作の権限がありません: 承認者が実行してください "
                                 "(an approver runs an approved batch again)")


@router.post("/batches/{batch_id}/run")
def run_now(request: Request, batch_id: str, user: AnyUser) -> Response:
    """Approval off: queue a draft at once."""
    get_batch(data_folder(request), batch_id)
    if request.app.state.settings.require_approval:
        raise HTTPException(403, "承認が必要です: 承認を依頼してください (approval required)")
    return act(request, batch_id, "run", jobs.run_without_approval)


@router.post("/batches/{batch_id}/cancel")
def cancel(request: Request, batch_id: str, user: AnyUser) -> Response:
    return act(request, batch_id, "cancel", jobs.cancel)


@router.post("/batches/{batch_id}/run-again")
def run_again(request: Request, batch_id: str, user: AnyUser) -> Response:
    get_batch(data_folder(request), batch_id)
    _may_rerun(request, user)
    return act(request, batch_id, "run-again", jobs.run_again)
