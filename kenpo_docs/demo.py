"""``make demo``: a real mailing of the bundled sample roster into ``output/demo/``.

It runs what a member of staff would run::

    kenpo-docs check samples/roster.csv --as-of 2026-12-01
    kenpo-docs merge samples/roster.csv --letter kakuninsho --notice 539 \\
        --enclose notice:539 --enclose file:samples/bessou3-standin.pdf \\
        --as-of 2026-12-01 --out output/demo

The print files are for two-sided printing (the default ``--sides duplex``): a 7-page
envelope (letter, notice 539's five pages, the 別添3 stand-in) ends with a blank back page
carrying its piece code.

The sample roster holds a few deliberately bad rows (see ``samples/README.md``), so the merge
reports rejects (exit 1) by design; the demo succeeds when the batch completed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kenpo_docs.paths import samples_dir

AS_OF = "2026-12-01"


def main(argv: list[str]) -> int:
    from kenpo_docs.cli import cli

    out = Path(argv[0]) if argv else Path("output/demo")
    roster = samples_dir() / "roster.csv"
    flyer = samples_dir() / "bessou3-standin.pdf"
    steps = [
        ["check", str(roster), "--as-of", AS_OF],
        [
            "merge", str(roster), "--letter", "kakuninsho", "--notice", "539",
            # No 別添1: that form asks for a certificate, and this letter sends the certificate.
            "--enclose", "notice:539",
            "--enclose", f"file:{flyer}", "--as-of", AS_OF, "--out", str(out),
        ],
    ]
    for args in steps:
        print(f"\n$ kenpo-docs {' '.join(args)}", flush=True)
        try:
            code = cli.main(args=args, prog_name="kenpo-docs", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        if code not in (0, 1, None):
            print(f"demo: step failed with exit code {code}", file=sys.stderr)
            return 2
    print(
        f"\nDemo done. Look at:\n"
        f"  {out}/manifest.csv      one line per roster row (ok / skipped / rejected + reason)\n"
        f"  {out}/pieces/           one PDF per envelope: the letter, the members' 資格確認書\n"
        f"  {' ' * len(str(out))}                   cards (cut-out cards on A4), the enclosures\n"
        f"  {out}/print/            print-ready files per workplace and for home delivery,\n"
        f"  {' ' * len(str(out))}                   two-sided "
        f"(every envelope starts on a front side)\n"
        f"\nRun kenpo-docs yourself (`make` installed it into .venv/):\n"
        f"  .venv/bin/kenpo-docs --help         from this folder, nothing to activate\n"
        f"  source .venv/bin/activate           or once per terminal, then: "
        f"kenpo-docs --help\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
