"""Page 1, 名簿: upload a roster and see ``kenpo-docs check``'s result as tables.

The upload is checked by content and stored under our own id
(:mod:`kenpo_docs.web.uploads`); the result is :func:`~kenpo_docs.mailing.window.check_for_mailing`
on the stored file, exactly what ``kenpo-docs check`` prints: counts, households and members
per route, and every rejected or warned row with its row number, column and reason (member
keys, never names). The rejected rows download as the CSV ``check --report`` writes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from kenpo_docs.domain.era import parse_date
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.input.check import CheckResult, report_bytes
from kenpo_docs.mailing.window import check_for_mailing
from kenpo_docs.web import uploads
from kenpo_docs.web.audit import audit
from kenpo_docs.web.security import AnyUser, data_folder
from kenpo_docs.web.store import DataFolder, connect
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/roster", "1 名簿", None)
_CHUNK = 1 << 20
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def recent_uploads(folder: DataFolder, limit: int = 20) -> list[dict[str, object]]:
    with connect(folder) as conn:
        rows = conn.execute("SELECT id, kind, size, uploaded_by, created FROM uploads "
                            "ORDER BY created DESC, id DESC LIMIT ?", (limit,)).fetchall()
    return [dict(r) for r in rows]


def as_of_date(value: str | None) -> date:
    """The page's 基準日 (any form the CLI's --as-of reads); today when empty."""
    if not value:
        return date.today()
    return parse_date(value, field="基準日")


def run_check(folder: DataFolder, upload_id: str, as_of: date) -> CheckResult:
    """``kenpo-docs check`` on a stored upload (404 for an unknown id)."""
    try:
        path = uploads.stored_path(folder, upload_id)
    except KeyError:
        raise HTTPException(404, "その名簿はありません (no such upload)") from None
    return check_for_mailing(path, as_of=as_of)


@router.get("/roster")
def roster_page(request: Request, user: AnyUser) -> Response:
    return page(request, "roster.html", {
        "uploads": recent_uploads(data_folder(request)),
        "limit_mb": request.app.state.settings.upload_limit // (1024 * 1024)})


@router.post("/roster")
async def upload(request: Request, user: AnyUser,
                 roster: Annotated[UploadFile | None, File()] = None) -> Response:
    folder = data_folder(request)
    limit: int = request.app.state.settings.upload_limit
    error = None
    status = 400
    if roster is None or not roster.filename:
        error = "ファイルを選んでください (choose a file)"
    else:
        data = bytearray()
        while chunk := await roster.read(_CHUNK):
            data += chunk
            if len(data) > limit:
                error = (f"ファイルが大きすぎます（上限 {limit // (1024 * 1024)} MB） "
                         "(file too large)")
                status = 413
                break
        if error is None:
            try:
                upload_id, kind = uploads.store(folder, bytes(data), user)
            except KenpoDocsError as exc:
                error = str(exc)
            else:
                audit(request, "upload", upload=upload_id, kind=kind, size=len(data))
                return RedirectResponse(f"/roster/{upload_id}", status_code=303)
    return page(request, "roster.html", {
        "uploads": recent_uploads(folder), "error": error,
        "limit_mb": limit // (1024 * 1024)}, status_code=status)


@router.get("/roster/{upload_id}")
def check_page(request: Request, upload_id: str, user: AnyUser,
               as_of: Annotated[str | None, Query()] = None) -> Response:
    folder = data_folder(request)
    try:
        day = as_of_date(as_of)
        result = run_check(folder, upload_id, day)
    except KenpoDocsError as exc:
        return page(request, "check.html", {
            "upload_id": upload_id, "result": None, "as_of": as_of or "",
            "error": str(exc)}, status_code=400)
    audit(request, "check", upload=upload_id, as_of=day.isoformat(),
          rejected=len(result.errors))
    return page(request, "check.html", {"upload_id": upload_id, "result": result,
                                        "as_of": day.isoformat()})


@router.get("/roster/{upload_id}/rejects.{kind}")
def rejects(request: Request, upload_id: str, kind: str, user: AnyUser,
            as_of: Annotated[str | None, Query()] = None) -> Response:
    """The rejected rows as ``check --report`` writes them: CSV or the typed workbook."""
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "csv か xlsx です (csv or xlsx)")
    day = as_of_date(as_of)
    result = run_check(data_folder(request), upload_id, day)
    audit(request, "download-rejects", upload=upload_id, rows=len(result.errors), kind=kind)
    return Response(report_bytes(result.errors, xlsx=kind == "xlsx"), media_type=MEDIA[kind],
                    headers={"Content-Disposition":
                             f'attachment; filename="rejects-{upload_id}.{kind}"'})
