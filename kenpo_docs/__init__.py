"""kenpo-docs: numbered notices, request forms, personalised letters and tracked mailings
for a Japanese health insurance society (健康保険組合).

The public API is exactly ``__all__``; every other name is an implementation detail.

Logging: each module logs on ``logging.getLogger(__name__)``, under ``kenpo_docs``, which
has a ``NullHandler`` (an application, like the CLI, decides where records go). The levels:

* ``WARNING`` - we recovered, but the user should know (a column ignored, the fast path off,
  a piece's fonts not merged); ``--strict`` turns the ones that matter into errors;
* ``INFO`` - what a run did, in counts (rows read, pieces resumed, letters laid out in full);
* ``DEBUG`` - why, per item, by ids only (a letter laid out in full and its reason).

Never a name, an address or a My Number at any level: member keys and piece ids only.
"""

from __future__ import annotations

import logging

from kenpo_docs.barcodes import japan_post_barcode
from kenpo_docs.domain.era import format_wareki, parse_date
from kenpo_docs.domain.facts import VisitPath, certificate_expiry, delivery_route, visit_path
from kenpo_docs.domain.rules import Rules, default_rules, load_rules
from kenpo_docs.errors import (
    AssemblyError,
    BarcodeError,
    ClusterError,
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

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AssemblyError",
    "BarcodeError",
    "ClusterError",
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
