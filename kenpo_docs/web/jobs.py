"""Batch requests and the runner's queue (the ``batches`` table of the web database).

A batch goes::

    draft --request--> pending --approve (another person)--> queued --runner--> running
      |                  |  \\--send back--> draft                          |-> done
      \\--run (approval off)------------------------------> queued          |-> failed
                                                                           \\-> cancelled
    queued/running --cancel--> cancelled --run again--> queued (the merge resumes)

Every change is one ``BEGIN IMMEDIATE`` transaction that checks the state it starts from,
so two people clicking at once cannot both approve, and the runner takes each queued batch
once. The runner writes the progress (``done``/``total``) and reads ``cancel`` here.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.web.accounts import User
from kenpo_docs.web.store import DataFolder, connect, new_id, transaction, utc_stamp

STATE_LABELS = {
    "draft": "作成中", "pending": "承認待ち", "queued": "実行待ち", "running": "実行中",
    "done": "完了", "failed": "失敗", "cancelled": "取消",
}


class StateError(KenpoDocsError):
    """The batch is not in a state that allows this (someone else acted first)."""


@dataclass(frozen=True)
class Batch:
    """One batch request, as stored."""

    id: str
    upload: str
    options: dict[str, Any]
    state: str
    prepared_by: str
    approved_by: str | None
    created: str
    requested: str | None
    approved: str | None
    started: str | None
    finished: str | None
    done: int
    total: int
    cancel: bool
    message: str
    result: dict[str, Any]

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.options["as_of"])

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Batch:
        values = dict(row)
        values["options"] = json.loads(values["options"])
        values["result"] = json.loads(values["result"])
        values["cancel"] = bool(values["cancel"])
        return cls(**values)


def create(folder: DataFolder, *, upload: str, options: dict[str, Any], user: User) -> Batch:
    """A new draft batch of ``upload`` with the mailing ``options`` (JSON-able)."""
    batch_id = new_id("W")
    with connect(folder) as conn, transaction(conn):
        conn.execute(
            "INSERT INTO batches (id, upload, options, state, prepared_by, created) "
            "VALUES (?, ?, ?, 'draft', ?, ?)",
            (batch_id, upload, json.dumps(options, ensure_ascii=False), user.name,
             utc_stamp()))
    return get(folder, batch_id)


def get(folder: DataFolder, batch_id: str) -> Batch:
    """The batch ``batch_id``.

    Raises:
        KeyError: no such batch.
    """
    with connect(folder) as conn:
        row = conn.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
    if row is None:
        raise KeyError(batch_id)
    return Batch.from_row(row)


def all_batches(folder: DataFolder, *, states: tuple[str, ...] = ()) -> list[Batch]:
    """Batches, newest first (only those in ``states`` when given)."""
    query = "SELECT * FROM batches"
    if states:
        query += f" WHERE state IN ({', '.join('?' * len(states))})"
    with connect(folder) as conn:
        rows = conn.execute(query + " ORDER BY created DESC, id DESC", states).fetchall()
    return [Batch.from_row(r) for r in rows]


#: What a transition does, by the state it starts from: (SET clause, its values).
Changes = dict[str, tuple[str, tuple[object, ...]]]


def _move(folder: DataFolder, batch_id: str, changes: Changes, what: str) -> Batch:
    """Apply the change for the batch's current state, in one transaction.

    Raises:
        KeyError: no such batch.
        StateError: its state allows no such change (``what`` names it for staff).
    """
    with connect(folder) as conn, transaction(conn):
        row = conn.execute("SELECT state FROM batches WHERE id = ?", (batch_id,)).fetchone()
        if row is None:
            raise KeyError(batch_id)
        if row["state"] not in changes:
            raise StateError(f"この一括処理は「{STATE_LABELS.get(row['state'], row['state'])}」"
                             f"のため{what}できません (batch is {row['state']})")
        sets, values = changes[row["state"]]
        conn.execute(f"UPDATE batches SET {sets} WHERE id = ?", (*values, batch_id))
    return get(folder, batch_id)


def request_approval(folder: DataFolder, batch_id: str) -> Batch:
    return _move(folder, batch_id, {"draft": ("state = 'pending', requested = ?",
                                              (utc_stamp(),))}, "承認を依頼")


def send_back(folder: DataFolder, batch_id: str, message: str) -> Batch:
    return _move(folder, batch_id, {"pending": ("state = 'draft', message = ?", (message,))},
                 "差し戻し")


def approve(folder: DataFolder, batch_id: str, user: User) -> Batch:
    """Approve and queue a pending batch; never by the person who prepared it.

    Raises:
        StateError: not pending, or ``user`` prepared it.
    """
    batch = get(folder, batch_id)
    if batch.prepared_by == user.name:
        raise StateError("作成した本人は承認できません。別の承認者に依頼してください "
                         "(the person who prepared a batch cannot approve it)")
    return _move(folder, batch_id, {"pending": (
        "state = 'queued', approved_by = ?, approved = ?, message = ''",
        (user.name, utc_stamp()))}, "承認")


def run_without_approval(folder: DataFolder, batch_id: str) -> Batch:
    """Queue a draft directly (approval turned off)."""
    return _move(folder, batch_id, {"draft": ("state = 'queued', approved = ?",
                                              (utc_stamp(),))}, "実行")


def cancel(folder: DataFolder, batch_id: str) -> Batch:
    """Cancel: a batch not yet running at once; a running one asks the runner to stop (it
    stops after the chunk it is rendering and marks the batch cancelled)."""
    now = ("state = 'cancelled', finished = ?, message = '取り消しました (cancelled)'",
           (utc_stamp(),))
    return _move(folder, batch_id, {"pending": now, "queued": now,
                                    "running": ("cancel = 1", ())}, "取り消し")


def run_again(folder: DataFolder, batch_id: str) -> Batch:
    """Queue a cancelled or failed batch again (it was approved before: the merge resumes
    from the pieces already made)."""
    batch = get(folder, batch_id)
    if batch.approved is None:
        raise StateError("承認されていない一括処理です (batch was never approved)")
    again = ("state = 'queued', cancel = 0, finished = NULL, message = ''", ())
    return _move(folder, batch_id, {"cancelled": again, "failed": again}, "再実行")


# The runner's side.

def take_next(folder: DataFolder) -> Batch | None:
    """Mark the oldest queued batch running and return it (None: nothing queued)."""
    with connect(folder) as conn, transaction(conn):
        row = conn.execute("SELECT id FROM batches WHERE state = 'queued' "
                           "ORDER BY approved, id LIMIT 1").fetchone()
        if row is None:
            return None
        conn.execute("UPDATE batches SET state = 'running', started = ?, cancel = 0, "
                     "message = '' WHERE id = ?", (utc_stamp(), row["id"]))
    return get(folder, row["id"])


def requeue_interrupted(folder: DataFolder) -> int:
    """Batches left running by a stopped runner go back to the front of the queue (the
    merge finishes them from where they stopped); a cancel asked meanwhile is honoured."""
    with connect(folder) as conn, transaction(conn):
        conn.execute("UPDATE batches SET state = 'cancelled', finished = ?, "
                     "message = '取り消しました (cancelled)' "
                     "WHERE state = 'running' AND cancel = 1", (utc_stamp(),))
        return conn.execute(
            "UPDATE batches SET state = 'queued', message = '中断後に再開します "
            "(resumed after a restart)' WHERE state = 'running'").rowcount


def progress(folder: DataFolder, batch_id: str, done: int, total: int) -> bool:
    """Store the progress; True when a cancel was asked for."""
    with connect(folder) as conn, transaction(conn):
        conn.execute("UPDATE batches SET done = ?, total = ? WHERE id = ?",
                     (done, total, batch_id))
        row = conn.execute("SELECT cancel FROM batches WHERE id = ?", (batch_id,)).fetchone()
    return bool(row and row["cancel"])


def finish(folder: DataFolder, batch_id: str, state: str, message: str,
           result: dict[str, Any] | None = None) -> None:
    with connect(folder) as conn, transaction(conn):
        conn.execute("UPDATE batches SET state = ?, finished = ?, message = ?, result = ? "
                     "WHERE id = ?",
                     (state, utc_stamp(), message,
                      json.dumps(result or {}, ensure_ascii=False), batch_id))


def requeue(folder: DataFolder, batch_id: str, message: str) -> None:
    """Put a batch whose run was interrupted (the server stopped) back in the queue."""
    with connect(folder) as conn, transaction(conn):
        conn.execute("UPDATE batches SET state = 'queued', message = ? WHERE id = ?",
                     (message, batch_id))
