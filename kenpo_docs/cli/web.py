"""``kenpo-docs serve`` and ``kenpo-docs user``: the web page's commands (library errors become
one line and exit 2 in the root group, as for every command)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kenpo_docs import paths

_DATA = click.option(
    "--data", type=click.Path(file_okay=False), default=lambda: str(paths.data_folder()),
    show_default="KENPO_DOCS_DATA, the config file's data, else output", metavar="DIR",
    help="Data folder: uploads, batches, the tracking database, accounts, the audit log "
         "(the same folder as the other commands' default).")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (only this computer by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8539, show_default=True)
@_DATA
@click.option("--approval/--no-approval", default=True, show_default=True,
              help="A batch runs only after a second person (an approver) approved it; "
                   "--no-approval for a one-person office.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Worker processes of each merge (0 = one per core).")
def serve(host: str, port: int, data: str, approval: bool, workers: int) -> None:
    """Start the staff web page (then open http://127.0.0.1:8539 in a browser).

    Create the first account with `kenpo-docs user add NAME --role admin`. Merges run in a
    separate runner process, one at a time; stop the server with Ctrl+C (a batch that was
    running goes on at the next start).
    """
    import uvicorn

    from kenpo_docs.web.accounts import list_users
    from kenpo_docs.web.app import WebSettings, create_app
    from kenpo_docs.web.store import DataFolder

    app = create_app(WebSettings(data=Path(data), require_approval=approval, workers=workers))
    if not list_users(DataFolder(Path(data))):
        click.echo("No accounts yet: create one with "
                   f"`kenpo-docs user add NAME --role admin --data {data}`", err=True)
    click.echo(f"kenpo-docs: http://{host}:{port}/  (data folder {data}; Ctrl+C to stop)",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.group()
def user() -> None:
    """Accounts of the web page (kenpo-docs serve)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["preparer", "approver", "admin"]), required=True,
              help="preparer: prepares batches; approver: also approves another person's "
                   "batch; admin: everything, and the audit log.")
@click.option("--password-stdin", "password_stdin", is_flag=True,
              help="Read the password from the first line of stdin (for scripts).")
@_DATA
def user_add(name: str, role: str, password_stdin: bool, data: str) -> None:
    """Create the account NAME (the password is asked twice, hidden; at least 8 characters)."""
    from kenpo_docs.web.accounts import add_user
    from kenpo_docs.web.store import DataFolder

    created = add_user(DataFolder(Path(data)), name, role, _password(password_stdin))
    click.echo(f"user {created.name} ({created.role}) created in {data}")


def _password(from_stdin: bool) -> str:
    """The first line of stdin, or a hidden prompt typed twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@user.command("change")
@click.argument("name")
@click.option("--password", "new_password", is_flag=True, help="Set a new password (asked "
              "twice, hidden; or the first line of stdin with --password-stdin).")
@click.option("--password-stdin", "password_stdin", is_flag=True,
              help="With --password: read it from stdin.")
@click.option("--role", type=click.Choice(["preparer", "approver", "admin"]),
              help="Give the account this role.")
@click.option("--remove", is_flag=True, help="Remove the account (logged out at once).")
@_DATA
def user_change(name: str, new_password: bool, password_stdin: bool, role: str | None,
                remove: bool, data: str) -> None:
    """Change the account NAME: a new password (--password), a role (--role), or --remove."""
    from kenpo_docs.web.accounts import change_user
    from kenpo_docs.web.store import DataFolder

    if remove and (new_password or role):
        raise click.UsageError("--remove goes alone")
    if not (remove or new_password or role):
        raise click.UsageError("say what to change: --password, --role or --remove")
    password = _password(password_stdin) if new_password else None
    change_user(DataFolder(Path(data)), name, password=password, role=role, remove=remove)
    click.echo(f"user {name} {'removed' if remove else 'changed'}")


@user.command("list")
@_DATA
def user_list(data: str) -> None:
    """List the accounts and their roles."""
    from kenpo_docs.web.accounts import list_users
    from kenpo_docs.web.store import DataFolder

    for account in list_users(DataFolder(Path(data))):
        click.echo(f"{account.name}\t{account.role}")
