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

import click

from kenpo_docs import __version__
from kenpo_docs.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    KenpoGroup,
)
from kenpo_docs.cli.documents import form, letter, notice
from kenpo_docs.cli.mailing import check, merge
from kenpo_docs.cli.track import track
from kenpo_docs.cli.web import serve, user

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_REJECTED", "EXIT_USAGE",
           "KenpoGroup", "cli", "main"]


@click.group(cls=KenpoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kenpo-docs")
@click.option("-v", "--verbose", count=True, help="Show more detail (repeat for debug output).")
def cli(verbose: int) -> None:
    """Make the kenpo's notices, forms, personalised letters and tracked mailings.

    Start with `kenpo-docs check ROSTER` to see whether a roster is ready, then build.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)


for _command in (check, merge, track, notice, form, letter, serve, user):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="kenpo-docs")


if __name__ == "__main__":  # pragma: no cover
    main()
