"""Gates: the only modules that touch other libraries' private or undocumented parts.

The merge's fast path (values drawn over shared backgrounds, one font per face in a piece)
uses internals of WeasyPrint (and its pydyf) and of pypdf. Each symbol we use has one
wrapper with our name in :mod:`._weasyprint` or :mod:`._pypdf`, and a test of its own
(``tests/test_gates.py``). Those tests ran on the versions in :data:`TESTED`; on any other
version the fast path is off (:func:`fast_path`): one warning says so and what it costs, and
``--strict`` makes it an error. Everything cached across processes or runs is keyed by
:func:`library_key` too, so a cache never outlives the library that made it.

The Word output (the twins, the Markdown notices' DOCX, reading a Word notice) needs
python-docx's internals with no slower public way round them: :mod:`._docx` holds them, and
on a python-docx other than :data:`DOCX_TESTED` :func:`docx_status` says so in one warning
per process (:func:`warn_once_if_docx_untested`) and the Word files are still written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version

logger = logging.getLogger(__name__)

#: The versions whose internals tests/test_gates.py checked (keep in step with the lock).
TESTED: dict[str, tuple[str, ...]] = {
    "weasyprint": ("70.0",),
    "pydyf": ("0.13.0",),
    "pypdf": ("7.1.1",),
    "fonttools": ("4.68.0",),
}

#: Libraries whose output is part of ours, by the versions the contract recording was made
#: with (keep in step with the lock): uharfbuzz subsets every embedded font
#: (:func:`._weasyprint.pin_subsetter`). Another version only changes bytes, not what the
#: fast path may do, so it is keyed (:func:`library_key`) but does not turn the fast path off.
PINNED: dict[str, tuple[str, ...]] = {
    "uharfbuzz": ("0.57.0",),
}

#: What the fast path buys, for the one warning when it is off (bench/NOTES.md).
COST = ("every letter and form is laid out in full and each piece embeds its parts' own "
        "font subsets: about 5-30 times slower, and larger piece files")


@dataclass(frozen=True)
class FastPath:
    """Whether the merge may use the libraries' internals, and why not."""

    on: bool
    reason: str = ""


def installed(name: str) -> str:
    """The installed version of distribution ``name`` ("" when it is not installed)."""
    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def _untested(tested: dict[str, tuple[str, ...]]) -> FastPath:
    """Off, naming each library of ``tested`` whose installed version is not listed."""
    wrong = [f"{name} {installed(name) or 'missing'} (tested: {', '.join(versions)})"
             for name, versions in tested.items() if installed(name) not in versions]
    return FastPath(False, "untested library versions: " + "; ".join(wrong)) if wrong \
        else FastPath(True)


def _warn_once(status: FastPath, warned: list[bool], message: str) -> FastPath:
    """``status``, logging ``message`` (``%s``: the reason) the first time it is off."""
    if not status.on and not warned:
        warned.append(True)
        logger.warning(message, status.reason)
    return status


@cache
def fast_path() -> FastPath:
    """The fast path is on when every library whose internals it uses is a tested version."""
    return _untested(TESTED)


_WARNED: list[bool] = []


def warn_once_if_off() -> FastPath:
    """:func:`fast_path`, with ONE warning per process when it is off."""
    return _warn_once(fast_path(), _WARNED, f"fast path off (%s): {COST}")


#: The python-docx versions whose internals tests/test_gates.py checked (keep in step with
#: the lock). Not in :data:`TESTED`: the merge's fast path does not depend on it.
DOCX_TESTED: tuple[str, ...] = ("1.2.0",)


@cache
def docx_status() -> FastPath:
    """Whether the installed python-docx is one whose internals :mod:`._docx` was tested on."""
    return _untested({"python-docx": DOCX_TESTED})


_DOCX_WARNED: list[bool] = []


def warn_once_if_docx_untested() -> FastPath:
    """:func:`docx_status`, with ONE warning per process when python-docx is untested."""
    return _warn_once(docx_status(), _DOCX_WARNED,
                      "Word output with %s: python-docx's internals may have changed (check "
                      "the Word files, or install from requirements.lock)")


@cache
def library_key() -> str:
    """The versions of every library whose output or internals a cache depends on."""
    return ";".join(f"{name}={installed(name)}" for name in sorted({*TESTED, *PINNED}))
