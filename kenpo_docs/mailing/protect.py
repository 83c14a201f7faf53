"""Password protection of a finished batch: piece PDFs and print files encrypted with AES-256.

The output folder is already private (0700/0600); encryption protects the files once they
leave it (copied to a share, a USB stick, the print shop). The password is per batch and is
never taken from the command line (it would sit in the shell history and the process list):
the CLI reads ``KENPO_DOCS_PASSWORD`` or asks with a hidden prompt.

Encryption runs when every piece and print file is written, file by file (atomic replace), and
marks the folder in ``encrypted.json``, so a run killed half-way encrypts the rest when run
again, and a finished encrypted batch is never reopened by a merge that would need to read its
pieces in clear.

qpdf (through pikepdf) does the encryption: it rewrites the file's own objects, encrypted, as
they are. pypdf, which did it before, copies a document by cloning it, and its clone makes a
new copy of a stream for every array that refers to it: the small content streams that every
page of a piece shares were multiplied (its "Object count exceeds trailer size" warning;
encrypted print files 20 % larger) and it took 6-8 times as long (bench: docs/security.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import FILE_MODE, write_atomic
from kenpo_docs.mailing.folder import clean_temps

logger = logging.getLogger(__name__)

MARKER = "encrypted.json"
ALGORITHM = "AES-256"
MIN_PASSWORD = 8


def check_password(password: str) -> None:
    """Refuse an empty or short password before anything is rendered."""
    if len(password) < MIN_PASSWORD:
        raise ManifestError(f"the batch password must have at least {MIN_PASSWORD} characters")


def is_encrypted_batch(out: Path) -> bool:
    """True when ``out`` holds a batch whose files were (being) encrypted."""
    return (Path(out) / MARKER).exists()


def refuse_encrypted_batch(out: Path) -> None:
    """A merge must not resume into an encrypted batch: it would read pieces it cannot open.

    Raises:
        ManifestError: ``out`` holds an encrypted batch.
    """
    if is_encrypted_batch(out):
        raise ManifestError(
            f"{out} holds a batch that was encrypted; to add to it, finish it with --encrypt "
            "and the same password, or choose another --out folder"
        )


def encrypt_batch(out: Path, password: str) -> int:
    """Encrypt every piece PDF and print file under ``out`` in place; returns how many files
    were encrypted by this call (files already encrypted are left as they are).

    Raises:
        ManifestError: a file is encrypted with another password, or is not a PDF.
    """
    check_password(password)
    out = Path(out)
    write_atomic(out / MARKER, json.dumps({"algorithm": ALGORITHM}).encode())
    folders = (out / "pieces", out / "print")
    for folder in folders:
        clean_temps(folder)  # a run killed while encrypting a file
    files = [path for folder in folders for path in sorted(folder.glob("*.pdf"))]
    count = sum(1 for path in files if encrypt_file(path, password))
    logger.info("encrypted %d files under %s (%s)", count, out, ALGORITHM)
    return count


def encrypt_file(path: Path, password: str) -> bool:
    """Encrypt the PDF at ``path`` in place (AES-256, the file stays 0600 and is replaced
    atomically); False when it is already encrypted with ``password``.

    Raises:
        ManifestError: encrypted with another password, or not a readable PDF.
    """
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        try:  # encrypted: by this batch (a run killed while encrypting) if the password opens it
            pikepdf.open(path, password=password).close()
        except pikepdf.PasswordError:
            raise ManifestError("encrypted with another password", file=path) from None
        return False
    except pikepdf.PdfError as exc:
        raise ManifestError(f"cannot encrypt: {exc}", file=path) from exc
    with pdf:
        if pdf.is_encrypted:  # opens without a password: not ours
            raise ManifestError("encrypted with another password", file=path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                # The owner password is the user password, as with pypdf before: no second
                # secret to keep, and no empty owner password that would open the file.
                pdf.save(fh, encryption=pikepdf.Encryption(
                    owner=password, user=password, R=6, aes=True, metadata=True))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return True
