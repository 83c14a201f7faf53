"""Shared set-up of the web page's route tests: a data folder with three accounts, an app
(without its runner process unless asked) and logged-in clients."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from kenpo_docs.web.accounts import add_user
from kenpo_docs.web.app import WebSettings, create_app
from kenpo_docs.web.store import DataFolder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "roster.csv"
AS_OF = "2026-12-01"
PASSWORD = "correct horse 1"
USERS = {"alice": "preparer", "bob": "approver", "carol": "admin"}


def make_data(tmp: Path) -> Path:
    data = tmp / "data"
    folder = DataFolder(data)
    for name, role in USERS.items():
        add_user(folder, name, role, PASSWORD)
    return data


def client(data: Path, **settings: object) -> TestClient:
    settings.setdefault("runner", False)
    app = create_app(WebSettings(data=data, **settings))  # type: ignore[arg-type]
    return TestClient(app, follow_redirects=False)


def csrf(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def log_in(c: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log ``name`` in; returns the session's CSRF token."""
    token = csrf(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    return csrf(c.get("/login").text)


def upload(c, token: str, name: str, content: bytes) -> object:
    return c.post("/roster", data={"csrf_token": token},
                  files={"roster": (name, content, "application/octet-stream")})


def uploaded_id(response: object) -> str:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/roster/(U[0-9-]+-[0-9a-f]{6})", response.headers["location"])
    assert found
    return found.group(1)


def prepare(c, token: str, data: Path, **form: object) -> str:
    upload_id = uploaded_id(upload(c, token, "r.csv", SAMPLE.read_bytes()))
    fields = {"csrf_token": token, "upload": upload_id, "letter": "kakuninsho",
              "as_of": AS_OF, "enclosures": ["notice:539"], "sides": "duplex",
              "cards": "1", **form}
    r = c.post("/mailing", data=fields)
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/batches/(W[0-9-]+-[0-9a-f]{6})", r.headers["location"])
    assert found
    return found.group(1)
