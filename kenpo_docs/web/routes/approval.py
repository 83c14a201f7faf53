"""Page 3, 承認: a batch prepared by one person is approved by another before it runs.

The rule itself (not by the person who prepared it; only a pending batch; one approval
when two click at once) is :mod:`kenpo_docs.web.jobs`'. ``serve --no-approval`` turns the
step off for a one-person office: a draft is then run directly
(:mod:`~kenpo_docs.web.routes.run`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from kenpo_docs.web import jobs
from kenpo_docs.web.audit import audit
from kenpo_docs.web.routes.mailing import batch_context, get_batch
from kenpo_docs.web.security import AnyUser, Approver, data_folder
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/approvals", "3 承認", None)


def refused(request: Request, batch_id: str, exc: jobs.StateError) -> Response:
    """The batch page again, with why the click was refused."""
    context = batch_context(request, get_batch(data_folder(request), batch_id))
    context["error"] = str(exc)
    return page(request, "batch.html", context, status_code=409)


@router.get("/approvals")
def approvals(request: Request, user: AnyUser) -> Response:
    folder = data_folder(request)
    return page(request, "approvals.html", {
        "pending": jobs.all_batches(folder, states=("pending",)),
        "drafts": jobs.all_batches(folder, states=("draft",))})


@router.post("/batches/{batch_id}/request")
def request_approval(request: Request, batch_id: str, user: AnyUser) -> Response:
    folder = data_folder(request)
    get_batch(folder, batch_id)
    if not request.app.state.settings.require_approval:
        raise HTTPException(409, "承認は不要に設定されています: 「実行する」を使ってください "
                                 "(approval is off)")
    try:
        jobs.request_approval(folder, batch_id)
    except jobs.StateError as exc:
        return refused(request, batch_id, exc)
    audit(request, "approval-request", batch=batch_id)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.post("/batches/{batch_id}/approve")
def approve(request: Request, batch_id: str, user: Approver) -> Response:
    folder = data_folder(request)
    get_batch(folder, batch_id)
    try:
        jobs.approve(folder, batch_id, user)
    except jobs.StateError as exc:
        return refused(request, batch_id, exc)
    audit(request, "approve", batch=batch_id)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.post("/batches/{batch_id}/send-back")
def send_back(request: Request, batch_id: str, user: Approver,
              reason: Annotated[str, Form()] = "") -> Response:
    folder = data_folder(request)
    get_batch(folder, batch_id)
    message = f"{user.name} さんが差し戻しました" + (f"：{reason.strip()[:200]}"
                                                   if reason.strip() else "")
    try:
        jobs.send_back(folder, batch_id, message)
    except jobs.StateError as exc:
        return refused(request, batch_id, exc)
    audit(request, "send-back", batch=batch_id)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)
