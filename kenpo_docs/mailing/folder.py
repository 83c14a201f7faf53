"""The batch folder (``--out``): ours to write only when it is new, empty or marked as this
batch's, locked while a merge writes it, and never followed out through a link.

A merge writes pieces, part files (pickled shapes among them) and print files into ``--out``
and deletes its own scratch files there. Without these checks a non-empty folder of the
user's lost files to the clean-up, a ``parts`` or ``pieces`` that was a symlink sent writes
and deletions into the link's target, and two merges into one folder built print files from
each other's half-written pieces. Now:

* a folder with no ``batch.json`` is taken only when it is empty (or holds nothing but what a
  run killed before writing ``batch.json`` leaves: its temp file);
* ``batch.json``, the batch's subfolders and every entry in them must be real files and
  folders, not links (checked with ``lstat``/``scandir``, which do not follow them);
* the folder is locked (``fcntl.flock`` on the folder itself, so no lock file is left
  behind) from the claim to the end of the merge: a second merge into it stops at once
  with a clear message;
* only names the batch writes are ever deleted (see :func:`is_temp`, :func:`remove_parts`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import private_dir, write_atomic
from kenpo_docs.pdf.sides import DEFAULT_SIDES, Sides

STAMP = "batch.json"
#: The batch's own subfolders.
SUBFOLDERS = ("pieces", "parts", "print", "static", "proof")
#: Temp files of :func:`kenpo_docs.files.write_atomic`: ``.<name>.<random>.tmp``.
_TEMP = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")
#: What a run killed before it wrote ``batch.json`` can leave in a new folder.
_BEFORE_STAMP = re.compile(rf"\.{re.escape(STAMP)}\.[A-Za-z0-9_]{{8}}\.tmp")


def is_temp(name: str) -> bool:
    """Whether ``name`` is one of our temp files (``write_atomic``'s pattern)."""
    return _TEMP.fullmatch(name) is not None


def _refuse(out: Path, what: str) -> ManifestError:
    return ManifestError(f"{out}: {what}", file=out)


def _not_a_link(path: Path, out: Path, *, folder: bool) -> bool:
    """Whether ``path`` exists (not following links); refuses a link or the wrong kind."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode):
        raise _refuse(out, f"{path.name} はシンボリックリンクです。バッチのフォルダの中のリンクは"
                           "たどりません (a link inside the batch folder is not followed): "
                           "リンクを外すか、新しい --out を指定してください")
    if folder != stat.S_ISDIR(mode):
        kind, english = ("フォルダ", "folder") if folder else ("ファイル", "file")
        raise _refuse(out, f"{path.name} が{kind}ではありません (not a {english}): "
                           "新しい --out を指定してください")
    return True


@contextlib.contextmanager
def claimed(out: Path, batch_id: str, fingerprint: str, *, sides: Sides = DEFAULT_SIDES
            ) -> Iterator[bool]:
    """Claim ``out`` for the batch and hold its lock in the block; yields whether the folder
    already held this batch (a resume). ``sides`` (``merge --sides``) is kept in
    ``batch.json`` with the batch's id: a resume must pad its pieces the same way.

    Raises:
        ManifestError: the folder is not empty and not this batch's, holds another batch or
            the batch made with the other ``--sides``, has a link where the batch's files go,
            or another merge is writing it.
    """
    existed = out.is_dir()
    if existed:
        _check_ownership(out)
    private_dir(out)
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refuse(out, "別の merge がこのフォルダに書き込み中です (another merge is "
                               "writing this folder): 終わるのを待ってから、同じコマンドで続きを"
                               "実行してください") from None
        # Under the lock: the other merge may have claimed the folder meanwhile.
        _check_ownership(out)
        yield _stamp(out, batch_id, fingerprint, sides)
    finally:
        os.close(fd)  # releases the lock


def _check_ownership(out: Path) -> None:
    if _not_a_link(out / STAMP, out, folder=False):
        for name in SUBFOLDERS:
            folder = out / name
            if _not_a_link(folder, out, folder=True):
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_symlink():
                            raise _refuse(out, f"{name}/{entry.name} はシンボリックリンクです "
                                               "(a link in the batch folder is not followed): "
                                               "新しい --out を指定してください")
        return
    with os.scandir(out) as entries:
        foreign = sorted(e.name for e in entries if not _BEFORE_STAMP.fullmatch(e.name))
    if foreign:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise _refuse(out, "空でなく、kenpo-docs のバッチのフォルダでもありません (not empty and "
                           f"not a batch folder: {shown}): 新しいフォルダか空のフォルダを --out "
                           "に指定してください")


def _stamp(out: Path, batch_id: str, fingerprint: str, sides: Sides) -> bool:
    stamp = out / STAMP
    if stamp.exists():
        try:
            held = json.loads(stamp.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read {stamp}: {exc}") from exc
        _same_sides(out, held, sides)
        if held.get("batch_id") != batch_id or held.get("fingerprint") != fingerprint:
            raise ManifestError(
                f"{out} holds batch {held.get('batch_id')} made from other input; "
                "choose another --out folder (or the same roster, options and --batch-id)"
            )
        return True
    write_atomic(stamp, json.dumps({"batch_id": batch_id, "fingerprint": fingerprint,
                                    "sides": sides}, indent=1).encode())
    return False


def _same_sides(out: Path, held: dict[str, object], sides: Sides) -> None:
    # A batch.json without "sides" was written before --sides existed: no blank pages.
    held_sides = held.get("sides", "simplex")
    if held_sides != sides:
        raise ManifestError(
            f"{out} のバッチは --sides {held_sides} で作られています (batch made with "
            f"--sides {held_sides}, not {sides}): 同じ --sides {held_sides} で続けるか、"
            "新しい --out を指定してください")


def check_sides(out: Path, sides: Sides) -> None:
    """Refuse, before anything else is claimed (the tracking database's batch included), to
    go on with a batch in ``out`` made with the other ``--sides``: its pieces are padded
    (or not) for that choice. A folder without a readable ``batch.json`` is left to
    :func:`claimed`.

    Raises:
        ManifestError: ``out`` holds a batch made with the other ``--sides``.
    """
    stamp = out / STAMP
    if not is_own_file(stamp):
        return
    try:
        held = json.loads(stamp.read_text("utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(held, dict):
        _same_sides(out, held, sides)


def subfolder(out: Path, name: str) -> Path:
    """``OUT/<name>``, made 0700 if missing; a link there is refused, never followed."""
    path = out / name
    _not_a_link(path, out, folder=True)
    return private_dir(path)


def is_own_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (a link, even to a file, is not one of ours)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def clean_temps(folder: Path) -> int:
    """Remove our temp files left in ``folder`` by a killed run; returns how many."""
    count = 0
    if folder.is_dir() and not folder.is_symlink():
        with os.scandir(folder) as entries:
            names = [e.name for e in entries
                     if is_temp(e.name) and e.is_file(follow_symlinks=False)]
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / name)
                count += 1
    return count


#: Scratch files of the parts folder besides the chunks': shared shapes, saved cover sheets.
_SCRATCH = r"[0-9a-f]{32}\.shape|covers-\d{5}\.seg"


def remove_parts(folder: Path, chunk_ids: Iterable[str]) -> None:
    """Delete the batch's scratch part files (``<first piece id>.seg`` and ``.json`` of each
    chunk, shared shapes ``<32 hex>.shape``, temp files), then the folder if that emptied it.
    Anything else found there is left alone."""
    if not folder.is_dir() or folder.is_symlink():
        return
    ours = {f"{c}{suffix}" for c in chunk_ids for suffix in (".seg", ".json")}
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.is_file(follow_symlinks=False)
                 and (e.name in ours or re.fullmatch(_SCRATCH, e.name) or is_temp(e.name))]
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / name)
    with contextlib.suppress(OSError):
        folder.rmdir()
