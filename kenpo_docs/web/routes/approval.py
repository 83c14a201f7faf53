"""Page 3, 承認: a batch prepared by one person is approved by another before it runs.

The rule itself (not by the person who prepared it; only a pending batch; one approval
when two click at once) is :mod:`kenpo_docs.web.jobs`'. ``serve --no-approval`` turns the
step off for a one-person office: a draft is then run directly
(:mod:`~kenpo_docs.web.routes.run`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from kenpo_docs.web import jobs
from kenpo_docs.web.audit import audit
from kenpo_docs.web.routes.mailing import batch_context, get_batch
from kenpo_docs.web.security import AnyUser, Approver, data_folder
from kenpo_docs.web.store import DataFolder
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/approvals", "3 承認", None)


def refused(request: Request, batch_id: str, exc: jobs.StateError) -> Response:
    """The batch page again, with why the click was refused."""
    context = batch_context(request, get_batch(data_folder(request), batch_id))
    context["error"] = str(exc)
    return page(request, "batch.html", context, status_code=409)


def act(request: Request, batch_id: str, action: str,
        change: Callable[[DataFolder, str], object]) -> Response:
    """One click on a batch: ``change`` it (a :mod:`~kenpo_docs.web.jobs` transition), log
    ``action`` and show the batch again; a transition the batch's state does not allow
    (someone else acted first) shows the batch page with why (409)."""
    folder = data_folder(request)
    get_batch(folder, batch_id)  # 404 for an unknown id
    try:
        change(folder, batch_id)
    except jobs.StateError as exc:
        return refused(request, batch_id, exc)
    audit(request, action, batch=batch_id)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.get("/approvals")
def approvals(request: Request, user: AnyUser) -> Response:
    folder = data_folder(request)
    return page(request, "approvals.html", {
        "pending": jobs.all_batches(folder, states=("pending",)),
        "drafts": jobs.all_batches(folder, states=("draft",))})


@router.post("/batches/{batch_id}/request")
def request_approval(request: Request, batch_id: str, user: AnyUser) -> Response:
    if not request.app.state.settings.require_approval:
        raise HTTPException(409, "承認は不要に設定されています: 「実行する」を使ってください "
                                 "(approval is off)")
    return act(request, batch_id, "approval-request", jobs.request_approval)


@router.post("/batches/{batch_id}/approve")
def approve(request: Request, batch_id: str, user: Approver) -> Response:
    return act(request, batch_id, "approve",
               lambda folder, batch: jobs.approve(folder, batch, user))


@router.post("/batches/{batch_id}/send-back")
def send_back(request: Request, batch_id: str, user: Approver,
              reason: Annotated[str, Form()] = "") -> Response:
    message = f"{user.name} さんが差し戻しました" + (f"：{reason.strip()[:200]}"
                                                   if reason.strip() else "")
    return act(request, batch_id, "send-back",
               lambda folder, batch: jobs.send_back(folder, batch, message))
