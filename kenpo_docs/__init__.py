"""kenpo-docs: numbered notices, request forms, personalised letters and tracked mailings
for a Japanese health insurance society (健康保険組合).

The public API is exactly ``__all__``; every other name is an implementation detail.
"""

from __future__ import annotations

from kenpo_docs.barcodes import japan_post_barcode
from kenpo_docs.domain.era import format_wareki, parse_date
from kenpo_docs.domain.facts import VisitPath, certificate_expiry, delivery_route, visit_path
from kenpo_docs.domain.rules import Rules, default_rules, load_rules
from kenpo_docs.errors import (
    AssemblyError,
    BarcodeError,
    DateError,
    KenpoDocsError,
    ManifestError,
    RenderError,
    RepresentativePostalCodeError,
    RosterError,
    RuleError,
    TemplateError,
)
from kenpo_docs.input.roster import Member, read_roster

__version__ = "0.1.0"

__all__ = [
    "AssemblyError",
    "BarcodeError",
    "DateError",
    "KenpoDocsError",
    "ManifestError",
    "Member",
    "RenderError",
    "RepresentativePostalCodeError",
    "RosterError",
    "RuleError",
    "Rules",
    "TemplateError",
    "VisitPath",
    "__version__",
    "certificate_expiry",
    "default_rules",
    "delivery_route",
    "format_wareki",
    "japan_post_barcode",
    "load_rules",
    "parse_date",
    "read_roster",
    "visit_path",
]
