"""The audit log, for admins: newest first, times in Japan time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kenpo_docs.web.audit import read_entries
from kenpo_docs.web.security import Admin, data_folder
from kenpo_docs.web.templating import page

router = APIRouter()
MENU = ("/audit", "監査ログ", "admin")
#: Entry fields shown in their own columns; the rest go into 「内容」.
_OWN = ("at", "user", "action")


@router.get("/audit")
def audit_log(request: Request, user: Admin) -> Response:
    entries = read_entries(data_folder(request).audit_log)
    rows = [(e.get("at"), e.get("user", "-"), e.get("action", "-"),
             "  ".join(f"{k}={v}" for k, v in e.items() if k not in _OWN)) for e in entries]
    return page(request, "audit.html", {"rows": rows})
