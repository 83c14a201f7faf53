"""``check`` and ``merge``: a roster checked, then mailed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import click

from kenpo_docs import paths
from kenpo_docs.cli.common import (
    as_of_date,
    ask_password,
    xlsx_option,
)


@click.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--as-of", "as_of", callback=as_of_date, metavar="DATE",
              help="Reference date, e.g. 2026-12-01 or 令和8年12月1日 (default: today).")
@click.option("--report", type=click.Path(dir_okay=False), metavar="FILE.csv|FILE.xlsx",
              help="Write rejected rows (row, member_key, column, reason) to this CSV, or to "
                   "an Excel workbook when FILE ends in .xlsx.")
@xlsx_option("the rejected rows")
@click.option("--sheet", metavar="NAME", help="Worksheet of an .xlsx roster (default: the first).")
@click.option("--allow-column", "allow_columns", multiple=True, metavar="NAME",
              help="A column that only looks like My Numbers (個人番号): exempt it.")
@click.option("--force", is_flag=True,
              help="Replace --report/--xlsx even when the file there is not a report of ours.")
@click.option("--letter", metavar="NAME",
              help="Also list the rows a merge of this letter skips, with its reasons "
                   "(e.g. an expired 資格確認書), and count its envelopes.")
@click.option("--window", "window", type=click.IntRange(1, 24), default=3, show_default=True,
              help="With --letter koureisha: months ahead, as merge --window.")
def check(roster: str, as_of: Any, report: str | None, xlsx: str | None, sheet: str | None,
          allow_columns: tuple[str, ...], force: bool, letter: str | None,
          window: int) -> None:
    """Validate ROSTER as the merge will and print a summary; writes nothing but --report
    and --xlsx.

    Exit 0 when every row is usable, 1 when some rows are rejected, 2 when the file cannot
    be used at all.
    """
    from kenpo_docs.input.check import check_report_path, write_report
    from kenpo_docs.mailing.window import check_for_mailing
    from kenpo_docs.spreadsheets import require_xlsx

    reports = [(path, option) for path, option in ((report, "--report"), (xlsx, "--xlsx"))
               if path]
    if xlsx:
        require_xlsx(xlsx, option="--xlsx")
    for path, option in reports:  # before the roster is read: a wrong path is known at once
        check_report_path(path, roster=roster, force=force, option=option)
    result = check_for_mailing(roster, as_of=as_of, sheet=sheet, allow_columns=allow_columns,
                               letter=letter, window_months=window)
    for path, option in reports:
        write_report(result.errors, path, roster=roster, force=force, option=option)
    for line in result.lines():
        click.echo(line)
    sys.exit(result.exit_code)


@click.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--letter", required=True, metavar="NAME",
              help="Which letter: kakuninsho, oshirase, koureisha or guidance.")
@click.option("--as-of", "as_of", callback=as_of_date, metavar="DATE",
              help="The date every 'until'/'from' statement is made on (default: today).")
@click.option("--out", "out", type=click.Path(file_okay=False),
              default=lambda: str(paths.data_folder() / "merge"), show_default="DATA/merge",
              help="Folder for pieces, print files and the manifest (DATA: KENPO_DOCS_DATA, "
                   "the config file's data, else output).")
@click.option("--batch-id", metavar="ID",
              help="Name of the batch (default: made from the input, so a rerun resumes).")
@click.option("--enclose", multiple=True, metavar="WHAT",
              help="Add to every envelope: notice:539, form:bessou1, form:bessou2, file:PATH. "
                   "Repeat for several, in envelope order.")
@click.option("--sort", type=click.Choice(["workplace", "postal", "roster"]),
              default="workplace",
              show_default=True,
              help="Order of the pieces: workplace (each workplace, then home by postal "
                   "code), postal (by postal code), roster (the roster's own order, "
                   "household by household; such a roster starts printing while it is "
                   "still being read).")
@click.option("--notice", metavar="NUMBER", help="Notice number the letter belongs to (e.g. 539).")
@click.option("--document-number", "document_number", type=click.IntRange(1), metavar="N",
              help="The batch's 文書番号, printed in the format of the insurer settings "
                   "(data/insurer.toml [document_number], e.g. 年けん発第N号).")
@click.option("--window", "window", type=click.IntRange(1, 24), default=3, show_default=True,
              help="koureisha: months ahead to look for members turning 70.")
@click.option("--db", type=click.Path(dir_okay=False), default=lambda: str(paths.tracking_db()),
              show_default="DATA/tracking.sqlite",
              help="Tracking database the batch and its pieces go into.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Worker processes (0 = one per core).")
@click.option("--cluster", metavar="tcp://HOST:PORT|local:N",
              help="Render the chunks on a Dask cluster: a running scheduler, or N worker "
                   "processes started here. OUT must be a folder every worker sees (needs "
                   "pip install kenpo-docs[cluster]; see docs/cluster.md).")
@click.option("--sheet", metavar="NAME", help="Worksheet of an .xlsx roster (default: the first).")
@click.option("--allow-column", "allow_columns", multiple=True, metavar="NAME",
              help="A column that only looks like My Numbers (個人番号): exempt it.")
@click.option("--encrypt", is_flag=True,
              help="Protect piece PDFs and print files with AES-256. The password comes from "
                   "KENPO_DOCS_PASSWORD or a hidden prompt, never from the command line.")
@click.option("--strict", is_flag=True,
              help="Stop instead of warning when the fast path is off (installed library "
                   "versions other than the tested ones: 5-30 times slower).")
@click.option("--sides", type=click.Choice(["duplex", "simplex"]), default="duplex",
              show_default=True,
              help="How the print files are printed. duplex: every envelope starts on a front "
                   "side (a blank back page after an odd page count), so two-sided printing "
                   "never puts a household's page on another's back. simplex: no blank pages; "
                   "print one-sided only.")
@click.option("--proof", type=click.IntRange(0), default=0, metavar="N",
              help="Also write PNG proofs (150 dpi) of the first N pieces into OUT/proof/, "
                   "the envelope window outlined on each first page. Not with --encrypt.")
@click.option("--cards/--no-cards", default=True, show_default=True,
              help="kakuninsho, oshirase: enclose each member's card (資格確認書, the card part "
                   "of 資格情報のお知らせ) after the letter.")
@click.option("--card-stock", "card_stock", is_flag=True,
              help="Cards one per page of the card size (85.6 x 54 mm, for a card printer) "
                   "instead of cut-out cards on A4 sheets.")
def merge(roster: str, letter: str, as_of: Any, out: str, batch_id: str | None,
          enclose: tuple[str, ...], sort: str, notice: str | None,
          document_number: int | None, window: int, db: str,
          workers: int, cluster: str | None, sheet: str | None,
          allow_columns: tuple[str, ...], encrypt: bool, strict: bool,
          sides: Literal["duplex", "simplex"],
          proof: int, cards: bool, card_stock: bool) -> None:
    """Make one envelope per household from ROSTER: letters, enclosures, print files and a
    manifest (manifest.csv lists every roster row: ok, skipped or rejected, with the reason).

    Run it again with the same --out to finish an interrupted batch.
    """

    from kenpo_docs.mailing import protect
    from kenpo_docs.mailing.options import MergeOptions
    from kenpo_docs.mailing.run import merge as run_merge
    from kenpo_docs.progress import ProgressMeter

    # The whole command is checked by the merge (roster, letter, enclosures, the folder's
    # batch) before anything is written, an encrypted batch to finish included.
    options = MergeOptions(
        letter=letter, out=Path(out), as_of=as_of, batch_id=batch_id, enclosures=enclose,
        sort=sort, notice=notice, document_number=document_number, window_months=window,
        workers=workers, cluster=cluster, sheet=sheet,
        db=Path(db),
        allow_columns=allow_columns, strict=strict, sides=sides, proof=proof,
        cards=cards, card_stock=card_stock,
        password=_batch_password() if encrypt else None,
    )
    # Shown from the first piece on, so a roster refused as a whole gives only its one-line
    # error: a bar on a terminal, one line per 10 % in a log (CI).
    def meter(label: str) -> ProgressMeter:
        return ProgressMeter(lambda text: click.echo(text, err=True, nl=False), label=label,
                             tty=sys.stderr.isatty())

    progress, proofs = meter("Rendering"), meter("Proofs")

    def proof_progress(done: int, total: int) -> None:
        if total >= 10:  # a few proofs take a second or two
            proofs(done, total)

    try:
        result = run_merge(roster, options=options, progress=progress,
                           proof_progress=proof_progress)
    finally:  # an error or Ctrl+C starts on a line of its own
        progress.finish()
        proofs.finish()
    if options.password is not None:
        click.echo(f"{result.out}: {result.encrypted} files encrypted ({protect.ALGORITHM})")
    click.echo(f"{result.out}: {result.summary()}")
    if result.proofs:
        click.echo(f"{result.out / 'proof'}: {len(result.proofs)} proof pages (PNG)")
    if result.rejected:
        click.echo(f"Some rows were rejected: see {result.out / 'manifest.csv'}", err=True)
    sys.exit(result.exit_code)


def _batch_password() -> str:
    """The batch password: ``KENPO_DOCS_PASSWORD``, else a hidden prompt typed twice."""
    from kenpo_docs.mailing.protect import check_password

    password = ask_password("Batch password", confirm=True)
    check_password(password)
    return password


