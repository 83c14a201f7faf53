"""Staff accounts: a name, a role and an argon2 password hash (argon2-cffi's defaults,
RFC 9106's second recommended profile), in the web database.

Roles: ``preparer`` (uploads rosters, prepares batches), ``approver`` (also approves another
person's batch), ``admin`` (everything, and reads the audit log). Accounts are made from the
terminal (``kenpo-docs user add``), so the first admin exists before the page is opened.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.web.store import DataFolder, connect, transaction, utc_stamp

ROLES = ("preparer", "approver", "admin")
ROLE_LABELS = {"preparer": "作成者", "approver": "承認者", "admin": "管理者"}
#: A user name: letters, digits, '.', '_', '-' (it is shown in pages and written to the log).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
MIN_PASSWORD = 8

_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A logged-in staff member; ``data`` is the data folder the account lives in."""

    name: str
    role: str
    data: Path = field(repr=False)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def has_role(self, *roles: str) -> bool:
        """True when the user has one of ``roles``; an admin has every role."""
        return self.role == "admin" or self.role in roles


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise KenpoDocsError(f"user name {name!r}: 英数字と . _ - だけ、32 文字まで "
                             "(letters, digits, '.', '_' and '-', at most 32)")
    return name


def add_user(folder: DataFolder, name: str, role: str, password: str) -> User:
    """Create an account.

    Raises:
        KenpoDocsError: a bad name or role, a password shorter than 8, or the name is taken.
    """
    check_name(name)
    if role not in ROLES:
        raise KenpoDocsError(f"role {role!r}: use one of {', '.join(ROLES)}")
    _check_password(password)
    folder.prepare()
    with connect(folder) as conn, transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise KenpoDocsError(f"user {name!r} already exists")
        conn.execute("INSERT INTO users (name, role, hash, created) VALUES (?, ?, ?, ?)",
                     (name, role, _hasher.hash(password), utc_stamp()))
    return User(name, role, folder.root)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise KenpoDocsError(f"パスワードは {MIN_PASSWORD} 文字以上にしてください "
                             f"(password: at least {MIN_PASSWORD} characters)")


def change_user(folder: DataFolder, name: str, *, password: str | None = None,
                role: str | None = None, remove: bool = False) -> None:
    """Set a new password or role, or remove the account (its sessions end at once: every
    request looks the account up).

    Raises:
        KenpoDocsError: no such user, a bad role or a short password.
    """
    if password is not None:
        _check_password(password)
    if role is not None and role not in ROLES:
        raise KenpoDocsError(f"role {role!r}: use one of {', '.join(ROLES)}")
    with connect(folder) as conn, transaction(conn):
        if not conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise KenpoDocsError(f"no user {name!r}")
        if remove:
            conn.execute("DELETE FROM users WHERE name = ?", (name,))
            return
        if password is not None:
            conn.execute("UPDATE users SET hash = ? WHERE name = ?",
                         (_hasher.hash(password), name))
        if role is not None:
            conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))


def get_user(folder: DataFolder, name: str) -> User | None:
    with connect(folder) as conn:
        row = conn.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
    return User(row["name"], row["role"], folder.root) if row else None


def list_users(folder: DataFolder) -> list[User]:
    with connect(folder) as conn:
        rows = conn.execute("SELECT name, role FROM users ORDER BY name").fetchall()
    return [User(r["name"], r["role"], folder.root) for r in rows]


def authenticate(folder: DataFolder, name: str, password: str) -> User | None:
    """The user when ``password`` is theirs, else None (unknown names cost a hash too, so
    the answer's timing does not tell which names exist)."""
    with connect(folder) as conn:
        row = conn.execute("SELECT name, role, hash FROM users WHERE name = ?",
                           (name,)).fetchone()
    stored = row["hash"] if row else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return User(row["name"], row["role"], folder.root) if row else None


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone")
