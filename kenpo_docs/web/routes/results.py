"""Page 5, 結果: batch history and each batch's files, with ``track verify`` per print file.

Every file offered is looked up in the batch's own folder listing (:func:`batch_files`): the
manifest, the print files, their inserter CSVs and ``print/index.csv``. A download names a
file of that list, never a path; anything else is 404. The check of a print file is
:func:`kenpo_docs.tracking.expected.verify_print_file` (``kenpo-docs track verify``) against
the data folder's tracking database, in a separate process; its result is kept beside the
web database and shown with the file.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.files import write_atomic
from kenpo_docs.mailing import executor
from kenpo_docs.mailing.manifest import table_xlsx_bytes
from kenpo_docs.tracking.expected import verify_print_file
from kenpo_docs.web import jobs, uploads
from kenpo_docs.web.audit import audit
from kenpo_docs.web.routes.mailing import get_batch
from kenpo_docs.web.routes.roster import MEDIA
from kenpo_docs.web.security import AnyUser, data_folder
from kenpo_docs.web.store import DataFolder, utc_stamp
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/results", "5 結果", None)
_verify_lock = threading.Lock()

_MEDIA = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8"}


def batch_files(folder: DataFolder, batch: jobs.Batch) -> dict[str, Path]:
    """The downloadable files of a finished batch, by their name within its folder."""
    if batch.state != "done":
        return {}
    out = folder.batch_dir(batch.id)
    files: dict[str, Path] = {}
    if (out / "manifest.csv").is_file():
        files["manifest.csv"] = out / "manifest.csv"
    for path in sorted((out / "print").glob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix in _MEDIA:
            files[f"print/{path.name}"] = path
    return files


def verify_record(folder: DataFolder, batch_id: str, name: str) -> dict[str, Any] | None:
    path = folder.web / "verify" / batch_id / f"{Path(name).stem}.json"
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return record


@router.get("/results")
def history(request: Request, user: AnyUser) -> Response:
    folder = data_folder(request)
    batches = jobs.all_batches(folder, states=("done", "failed", "cancelled", "running",
                                               "queued"))
    return page(request, "results.html", {
        "batches": batches,
        "hashes": {b.upload: uploads.upload_sha256(folder, b.upload) for b in batches}})


@router.get("/results/{batch_id}")
def batch_results(request: Request, batch_id: str, user: AnyUser) -> Response:
    folder = data_folder(request)
    batch = get_batch(folder, batch_id)
    files = batch_files(folder, batch)
    prints = [n for n in files if n.endswith(".pdf")]
    others = [n for n in files if not n.endswith(".pdf")]
    return page(request, "batch_results.html", {
        "batch": batch, "prints": prints, "others": others,
        "sizes": {n: p.stat().st_size for n, p in files.items()},
        "verified": {n: verify_record(folder, batch.id, n) for n in prints},
        "roster_sha256": uploads.upload_sha256(folder, batch.upload)})


def _lookup(folder: DataFolder, batch_id: str, name: str) -> tuple[jobs.Batch, Path]:
    batch = get_batch(folder, batch_id)
    path = batch_files(folder, batch).get(name)
    if path is None:
        raise HTTPException(404, "その一括処理にそのファイルはありません (no such file in "
                                 "this batch)")
    return batch, path


@router.get("/results/{batch_id}/files/{name:path}")
def download(request: Request, batch_id: str, name: str, user: AnyUser) -> Response:
    batch, path = _lookup(data_folder(request), batch_id, name)
    audit(request, "download", batch=batch.id, file=name.replace("/", ":"))
    return FileResponse(path, media_type=_MEDIA[path.suffix],
                        filename=f"{batch.id}-{path.name}")


@router.get("/results/{batch_id}/xlsx/{name:path}")
def download_xlsx(request: Request, batch_id: str, name: str, user: AnyUser) -> Response:
    """A CSV table of the batch (manifest, index, inserter files) as an Excel workbook."""
    folder = data_folder(request)
    batch, path = _lookup(folder, batch_id, name)
    if path.suffix != ".csv":
        raise HTTPException(404, "CSV の表だけを Excel にできます (only CSV tables)")
    data = table_xlsx_bytes(folder.batch_dir(batch.id), name)
    audit(request, "download", batch=batch.id, file=name.replace("/", ":"), kind="xlsx")
    return Response(data, media_type=MEDIA["xlsx"], headers={
        "Content-Disposition": f'attachment; filename="{batch.id}-{path.stem}.xlsx"'})


#: The Word twin of a member's letter (kenpo-docs letter docx).
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/results/{batch_id}/letter")
def letter_docx_download(request: Request, batch_id: str, member: str,
                         user: AnyUser) -> Response:
    """The letter of the envelope holding ``member`` (記号-番号-枝番) as an editable Word
    file, exactly the mailed piece's (``kenpo-docs letter docx --batch-dir``): same roster,
    options and folder, so the same 管理番号 and 文書番号. Named by the piece id."""
    from kenpo_docs.mailing.letter_docx import letter_docx
    from kenpo_docs.web.runner import merge_options

    folder = data_folder(request)
    batch = get_batch(folder, batch_id)
    if batch.state != "done":
        raise HTTPException(404, "終わった一括処理の文書だけを出せます (only a finished batch)")
    try:
        made = letter_docx(uploads.stored_path(folder, batch.upload),
                           member_key=member.strip(), batch_dir=folder.batch_dir(batch.id),
                           options=merge_options(folder, batch, workers=1, record=False))
    except KenpoDocsError as exc:
        raise HTTPException(404, str(exc)) from exc
    audit(request, "download", batch=batch.id, file=f"letter:{made.piece_id}")
    return Response(made.data, media_type=DOCX, headers={
        "Content-Disposition": f'attachment; filename="{made.piece_id}.docx"'})


@router.post("/results/{batch_id}/verify/{name:path}")
def verify(request: Request, batch_id: str, name: str, user: AnyUser) -> Response:
    """Read every page's piece code and check the print file against the tracking
    database (``track verify``)."""
    folder = data_folder(request)
    batch, path = _lookup(folder, batch_id, name)
    if path.suffix != ".pdf":
        raise HTTPException(404, "印刷ファイル (PDF) だけを照合できます (only print files)")
    try:
        with _verify_lock, executor.pool(1) as pool:
            found, report = pool.submit(verify_print_file, folder.tracking_db, path).result()
    except KenpoDocsError as exc:
        record: dict[str, Any] = {"ok": False, "summary": str(exc), "problems": [],
                                  "against": ""}
    else:
        record = {"ok": not report.problems, "summary": report.summary(),
                  "against": found.describe(path.name),
                  "problems": [{"kind": p.kind, "page": p.page, "piece": p.piece_id,
                                "detail": p.detail} for p in report.problems]}
    record["at"] = utc_stamp()
    record["by"] = user.name
    write_atomic(folder.web / "verify" / batch.id / f"{path.stem}.json",
                 json.dumps(record, ensure_ascii=False).encode())
    audit(request, "verify", batch=batch.id, file=name.replace("/", ":"), ok=record["ok"])
    return RedirectResponse(f"/results/{batch.id}#verify-{path.stem}", status_code=303)
