"""What every command shares: the exit codes, the group that turns library errors into one
line, and the options several commands take."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

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


def xlsx_option(what: str = "the table") -> Callable[[_Command], _Command]:
    return click.option("--xlsx", type=click.Path(dir_okay=False), metavar="FILE.xlsx",
                        help=f"Also write {what} as an Excel workbook: keys as text (leading "
                             "zeros kept), numbers as numbers, dates as dates.")


def as_of_date(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
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


def ask_password(prompt: str, *, confirm: bool) -> str:
    """``KENPO_DOCS_PASSWORD``, else a hidden prompt (typed twice when ``confirm``)."""
    password = os.environ.get("KENPO_DOCS_PASSWORD")
    if not password:
        password = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return str(password)
