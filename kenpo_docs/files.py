"""Writing output files safely: private (0600/0700) and atomic (temp file + rename).

A reader never sees half a file: a piece, a print file or the manifest is either complete or
absent, so an interrupted batch can be resumed by looking at what exists.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from kenpo_docs.errors import KenpoDocsError

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents readable by the owner only (0700); folders
    that already exist are not ours to change and keep their mode."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=DIR_MODE)
            with contextlib.suppress(PermissionError):
                os.chmod(folder, DIR_MODE)  # whatever the umask
    if not path.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(path))
    return path


def refuse_same_file(output: str | Path, option: str, **inputs: str | Path | None) -> None:
    """Refuse an output path that is one of the run's inputs (after resolving links): a
    report written over the roster, or a CSV over the tracking database, loses it.

    Raises:
        KenpoDocsError: naming the option, the input it would replace, and what to do.
    """
    out = Path(output)
    for what, given in inputs.items():
        if given is None:
            continue
        source = Path(given)
        same = out.resolve() == source.resolve()
        if not same and out.exists() and source.exists():
            same = os.path.samefile(out, source)
        if same:
            raise KenpoDocsError(
                f"{option} names the {what.replace('_', ' ')} itself, which writing it would "
                "replace: choose another file",
                file=str(output))


def refuse_foreign_file(output: str | Path, header: Sequence[str], *, option: str,
                        force: bool = False) -> None:
    """Refuse to replace an existing file at ``output`` unless it is a CSV of this kind that we
    wrote (our BOM and ``header`` line) or ``force`` is given: a mistyped ``--report`` or
    ``--csv`` must not replace a spreadsheet, a PDF or anything else the user keeps.

    Raises:
        KenpoDocsError: naming the option, the file, and ``--force``.
    """
    path = Path(output)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if force:
        return
    if stat.S_ISREG(mode):
        ours = csv_bytes(header, [])
        with open(path, "rb") as fh:
            if fh.read(len(ours)) == ours:
                return
    raise KenpoDocsError(
        f"{option}: このファイルは既にあり、kenpo-docs が書いた同じ種類の CSV ではありません "
        "(exists and is not a CSV of ours): 別のファイル名を指定するか、上書きしてよければ "
        "--force を付けてください",
        file=str(output))


def with_path(exc: OSError, path: str | Path) -> OSError:
    """``exc`` naming ``path`` (a failed write or fsync names no file; the message must)."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_atomic(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, rename.

    The temp file is created new (``O_EXCL``, mode 0600: never an existing file or a link
    planted under its name), and the rename replaces ``path`` itself, never a file a link
    there points to. ``mode``: the file's mode once written (0600 unless the caller keeps a
    file's own mode, as for the notice register in the templates folder)."""
    with atomic_output(path, mode=mode) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_output(path: Path, *, mode: int = FILE_MODE) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through, for a writer that streams (an .xlsx of
    10,000 rows): the same temp file, fsync and rename as :func:`write_atomic`; an
    exception leaves no file and no temp file behind."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            raise with_path(exc, path) from exc  # a full disk names the file it stopped at
        raise


def write_csv_atomic(path: Path, header: Sequence[str],
                     rows: Iterable[Sequence[object]]) -> None:
    """:func:`write_atomic` of :func:`csv_bytes`, the same bytes, written as the rows come
    (a manifest of a million lines is never held whole)."""
    with atomic_output(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        _write_csv(text, header, rows)
        text.flush()
        text.detach()


#: What makes Excel or LibreOffice read a cell as a formula (OWASP's CSV injection rule).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value as a CSV cell that a spreadsheet shows as text: a text starting like a formula
    gets a leading apostrophe (numbers are written as numbers, never neutralised)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with BOM (Excel opens it as Unicode), CRLF line ends; every text cell,
    the header's too, neutralised against formulas (:func:`csv_cell`)."""
    buf = io.StringIO()
    _write_csv(buf, header, rows)
    return buf.getvalue().encode("utf-8")


def _write_csv(out: io.TextIOBase, header: Sequence[str],
               rows: Iterable[Sequence[object]]) -> None:
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
