"""A notice with its 添付資料 as one PDF: the notice, then each 別添 in order, bookmarked.

The attachments come from the notice's register entry (``attachments = [{ enclose, title }]``):
``form:NAME`` prints the blank request form, ``file:PATH`` includes an external PDF page for
page (validated by :func:`kenpo_docs.pdf.assemble.load_external_pdf`, never re-rendered). For
notice 539 that is 別添1, 別添2 and the ministry's flyer as 別添3; ``flyer=`` replaces the
register's file (the committed stand-in) with the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kenpo_docs.documents.forms import get_form
from kenpo_docs.documents.notices import get_notice, register_path
from kenpo_docs.errors import ManifestError
from kenpo_docs.files import write_atomic
from kenpo_docs.paths import home
from kenpo_docs.pdf.assemble import Part, join, load_external_pdf
from kenpo_docs.publish.forms import build_form
from kenpo_docs.publish.notices import render_notice


@dataclass(frozen=True)
class Attachment:
    """One 別添 of a notice: its label (別添N), title and what to print."""

    label: str
    title: str
    kind: str  # "form" | "file"
    name: str  # form name or file path

    @property
    def bookmark(self) -> str:
        return f"{self.label} {self.title}"


def attachments(number: int, *, flyer: str | Path | None = None) -> list[Attachment]:
    """The notice's attachments in print order; ``flyer`` replaces its external file.

    Raises:
        ManifestError: an attachment in the register is neither ``form:`` nor ``file:``.
    """
    notice = get_notice(number)
    out: list[Attachment] = []
    replaced = False
    for index, (what, title) in enumerate(notice.attachments, start=1):
        kind, _, name = what.partition(":")
        label = f"別添{index}"
        if kind == "form":
            spec = get_form(name)
            out.append(Attachment(label, title or spec.title, "form", name))
        elif kind == "file":
            if flyer is not None and not replaced:
                path, replaced = Path(flyer), True
            else:
                path = Path(name) if Path(name).is_absolute() else home() / name
            out.append(Attachment(label, title or path.stem, "file", str(path)))
        else:
            raise ManifestError(
                f"notice {number}: attachment {what!r} is neither form:NAME nor file:PATH",
                file=register_path(),
            )
    if flyer is not None and not replaced:
        path = Path(flyer)
        out.append(Attachment(f"別添{len(out) + 1}", path.stem, "file", str(path)))
    return out


def render_pack(number: int, *, flyer: str | Path | None = None) -> bytes:
    """The notice followed by its attachments, one bookmark each, as PDF bytes.

    Every external file is checked before anything is rendered, so a broken or encrypted
    flyer fails in one line naming the file.

    Raises:
        AssemblyError: an external PDF is missing, broken, encrypted or empty.
    """
    notice = get_notice(number)
    items = attachments(number, flyer=flyer)
    external = {a.name: load_external_pdf(a.name) for a in items if a.kind == "file"}
    parts = [Part(render_notice(number, "pdf"), title=f"第{number}号 {notice.title}")]
    for item in items:
        if item.kind == "form":
            data = build_form(item.name, as_of=notice.date)
            parts.append(Part(data, title=item.bookmark))
        else:
            parts.append(Part(external[item.name].reader(), title=item.bookmark))
    return join(parts, metadata={"/Title": f"第{number}号 {notice.title}（添付資料付き）"})


def build_pack(
    number: int, *, out_dir: Path | None = None, flyer: str | Path | None = None
) -> Path:
    """Write ``notice-<number>-pack.pdf`` (created 0600); nothing is written on error."""
    data = render_pack(number, flyer=flyer)
    out = Path(out_dir) if out_dir is not None else Path("output") / "notices"
    path = out / f"notice-{number}-pack.pdf"
    write_atomic(path, data)
    return path

