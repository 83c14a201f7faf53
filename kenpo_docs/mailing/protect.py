"""Password protection of a finished batch: piece PDFs and print files encrypted with AES-256.

The output folder is already private (0700/0600); encryption protects the files once they
leave it (copied to a share, a USB stick, the print shop). The password is per batch and is
never taken from the command line (it would sit in the shell history and the process list):
the CLI reads ``KENPO_DOCS_PASSWORD`` or asks with a hidden prompt.

Encryption runs when every piece and print file is written, file by file (atomic replace), and
marks the folder in ``encrypted.json``, so a run killed half-way encrypts the rest when run
again, and a finished encrypted batch is never reopened by a merge that would need to read its
pieces in clear.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from kenpo_docs.errors import ManifestError
from kenpo_docs.files import write_atomic

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
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    check_password(password)
    out = Path(out)
    write_atomic(out / MARKER, json.dumps({"algorithm": ALGORITHM}).encode())
    files = sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))
    count = 0
    for path in files:
        try:
            reader = PdfReader(path)
            if reader.is_encrypted:
                if not reader.decrypt(password):
                    raise ManifestError("encrypted with another password", file=path)
                continue
            writer = PdfWriter(clone_from=reader)
            writer.encrypt(user_password=password, owner_password=None, algorithm=ALGORITHM)
            buf = io.BytesIO()
            writer.write(buf)
        except PdfReadError as exc:
            raise ManifestError(f"cannot encrypt: {exc}", file=path) from exc
        write_atomic(path, buf.getvalue())
        count += 1
    logger.info("encrypted %d files under %s (%s)", count, out, ALGORITHM)
    return count
