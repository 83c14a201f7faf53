"""Barcodes we print and read back.

* ``japanpost`` - the Japan Post customer barcode (カスタマバーコード) for the address block.
* ``piececode`` - the 2D code on every page (``<piece_id>|<page>/<pages>``): its text and stamping.
* ``verify`` - reading those codes back from a print file and checking every envelope.
"""

from __future__ import annotations

from kenpo_docs.barcodes.japanpost import (
    CustomerBarcode,
    encode_customer_barcode,
    extract_address_number,
    japan_post_barcode,
    japan_post_barcode_or_none,
)
from kenpo_docs.barcodes.piececode import (
    PieceCode,
    StampOptions,
    parse_piece_code,
    piece_code_text,
    stamp_page,
    stamp_pieces,
)
from kenpo_docs.barcodes.verify import VerifyProblem, VerifyReport, read_expected, verify_pdf

__all__ = [
    "CustomerBarcode",
    "PieceCode",
    "StampOptions",
    "VerifyProblem",
    "VerifyReport",
    "encode_customer_barcode",
    "extract_address_number",
    "japan_post_barcode",
    "japan_post_barcode_or_none",
    "parse_piece_code",
    "piece_code_text",
    "read_expected",
    "stamp_page",
    "stamp_pieces",
    "verify_pdf",
]
