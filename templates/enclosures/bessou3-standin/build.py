"""Render the stand-in for 別添3 into ``samples/bessou3-standin.pdf``.

The ministry's flyer is an external PDF the project includes as it is; until staff supply it,
this clearly marked stand-in page keeps ``kenpo-docs notice pack 539`` and its tests working.
Run from the project root::

    .venv/bin/python templates/enclosures/bessou3-standin/build.py
"""

from __future__ import annotations

from datetime import date

from kenpo_docs.paths import samples_dir
from kenpo_docs.render import RenderOptions, render_pdf

# The notice's date, so the committed file is reproducible byte for byte.
AS_OF = date(2024, 11, 19)


def main() -> None:
    data = render_pdf(
        "enclosures/bessou3-standin/flyer.html", {}, options=RenderOptions(as_of=AS_OF)
    )
    (samples_dir() / "bessou3-standin.pdf").write_bytes(data)


if __name__ == "__main__":
    main()
