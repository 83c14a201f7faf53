"""Log in and out; ``/`` leads to the roster page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from kenpo_docs.web.accounts import authenticate
from kenpo_docs.web.audit import audit, write_entry
from kenpo_docs.web.security import data_folder, log_in, log_out, optional_user
from kenpo_docs.web.templating import page

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    target = "/roster" if optional_user(request) else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", {"name": ""})


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form("")) -> Response:
    user = authenticate(data_folder(request), name, password)
    if user is None:
        write_entry(data_folder(request), "-", "login-failed")
        return page(request, "login.html", {
            "name": name, "error": "ユーザー名またはパスワードが違います "
                                   "(wrong user name or password)"}, status_code=401)
    log_in(request, user)
    audit(user, "login")
    return RedirectResponse("/roster", status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    user = optional_user(request)
    if user is not None:
        audit(user, "logout")
    log_out(request)
    return RedirectResponse("/login", status_code=303)
