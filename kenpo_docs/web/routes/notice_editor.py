"""The notice editor (お知らせの作成・編集): a new notice from the starter, pasted Markdown or a
house-style Word file; its ``notice.md`` edited with a live proof; a Word re-upload; issue.

Each action calls what the CLI calls: :func:`~kenpo_docs.publish.notices.new_from_source`
(``notice new [--from]``) or :func:`~kenpo_docs.publish.notices.new_from_markdown`,
:func:`~kenpo_docs.publish.notices.save_source` and
:func:`~kenpo_docs.publish.notices.replace_from_word` (the draft's source),
:func:`~kenpo_docs.publish.notices.check_source` (validation, an undefined variable included,
with its line), :func:`~kenpo_docs.publish.notices.proof_notice` (``notice proof``) and
:func:`~kenpo_docs.publish.notices.issue` (``notice issue``, with the approver's name).

Issuing takes the approver role and, when the app's two-person setting is on
(``WebSettings.require_approval``), someone other than the person who last changed the
notice's source here (``notice_edits`` of the web database). A Word file is checked by
content and kept 0600 as ``web/uploads/<our id>.docx``; the name the browser sent is never
used. The audit log gets the notice number, the user and the action only.
"""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from kenpo_docs.documents.notices import Notice, get_notice, source_path
from kenpo_docs.documents.noticetree import NoticeDoc, check_notice
from kenpo_docs.domain.era import parse_date
from kenpo_docs.errors import KenpoDocsError, TemplateError
from kenpo_docs.files import write_atomic
from kenpo_docs.paths import templates_dir
from kenpo_docs.publish.notices import (
    check_source,
    issue,
    new_from_markdown,
    new_from_source,
    proof_notice,
    replace_from_word,
    save_source,
    word_warnings,
)
from kenpo_docs.web.audit import audit
from kenpo_docs.web.routes.notices import FORMAT_LABELS, MEDIA, notices_dir
from kenpo_docs.web.security import AnyUser, Approver, data_folder
from kenpo_docs.web.store import DataFolder, connect, new_id, transaction, utc_stamp
from kenpo_docs.web.templating import page

router = APIRouter()

#: The Word template staff write a notice in (offered as a download on the new-notice page).
HOUSE_STYLE = "house-style.docx"
_DOCX_PARTS = {"[Content_Types].xml", "word/document.xml"}


def sniff_docx(data: bytes) -> None:
    """Refuse what is not a Word (.docx) document, by content.

    Raises:
        TemplateError: empty, an old .doc, a zip that is no .docx, or anything else.
    """
    if not data:
        raise TemplateError("空のファイルです (empty file)")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TemplateError("古い形式 (.doc) か、パスワード付きの文書です。Word で .docx として"
                            "保存してください (legacy .doc or encrypted: save as .docx)")
    if data[:4] != b"PK\x03\x04":
        raise TemplateError("Word 文書 (.docx) ではありません (not a .docx file)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise TemplateError("壊れた .docx ファイルです (damaged .docx)") from exc
    if not _DOCX_PARTS <= names:
        raise TemplateError("Word 文書 (.docx) ではない zip ファイルです (a zip, not a .docx)")


def _store_word(folder: DataFolder, data: bytes) -> Path:
    """Check ``data`` and keep it 0600 as ``web/uploads/<our id>.docx``."""
    sniff_docx(data)
    path = folder.uploads / f"{new_id('D')}.docx"
    write_atomic(path, data)
    return path


def _edited(folder: DataFolder, number: int, user: str) -> None:
    with connect(folder) as conn, transaction(conn):
        conn.execute("INSERT INTO notice_edits (number, edited_by, edited) VALUES (?, ?, ?) "
                     "ON CONFLICT (number) DO UPDATE SET edited_by = excluded.edited_by, "
                     "edited = excluded.edited", (number, user, utc_stamp()))


def last_edit(folder: DataFolder, number: int) -> dict[str, str] | None:
    """Who last changed notice ``number``'s source on the web page, and when."""
    with connect(folder) as conn:
        row = conn.execute("SELECT edited_by, edited FROM notice_edits WHERE number = ?",
                           (number,)).fetchone()
    return None if row is None else {"by": row["edited_by"], "at": row["edited"]}


#: One save-and-proof of a notice at a time (htmx may send the next while one renders): a
#: proof never deletes the pages another is writing.
_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(number: int) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(number, threading.Lock())


def _proof_pages(folder: DataFolder, number: int) -> int:
    return len(list(notices_dir(folder).glob(f"notice-{number}-p*.png")))


def _check(folder: DataFolder, number: int, *, proof: bool) -> dict[str, Any]:
    """Validate the notice's source; with no error (and ``proof``) render its proof pages."""
    with _lock(number):
        problems = check_source(number)
        errors = [p for p in problems if p.severity == "error"]
        proof_error = None
        if proof and not errors:
            out = notices_dir(folder)
            for old in out.glob(f"notice-{number}-p*.png"):  # a shorter draft leaves none
                old.unlink()
            try:
                proof_notice(number, out_dir=out)
            except KenpoDocsError as exc:
                proof_error = str(exc)
        pages = _proof_pages(folder, number)
        first = notices_dir(folder) / f"notice-{number}-p1.png"
        # The pictures' version in their address: a new proof is never a cached picture.
        stamp = str(first.stat().st_mtime_ns) if first.is_file() else "0"
    return {"problems": problems, "errors": len(errors), "proof_error": proof_error,
            "pages": pages, "stamp": stamp}


def _editor(request: Request, notice: Notice, *, status_code: int = 200,
            **extra: Any) -> HTMLResponse:
    folder = data_folder(request)
    path = source_path(notice)
    context: dict[str, Any] = {
        "entry": notice, "number": notice.number,
        "text": path.read_text(encoding="utf-8") if path else "",
        "edit": last_edit(folder, notice.number), "word_warnings": None,
        "formats": FORMAT_LABELS, "check": _check(folder, notice.number, proof=False),
        "issue_error": None,
    }
    context.update(extra)
    return page(request, "notice_editor.html", context, status_code=status_code)


def _source_notice(number: int) -> Notice:
    notice = get_notice(number)  # an unknown number is the library's one-line error (400)
    if source_path(notice) is None:
        raise HTTPException(404, f"第{number}号は HTML で作られたお知らせです。エディタでは"
                                 "編集できません (an HTML notice, not editable here)")
    return notice


@router.get("/notices/new", response_class=HTMLResponse)
def new_page(request: Request, user: AnyUser) -> HTMLResponse:
    """The form: title, date and where the text comes from."""
    return page(request, "notice_new.html", {"values": {"start": "starter"}})


@router.get("/notices/house-style.docx")
def house_style(user: AnyUser) -> Response:
    """The Word template with the house styles (表題, 見出し 1/2, 本文, 囲み, …)."""
    path = templates_dir() / "notices" / HOUSE_STYLE
    if not path.is_file():
        raise HTTPException(404, "テンプレートがありません (house-style.docx missing)")
    return FileResponse(path, media_type=MEDIA["docx"], filename=HOUSE_STYLE)


def _create(folder: DataFolder, title: str, on: str, start: str, markdown: str,
            word: bytes) -> Notice:
    """The new notice from the form (see :func:`new_notice`)."""
    if not title:
        raise TemplateError("題名を入力してください (title missing)")
    date = parse_date(on, field="日付")
    too_long = [str(p) for p in check_notice(NoticeDoc(None, ()), title=title)
                if p.severity == "error"]
    if too_long:  # refused before a number is taken
        raise TemplateError(too_long[0])
    if start not in ("starter", "markdown", "word"):
        raise TemplateError("作り方を選んでください (choose how to start)")
    if start == "markdown" and not markdown.strip():
        raise TemplateError("Markdown の本文を貼り付けてください (no Markdown given)")
    source = _store_word(folder, word) if start == "word" else None
    try:
        if start == "markdown":
            return new_from_markdown(title, date, markdown)[0]
        return new_from_source(title, date, source)[0]
    except TemplateError as exc:  # nothing was registered
        raise TemplateError("本文の変数か {% %} の書き方に誤りがあるため、作れませんでした。使える"
                            f"変数は notice, periods, card_rows, timings, contact です ({exc})",
                            ) from exc


@router.post("/notices/new", response_class=HTMLResponse)
async def new_notice(
    request: Request,
    user: AnyUser,
    title: str = Form(...),
    on: str = Form(...),
    start: str = Form("starter"),
    markdown: str = Form(""),
    word: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """``notice new --title T --date D [--from SOURCE]``, then the editor."""
    folder = data_folder(request)
    values = {"title": title, "on": on, "start": start, "markdown": markdown}
    data = await word.read() if word is not None and start == "word" else b""
    try:  # rendering and writing off the event loop (other pages keep answering)
        notice = await run_in_threadpool(_create, folder, title.strip(), on, start, markdown,
                                         data)
    except KenpoDocsError as exc:
        return page(request, "notice_new.html", {"values": values, "error": str(exc)},
                    status_code=400)
    _edited(folder, notice.number, user.name)
    audit(request, "notice-new", notice=notice.number, source=start)
    # A Word file's formatting warnings are shown on the editor it opens (?word=1).
    return RedirectResponse(f"/notices/{notice.number}/edit"
                            + ("?word=1" if start == "word" else ""), status_code=303)


@router.get("/notices/{number}/edit", response_class=HTMLResponse)
def editor(request: Request, user: AnyUser, number: int, word: bool = False) -> HTMLResponse:
    """The source, its validation and proof (made now if there is none yet); read-only
    once issued. ``word``: also the formatting warnings of the Word file just uploaded."""
    notice = _source_notice(number)
    folder = data_folder(request)
    return _editor(request, notice, word_warnings=word_warnings(number) if word else None,
                   check=_check(folder, number, proof=_proof_pages(folder, number) == 0))


@router.post("/notices/{number}/source", response_class=HTMLResponse)
def save(request: Request, user: AnyUser, number: int,
         source: str = Form("")) -> HTMLResponse:
    """Save the textarea, validate, render the proof; htmx gets the check fragment."""
    _source_notice(number)
    folder = data_folder(request)
    save_source(number, source)  # an issued notice: the library's refusal (400)
    _edited(folder, number, user.name)
    audit(request, "notice-edit", notice=number)
    check = _check(folder, number, proof=True)
    if request.headers.get("HX-Request"):
        return page(request, "_notice_check.html", {"number": number, "check": check})
    return _editor(request, get_notice(number), check=check)


@router.post("/notices/{number}/word", response_class=HTMLResponse)
async def reupload(request: Request, user: AnyUser, number: int,
                   word: Annotated[UploadFile | None, File()] = None) -> Response:
    """Replace the draft's source with a Word file; its formatting warnings by paragraph."""
    notice = _source_notice(number)
    folder = data_folder(request)
    data = await word.read() if word is not None else b""
    try:
        path = _store_word(folder, data)
        await run_in_threadpool(replace_from_word, number, path.read_bytes())
    except KenpoDocsError as exc:
        return _editor(request, notice, error=str(exc), status_code=400)
    _edited(folder, number, user.name)
    audit(request, "notice-word", notice=number)
    # The new text's proof, before the editor shows it (off the event loop).
    await run_in_threadpool(_check, folder, number, proof=True)
    return RedirectResponse(f"/notices/{number}/edit?word=1", status_code=303)


@router.post("/notices/{number}/issue", response_class=HTMLResponse)
def issue_page(request: Request, user: Approver, number: int) -> Response:
    """``notice issue`` with the approver's name; not by the last editor when the
    two-person setting is on."""
    notice = _source_notice(number)
    folder = data_folder(request)
    edit = last_edit(folder, number)
    if (request.app.state.settings.require_approval and edit is not None
            and edit["by"] == user.name):
        return _editor(request, notice, status_code=403, issue_error=(
            "最後に編集した人は発行できません。別の承認者が確認して発行してください "
            "(two-person rule: the last editor cannot issue)"))
    try:
        issue(number, approved_by=user.name)
    except KenpoDocsError as exc:
        return _editor(request, notice, status_code=400, issue_error=str(exc))
    audit(request, "notice-issue", notice=number)
    return RedirectResponse(f"/notices/{number}/edit", status_code=303)
