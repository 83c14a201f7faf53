"""Barcodes we print and read back.

* ``japanpost`` - the Japan Post customer barcode (カスタマバーコード) for the address block.
* ``piececode`` - the 2D code on every page (``<piece_id>|<page>/<pages>``) and its verification.
"""

from __future__ import annotations

from kenpo_docs.barcodes.japanpost import (
    CustomerBarcode,
    encode_customer_barcode,
    extract_address_number,
    japan_post_barcode,
    japan_post_barcode_or_none,
)

__all__ = [
    "CustomerBarcode",
    "encode_customer_barcode",
    "extract_address_number",
    "japan_post_barcode",
    "japan_post_barcode_or_none",
]
