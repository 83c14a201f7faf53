"""The web page's data folder and its own database (accounts, uploads, batch requests).

Layout of the data folder (``serve --data``, default ``output/``)::

    tracking.sqlite          the tracking database, shared with the CLI's default
    batches/<batch id>/      one merge folder per batch (the merge's --out)
    web/web.sqlite           accounts, uploads, batch requests and the runner's queue
    web/secret               the session-signing key (made on first start)
    web/audit.jsonl          the audit log
    web/uploads/<id>.csv     uploaded rosters, named by our own id
    web/proofs/<batch id>/   proof pictures rendered on demand

Every file is 0600 and every folder 0700 (:mod:`kenpo_docs.files`). The database is SQLite
in WAL mode with a busy timeout, so the server's requests and the runner process share it;
a write takes ``BEGIN IMMEDIATE`` (:func:`~kenpo_docs.tracking.db.transaction`, the tracking
database's own).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.files import FILE_MODE, private_dir
from kenpo_docs.tracking.db import transaction

__all__ = ["DataFolder", "connect", "create_private", "new_id", "transaction", "utc_stamp"]

BUSY_TIMEOUT = 30.0

#: Migration N brings ``user_version`` from N-1 to N; never edit one that has shipped.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('preparer', 'approver', 'admin')),
            hash TEXT NOT NULL,
            created TEXT NOT NULL
        )""",
        """CREATE TABLE uploads (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('csv', 'xlsx')),
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            uploaded_by TEXT NOT NULL,
            created TEXT NOT NULL
        )""",
        # A batch request: prepared (draft), sent for approval (pending), approved (queued),
        # taken by the runner (running), then done, failed or cancelled.
        """CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            upload TEXT NOT NULL REFERENCES uploads(id),
            options TEXT NOT NULL,
            state TEXT NOT NULL,
            prepared_by TEXT NOT NULL,
            approved_by TEXT,
            created TEXT NOT NULL,
            requested TEXT,
            approved TEXT,
            started TEXT,
            finished TEXT,
            done INTEGER NOT NULL DEFAULT 0,
            total INTEGER NOT NULL DEFAULT 0,
            cancel INTEGER NOT NULL DEFAULT 0,
            message TEXT NOT NULL DEFAULT '',
            result TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX batches_by_state ON batches (state, approved)",
    ),
    (
        # Who last changed a notice's source on the web page (the two-person rule of issuing).
        """CREATE TABLE notice_edits (
            number INTEGER PRIMARY KEY,
            edited_by TEXT NOT NULL,
            edited TEXT NOT NULL
        )""",
    ),
)


def utc_stamp() -> str:
    """Now in UTC to the second, as stored (shown in Japan time by the templates)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id(prefix: str) -> str:
    """Our own id for an upload or a batch: a letter, the UTC time and 6 random hex digits
    (``W20261205-213000-a1b2c3``); a file or folder name, never from user input."""
    return f"{prefix}{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class DataFolder:
    """Where the web page keeps its files (see the module docstring)."""

    root: Path

    @property
    def web(self) -> Path:
        return self.root / "web"

    @property
    def db(self) -> Path:
        return self.web / "web.sqlite"

    @property
    def secret(self) -> Path:
        return self.web / "secret"

    @property
    def audit_log(self) -> Path:
        return self.web / "audit.jsonl"

    @property
    def uploads(self) -> Path:
        return self.web / "uploads"

    @property
    def proofs(self) -> Path:
        return self.web / "proofs"

    @property
    def batches(self) -> Path:
        return self.root / "batches"

    @property
    def tracking_db(self) -> Path:
        return self.root / "tracking.sqlite"

    def batch_dir(self, batch_id: str) -> Path:
        return self.batches / batch_id

    def upload_file(self, upload_id: str, kind: str) -> Path:
        return self.uploads / f"{upload_id}.{kind}"

    def prepare(self) -> DataFolder:
        """Create the folders (0700) and the database; returns self."""
        for folder in (self.web, self.uploads, self.proofs, self.batches):
            private_dir(folder)
        with connect(self):
            pass
        return self


def create_private(path: Path) -> None:
    """An empty file 0600, made before SQLite or a writer opens it with the umask's mode."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))


def _migrate(conn: sqlite3.Connection, file: Path) -> None:
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > len(MIGRATIONS):
        raise KenpoDocsError("web database is newer than this kenpo-docs; upgrade kenpo-docs",
                             file=file)
    if found == len(MIGRATIONS):
        return
    with transaction(conn):
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for number in range(found, len(MIGRATIONS)):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")


@contextlib.contextmanager
def connect(folder: DataFolder) -> Iterator[sqlite3.Connection]:
    """The web database, migrated, closed at the end of the block."""
    create_private(folder.db)
    conn = sqlite3.connect(folder.db, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        _migrate(conn, folder.db)
        yield conn
    except sqlite3.Error as exc:
        raise KenpoDocsError(f"web database: {exc}", file=folder.db) from exc
    finally:
        conn.close()
