"""``track``: piece codes checked and pieces followed in the tracking database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from kenpo_docs import paths
from kenpo_docs.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    KenpoGroup,
    ask_password,
    xlsx_option,
)


@click.group(cls=KenpoGroup)
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

        def password() -> str:
            return ask_password("パスワード", confirm=False)

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
@xlsx_option()
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
@xlsx_option()
@_CSV_FORCE
@_TRACK_DB
def track_postal(batch: str | None, csv_path: str | None, xlsx: str | None, force: bool,
                 db: str) -> None:
    """Home-route pieces for the post office: counts per 3-digit district, postage per piece
    from data/postage.toml (keep its weights and rates current)."""
    from kenpo_docs.tracking.postal import postal_report

    for line in postal_report(db, batch=batch, csv=csv_path, xlsx=xlsx, force=force).lines():
        click.echo(line)


