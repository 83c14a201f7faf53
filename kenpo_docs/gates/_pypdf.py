"""pypdf's private parts we use, each behind one function (tested in tests/test_gates.py).

pypdf has no public way to add an object to a writer without a page, nor to read a stream's
bytes as stored (``get_data`` inflates them). Both are needed to copy streams between files
without decoding and re-encoding them.
"""

from __future__ import annotations

from pypdf import PdfWriter
from pypdf.generic import IndirectObject, PdfObject, StreamObject


def add_object(writer: PdfWriter, obj: PdfObject) -> IndirectObject:
    """Add ``obj`` to ``writer`` as an indirect object (``PdfWriter._add_object``)."""
    return writer._add_object(obj)


def stored_bytes(stream: StreamObject) -> bytes:
    """A stream's bytes as stored, still encoded by its /Filter (``StreamObject._data``)."""
    data: bytes = stream._data
    return data
