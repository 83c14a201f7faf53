"""kenpo-docs: numbered notices, request forms, personalised letters and tracked mailings
for a Japanese health insurance society (健康保険組合).

The public API is exactly ``__all__``; every other name is an implementation detail.
"""

from __future__ import annotations

from kenpo_docs.era import format_wareki, parse_date
from kenpo_docs.errors import (
    AssemblyError,
    BarcodeError,
    DateError,
    KenpoDocsError,
    ManifestError,
    RenderError,
    RosterError,
    RuleError,
    TemplateError,
)

__version__ = "0.1.0"

__all__ = [
    "AssemblyError",
    "BarcodeError",
    "DateError",
    "KenpoDocsError",
    "ManifestError",
    "RenderError",
    "RosterError",
    "RuleError",
    "TemplateError",
    "__version__",
    "format_wareki",
    "parse_date",
]
