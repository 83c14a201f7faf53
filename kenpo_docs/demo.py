"""``make demo``: a real mailing of the bundled sample roster into ``output/demo/``.

It runs what a member of staff would run::

    kenpo-docs check samples/roster.csv --as-of 2026-12-01
    kenpo-docs merge samples/roster.csv --letter kakuninsho --notice 539 \\
        --enclose notice:539 --enclose file:samples/bessou3-standin.pdf \\
        --as-of 2026-12-01 --out output/demo

The print files are for two-sided printing (the default ``--sides duplex``): a 7-page
envelope (letter, notice 539's five pages, the 別添3 stand-in) ends with a blank back page
carrying its piece code.

It also writes notice 540 from a sample Markdown source (``samples/notice-540.md``, marked
as a sample) as PDF, DOCX and HTML into ``output/demo/notices/``, without registering it:
what ``kenpo-docs notice new --from samples/notice-540.md`` and ``notice build 540`` would
print.

Then it writes the Word twins (the DOCX staff amend, laid out as printed) of notice 539 and of
one home-route member's letter, the letter read from the batch just made (same 管理番号 and
文書番号), into ``output/demo-word/``::

    kenpo-docs notice build 539 --format docx --out output/demo-word
    kenpo-docs letter docx --letter kakuninsho --roster samples/roster.csv \
        --member 0034-000201-00 --batch-dir output/demo (and the merge's options) \
        --out output/demo-word/<piece id>.docx

The sample roster holds a few deliberately bad rows (see ``samples/README.md``), so the merge
reports rejects (exit 1) by design; the demo succeeds when the batch completed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kenpo_docs.paths import samples_dir

AS_OF = "2026-12-01"
#: A 任意継続 member (sent home: the letter's window shows the customer barcode too).
HOME_MEMBER = "0034-000201-00"
#: The sample notice 540 (samples/notice-540.md): its register line, were it registered.
SAMPLE_NOTICE = (540, "2025-11-04", "【見本】健康保険証の使用期限について")


def sample_notice(out: Path) -> list[Path]:
    """Notice 540 from samples/notice-540.md in every format, into ``out/notices/``."""
    from datetime import date

    from kenpo_docs.files import write_atomic
    from kenpo_docs.publish.notices import render_source

    number, on, title = SAMPLE_NOTICE
    paths = []
    for fmt in ("pdf", "docx", "html"):
        data, warnings = render_source(samples_dir() / "notice-540.md", fmt, number=number,
                                       on=date.fromisoformat(on), title=title)
        for line in warnings if fmt == "pdf" else ():
            print(f"Warning: {line}", file=sys.stderr)
        path = out / "notices" / f"notice-{number}.{fmt}"
        write_atomic(path, data)
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    from kenpo_docs.cli import cli

    out = Path(argv[0]) if argv else Path("output/demo")
    word = out.with_name(out.name + "-word")
    roster = samples_dir() / "roster.csv"
    flyer = samples_dir() / "bessou3-standin.pdf"
    # No 別添1: that form asks for a certificate, and this letter sends the certificate.
    same = ["--letter", "kakuninsho", "--notice", "539", "--enclose", "notice:539",
            "--enclose", f"file:{flyer}", "--as-of", AS_OF]
    steps = [
        ["check", str(roster), "--as-of", AS_OF],
        ["merge", str(roster), *same, "--out", str(out)],
        ["notice", "build", "539", "--format", "docx", "--out", str(word)],
        ["letter", "docx", "--roster", str(roster), "--member", HOME_MEMBER, *same,
         "--batch-dir", str(out), "--out", str(word / "{piece}.docx")],
    ]
    for args in steps:
        if args[:2] == ["letter", "docx"]:  # named by the piece's id, as the merge names it
            args[-1] = args[-1].replace("{piece}", _piece_of(out, HOME_MEMBER))
        print(f"\n$ kenpo-docs {' '.join(args)}", flush=True)
        try:
            code = cli.main(args=args, prog_name="kenpo-docs", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        if code not in (0, 1, None):
            print(f"demo: step failed with exit code {code}", file=sys.stderr)
            return 2
    print("\n$ (notice 540 from samples/notice-540.md, as notice build would print it)")
    for path in sample_notice(out):
        print(path)
    print(
        f"\nDemo done. Look at:\n"
        f"  {out}/manifest.csv      one line per roster row (ok / skipped / rejected + reason)\n"
        f"  {out}/pieces/           one PDF per envelope: the letter, the members' 資格確認書\n"
        f"  {' ' * len(str(out))}                   cards (cut-out cards on A4), the enclosures\n"
        f"  {out}/print/            print-ready files per workplace and for home delivery,\n"
        f"  {' ' * len(str(out))}                   two-sided "
        f"(every envelope starts on a front side)\n"
        f"  {word}/{' ' * 13}the Word twins (DOCX) of notice 539 and of one letter\n"
        f"  {out}/notices/          notice 540 written in Markdown (samples/notice-540.md):\n"
        f"  {' ' * len(str(out))}                   PDF, DOCX and HTML from that one source\n"
        f"\nRun kenpo-docs yourself (`make` installed it into .venv/):\n"
        f"  .venv/bin/kenpo-docs --help         from this folder, nothing to activate\n"
        f"  source .venv/bin/activate           or once per terminal, then: "
        f"kenpo-docs --help\n"
    )
    return 0


def _piece_of(batch: Path, member_key: str) -> str:
    """The member's piece id, from the batch's manifest."""
    import csv

    with (batch / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        return next(row["piece_id"] for row in csv.DictReader(fh)
                    if row["member_key"] == member_key)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
