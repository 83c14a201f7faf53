"""Errors raised by kenpo-docs.

One root, so a caller (the CLI) can turn any of them into a one-line message::

    KenpoDocsError
     ├── DateError           (also ValueError)  a date that cannot be read or does not exist
     ├── RuleError           (also ValueError)  a domain rule refuses the input (e.g. issue date)
     ├── RosterError                            the roster file as a whole cannot be used
     ├── TemplateError       (also LookupError) missing template, undefined variable
     ├── RenderError                            WeasyPrint / docxtpl failed
     ├── AssemblyError                          an external PDF is unreadable, encrypted, ...
     ├── BarcodeError        (also ValueError)  data that cannot be encoded
     │    └── RepresentativePostalCodeError     a city's representative code: no customer barcode
     ├── ManifestError                          output folder / manifest / tracking db problems
     └── ClusterError                           merge --cluster: not installed, unreachable,
                                                or the output folder not shared with workers

Errors carry context as attributes (``file``, ``row``, ``column``, ``member_key``,
``template``) so messages can name where the problem is without printing personal data.
"""

from __future__ import annotations

from pathlib import Path


class KenpoDocsError(Exception):
    """Root of every error this package raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        member_key: str | None = None,
        template: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.member_key = member_key
        self.template = template

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        if self.member_key:
            where.append(f"member {self.member_key}")
        if self.template:
            where.append(f"template {self.template}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class DateError(KenpoDocsError, ValueError):
    """A date string or value that cannot be parsed, or names a day that does not exist."""


class RuleError(KenpoDocsError, ValueError):
    """A domain rule of notice 539 refuses the input."""


class RosterError(KenpoDocsError):
    """The roster file as a whole cannot be used (encoding, header, missing column, empty)."""


class TemplateError(KenpoDocsError, LookupError):
    """A template is missing or uses a variable that was not provided."""


class RenderError(KenpoDocsError):
    """Rendering a document failed."""


class AssemblyError(KenpoDocsError):
    """A PDF to include cannot be used (unreadable, encrypted, broken)."""


class BarcodeError(KenpoDocsError, ValueError):
    """Data that cannot be turned into a barcode."""


class RepresentativePostalCodeError(BarcodeError):
    """The postal code is a city's "以下に掲載がない場合" code: Japan Post wants no barcode."""


class ManifestError(KenpoDocsError):
    """The output folder, manifest or tracking database is inconsistent or unusable."""


class ClusterError(KenpoDocsError):
    """``merge --cluster``: dask/distributed not installed, the scheduler not reachable, or
    the output folder not shared with the workers."""
