"""The ``kenpo-docs`` command: a thin click layer over the library.

Each command parses options, calls one library function and turns library errors into a
one-line message and an exit code:

* 0 - success
* 1 - some rows were rejected but the batch completed
* 2 - usage or input error (nothing useful was written)
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from kenpo_docs import __version__
from kenpo_docs.errors import KenpoDocsError

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


class KenpoGroup(click.Group):
    """A click group that prints library errors as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KenpoDocsError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except OSError as exc:
            # Files the user named that cannot be opened or written.
            name = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            click.echo(f"Error:{name}: {exc.strerror or exc}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=KenpoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kenpo-docs")
@click.option("-v", "--verbose", count=True, help="Show more detail (repeat for debug output).")
def cli(verbose: int) -> None:
    """Make the kenpo's notices, forms, personalised letters and tracked mailings.

    Start with `kenpo-docs check ROSTER` to see whether a roster is ready, then build.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)


def main() -> None:
    cli(prog_name="kenpo-docs")


if __name__ == "__main__":  # pragma: no cover
    main()
