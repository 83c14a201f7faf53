"""Page 6, 返戻・状況 (returns and status): the scan box, ``track report`` and ``track postal``.

The scan box takes a barcode scanner's keyboard input (the piece code, then Enter): the
piece id is read as ``track mark`` reads it (:func:`~kenpo_docs.tracking.events.
piece_id_from_scan`), moved with :func:`~kenpo_docs.tracking.events.mark`, and the answer
(htmx swaps it in at once) names the piece's household key and route from the tracking
database, which holds no names. Every mark is written to the audit log. The tables are the
library's reports; the chart is :func:`kenpo_docs.web.chart.status_chart`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse

from kenpo_docs.errors import BarcodeError, KenpoDocsError
from kenpo_docs.tracking.events import RETURN_REASONS, mark, piece_id_from_scan
from kenpo_docs.tracking.postal import postal_report
from kenpo_docs.tracking.reports import report, show, status_by_batch
from kenpo_docs.web.audit import audit
from kenpo_docs.web.chart import STATUS_LABELS, status_chart
from kenpo_docs.web.security import AnyUser, data_folder
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/returns", "返戻・状況", None)

#: What the scan box may set, as the staff read it.
SCAN_ACTIONS = {"printed": "印刷済", "mailed": "発送済", "returned": "返戻"}
REASON_LABELS = {"宛所不明": "宛所不明", "転居先不明": "転居先不明", "受取拒否": "受取拒否",
                 "other": "その他"}
#: Batches drawn in the chart (the latest).
CHART_BATCHES = 12
#: The report's choice for every batch at once (the page shows the latest batch by default:
#: a report of years of batches, reloaded after every scan, would be slow).
ALL_BATCHES = "all"


def route_label(route: str) -> str:
    """``workplace:W01`` → 「勤務先経由 W01」, ``home`` → 「自宅あて」 (as the roster page)."""
    if route.startswith("workplace:"):
        return f"勤務先経由 {route.removeprefix('workplace:')}"
    return "自宅あて" if route == "home" else route


@dataclass(frozen=True)
class ScanAnswer:
    """What one scan did, for the answer line: never a name, keys and codes only."""

    ok: bool
    message: str
    piece_id: str = ""
    changed: bool = False
    household_key: str = ""
    route: str = ""
    status: str = ""


def _scan(db: Path, code: str, action: str, reason: str | None) -> ScanAnswer:
    try:
        pid = piece_id_from_scan(code)
    except BarcodeError:
        return ScanAnswer(False, "封筒のコードとして読めません (not a piece code)")
    try:
        result = mark(db, action, [pid], reason=reason)
        record = show(db, pid)
    except KenpoDocsError as exc:  # no database yet, a busy or damaged one: the CLI's line
        return ScanAnswer(False, str(exc), pid)
    if record is None:
        return ScanAnswer(False, "この封筒は追跡データベースにありません (unknown piece)", pid)
    piece = record.piece
    found = dict(piece_id=pid, household_key=piece["household_key"],
                 route=route_label(piece["route"]),
                 status=STATUS_LABELS.get(piece["status"], piece["status"]))
    if result.changed:
        what = SCAN_ACTIONS[action] + (f"（{REASON_LABELS[reason]}）" if reason else "")
        return ScanAnswer(True, f"{what}にしました", changed=True, **found)
    if result.unchanged:
        return ScanAnswer(True, f"すでに{SCAN_ACTIONS[action]}です", **found)
    why = result.refused[0][1] if result.refused else ""
    return ScanAnswer(False, f"変更できません: いまは{found['status']}です ({why})", **found)


@router.post("/returns/scan", response_class=HTMLResponse)
def scan(
    request: Request,
    user: AnyUser,
    code: str = Form(""),
    action: str = Form(...),
    reason: str = Form(""),
) -> HTMLResponse:
    """Mark the scanned piece; answers with one line (htmx) or the whole page."""
    if action not in SCAN_ACTIONS:
        raise HTTPException(400, f"unknown action {action!r}")
    if action == "returned" and reason not in RETURN_REASONS:
        raise HTTPException(400, "返戻の理由を選んでください (choose a reason)")
    chosen = reason if action == "returned" else None
    if not code.strip():
        answer = ScanAnswer(False, "コードが空です (nothing scanned)")
    else:
        answer = _scan(data_folder(request).tracking_db, code, action, chosen)
    if answer.piece_id:
        audit(request, "track-mark", piece=answer.piece_id, status=action, reason=chosen,
              ok=answer.ok)
    if request.headers.get("HX-Request"):
        response = page(request, "returns_scan.html", {"answer": answer})
        if answer.changed:
            response.headers["HX-Trigger"] = "tracking-changed"
        return response
    return _page(request, batch=None, answer=answer, action=action, reason=chosen)


@router.get("/returns", response_class=HTMLResponse)
def returns_page(request: Request, user: AnyUser, batch: str = "") -> HTMLResponse:
    """The scan box, the chart, and the report and postal tables of one batch (default: the
    latest) or all (``batch=all``)."""
    return _page(request, batch=batch or None)


@router.get("/returns/status", response_class=HTMLResponse)
def returns_status(request: Request, user: AnyUser, batch: str = "") -> HTMLResponse:
    """The chart and the tables alone: htmx reloads them after each scan that changed a
    piece (the scan's answer says ``HX-Trigger: tracking-changed``)."""
    return _page(request, batch=batch or None, template="returns_status.html")


def _page(request: Request, *, batch: str | None,
          answer: ScanAnswer | None = None, action: str = "returned",
          reason: str | None = None, template: str = "returns.html") -> HTMLResponse:
    db = data_folder(request).tracking_db
    context: dict[str, Any] = {
        "answer": answer, "action": action, "reason": reason or "宛所不明",
        "actions": SCAN_ACTIONS, "reasons": REASON_LABELS, "labels": STATUS_LABELS,
        "route_label": route_label, "batch": batch, "batches": [], "chart": None,
        "report": None, "postal": None,
    }
    if not db.exists():
        return page(request, template, context)
    try:
        batches = status_by_batch(db)
        context["batches"] = batches
        context["chart"] = Markup(status_chart(batches[-CHART_BATCHES:]))
        if batches:
            batch = batch or batches[-1].batch
            context["batch"] = batch
            context["report"] = report(db, batch=None if batch == ALL_BATCHES else batch)
            context["postal"] = postal_report(db, batch=None if batch == ALL_BATCHES
                                              else batch)
    except KenpoDocsError as exc:
        context["error"] = str(exc)
        return page(request, template, context, status_code=400)
    return page(request, template, context)
