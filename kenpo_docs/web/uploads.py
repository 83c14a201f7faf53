"""Uploaded rosters: checked by content, stored 0600 under our own id, never served back.

A file is accepted when it is what a roster can be: an ``.xlsx`` workbook (a zip holding
``[Content_Types].xml`` and ``xl/workbook.xml``) or a CSV (text in one of the encodings
:func:`kenpo_docs.input.roster.read_roster` reads, without NUL bytes outside UTF-16). The
name the browser sends is never used as a path: the file is ``web/uploads/<id>.<kind>``.
Whether it is a usable roster is then the library's ``check`` to say.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from kenpo_docs.errors import RosterError
from kenpo_docs.files import write_atomic
from kenpo_docs.web.accounts import User
from kenpo_docs.web.store import DataFolder, connect, new_id, transaction, utc_stamp

_XLSX_PARTS = {"[Content_Types].xml", "xl/workbook.xml"}
#: What a CSV roster may be encoded in (the roster reader's list).
_TEXT_ENCODINGS = ("utf-8-sig", "cp932", "utf-16")


def sniff(data: bytes) -> str:
    """``xlsx`` or ``csv`` by content.

    Raises:
        RosterError: empty, or neither a workbook nor text.
    """
    if not data:
        raise RosterError("空のファイルです (empty file)")
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile as exc:
            raise RosterError("壊れた zip / xlsx ファイルです (damaged xlsx)") from exc
        if _XLSX_PARTS <= names:
            return "xlsx"
        raise RosterError("Excel ブック (.xlsx) ではない zip ファイルです (a zip, not an xlsx "
                          "workbook)")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise RosterError("古い形式 (.xls) か、パスワード付きのブックです。.xlsx か CSV で保存して"
                          "ください (legacy .xls or encrypted workbook: save as .xlsx or CSV)")
    is_utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if b"\x00" in data and not is_utf16:
        raise RosterError("名簿（.xlsx か CSV）ではありません (not a roster: binary file)")
    for encoding in _TEXT_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "csv"
    raise RosterError("名簿（.xlsx か CSV）ではありません: 文字コードを読めません "
                      "(not a roster: not text in UTF-8, CP932 or UTF-16)")


def store(folder: DataFolder, data: bytes, user: User) -> tuple[str, str]:
    """Check ``data`` (:func:`sniff`), store it 0600 under a new id; returns (id, kind)."""
    kind = sniff(data)
    upload_id = new_id("U")
    write_atomic(folder.upload_file(upload_id, kind), data)
    with connect(folder) as conn, transaction(conn):
        conn.execute("INSERT INTO uploads (id, kind, sha256, size, uploaded_by, created) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (upload_id, kind, hashlib.sha256(data).hexdigest(), len(data),
                      user.name, utc_stamp()))
    return upload_id, kind


def stored_path(folder: DataFolder, upload_id: str) -> Path:
    """The stored file of upload ``upload_id`` (looked up, never built from user input).

    Raises:
        KeyError: no such upload.
    """
    with connect(folder) as conn:
        row = conn.execute("SELECT id, kind FROM uploads WHERE id = ?", (upload_id,)).fetchone()
    if row is None:
        raise KeyError(upload_id)
    return folder.upload_file(row["id"], row["kind"])


def upload_sha256(folder: DataFolder, upload_id: str) -> str:
    with connect(folder) as conn:
        row = conn.execute("SELECT sha256 FROM uploads WHERE id = ?", (upload_id,)).fetchone()
    if row is None:
        raise KeyError(upload_id)
    return str(row["sha256"])
