"""The web page's doors: login, logout, roles, CSRF, the secret, accounts, the audit log,
the upload limit, static files and fonts."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.web.accounts import authenticate
from kenpo_docs.web.audit import write_entry
from kenpo_docs.web.store import DataFolder
from tests.web_helpers import PASSWORD, client, csrf, log_in, make_data


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_data(tmp_path)


def test_anonymous_is_sent_to_login(data: Path) -> None:
    c = client(data)
    for path in ("/", "/audit"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    r = c.get("/login")
    assert r.status_code == 200
    assert "ログイン" in r.text and 'lang="ja"' in r.text
    # htmx asks for a redirect header instead of a 303 it would follow itself
    r = c.get("/audit", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == "/login"


def test_login_logout(data: Path) -> None:
    c = client(data)
    token = csrf(c.get("/login").text)
    r = c.post("/login", data={"name": "alice", "password": "wrong password",
                               "csrf_token": token})
    assert r.status_code == 401
    assert "ユーザー名またはパスワードが違います" in r.text
    r = c.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 401
    token = log_in(c, "alice")
    r = c.get("/login")
    assert "alice（作成者）" in r.text
    r = c.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/audit").status_code == 303  # logged out: back to the login page


def test_session_token_rotates_at_login(data: Path) -> None:
    c = client(data)
    before = csrf(c.get("/login").text)
    after = log_in(c, "alice")
    assert before != after


def test_post_without_csrf_token_is_refused(data: Path) -> None:
    c = client(data)
    r = c.post("/login", data={"name": "alice", "password": PASSWORD})
    assert r.status_code == 403
    assert "CSRF" in r.text
    token = log_in(c, "alice")
    assert c.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert c.post("/logout").status_code == 403
    # the header htmx sends is as good as the form field
    assert c.post("/logout", headers={"X-CSRF-Token": token}).status_code == 303


def test_wrong_role_is_403(data: Path) -> None:
    c = client(data)
    log_in(c, "alice")
    r = c.get("/audit")
    assert r.status_code == 403
    assert "権限がありません" in r.text


def test_admin_reads_the_audit_log(data: Path) -> None:
    c = client(data)
    log_in(c, "alice")
    c2 = client(data)
    log_in(c2, "carol")
    r = c2.get("/audit")
    assert r.status_code == 200
    assert "login" in r.text and "alice" in r.text
    lines = [json.loads(x) for x in (data / "web" / "audit.jsonl").read_text().splitlines()]
    assert [(e["user"], e["action"]) for e in lines] == [("alice", "login"),
                                                         ("carol", "login")]
    assert lines[0]["at"].endswith("+00:00")


def test_audit_refuses_anything_but_ids(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path).prepare()
    write_entry(folder, "alice", "mark", piece="K20261201-ABC123-0001", reason="宛所不明",
                count=2)
    with pytest.raises(ValueError, match="member"):
        write_entry(folder, "alice", "mark", member="高橋 一郎")
    with pytest.raises(ValueError, match="file"):
        write_entry(folder, "alice", "upload", file="../roster.csv")


def test_files_are_private(data: Path) -> None:
    client(data)
    web = data / "web"
    for path in (web / "secret", web / "web.sqlite", web / "audit.jsonl"):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(web.stat().st_mode) == 0o700
    # the same secret after a restart: sessions survive it
    secret = (web / "secret").read_text()
    client(data)
    assert (web / "secret").read_text() == secret


def test_static_files_and_fonts(data: Path) -> None:
    c = client(data)
    js = c.get("/static/htmx.min.js")
    assert js.status_code == 200 and b"htmx" in js.content[:200]
    css = c.get("/static/style.css").text
    assert "@font-face" in css and "/fonts/BIZUDPGothic-Regular.ttf" in css
    font = c.get("/fonts/BIZUDPGothic-Regular.ttf")
    assert font.status_code == 200 and font.content[:4] == b"\x00\x01\x00\x00"
    page = c.get("/login").text
    assert '<script src="/static/htmx.min.js"' in page
    assert "unpkg" not in page and "cdn" not in page.lower()


def test_body_over_the_limit_is_413(data: Path) -> None:
    c = client(data, upload_limit=1000)
    token = csrf(c.get("/login").text)
    r = c.post("/login", data={"name": "x" * 100_000, "password": "y", "csrf_token": token})
    assert r.status_code == 413


def test_cli_user_add_and_list(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "d"
    r = runner.invoke(cli, ["user", "add", "dora", "--role", "approver", "--password-stdin",
                            "--data", str(data)], input="a long password\n")
    assert r.exit_code == 0, r.output
    assert authenticate(DataFolder(data), "dora", "a long password").role == "approver"
    r = runner.invoke(cli, ["user", "add", "dora", "--role", "admin", "--password-stdin",
                            "--data", str(data)], input="a long password\n")
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(cli, ["user", "add", "eve", "--role", "admin", "--password-stdin",
                            "--data", str(data)], input="short\n")
    assert r.exit_code == 2 and "8" in r.output
    r = runner.invoke(cli, ["user", "add", "../x", "--role", "admin", "--password-stdin",
                            "--data", str(data)], input="a long password\n")
    assert r.exit_code == 2
    r = runner.invoke(cli, ["user", "list", "--data", str(data)])
    assert r.output == "dora\tapprover\n"
    # the password is stored as an argon2 hash
    import sqlite3
    stored = sqlite3.connect(data / "web" / "web.sqlite").execute(
        "SELECT hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "a long password" not in stored


def test_serve_help_names_the_defaults() -> None:
    out = subprocess.run([sys.executable, "-m", "kenpo_docs", "serve", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "127.0.0.1" in out and "8539" in out and "output" in out


def test_cli_user_change(data: Path) -> None:
    runner = CliRunner()
    c = client(data)
    log_in(c, "alice")
    r = runner.invoke(cli, ["user", "change", "alice", "--password", "--password-stdin",
                            "--data", str(data)], input="a new password\n")
    assert r.exit_code == 0, r.output
    assert authenticate(DataFolder(data), "alice", PASSWORD) is None
    assert authenticate(DataFolder(data), "alice", "a new password").name == "alice"
    r = runner.invoke(cli, ["user", "change", "alice", "--role", "approver", "--data", str(data)])
    assert r.exit_code == 0 and authenticate(DataFolder(data), "alice",
                                             "a new password").role == "approver"
    assert runner.invoke(cli, ["user", "change", "alice", "--data", str(data)]).exit_code == 2
    assert runner.invoke(cli, ["user", "change", "zed", "--remove",
                               "--data", str(data)]).exit_code == 2
    r = runner.invoke(cli, ["user", "change", "alice", "--remove", "--data", str(data)])
    assert r.exit_code == 0
    # removed: the open session ends at once
    assert c.get("/roster").headers["location"] == "/login"
