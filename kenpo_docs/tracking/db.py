"""The tracking database itself: its schema, migrations, connections and time stamps.

Every other tracking module reads or writes through here, so how the file is opened is
decided once: SQLite (stdlib), WAL mode, foreign keys on, the file 0600. The schema is
migrated by the program (``PRAGMA user_version`` counts the applied migrations); a database
from a newer program is refused rather than misread.

Only keys are stored (piece id, 記号-番号 household key, 記号-番号-枝番 member keys, postal
code, workplace code, print file names): names and addresses stay in the roster.

Whatever SQLite reports (a full disk, a lock held past the busy timeout, a file that is not a
database, a damaged or unreadable one) becomes one :class:`ManifestError` naming the file, what
is wrong and what to do (:func:`database_error`): a busy database is never called unusable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import FILE_MODE, private_dir

DEFAULT_DB = Path("output/tracking.sqlite")

#: Seconds a connection waits for another one's lock before giving up (SQLite's busy timeout).
BUSY_TIMEOUT = 30.0

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
    # 2: which print file holds each piece, and each print file's cover sheet, so that
    # `track verify` checks a print file against the database. Rows recorded before are
    # filled in with the file names the merge used then (workplace-<code>.pdf, home.pdf;
    # covers numbered in that order); a rerun of the merge records them afresh.
    (
        """CREATE TABLE print_files (
            batch TEXT NOT NULL REFERENCES batches(id),
            name TEXT NOT NULL,
            cover TEXT,
            PRIMARY KEY (batch, name)
        )""",
        "CREATE INDEX print_files_by_cover ON print_files (cover)",
        "ALTER TABLE pieces ADD COLUMN print_file TEXT",
        """UPDATE pieces SET print_file = CASE WHEN route LIKE 'workplace:%'
               THEN 'workplace-' || COALESCE(workplace_code, '') || '.pdf'
               ELSE 'home.pdf' END""",
        """INSERT INTO print_files (batch, name, cover)
           SELECT batch, 'workplace-' || code || '.pdf',
                  batch || '-C' || printf('%03d', DENSE_RANK() OVER (
                      PARTITION BY batch ORDER BY code))
           FROM (SELECT DISTINCT batch, COALESCE(workplace_code, '') AS code FROM pieces
                 WHERE route LIKE 'workplace:%')""",
        """INSERT INTO print_files (batch, name, cover)
           SELECT DISTINCT batch, 'home.pdf', NULL FROM pieces
           WHERE route NOT LIKE 'workplace:%'""",
        "CREATE INDEX pieces_by_print_file ON pieces (batch, print_file)",
    ),
    # 3: a batch id is one batch. The merge claims its id before it renders anything: the
    # input it is made from (the fingerprint of roster and options) and the folder it is made
    # in. Another roster, other options or another --out under the same id is refused then,
    # not after the render (nor mixed into the same piece ids, as --sort postal in another
    # folder did). Batches recorded before have no claim; their first merge claims them.
    (
        """CREATE TABLE batch_claims (
            batch TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            out_folder TEXT NOT NULL,
            claimed TEXT NOT NULL
        )""",
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

    A database that is up to date is only read (no write lock is taken), so reports and
    verification run while a merge records its batch.

    Raises:
        ManifestError: the database was written by a newer kenpo-docs.
    """

    def version() -> int:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA_VERSION:
            raise ManifestError(
                f"tracking database has schema version {found}, newer than this "
                f"kenpo-docs knows ({SCHEMA_VERSION}); upgrade kenpo-docs",
                file=file,
            )
        return found

    if version() == SCHEMA_VERSION:
        return SCHEMA_VERSION
    with transaction(conn):
        for number in range(version(), SCHEMA_VERSION):  # again, under the write lock
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


def database_error(exc: sqlite3.Error, path: str | Path) -> ManifestError:
    """What SQLite's ``exc`` means for the tracking database at ``path``, and what to do, as
    one message (naming the file). A lock is "busy, run again", never "unusable"."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    path = Path(path)
    text = str(exc)
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        message = ("ディスクがいっぱいで追跡データベースに書き込めませんでした（この処理の変更は"
                   "記録されていません）。空き容量を作ってから、同じコマンドをもう一度実行して"
                   "ください")
    elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        message = ("追跡データベースは別の処理（merge や track mark など）が使用中です（ロック"
                   "待ちが時間切れ）。データベースは壊れていません。その処理が終わってから、"
                   "同じコマンドをもう一度実行してください")
    elif code == sqlite3.SQLITE_NOTADB:
        message = ("SQLite のデータベースではありません。--db で追跡データベース（merge が作る"
                   " tracking.sqlite）を指定してください")
    elif code == sqlite3.SQLITE_CORRUPT:
        message = ("追跡データベースが破損しています。このファイルはそのままにして、バックアップ"
                   "から戻してください")
    elif code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY,
                  sqlite3.SQLITE_AUTH, sqlite3.SQLITE_IOERR):
        message = _access_problem(path, text)
    else:
        message = f"追跡データベースを使えません（SQLite: {text}）"
    return ManifestError(message, file=path)


#: Check access as the process acts (its effective user), where the system can.
_EFFECTIVE = os.access in os.supports_effective_ids


def _access_problem(path: Path, text: str) -> str:
    """Why SQLite could not open, read or write ``path``: which of the file, its WAL side
    files or its folder we may not use."""
    folder = path.parent
    for what, target, mode in (
        ("ファイル", path, os.R_OK | os.W_OK),
        ("-wal ファイル", Path(f"{path}-wal"), os.R_OK | os.W_OK),
        ("-shm ファイル", Path(f"{path}-shm"), os.R_OK | os.W_OK),
        ("フォルダ", folder, os.R_OK | os.W_OK | os.X_OK),  # WAL makes its side files there
    ):
        if target.exists() and not os.access(target, mode, effective_ids=_EFFECTIVE):
            return (f"追跡データベースの{what}（{target.name}）を読み書きする権限がありません。"
                    "ファイルとフォルダの所有者と権限を確認してください（作った利用者で実行"
                    "するか、管理者に依頼してください）")
    return (f"追跡データベースを開けない、または読み書きできません（SQLite: {text}）。"
            "ファイルとフォルダの権限、ディスクの状態を確認してください")


def open_db(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and when ``create``, make) the tracking database, migrated to this version.

    Raises:
        ManifestError: no database at ``path`` (``create=False``), not a SQLite file, damaged,
            not readable, busy past :data:`BUSY_TIMEOUT`, a full disk, or a newer schema.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise ManifestError(
                "no tracking database here (a merge creates it; or give --db PATH)", file=path
            )
        try:
            _create_private(path)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise ManifestError("ディスクがいっぱいで追跡データベースを作れません。空き容量を"
                                    "作ってから、同じコマンドをもう一度実行してください",
                                    file=path) from exc
            raise
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise database_error(exc, path) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        migrate(conn, file=path)
    except sqlite3.Error as exc:
        conn.close()
        raise database_error(exc, path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def connect(path: str | Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """:func:`open_db` as a context manager that always closes; an SQLite error in the block
    (a full disk at the commit, a lock held too long) becomes one :func:`database_error`."""
    conn = open_db(path, create=create)
    try:
        yield conn
    except sqlite3.Error as exc:
        raise database_error(exc, path) from exc
    finally:
        conn.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception.

    SQLite may already have rolled back by itself (it does on a full disk): the rollback is
    then skipped, so the error that caused it is the one reported.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
