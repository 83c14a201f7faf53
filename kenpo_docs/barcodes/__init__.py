"""Barcodes we print and read back.

* ``japanpost`` - the Japan Post customer barcode (カスタマバーコード) for the address block.
* ``piececode`` - the 2D code on every page (``<piece_id>|<page>/<pages>``) and its verification.
"""

from __future__ import annotations
