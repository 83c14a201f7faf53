"""``notice``, ``form`` and ``letter``: the documents made one at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kenpo_docs.cli.common import (
    KenpoGroup,
    as_of_date,
)


@click.group(cls=KenpoGroup)
def notice() -> None:
    """Numbered notices (年金機構けんぽからのお知らせ 第N号): list, new, build, proof, issue."""


@notice.command("list")
def notice_list() -> None:
    """Show the notice register."""
    from kenpo_docs.documents.notices import load_register
    from kenpo_docs.domain.era import format_short

    for n in load_register():
        approved = f"\t承認 {n.approved_by}" if n.approved_by else ""
        click.echo(f"{n.number}\t{format_short(n.date)}\t{n.status}\t{n.title}{approved}")


@notice.command("new")
@click.option("--title", required=True, help="Title of the notice.")
@click.option("--date", "on", required=True, metavar="DATE",
              help="Issue date (2025-01-10, 令和7年1月10日, R7.1.10 ...).")
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True), metavar="SOURCE",
              help="Its text: a .md or a house-style .docx file (default: a starter notice.md).")
def notice_new(title: str, on: str, source: str | None) -> None:
    """Register the next free number as a draft and create its folder with its source."""
    from kenpo_docs.domain.era import parse_date
    from kenpo_docs.publish.notices import new_from_source

    n, warnings = new_from_source(title, parse_date(on, field="--date"), source)
    click.echo("".join(f"Warning: {line}\n" for line in warnings), err=True, nl=False)
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
    from kenpo_docs.publish.notices import build_notice

    click.echo(build_notice(number, fmt, out_dir=Path(out), pdfa=pdfa, force=force))


@notice.command("proof")
@click.argument("number", type=int)
@click.option("--out", type=click.Path(file_okay=False), default="output/notices",
              show_default=True)
@click.option("--force", is_flag=True, help="Proof an issued notice whose template changed.")
def notice_proof(number: int, out: str, force: bool) -> None:
    """Write a PNG thumbnail of every page of notice NUMBER."""
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
    from kenpo_docs.publish.notices import issue

    n = issue(number, force=force)
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
    from kenpo_docs.publish.pack import build_pack

    click.echo(build_pack(number, out_dir=Path(out), flyer=flyer))


@click.group(cls=KenpoGroup)
def form() -> None:
    """Request forms (別添1 資格確認書（再）交付申請書, 別添2 資格情報のお知らせ再交付申請書)."""


@form.command("build")
@click.argument("name", type=click.Choice(["bessou1", "bessou2"]))
@click.option("--blank", is_flag=True, help="A blank form (the default without --roster).")
@click.option("--roster", type=click.Path(dir_okay=False), metavar="FILE",
              help="Roster to prefill from (with --member).")
@click.option("--member", metavar="記号-番号[-枝番]",
              help="Whose form: the household, or one member of it with -枝番.")
@click.option("--fillable", is_flag=True,
              help="Fields a member can type into (PDF form fields; in a DOCX, Word content "
                   "controls).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx"]), default="pdf",
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="output/forms",
              show_default=True)
@click.option("--as-of", "as_of", callback=as_of_date, metavar="DATE",
              help="Date the roster is read on (default: today).")
@click.option("--sheet", metavar="NAME", help="Worksheet of an .xlsx roster (default: the first).")
def form_build(name: str, blank: bool, roster: str | None, member: str | None, fillable: bool,
               fmt: str, out: str, as_of: Any, sheet: str | None) -> None:
    """Build request form NAME, blank or prefilled for one roster member."""

    from kenpo_docs.publish.forms import write_form

    if blank and (roster or member):
        raise click.UsageError("--blank cannot be combined with --roster/--member")
    if bool(roster) != bool(member):
        raise click.UsageError("--roster and --member go together")
    click.echo(write_form(name, as_of=as_of, roster=roster, member=member, fillable=fillable,
                          fmt=fmt, out_dir=Path(out), sheet=sheet))


@click.group(cls=KenpoGroup)
def letter() -> None:
    """One member's personalised letter, as mailed."""


@letter.command("docx")
@click.option("--letter", "letter_name", required=True, metavar="NAME", help="As merge.")
@click.option("--roster", required=True, type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--member", required=True, metavar="記号-番号-枝番", help="Whose envelope.")
@click.option("--batch-id", metavar="ID", help="The merge's --batch-id, if it had one.")
@click.option("--batch-dir", type=click.Path(file_okay=False, exists=True), metavar="DIR",
              help="A merge's --out: its batch id, checked against the roster and options.")
@click.option("--out", type=click.Path(dir_okay=False), help="(output/letters/<piece id>.docx)")
@click.option("--as-of", "as_of", callback=as_of_date, metavar="DATE", help="As merge.")
@click.option("--notice", metavar="NUMBER", help="As merge.")
@click.option("--enclose", multiple=True, metavar="WHAT", help="As merge.")
@click.option("--document-number", type=click.IntRange(1), metavar="N", help="As merge.")
@click.option("--window", type=click.IntRange(1, 24), default=3, help="As merge.")
@click.option("--sort", type=click.Choice(["workplace", "postal"]), default="workplace")
@click.option("--sides", type=click.Choice(["duplex", "simplex"]), default="duplex")
@click.option("--cards/--no-cards", default=True, help="As merge.")
@click.option("--card-stock", is_flag=True, help="As merge.")
@click.option("--sheet", metavar="NAME", help="As merge.")
@click.option("--allow-column", "allow_columns", multiple=True, metavar="NAME", help="As merge.")
def letter_docx_cmd(letter_name: str, roster: str, member: str, batch_dir: str | None,
                    out: str | None, enclose: tuple[str, ...], window: int, **same: Any) -> None:
    """Write MEMBER's letter as an editable Word file: the letter of the envelope a merge with
    the same roster and options mails (same 管理番号 and 文書番号), laid out as printed."""
    from kenpo_docs.mailing.letter_docx import write_letter_docx
    from kenpo_docs.mailing.options import MergeOptions

    options = MergeOptions(letter=letter_name, out=Path(batch_dir or "."), enclosures=enclose,
                           window_months=window, **same)  # the others: MergeOptions' names
    path, made = write_letter_docx(roster, member_key=member.strip(), options=options,
                                   batch_dir=Path(batch_dir) if batch_dir else None,
                                   out=Path(out) if out else None)
    docno = f", 文書番号 {made.document_number}" if made.document_number else ""
    click.echo(f"{path} (管理番号 {made.piece_id}{docno})")


