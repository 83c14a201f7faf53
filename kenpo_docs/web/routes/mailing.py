"""Page 2, 郵送の準備: choose letter, enclosures, as-of date and sides for an uploaded roster;
the batch page shows the piece count per route, the proof (PNG pictures of the first
pieces, rendered on demand) and the postage estimate, and carries the approval and run
buttons (:mod:`~kenpo_docs.web.routes.approval`, :mod:`~kenpo_docs.web.routes.run`).

The options are checked by the library before a batch is made (the letter, the
enclosures, the date); the piece count is ``kenpo-docs check --letter``'s; the proof is
:func:`kenpo_docs.mailing.run.proof_first`, in a separate process (WeasyPrint never runs in
the server's), one proof at a time.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from kenpo_docs.documents.forms import FORMS
from kenpo_docs.documents.letters import LETTERS, get_letter
from kenpo_docs.documents.notices import load_register
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.files import write_atomic
from kenpo_docs.mailing import executor
from kenpo_docs.mailing.enclosures import parse_enclosures
from kenpo_docs.mailing.run import proof_first
from kenpo_docs.mailing.window import check_for_mailing
from kenpo_docs.tracking.postage import load_postage, sheets_for
from kenpo_docs.web import jobs, uploads
from kenpo_docs.web.audit import audit
from kenpo_docs.web.routes.roster import as_of_date, recent_uploads
from kenpo_docs.web.runner import merge_options
from kenpo_docs.web.security import AnyUser, data_folder
from kenpo_docs.web.store import DataFolder
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/mailing", "2 郵送の準備", None)
#: Proof pictures for the page: 96 dpi (A4 is 794 x 1123 pixels), enough to read the
#: address block in the window outline.
PROOF_DPI = 96
_proof_lock = threading.Lock()


def choices() -> dict[str, Any]:
    """What the form offers: the letters, the issued notices and the forms to enclose."""
    notices = [n for n in load_register() if n.status == "issued"]
    return {
        "letters": [(spec.name, spec.title) for spec in LETTERS.values()],
        "notices": [(str(n.number), f"第{n.number}号 {n.title}") for n in notices],
        "enclosures": [(f"notice:{n.number}", f"お知らせ 第{n.number}号 {n.title}")
                       for n in notices]
        + [(f"form:{f.name}", f"{f.label} {f.title}（世帯ごとに記入済み）")
           for f in FORMS.values()],
    }


def get_batch(folder: DataFolder, batch_id: str) -> jobs.Batch:
    try:
        return jobs.get(folder, batch_id)
    except KeyError:
        raise HTTPException(404, "その一括処理はありません (no such batch)") from None


@router.get("/mailing")
def mailing_form(request: Request, user: AnyUser,
                 upload: Annotated[str | None, Query()] = None) -> Response:
    folder = data_folder(request)
    return page(request, "mailing.html", {
        **choices(), "uploads": recent_uploads(folder), "upload": upload or "",
        "form": {"letter": "kakuninsho", "as_of": date.today().isoformat(),
                 "enclosures": [], "sides": "duplex", "notice": "", "document_number": "",
                 "cards": True, "card_stock": False}})


@router.post("/mailing")
def create_batch(
    request: Request, user: AnyUser,
    upload: Annotated[str, Form()] = "",
    letter: Annotated[str, Form()] = "",
    as_of: Annotated[str, Form()] = "",
    enclosures: Annotated[list[str] | None, Form()] = None,
    sides: Annotated[str, Form()] = "duplex",
    notice: Annotated[str, Form()] = "",
    document_number: Annotated[str, Form()] = "",
    cards: Annotated[str, Form()] = "",
    card_stock: Annotated[str, Form()] = "",
) -> Response:
    folder = data_folder(request)
    form = {"letter": letter, "as_of": as_of, "enclosures": enclosures or [], "sides": sides,
            "notice": notice, "document_number": document_number, "cards": bool(cards),
            "card_stock": bool(card_stock)}
    try:
        try:
            uploads.stored_path(folder, upload)
        except KeyError:
            raise KenpoDocsError("名簿を選んでください (choose a roster)") from None
        get_letter(letter)
        offered = dict(choices()["enclosures"])
        for spec in enclosures or ():
            if spec not in offered:  # never a file: path from the browser
                raise KenpoDocsError(f"同封物 {spec!r} は選べません (not an offered enclosure)")
        parse_enclosures(tuple(enclosures or ()))
        if sides not in ("duplex", "simplex"):
            raise KenpoDocsError(f"sides {sides!r}: duplex か simplex")
        if notice and notice not in {n for n, _ in choices()["notices"]}:
            raise KenpoDocsError(f"お知らせ 第{notice}号 は発行済みの登録にありません")
        number = int(document_number) if document_number.strip() else None
        if number is not None and number < 1:
            raise KenpoDocsError("文書番号は 1 以上の数です (document number: 1 or more)")
        options = {"letter": letter, "as_of": as_of_date(as_of).isoformat(),
                   "enclosures": list(enclosures or ()), "sides": sides,
                   "notice": notice or None, "document_number": number,
                   "cards": bool(cards), "card_stock": bool(card_stock)}
    except ValueError:
        error = "文書番号は数字で入力してください (document number: digits)"
    except KenpoDocsError as exc:
        error = str(exc)
    else:
        batch = jobs.create(folder, upload=upload, options=options, user=user)
        audit(request, "batch-create", batch=batch.id, upload=upload, letter=letter)
        return RedirectResponse(f"/batches/{batch.id}", status_code=303)
    return page(request, "mailing.html", {
        **choices(), "uploads": recent_uploads(folder), "upload": upload, "form": form,
        "error": error}, status_code=400)


def estimate(folder: DataFolder, batch: jobs.Batch) -> dict[str, Any]:
    """Pieces per route as ``check --letter`` counts them; a library error as its line.

    Worked out once per batch (its roster and options never change; 10,000 households take
    about 4 s) and kept beside its proof."""
    cached = folder.proofs / batch.id / "estimate.json"
    if cached.exists():
        known: dict[str, Any] = json.loads(cached.read_text("utf-8"))
        return known
    try:
        result = check_for_mailing(uploads.stored_path(folder, batch.upload),
                                   as_of=batch.as_of, letter=batch.options["letter"])
    except KenpoDocsError as exc:
        return {"error": str(exc), "routes": [], "pieces": 0, "home": 0, "rejected": 0}
    guess = {
        "error": None,
        "routes": [{"route": r.route, "households": r.households, "members": r.members}
                   for r in result.routes],
        "pieces": sum(r.households for r in result.routes),
        "home": sum(r.households for r in result.routes if r.route == "home"),
        "rejected": len(result.errors), "skipped": len(result.no_documents)}
    write_atomic(cached, json.dumps(guess, ensure_ascii=False).encode())
    return guess


def proof_record(folder: DataFolder, batch_id: str) -> dict[str, Any] | None:
    path = folder.proofs / batch_id / "proof.json"
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return record


def postage(batch: jobs.Batch, proof: dict[str, Any] | None, home: int) -> dict[str, Any]:
    """Weight and postage of each proofed piece (data/postage.toml) and a rough total for
    the home pieces at the dearest proofed piece's rate."""
    if not proof:
        return {"rows": [], "total": None}
    table = load_postage()
    duplex = batch.options.get("sides", "duplex") == "duplex"
    rows = []
    for (piece_id, pages), route in zip(proof["pieces"], proof["routes"], strict=True):
        sheets = sheets_for(pages, duplex=duplex)
        weight, cls, yen = table.piece(sheets)
        rows.append({"piece": piece_id, "route": route, "pages": pages, "sheets": sheets,
                     "weight": weight, "cls": cls, "yen": yen})
    dearest = max(r["yen"] for r in rows) if rows else 0
    return {"rows": rows, "total": dearest * home, "dearest": dearest}


def batch_context(request: Request, batch: jobs.Batch) -> dict[str, Any]:
    folder = data_folder(request)
    guess = estimate(folder, batch)
    proof = proof_record(folder, batch.id)
    groups = []
    if proof:
        for (piece_id, pages), route in zip(proof["pieces"], proof["routes"], strict=True):
            names = [n for n in proof["images"] if n.startswith(f"{piece_id}-p")]
            groups.append({"piece": piece_id, "pages": pages, "route": route,
                           "images": names})
    return {
        "batch": batch, "estimate": guess, "proof": proof, "proof_groups": groups,
        "postage": postage(batch, proof, guess["home"]),
        "letter_title": LETTERS[batch.options["letter"]].title,
        "enclosure_labels": dict(choices()["enclosures"]),
        "roster_sha256": uploads.upload_sha256(folder, batch.upload),
    }


@router.get("/batches/{batch_id}")
def batch_page(request: Request, batch_id: str, user: AnyUser) -> Response:
    batch = get_batch(data_folder(request), batch_id)
    return page(request, "batch.html", batch_context(request, batch))


@router.post("/batches/{batch_id}/proof")
def make_proof(request: Request, batch_id: str, user: AnyUser) -> Response:
    """Render the proof of the batch's first pieces (a few seconds) and show it."""
    folder = data_folder(request)
    batch = get_batch(folder, batch_id)
    out = folder.proofs / batch.id
    count: int = request.app.state.settings.proof_pieces
    options = merge_options(folder, batch, workers=1, out=out, record=False)
    error = None
    result = None
    with _proof_lock, executor.pool(1) as pool:
        try:
            result = pool.submit(proof_first, uploads.stored_path(folder, batch.upload),
                                 options=options, count=count, dpi=PROOF_DPI).result()
        except KenpoDocsError as exc:
            error = str(exc)
    if result is not None:
        write_atomic(out / "proof.json", json.dumps({
            "pieces": result.pieces, "routes": result.routes, "total": result.total,
            "images": [p.name for p in result.images]}).encode())
        audit(request, "proof", batch=batch.id, pieces=len(result.pieces))
    context = batch_context(request, batch)
    context["error"] = error
    template = "_proof.html" if request.headers.get("HX-Request") else "batch.html"
    return page(request, template, context, status_code=400 if error else 200)


@router.get("/batches/{batch_id}/proof/{name}")
def proof_image(request: Request, batch_id: str, name: str, user: AnyUser) -> Response:
    """One proof picture: only a name the batch's proof record lists."""
    folder = data_folder(request)
    batch = get_batch(folder, batch_id)
    record = proof_record(folder, batch.id)
    if record is None or name not in record["images"]:
        raise HTTPException(404, "その画像はありません (no such proof picture)")
    return FileResponse(folder.proofs / batch.id / "proof" / name, media_type="image/png")
