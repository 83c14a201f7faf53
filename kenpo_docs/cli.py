"""The ``kenpo-docs`` command: a thin click layer over the library.

Each command parses options, calls one library function and turns library errors into a
one-line message and an exit code:

* 0 - success
* 1 - some rows were rejected but the batch completed
* 2 - usage or input error (nothing useful was written)
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import click

from kenpo_docs import __version__, paths
from kenpo_docs.errors import KenpoDocsError

_Command = TypeVar("_Command", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
#: Stopped with Ctrl+C (128 + SIGINT, as shells report it): not 1, which says the batch
#: completed.
EXIT_INTERRUPTED = 130
#: The reader of our output went away (128 + SIGPIPE, as a shell reports a process it ended).
EXIT_BROKEN_PIPE = 141

#: What the common file errors mean for staff, before the system's own words.
_OS_HINTS = {
    errno.ENOSPC: "ディスクがいっぱいです。空きを作ってから同じコマンドをもう一度実行してください "
                  "(書きかけのファイルは残りません; ",
    errno.EDQUOT: "ディスクの割り当てを超えました。空きを作ってから同じコマンドをもう一度実行して"
                  "ください (",
    errno.EACCES: "アクセスが許可されていません (",
    errno.EPERM: "操作が許可されていません (",
    errno.EROFS: "読み取り専用の場所です。別の場所を指定してください (",
    errno.ENOENT: "ファイルまたはフォルダがありません (",
    errno.ENOTDIR: "フォルダではありません (",
    errno.EISDIR: "フォルダです。ファイル名を指定してください (",
}


class KenpoGroup(click.Group):
    """A click group that prints library errors as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KenpoDocsError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except BrokenPipeError:
            # The reader went away (`kenpo-docs check R | head`): stop quietly, as a shell
            # pipeline expects, and keep Python from complaining at exit about stdout.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:
            # Files the user named that cannot be opened or written, a full disk.
            name = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            hint = _OS_HINTS.get(exc.errno or 0, "")
            click.echo(f"Error:{name}: {hint}{exc.strerror or exc}{')' if hint else ''}",
                       err=True)
            ctx.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("Interrupted: nothing half-written is kept. Run the same command again "
                       "to finish (a merge goes on from where it stopped).", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=KenpoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kenpo-docs")
@click.option("-v", "--verbose", count=True, help="Show more detail (repeat for debug output).")
def cli(verbose: int) -> None:
    """Make the kenpo's notices, forms, personalised letters and tracked mailings.

    Start with `kenpo-docs check ROSTER` to see whether a roster is ready, then build.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)


def _xlsx(what: str = "the table") -> Callable[[_Command], _Command]:
    return click.option("--xlsx", type=click.Path(dir_okay=False), metavar="FILE.xlsx",
                        help=f"Also write {what} as an Excel workbook: keys as text (leading "
                             "zeros kept), numbers as numbers, dates as dates.")


def _as_of_date(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--as-of`` in any form the era calendar reads (2025-12-01, 令和7年12月1日, R7.12.1)."""
    import datetime

    from kenpo_docs.domain.era import parse_date
    from kenpo_docs.errors import DateError

    if value is None:
        return datetime.date.today()
    try:
        return parse_date(value, field=param.name)
    except DateError as exc:
        raise click.BadParameter(exc.message) from exc


@cli.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--as-of", "as_of", callback=_as_of_date, metavar="DATE",
              help="Reference date, e.g. 2026-12-01 or 令和8年12月1日 (default: today).")
@click.option("--report", type=click.Path(dir_okay=False), metavar="FILE.csv|FILE.xlsx",
              help="Write rejected rows (row, member_key, column, reason) to this CSV, or to "
                   "an Excel workbook when FILE ends in .xlsx.")
@_xlsx("the rejected rows")
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


@cli.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--letter", required=True, metavar="NAME",
              help="Which letter: kakuninsho, oshirase, koureisha or guidance.")
@click.option("--as-of", "as_of", callback=_as_of_date, metavar="DATE",
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
@click.option("--sort", type=click.Choice(["workplace", "postal"]), default="workplace",
              show_default=True, help="Order of the pieces.")
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
          workers: int, sheet: str | None, allow_columns: tuple[str, ...],
          encrypt: bool, strict: bool, sides: Literal["duplex", "simplex"],
          proof: int, cards: bool, card_stock: bool) -> None:
    """Make one envelope per household from ROSTER: letters, enclosures, print files and a
    manifest (manifest.csv lists every roster row: ok, skipped or rejected, with the reason).

    Run it again with the same --out to finish an interrupted batch.
    """
    from pathlib import Path

    from kenpo_docs.mailing import protect
    from kenpo_docs.mailing.options import MergeOptions
    from kenpo_docs.mailing.run import merge as run_merge
    from kenpo_docs.progress import ProgressMeter

    # The whole command is checked by the merge (roster, letter, enclosures, the folder's
    # batch) before anything is written, an encrypted batch to finish included.
    options = MergeOptions(
        letter=letter, out=Path(out), as_of=as_of, batch_id=batch_id, enclosures=enclose,
        sort=sort, notice=notice, document_number=document_number, window_months=window,
        workers=workers, sheet=sheet,
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

    password = _password("Batch password", confirm=True)
    check_password(password)
    return password


def _password(prompt: str, *, confirm: bool) -> str:
    """``KENPO_DOCS_PASSWORD``, else a hidden prompt (typed twice when ``confirm``)."""
    import os

    password = os.environ.get("KENPO_DOCS_PASSWORD")
    if not password:
        password = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return str(password)


@cli.group(cls=KenpoGroup)
def track() -> None:
    """Check envelopes (piece codes) and follow pieces: printed, mailed, returned (tracking db)."""


_TRACK_DB = click.option(
    "--db", type=click.Path(dir_okay=False), default=lambda: str(paths.tracking_db()),
    show_default="DATA/tracking.sqlite",
    help="Tracking database (the merge writes it; DATA: KENPO_DOCS_DATA, the config file's "
         "data, else output).")


@track.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True), metavar="CSV",
              help="Check against this CSV (piece_id, pages) instead of the tracking database, "
                   "for a file made elsewhere: pieces not in it are foreign, pieces in it but "
                   "not in FILE are missing. Not together with --db.")
@click.option("--dpi", type=click.IntRange(100, 600), default=200, show_default=True,
              help="Resolution the code corner is rendered at.")
@_TRACK_DB
@click.pass_context
def track_verify(ctx: click.Context, file: str, manifest: str | None, dpi: int,
                 db: str) -> None:
    """Read the piece code on every page of FILE and report missing, foreign, duplicate,
    out-of-order, interleaved and unreadable pages. Exit 1 if anything is wrong.

    FILE is checked against the tracking database: every envelope the merge put in that print
    file must be there, and none of another print file or batch. An encrypted FILE (merge
    --encrypt) is opened with KENPO_DOCS_PASSWORD or a hidden prompt.
    """
    import contextlib
    from pathlib import Path

    from click.core import ParameterSource

    from kenpo_docs.barcodes.verify import check_reading, read_expected, read_pdf
    from kenpo_docs.errors import ManifestError
    from kenpo_docs.tracking.expected import verify_print_file

    if manifest and ctx.get_parameter_source("db") is ParameterSource.COMMANDLINE:
        raise ManifestError("--manifest と --db は一緒に使えません: 追跡データベースと照合する"
                            "なら --db だけ、よそで作られたファイルなら --manifest だけを指定"
                            "してください")
    expected = read_expected(manifest, pdf_name=Path(file).name) if manifest else None
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def progress(done: int, total: int) -> None:
            # Opened on the first page, so an unreadable file gives only its one-line error.
            if not bars and total >= 50:
                bars.append(stack.enter_context(click.progressbar(
                    length=total, label="Reading codes", show_pos=True, file=sys.stderr)))
            if bars:
                bars[0].update(done - bars[0].pos)

        password = lambda: _password("パスワード", confirm=False)  # noqa: E731
        found = None
        if expected is not None:
            report = check_reading(read_pdf(file, dpi=dpi, progress=progress,
                                            password=password), expected)
        else:
            found, report = verify_print_file(db, file, dpi=dpi, progress=progress,
                                              password=password)
    if found is not None:
        click.echo(found.describe(Path(file).name), err=True)
    if report.problems:
        click.echo(f"{'kind':<15} {'page':>5}  {'piece_id':<40}  detail")
        for p in report.problems:
            page = str(p.page) if p.page is not None else "-"
            click.echo(f"{p.kind:<15} {page:>5}  {p.piece_id or '-':<40}  {p.detail}")
    click.echo(report.summary())
    sys.exit(EXIT_REJECTED if report.problems else EXIT_OK)


@track.command("mark")
@click.argument("status", type=click.Choice(["printed", "mailed", "delivered", "returned",
                                             "reissued"]))
@click.argument("piece_ids", nargs=-1, metavar="[PIECE_ID]...")
@click.option("--reason", type=click.Choice(["宛所不明", "転居先不明", "受取拒否", "other"]),
              help="Why a piece came back (required with returned).")
@click.option("--note", default="", help="Free text kept with the event (no personal data).")
@click.option("--force", is_flag=True, help="Allow a transition the workflow does not (noted).")
@_TRACK_DB
def track_mark(status: str, piece_ids: tuple[str, ...], reason: str | None, note: str,
               force: bool, db: str) -> None:
    """Set STATUS on pieces: ids as arguments, or one per line on stdin as a barcode scanner
    types them (the page code text ID|PAGE/PAGES is reduced to the piece id).

    Exit 1 when some ids are unknown or their change is refused; the others are marked.
    """
    from kenpo_docs.tracking.events import mark

    if not piece_ids and sys.stdin.isatty():
        click.echo("Scan or type piece ids, one per line; Ctrl-D to finish.", err=True)
    refs = piece_ids or tuple(sys.stdin.read().splitlines())
    result = mark(db, status, refs, reason=reason, note=note, force=force)
    for pid in result.unknown:
        click.echo(f"unknown piece: {pid}", err=True)
    for _pid, why in result.refused:
        click.echo(f"refused: {why}", err=True)
    click.echo(result.summary())
    sys.exit(result.exit_code)


@track.command("show")
@click.argument("piece_id")
@_TRACK_DB
def track_show(piece_id: str, db: str) -> None:
    """Show one piece: batch, route, status, member keys and every event."""
    from kenpo_docs.japantime import to_japan_time as jst
    from kenpo_docs.tracking.reports import show

    record = show(db, piece_id)
    if record is None:
        click.echo(f"unknown piece: {piece_id}", err=True)
        sys.exit(EXIT_REJECTED)
    p = record.piece
    click.echo(f"piece {p['id']}  batch {p['batch']}  #{p['seq']}  household {p['household_key']}")
    click.echo(f"route {p['route']}  postal code {p['postal_code'] or '-'}  pages {p['pages']}  "
               f"sheets {p['sheets']}")
    click.echo(f"status {p['status']}  (updated {jst(p['updated'])} 日本時間)")
    click.echo("members: " + " ".join(f"{key} (row {row})" for key, row in record.members))
    for e in record.events:
        extra = "  ".join(x for x in (e["reason"] or "", e["note"]) if x)
        click.echo(f"  {jst(e['at'])}  {e['status']:<10} {extra}".rstrip())


_CSV_FORCE = click.option(
    "--force", is_flag=True,
    help="Replace --csv/--xlsx even when the file there is not such a table of ours.")


@track.command("report")
@click.option("--batch", metavar="ID", help="One batch (default: all).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write one line per piece (status, reason, member keys).")
@_xlsx()
@_CSV_FORCE
@_TRACK_DB
def track_report(batch: str | None, csv_path: str | None, xlsx: str | None, force: bool,
                 db: str) -> None:
    """Counts by status, route and workplace, and the returned pieces to follow up (times in
    Japan time)."""
    from kenpo_docs.tracking.reports import report

    for line in report(db, batch=batch, csv=csv_path, xlsx=xlsx, force=force).lines():
        click.echo(line)


@track.command("postal")
@click.option("--batch", metavar="ID", help="Batch to post (default: the latest).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write the home pieces in postal-code order with weight and postage.")
@_xlsx()
@_CSV_FORCE
@_TRACK_DB
def track_postal(batch: str | None, csv_path: str | None, xlsx: str | None, force: bool,
                 db: str) -> None:
    """Home-route pieces for the post office: counts per 3-digit district, postage per piece
    from data/postage.toml (keep its weights and rates current)."""
    from kenpo_docs.tracking.postal import postal_report

    for line in postal_report(db, batch=batch, csv=csv_path, xlsx=xlsx, force=force).lines():
        click.echo(line)


@cli.group(cls=KenpoGroup)
def notice() -> None:
    """Numbered notices (年金機構けんぽからのお知らせ 第N号): list, new, build, proof, issue."""


@notice.command("list")
def notice_list() -> None:
    """Show the notice register."""
    from kenpo_docs.documents.notices import load_register
    from kenpo_docs.domain.era import format_short

    for n in load_register():
        click.echo(f"{n.number}\t{format_short(n.date)}\t{n.status}\t{n.title}")


@notice.command("new")
@click.option("--title", required=True, help="Title of the notice.")
@click.option("--date", "on", required=True, metavar="DATE",
              help="Issue date (2025-01-10, 令和7年1月10日, R7.1.10 ...).")
def notice_new(title: str, on: str) -> None:
    """Register the next free number as a draft and create its folder from the skeleton."""
    from kenpo_docs.documents.notices import new_notice
    from kenpo_docs.domain.era import parse_date

    n = new_notice(title, parse_date(on, field="--date"))
    click.echo(f"第{n.number}号 created: templates/notices/{n.folder}/ (draft)")


@notice.command("build")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx", "html"]), default="pdf",
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="output/notices",
              show_default=True)
@click.option("--pdfa", is_flag=True, help="Write PDF/A-3b (archival).")
@click.option("--force", is_flag=True, help="Build an issued notice whose template changed.")
def notice_build(number: int, fmt: str, out: str, pdfa: bool, force: bool) -> None:
    """Render notice NUMBER to PDF, DOCX or HTML."""
    from pathlib import Path

    from kenpo_docs.publish.notices import build_notice

    click.echo(build_notice(number, fmt, out_dir=Path(out), pdfa=pdfa, force=force))


@notice.command("proof")
@click.argument("number", type=int)
@click.option("--out", type=click.Path(file_okay=False), default="output/notices",
              show_default=True)
@click.option("--force", is_flag=True, help="Proof an issued notice whose template changed.")
def notice_proof(number: int, out: str, force: bool) -> None:
    """Write a PNG thumbnail of every page of notice NUMBER."""
    from pathlib import Path

    from kenpo_docs.publish.notices import proof_notice

    for path in proof_notice(number, out_dir=Path(out), force=force):
        click.echo(path)


@notice.command("issue")
@click.argument("number", type=int)
@click.option("--force", is_flag=True,
              help="Issue although a section is incomplete (a missing insert file, an empty "
                   "section, the skeleton's （本文）).")
def notice_issue(number: int, force: bool) -> None:
    """Mark notice NUMBER issued and freeze its template folder (hash in the register)."""
    from kenpo_docs.documents.notices import issue_notice

    n = issue_notice(number, force=force)
    click.echo(f"第{n.number}号 issued; template hash {n.hash[:12] if n.hash else ''}")


@notice.command("pack")
@click.argument("number", type=int)
@click.option("--out", type=click.Path(file_okay=False), default="output/notices",
              show_default=True)
@click.option("--flyer", type=click.Path(dir_okay=False), metavar="PATH",
              help="The external flyer PDF (別添3 for 539), included page for page; "
                   "default: the file the register lists (a marked stand-in).")
def notice_pack(number: int, out: str, flyer: str | None) -> None:
    """Write notice NUMBER followed by its attachments (別添) as one bookmarked PDF."""
    from pathlib import Path

    from kenpo_docs.publish.pack import build_pack

    click.echo(build_pack(number, out_dir=Path(out), flyer=flyer))


@cli.group(cls=KenpoGroup)
def form() -> None:
    """Request forms (別添1 資格確認書（再）交付申請書, 別添2 資格情報のお知らせ再交付申請書)."""


@form.command("build")
@click.argument("name", type=click.Choice(["bessou1", "bessou2"]))
@click.option("--blank", is_flag=True, help="A blank form (the default without --roster).")
@click.option("--roster", type=click.Path(dir_okay=False), metavar="FILE",
              help="Roster to prefill from (with --member).")
@click.option("--member", metavar="記号-番号[-枝番]",
              help="Whose form: the household, or one member of it with -枝番.")
@click.option("--fillable", is_flag=True, help="PDF with form fields a member can type into.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx"]), default="pdf",
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="output/forms",
              show_default=True)
@click.option("--as-of", "as_of", callback=_as_of_date, metavar="DATE",
              help="Date the roster is read on (default: today).")
@click.option("--sheet", metavar="NAME", help="Worksheet of an .xlsx roster (default: the first).")
def form_build(name: str, blank: bool, roster: str | None, member: str | None, fillable: bool,
               fmt: str, out: str, as_of: Any, sheet: str | None) -> None:
    """Build request form NAME, blank or prefilled for one roster member."""
    from pathlib import Path

    from kenpo_docs.publish.forms import write_form

    if blank and (roster or member):
        raise click.UsageError("--blank cannot be combined with --roster/--member")
    if bool(roster) != bool(member):
        raise click.UsageError("--roster and --member go together")
    click.echo(write_form(name, as_of=as_of, roster=roster, member=member, fillable=fillable,
                          fmt=fmt, out_dir=Path(out), sheet=sheet))



def _web_commands() -> None:
    """``serve`` and ``user``: the web page's commands live with the web page."""
    from kenpo_docs.web.commands import serve, user

    cli.add_command(serve)
    cli.add_command(user)


_web_commands()

def main() -> None:
    cli(prog_name="kenpo-docs")


if __name__ == "__main__":  # pragma: no cover
    main()
