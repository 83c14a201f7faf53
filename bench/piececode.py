"""Stamping and verification throughput for piece codes (pages per second).

Usage: .venv/bin/python bench/piececode.py [PAGES]

Builds a text-heavy A4 letter with WeasyPrint (Japanese text in the vendored BIZ UD font),
repeats it to PAGES pages in 2-page pieces, stamps every page and verifies the result.
Prints one line per phase. Only synthetic text: no roster data is read.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pypdf
import weasyprint

from kenpo_docs.barcodes.piececode import StampOptions, stamp_pieces
from kenpo_docs.barcodes.verify import verify_pdf
from kenpo_docs.paths import fonts_dir

HTML = """<html><head><style>
@font-face {{ font-family: ud; src: url('{font}'); }}
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: ud; font-size: 10.5pt; line-height: 1.7; }}
</style></head><body>{body}</body></html>"""


def main(pages: int = 2000) -> None:
    font = (fonts_dir() / "BIZUDPGothic-Regular.ttf").as_uri()
    para = "令和6年12月2日から健康保険証の新規発行が終了します。資格確認書の交付について。" * 6
    body = "".join(f"<p>{para}</p>" for _ in range(18))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "letter.pdf"
        weasyprint.HTML(string=HTML.format(font=font, body=body)).write_pdf(base)
        letter = pypdf.PdfReader(base)
        writer = pypdf.PdfWriter()
        while len(writer.pages) < pages:
            writer.append(letter, pages=[0, 1])
        src = Path(tmp) / "src.pdf"
        writer.write(src)
        pieces = [(f"B20261128-0001-{i:06d}", 2) for i in range(pages // 2)]
        for label, options in (("ISO mask", StampOptions()), ("fixed mask", StampOptions(mask=6))):
            out = Path(tmp) / "stamped.pdf"
            t = time.perf_counter()
            n = stamp_pieces(src, out, pieces, options=options)
            dt = time.perf_counter() - t
            print(f"stamp ({label}): {n} pages in {dt:.1f} s = {n / dt:.0f} pages/s")
        for dpi in (150, 200, 300):
            t = time.perf_counter()
            report = verify_pdf(out, dpi=dpi)
            dt = time.perf_counter() - t
            print(f"verify @{dpi} dpi: {report.pages} pages in {dt:.1f} s = "
                  f"{report.pages / dt:.0f} pages/s, problems: {len(report.problems)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
