"""Shared set-up of the web page's route tests: a data folder with three accounts, an app
(without its runner process unless asked) and logged-in clients."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from kenpo_docs.web.accounts import add_user
from kenpo_docs.web.app import WebSettings, create_app
from kenpo_docs.web.store import DataFolder

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
