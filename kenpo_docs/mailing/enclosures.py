"""What goes into the envelope besides the letter (``--enclose``).

* ``notice:539`` - a numbered notice, rendered once per batch (static);
* ``form:bessou1`` / ``form:bessou2`` - a request form prefilled for each household;
* ``file:PATH`` - an external PDF included page for page, never re-rendered (static).

Static enclosures are produced once into ``OUT/static/`` and reused for every piece.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.mailing.output import write_atomic


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
    from kenpo_docs.assemble import load_external_pdf

    out: list[Enclosure] = []
    for spec in specs:
        kind, sep, name = spec.partition(":")
        if not sep or not name:
            raise KenpoDocsError(
                f"--enclose {spec!r}: use notice:NUMBER, form:NAME or file:PATH"
            )
        if kind == "form":
            from kenpo_docs.forms import FORMS

            if name not in FORMS:
                raise KenpoDocsError(
                    f"--enclose {spec!r}: unknown form (known: {', '.join(sorted(FORMS))})"
                )
            out.append(Enclosure("form", name))
        elif kind == "notice":
            from kenpo_docs.notices import folder_hash, get_notice
            from kenpo_docs.paths import templates_dir

            if not name.isdigit():
                raise KenpoDocsError(f"--enclose {spec!r}: a notice is named by its number")
            notice = get_notice(int(name))
            digest = folder_hash(templates_dir() / "notices" / notice.folder)
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


def materialise_static(enclosures: list[Enclosure], folder: Path) -> list[Path]:
    """Render or copy each static enclosure once into ``folder``; reuse what is there."""
    paths = []
    for index, enc in enumerate(enclosures, start=1):
        if not enc.static:
            continue
        digest = hashlib.sha256(enc.fingerprint.encode()).hexdigest()[:8]
        target = folder / f"{index:02d}-{enc.kind}-{digest}.pdf"
        if not target.exists():
            if enc.kind == "notice":
                from kenpo_docs.notices import render_notice

                data = render_notice(int(enc.name), "pdf")
            else:
                data = Path(enc.name).read_bytes()
            write_atomic(target, data)
        paths.append(target)
    return paths
