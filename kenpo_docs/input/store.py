"""Where a big roster and its batch's plan wait on disk: one SQLite file, rows as pickles.

``check`` and ``merge`` read a roster row by row (:func:`~.tables.iter_table`) and stage each
parsed row here instead of holding it as Python objects: a million rows are ~2 GB as objects,
a few hundred MB as pickles in SQLite, and only the page being read is in memory. The checks
between rows (a duplicate key, a dependent without their insured person, a 交付日 after the
insured person's 資格喪失日) are SQL over the staged rows, and the plan of the merge (pieces,
routes, sort keys, print files, page counts) is written to the same file and read back
chunk by chunk (:mod:`kenpo_docs.mailing.plan`).

The file is scratch: it lives in a private (0700) temp folder of its own, is removed when
the run ends (an error and Ctrl+C included), and holds nothing the batch folder does not
hold in its pieces already. A run killed outright (``kill -9``, the OOM killer) leaves its
``kenpo-docs-stage-<pid>-*`` folder in the system's temp folder, names and addresses in it:
the next store made on the machine removes every such folder whose process is gone
(:func:`sweep`). Small rosters (tests,
the library's in-memory :func:`~.roster.read_roster`) use an in-memory database.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")

#: Rows fetched per query when a table is walked (bounded memory, no cursor held open
#: while the same connection writes).
PAGE = 2000


def dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """Read back a value this process (or the same code) pickled: our own scratch file."""
    return pickle.loads(data)


PREFIX = "kenpo-docs-stage-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep(folder: Path | None = None) -> list[Path]:
    """Remove the staging folders of runs that were killed outright: ours (same owner), named
    after a process that no longer exists. A folder whose process lives (or whose number a new
    process has taken) is kept. Returns what was removed."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(PREFIX + "*"):
        pid = path.name.removeprefix(PREFIX).split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and path.is_dir() and not path.is_symlink() \
                    and path.stat().st_uid == os.getuid() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


class Store:
    """One SQLite database for a roster's rows and its plan: on disk in a private temp
    folder (``on_disk``), or in memory. Close it (or use it as a context manager): the
    folder goes with it."""

    def __init__(self, *, on_disk: bool = True) -> None:
        self.folder: Path | None = None
        if on_disk:
            sweep()
            self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))  # 0700
            target = str(self.folder / "staging.sqlite")
        else:
            target = ":memory:"
        self.conn = sqlite3.connect(target, isolation_level=None)
        # Scratch: nothing to recover after a crash, so no journal and no fsync.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE",
                       "cache_size = -32000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.executemany(sql, rows)

    def value(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def walk(self, sql: str, args: Sequence[Any] = (), *,
             key: int = 0) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` a page at a time. ``sql`` takes the last key seen as its last
        parameter (``... WHERE k > ? ORDER BY k LIMIT {PAGE}``); ``key`` is the column of the
        result that holds it. Starts below every key (keys are integers >= 0)."""
        last: Any = -1
        while True:
            page = self.conn.execute(sql, (*args, last)).fetchall()
            yield from page
            if len(page) < PAGE:
                return
            last = page[-1][key]

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Stored(Sequence[T], Generic[T]):
    """A table's pickled values as a read-only sequence, in the order of an integer key
    column, read a page at a time. ``dense``: the keys are 1..n, so an item is found by its
    key (piece sequence numbers); otherwise by its offset."""

    def __init__(self, store: Store, table: str, *, key: str = "ord", column: str = "blob",
                 dense: bool = False, decode: Callable[[Any], T] = loads) -> None:
        """``column``: what is read of each row, one column (``decode`` gets its value) or
        several (``decode`` gets the tuple)."""
        self.store, self.table, self.key, self.column, self.dense = (
            store, table, key, column, dense)
        self.decode = decode
        self._one = "," not in column
        self._len: int | None = None

    def __len__(self) -> int:
        if self._len is None:
            self._len = int(self.store.value(f"SELECT COUNT(*) FROM {self.table}"))
        return self._len

    def __iter__(self) -> Iterator[T]:
        sql = (f"SELECT {self.key}, {self.column} FROM {self.table} WHERE {self.key} > ? "
               f"ORDER BY {self.key} LIMIT {PAGE}")
        for row in self.store.walk(sql):
            yield self.decode(row[1] if self._one else row[1:])

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        n = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                return tuple(self[i] for i in range(start, stop, step))
            if stop <= start:
                return ()
            if self.dense:
                rows = self.store.execute(
                    f"SELECT {self.column} FROM {self.table} WHERE {self.key} BETWEEN ? AND ? "
                    f"ORDER BY {self.key}", (start + 1, stop)).fetchall()
            else:
                rows = self.store.execute(
                    f"SELECT {self.column} FROM {self.table} ORDER BY {self.key} "
                    "LIMIT ? OFFSET ?", (stop - start, start)).fetchall()
            return tuple(self.decode(r[0] if self._one else r) for r in rows)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self[index:index + 1][0]


class Filtered(Sequence[T], Generic[T]):
    """``base`` without the items ``drop`` says to drop (households whose address does not fit
    the window): walked, not copied; ``length`` is known to the caller."""

    def __init__(self, base: Sequence[T], drop: Callable[[T], bool], length: int) -> None:
        self.base, self.drop, self.length = base, drop, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[T]:
        return (item for item in self.base if not self.drop(item))

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        for item in islice(iter(self), index, None):
            return item
        raise IndexError(index)
