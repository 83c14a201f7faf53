"""What goes into the envelope besides the letter (``--enclose``).

* ``notice:539`` - a numbered notice, rendered once per batch (static);
* ``form:bessou1`` / ``form:bessou2`` - a request form prefilled for each household;
* ``file:PATH`` - an external PDF included page for page, never re-rendered (static).

Static enclosures are produced once into ``OUT/static/`` and reused for every piece.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.files import write_atomic


@dataclass(frozen=True)
class Enclosure:
    kind: str  # "notice" | "form" | "file"
    name: str  # notice number, form name or file path
    fingerprint: str = ""

    @property
    def static(self) -> bool:
        return self.kind != "form"

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.name}"


def parse_enclosures(specs: tuple[str, ...] | list[str]) -> list[Enclosure]:
    """Check every ``--enclose`` value before anything is written."""
    from kenpo_docs.pdf.assemble import load_external_pdf

    out: list[Enclosure] = []
    for spec in specs:
        kind, sep, name = spec.partition(":")
        if not sep or not name:
            raise KenpoDocsError(
                f"--enclose {spec!r}: use notice:NUMBER, form:NAME or file:PATH"
            )
        if kind == "form":
            from kenpo_docs.documents.forms import FORMS

            if name not in FORMS:
                raise KenpoDocsError(
                    f"--enclose {spec!r}: unknown form (known: {', '.join(sorted(FORMS))})"
                )
            out.append(Enclosure("form", name))
        elif kind == "notice":
            from kenpo_docs.documents.notices import (
                folder_hash,
                get_notice,
                source_path,
                template_hash,
            )
            from kenpo_docs.paths import templates_dir

            if not name.isdigit():
                raise KenpoDocsError(f"--enclose {spec!r}: a notice is named by its number")
            notice = get_notice(int(name))
            # A notice.md notice prints through the shared house page: it is part of its key.
            digest = (template_hash(notice) if source_path(notice) is not None
                      else folder_hash(templates_dir() / "notices" / notice.folder))
            out.append(Enclosure("notice", name, f"notice:{name}:{digest}"))
        elif kind == "file":
            ext = load_external_pdf(name)
            digest = hashlib.sha256(ext.data).hexdigest()
            out.append(Enclosure("file", str(Path(name)), f"file:{digest}"))
        else:
            raise KenpoDocsError(
                f"--enclose {spec!r}: unknown kind {kind!r} (use notice, form or file)"
            )
    if len({e.spec for e in out}) != len(out):
        raise KenpoDocsError("--enclose: the same enclosure is given twice")
    return out


def render_static(enclosure: Enclosure) -> bytes:
    """The PDF of one static enclosure (a worker process may render it in advance)."""
    if enclosure.kind == "notice":
        from kenpo_docs.publish.notices import render_notice

        return render_notice(int(enclosure.name), "pdf")
    return Path(enclosure.name).read_bytes()


def static_paths(enclosures: list[Enclosure], folder: Path) -> list[Path]:
    """Where :func:`materialise_static` puts each static enclosure (named by its content)."""
    paths = []
    for index, enc in enumerate(enclosures, start=1):
        if enc.static:
            digest = hashlib.sha256(enc.fingerprint.encode()).hexdigest()[:8]
            paths.append(folder / f"{index:02d}-{enc.kind}-{digest}.pdf")
    return paths


def materialise_static(
    enclosures: list[Enclosure],
    folder: Path,
    *,
    rendered: Mapping[int, Future[bytes]] | None = None,
) -> list[Path]:
    """Render or copy each static enclosure once into ``folder``; reuse what is there.

    ``rendered`` maps an enclosure's index in ``enclosures`` to its PDF being rendered in
    another process (started before the roster was read); it is used when the file is not
    already there.
    """
    statics = [e for e in enclosures if e.static]
    paths = static_paths(enclosures, folder)
    for enc, target in zip(statics, paths, strict=True):
        if not target.exists():
            future = (rendered or {}).get(enclosures.index(enc))
            write_atomic(target, future.result() if future is not None else render_static(enc))
    return paths
