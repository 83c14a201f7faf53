"""The tracking database itself: its schema, migrations, connections and time stamps.

Every other tracking module reads or writes through here, so how the file is opened is
decided once: SQLite (stdlib), WAL mode, foreign keys on, the file 0600. The schema is
migrated by the program (``PRAGMA user_version`` counts the applied migrations); a database
from a newer program is refused rather than misread.

Only keys are stored (piece id, 記号-番号 household key, 記号-番号-枝番 member keys, postal
code, workplace code): names and addresses stay in the roster.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import FILE_MODE, private_dir

DEFAULT_DB = Path("output/tracking.sqlite")

Clock = Callable[[], datetime]

# The statuses as migration 1 created them, frozen with it: a status added to
# events.STATUSES needs a new migration (SQLite cannot alter a CHECK: rebuild the tables).
_STATUS_CHECK_V1 = (
    "CHECK (status IN ('generated', 'printed', 'mailed', 'delivered', 'returned', 'reissued'))"
)

# Ordered; migration N brings user_version from N-1 to N. Never edit one that has shipped:
# append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            letter TEXT NOT NULL,
            notice TEXT,
            as_of TEXT NOT NULL,
            roster_sha256 TEXT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            pieces INTEGER NOT NULL,
            pages INTEGER NOT NULL,
            ok_rows INTEGER NOT NULL,
            skipped_rows INTEGER NOT NULL,
            rejected_rows INTEGER NOT NULL
        )""",
        f"""CREATE TABLE pieces (
            id TEXT PRIMARY KEY,
            batch TEXT NOT NULL REFERENCES batches(id),
            seq INTEGER NOT NULL,
            household_key TEXT NOT NULL,
            route TEXT NOT NULL,
            workplace_code TEXT,
            postal_code TEXT,
            pages INTEGER NOT NULL,
            sheets INTEGER NOT NULL,
            status TEXT NOT NULL {_STATUS_CHECK_V1},
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )""",
        "CREATE INDEX pieces_by_batch ON pieces (batch, seq)",
        "CREATE INDEX pieces_by_household ON pieces (household_key)",
        """CREATE TABLE piece_members (
            piece TEXT NOT NULL REFERENCES pieces(id),
            member_key TEXT NOT NULL,
            row INTEGER NOT NULL,
            PRIMARY KEY (piece, member_key)
        )""",
        "CREATE INDEX piece_members_by_member ON piece_members (member_key)",
        f"""CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            piece TEXT NOT NULL REFERENCES pieces(id),
            status TEXT NOT NULL {_STATUS_CHECK_V1},
            reason TEXT,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX events_by_piece ON events (piece, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def utcnow() -> datetime:
    """The default clock: now, in UTC."""
    return datetime.now(UTC)


def stamp(clock: Clock) -> str:
    """The time stamp stored in ``created``, ``updated`` and ``at`` (UTC, to the second)."""
    return clock().astimezone(UTC).isoformat(timespec="seconds")


def _create_private(path: Path) -> None:
    """Create an empty file 0600 before SQLite does (it would use the umask; the -wal and -shm
    files then copy this file's mode)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))


def migrate(conn: sqlite3.Connection, *, file: Path | None = None) -> int:
    """Apply the migrations this database lacks; returns the schema version.

    Raises:
        ManifestError: the database was written by a newer kenpo-docs.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ManifestError(
                f"tracking database has schema version {version}, newer than this "
                f"kenpo-docs knows ({SCHEMA_VERSION}); upgrade kenpo-docs",
                file=file,
            )
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def open_db(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and when ``create``, make) the tracking database, migrated to this version.

    Raises:
        ManifestError: no database at ``path`` (``create=False``), not a SQLite file, or a
            newer schema.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise ManifestError(
                "no tracking database here (a merge creates it; or give --db PATH)", file=path
            )
        _create_private(path)
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise ManifestError(f"cannot open tracking database: {exc}", file=path) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        migrate(conn, file=path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ManifestError(f"not a usable tracking database: {exc}", file=path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def connect(path: str | Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """:func:`open_db` as a context manager that always closes."""
    conn = open_db(path, create=create)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
