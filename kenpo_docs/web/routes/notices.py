"""Page 7, お知らせ・申請書 (notices and forms): the register, a notice built and proofed, and
a 別添1/別添2 prefilled for one member of an uploaded roster.

Each action calls what the CLI calls: :func:`~kenpo_docs.publish.notices.build_notice` and
:func:`~kenpo_docs.publish.notices.proof_notice` (``notice build`` / ``notice proof``) into
``notices/`` of the data folder, :func:`~kenpo_docs.publish.forms.write_form` (``form build
--roster --member``) into ``forms/<user>/``. A download names a file by our own ids only
(the notice number, the format, the page; the form, the member key the roster matched) and
is read from those folders: a prefilled form (it holds a name and an address) only by the
user who built it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from kenpo_docs.documents.forms import FORMS
from kenpo_docs.documents.notices import (
    get_notice,
    load_register,
    source_path,
)
from kenpo_docs.domain.era import parse_date
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.publish.forms import write_form
from kenpo_docs.publish.notices import build_notice, incomplete, proof_notice
from kenpo_docs.web.accounts import User
from kenpo_docs.web.audit import audit
from kenpo_docs.web.routes.roster import recent_uploads
from kenpo_docs.web.security import AnyUser, data_folder
from kenpo_docs.web.store import DataFolder
from kenpo_docs.web.templating import page
from kenpo_docs.web.uploads import stored_path

router = APIRouter()
MENU = ("/notices", "お知らせ・申請書", None)

FORMAT_LABELS = {"pdf": "PDF", "docx": "Word (DOCX)"}
MEDIA = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "png": "image/png"}
#: A member as staff type it: 記号-番号 or 記号-番号-枝番 (the roster then has to match it).
MEMBER_RE = re.compile(r"^[0-9A-Za-z]{1,16}-[0-9A-Za-z]{1,16}(?:-[0-9]{1,4})?$")
#: A form file as write_form names it: <form>-<member>[-fillable].<fmt>.
FORM_FILE_RE = re.compile(
    "^(?:" + "|".join(FORMS) + ")-" + MEMBER_RE.pattern[1:-1] + r"(?:-fillable)?\.(?:pdf|docx)$")


def notices_dir(folder: DataFolder) -> Path:
    """Where notices are built (``output/notices`` by default, as ``notice build``)."""
    return folder.root / "notices"


def forms_dir(folder: DataFolder, user: User) -> Path:
    """The user's own prefilled forms (a user name is letters, digits, '.', '_', '-')."""
    return folder.root / "forms" / user.name


def _built(folder: DataFolder, number: int) -> dict[str, Any]:
    out = notices_dir(folder)
    pages = sorted((p for p in out.glob(f"notice-{number}-p*.png")),
                   key=lambda p: int(p.stem.rsplit("-p", 1)[1]))
    return {"files": [fmt for fmt in FORMAT_LABELS if (out / f"notice-{number}.{fmt}").is_file()],
            "pages": len(pages)}


def _context(folder: DataFolder, user: User, **extra: Any) -> dict[str, Any]:
    notices = load_register()
    context: dict[str, Any] = {
        "notices": [{"notice": n, "editable": source_path(n) is not None,
                     **_built(folder, n.number)} for n in notices],
        "formats": FORMAT_LABELS, "forms": FORMS, "rosters": recent_uploads(folder),
        "built": None, "form_file": None,
        "form_error": None, "values": {},
    }
    context.update(extra)
    return context


@router.get("/notices", response_class=HTMLResponse)
def notices_page(request: Request, user: AnyUser) -> HTMLResponse:
    """The register with each notice's files, and the prefilled-form form."""
    return page(request, "notices.html", _context(data_folder(request), user))


def _notice_result(request: Request, folder: DataFolder, number: int,
                   error: str | None = None) -> HTMLResponse:
    notice = get_notice(number)
    try:  # a notice.md notice's validation warnings, an HTML one's missing sections
        warnings = incomplete(number)
    except KenpoDocsError as exc:
        warnings = [str(exc)]
    context = {"item": {"notice": notice, **_built(folder, number)},
               "formats": FORMAT_LABELS, "warnings": warnings,
               "build_error": error}
    if request.headers.get("HX-Request"):
        return page(request, "notice_files.html", context, status_code=200)
    return page(request, "notice_files_page.html", context, status_code=400 if error else 200)


@router.post("/notices/{number}/build", response_class=HTMLResponse)
def build(request: Request, user: AnyUser, number: int,
          fmt: Literal["pdf", "docx"] = Form(...)) -> HTMLResponse:
    """``notice build NUMBER --format FMT --out <data>/notices``."""
    folder = data_folder(request)
    get_notice(number)  # an unknown number is the library's one-line error (400)
    try:
        build_notice(number, fmt, out_dir=notices_dir(folder))
    except KenpoDocsError as exc:
        return _notice_result(request, folder, number, str(exc))
    audit(request, "notice-build", notice=number, fmt=fmt)
    return _notice_result(request, folder, number)


@router.post("/notices/{number}/proof", response_class=HTMLResponse)
def proof(request: Request, user: AnyUser, number: int) -> HTMLResponse:
    """``notice proof NUMBER --out <data>/notices``: a PNG per page, shown in the page."""
    folder = data_folder(request)
    get_notice(number)
    out = notices_dir(folder)
    for old in out.glob(f"notice-{number}-p*.png"):  # a shorter draft leaves no stale page
        old.unlink()
    try:
        proof_notice(number, out_dir=out)
    except KenpoDocsError as exc:
        return _notice_result(request, folder, number, str(exc))
    audit(request, "notice-proof", notice=number)
    return _notice_result(request, folder, number)


def _file(path: Path, media: str, *, download: bool) -> FileResponse:
    if not path.is_file():
        raise HTTPException(404, "まだ作られていません (not built yet)")
    return FileResponse(path, media_type=media, filename=path.name if download else None,
                        content_disposition_type="attachment" if download else "inline")


@router.get("/notices/{number}/download/{fmt}")
def download(request: Request, user: AnyUser, number: int,
             fmt: Literal["pdf", "docx"]) -> Response:
    """The notice's built file (``notice-<number>.<fmt>``)."""
    return _file(notices_dir(data_folder(request)) / f"notice-{number}.{fmt}", MEDIA[fmt],
                 download=True)


@router.get("/notices/{number}/proof/{page_number}.png")
def proof_page(request: Request, user: AnyUser, number: int, page_number: int) -> Response:
    """One proof page (``notice-<number>-p<page>.png``)."""
    return _file(notices_dir(data_folder(request)) / f"notice-{number}-p{page_number}.png",
                 MEDIA["png"], download=False)


@router.post("/notices/forms", response_class=HTMLResponse)
def build_form(
    request: Request,
    user: AnyUser,
    form: str = Form(...),
    upload: str = Form(...),
    member: str = Form(...),
    fmt: Literal["pdf", "docx"] = Form("pdf"),
    fillable: bool = Form(False),
    as_of: str = Form(""),
) -> HTMLResponse:
    """``form build FORM --roster <upload> --member KEY``, into the user's forms folder."""
    folder = data_folder(request)
    values = {"form": form, "upload": upload, "member": member, "fmt": fmt,
              "fillable": fillable, "as_of": as_of}
    member = member.strip()
    error: str | None = None
    path: Path | None = None
    try:
        roster = stored_path(folder, upload)
    except KeyError:
        roster = None
    if form not in FORMS:
        error = f"申請書 {form!r} はありません (unknown form)"
    elif roster is None:
        error = "名簿を選んでください（名簿のページでアップロードしたもの） (choose a roster)"
    elif not MEMBER_RE.match(member):
        error = "記号-番号（または記号-番号-枝番）で入力してください (use 記号-番号[-枝番])"
    else:
        try:
            # as `form build --as-of` (default: today)
            on = parse_date(as_of, field="基準日") if as_of.strip() else dt.date.today()
            path = write_form(form, as_of=on, roster=roster, member=member,
                              fillable=fillable, fmt=fmt, out_dir=forms_dir(folder, user))
        except KenpoDocsError as exc:
            # The CLI's one line, the roster named by its upload id (not our file's path).
            error = str(exc).replace(str(roster), f"名簿 {upload}")
    if path is not None:
        audit(request, "form-build", form=form, upload=upload, member=member, fmt=fmt,
              fillable=fillable)
    context = _context(folder, user, form_file=path.name if path else None,
                       form_error=error, values=values)
    if request.headers.get("HX-Request"):
        return page(request, "notice_form_result.html", context)
    return page(request, "notices.html", context, status_code=400 if error else 200)


@router.get("/notices/forms/{name}")
def form_download(request: Request, user: AnyUser, name: str) -> Response:
    """A prefilled form the user built (their own folder only)."""
    if not FORM_FILE_RE.match(name):
        raise HTTPException(404, "そのファイルはありません (no such file)")
    response = _file(forms_dir(data_folder(request), user) / name, MEDIA[name.rsplit(".", 1)[1]],
                     download=True)
    audit(request, "form-download", file=name)
    return response
