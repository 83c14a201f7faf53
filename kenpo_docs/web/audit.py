"""The audit log: who did what, when, in ``web/audit.jsonl`` of the data folder.

One JSON object per line (``at`` in UTC, ``user``, ``action``, then the keys the caller
gives: ids of uploads and batches, member keys, counts, file names of a batch). Never a
name, an address or a file name a user typed: :func:`audit` refuses values that are not
plain ids or numbers, so a careless call cannot leak a roster cell into the log. Appends are
whole lines under an exclusive lock, so the server and the runner process can both write.
Admins read it on ``/audit``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections import deque
from pathlib import Path
from typing import Any

from fastapi import Request

from kenpo_docs.files import FILE_MODE, private_dir
from kenpo_docs.web.accounts import User
from kenpo_docs.web.store import DataFolder, utc_stamp

#: What a logged value may look like: ids, keys (記号-番号-枝番), file names of a batch,
#: states, dates, short codes. Anything else (Japanese text, spaces, paths) is refused.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,79}$")
#: Japanese words a caller may log as they are (the reasons a piece came back).
SAFE_WORDS = frozenset({"宛所不明", "転居先不明", "受取拒否"})


def _check(key: str, value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and (SAFE_VALUE.match(value) or value in SAFE_WORDS):
        return value
    if isinstance(value, list | tuple):
        return [_check(key, v) for v in value]
    raise ValueError(f"audit: {key} is not an id, key or number")


def audit(who: Request | User, action: str, **keys: Any) -> None:
    """Append ``action`` by the request's user (or ``who``) with ``keys`` to the audit log."""
    if isinstance(who, User):
        folder, name = DataFolder(who.data), who.name
    else:
        folder = who.app.state.folder
        user = who.session.get("user")
        name = user if isinstance(user, str) else "-"
    write_entry(folder, name, action, **keys)


def write_entry(folder: DataFolder, user: str, action: str, **keys: Any) -> None:
    """Append one entry (for the runner process, which has no request)."""
    entry = {"at": utc_stamp(), "user": user, "action": _check("action", action)}
    entry.update({k: _check(k, v) for k, v in keys.items()})
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    private_dir(folder.audit_log.parent)
    fd = os.open(folder.audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
    finally:
        os.close(fd)


def read_entries(path: Path, *, last: int = 500) -> list[dict[str, Any]]:
    """The last ``last`` entries, newest first (a damaged line is shown as such)."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = deque(fh, maxlen=last)
    entries: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = None
        entries.append(entry if isinstance(entry, dict) else {"action": "(damaged line)"})
    return entries
