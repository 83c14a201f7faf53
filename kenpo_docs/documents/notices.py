"""Numbered notices (年金機構けんぽからのお知らせ 第N号): the register, new, issue, their context.

The register (``templates/notices/register.toml``) lists every notice: number, date, title,
template folder and status. An issued notice is frozen: the register keeps a hash of its
template folder and of the shared ``templates/base/``, and building it again refuses if
either changed (``force`` overrides), so what we print today is what was sent then.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from kenpo_docs.domain import facts
from kenpo_docs.errors import ManifestError, RenderError, TemplateError
from kenpo_docs.files import write_atomic
from kenpo_docs.paths import templates_dir

FORMATS = ("pdf", "docx", "html")
STATUSES = ("draft", "issued")
_KEYS = {"number", "date", "title", "folder", "status", "hash", "approved_by", "attachments"}


@dataclass(frozen=True)
class Notice:
    """One line of the register."""

    number: int
    date: date
    title: str
    folder: str
    status: str = "draft"
    hash: str | None = None
    #: Who approved the issue (the web page's approver; None when issued from the terminal).
    approved_by: str | None = None
    # 添付資料 in print order: (what, title) with what = "form:NAME" or "file:PATH"
    # (PATH relative to the project home); see kenpo_docs.publish.pack.
    attachments: tuple[tuple[str, str], ...] = ()

    @property
    def template(self) -> str:
        """The HTML template, relative to the templates folder."""
        return f"notices/{self.folder}/notice.html"



def templates_root(templates: Path | None) -> Path:
    return Path(templates) if templates is not None else templates_dir()


def register_path(templates: Path | None = None) -> Path:
    return templates_root(templates) / "notices" / "register.toml"


def load_register(templates: Path | None = None) -> list[Notice]:
    """Every notice in the register, by number."""
    path = register_path(templates)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ManifestError("notice register not found", file=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"notice register is not valid TOML: {exc}", file=path) from exc
    notices = []
    for i, row in enumerate(data.get("notice", []), start=1):
        unknown = set(row) - _KEYS
        if unknown:
            raise ManifestError(f"unknown keys {sorted(unknown)}", file=path, row=i)
        try:
            notice = Notice(
                number=int(row["number"]),
                date=row["date"],
                title=str(row["title"]),
                folder=str(row.get("folder", row["number"])),
                status=str(row.get("status", "draft")),
                hash=row.get("hash"),
                approved_by=str(row["approved_by"]) if "approved_by" in row else None,
                attachments=tuple(
                    (str(a["enclose"]), str(a.get("title", "")))
                    for a in row.get("attachments", [])
                ),
            )
        except KeyError as exc:
            raise ManifestError(f"missing key {exc.args[0]!r}", file=path, row=i) from exc
        except (TypeError, AttributeError) as exc:
            raise ManifestError(
                "attachments must be a list of { enclose = ..., title = ... }", file=path, row=i
            ) from exc
        if not isinstance(notice.date, date) or notice.status not in STATUSES:
            raise ManifestError("date must be a TOML date, status draft|issued", file=path, row=i)
        notices.append(notice)
    numbers = [n.number for n in notices]
    if len(numbers) != len(set(numbers)):
        raise ManifestError("a notice number appears twice", file=path)
    return sorted(notices, key=lambda n: n.number)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def save_register(notices: Iterable[Notice], templates: Path | None = None) -> None:
    """Write the register back (a plain, stable layout that reads well in a diff)."""
    lines = [
        "# Register of numbered notices (年金機構けんぽからのお知らせ).",
        "# Written by `kenpo-docs notice new` / `notice issue`; an issued notice's hash freezes",
        "# its template folder (building refuses if the folder changed, unless --force).",
    ]
    for n in sorted(notices, key=lambda n: n.number):
        lines += [
            "",
            "[[notice]]",
            f"number = {n.number}",
            f"date = {n.date.isoformat()}",
            f"title = {_toml_str(n.title)}",
            f"folder = {_toml_str(n.folder)}",
            f"status = {_toml_str(n.status)}",
        ]
        if n.hash:
            lines.append(f"hash = {_toml_str(n.hash)}")
        if n.approved_by:
            lines.append(f"approved_by = {_toml_str(n.approved_by)}")
        if n.attachments:
            lines.append("attachments = [")
            lines += [
                f"  {{ enclose = {_toml_str(what)}, title = {_toml_str(title)} }},"
                for what, title in n.attachments
            ]
            lines.append("]")
    path = register_path(templates)
    # The register belongs to the templates folder (shared with colleagues): it keeps its mode.
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"), mode=mode)


def get_notice(number: int, templates: Path | None = None) -> Notice:
    for n in load_register(templates):
        if n.number == number:
            return n
    raise TemplateError(f"notice {number} is not in the register", file=register_path(templates))


def folder_hash(*folders: Path) -> str:
    """SHA-256 over the folders' file names and bytes (caches excluded)."""
    digest = hashlib.sha256()
    for folder in folders:
        digest.update(folder.name.encode() + b"/\0")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if "__pycache__" in rel or rel.endswith((".pyc", ".tmp")):
                continue
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: The source of a notice written by staff (Markdown, or extracted from their Word file).
SOURCE = "notice.md"
#: The Word file a notice was made from, kept beside what was extracted from it.
WORD_SOURCE = "source.docx"
#: The house page, stylesheet and Word styles every notice.md notice is printed with.
HOUSE = "_house"


def notice_folder(notice: Notice, templates: Path | None = None) -> Path:
    return templates_root(templates) / "notices" / notice.folder


def source_path(notice: Notice, templates: Path | None = None) -> Path | None:
    """The notice's ``notice.md`` if it is written in Markdown or Word (None: an HTML
    template such as 539's)."""
    path = notice_folder(notice, templates) / SOURCE
    return path if path.is_file() else None


def template_hash(notice: Notice, templates: Path | None = None) -> str:
    """What an issued notice's print depends on: its own folder and the shared base/ (and,
    for a notice.md notice, the house page and styles of ``notices/_house/``).

    The shared stylesheet is included because a change there (margins, fonts) changes the
    printed notice as surely as an edit to its own text.
    """
    root = templates_root(templates)
    shared = [root / "notices" / HOUSE] if source_path(notice, templates) else []
    return folder_hash(root / "notices" / notice.folder, *shared, root / "base")


def new_notice(
    title: str,
    on: date,
    *,
    templates: Path | None = None,
    fill: Callable[[Path], None] | None = None,
) -> Notice:
    """Register the next free number as a draft and make its folder.

    Without ``fill`` the folder gets the skeleton (a starter ``notice.md``); ``fill(folder)``
    writes the folder's source instead (a Markdown or Word file the staff wrote, see
    :func:`kenpo_docs.publish.notices.new_from_source`). Nothing is registered, and no
    folder is left, when ``fill`` fails.
    """
    root = templates_root(templates)
    notices = load_register(templates)
    number = max((n.number for n in notices), default=0) + 1
    target = root / "notices" / str(number)
    if target.exists():
        raise ManifestError(f"folder for notice {number} already exists", file=target)
    skeleton = root / "notices" / "_skeleton"
    if fill is None and not skeleton.is_dir():
        raise TemplateError("skeleton folder missing", file=skeleton)
    try:
        if fill is None:
            shutil.copytree(skeleton, target)
        else:
            target.mkdir(parents=True)
            fill(target)
        notice = Notice(number=number, date=on, title=title, folder=str(number))
        save_register([*notices, notice], templates)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return notice


#: Where a notice's insert files live, inside its template folder: a section the original
#: prints as an image (539's 「マイナポータルの資格情報画面のダウンロード方法」) takes its picture
#: from ``inserts/<name>.png`` (or .jpg, .jpeg, .svg); the template refers to it as
#: ``inserts["<name>"]`` (the file name, when present).
INSERTS = "inserts"
INSERT_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
_INSERT_REF = re.compile(r"""\binserts\[["']([A-Za-z0-9_-]+)["']\]""")
_EMPTY_SECTION = re.compile(r"<h2\b[^>]*>([^<]*)</h2>\s*(?=<h2\b|{%-?\s*endblock)")
#: The skeleton's placeholder for the body text.
PLACEHOLDER = "（本文）"


def notice_inserts(notice: Notice, templates: Path | None = None) -> dict[str, str]:
    """The insert files present in the notice's folder: name -> file name."""
    folder = templates_root(templates) / "notices" / notice.folder / INSERTS
    found: dict[str, str] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in INSERT_SUFFIXES and path.is_file():
                found.setdefault(path.stem, path.name)
    return found


def incomplete_sections(notice: Notice, templates: Path | None = None) -> list[str]:
    """What the notice cannot print yet, one line each (empty when it is complete).

    An insert the template uses whose file is missing, a section heading with nothing under
    it, and the skeleton's 「（本文）」 placeholder. ``notice build`` and ``notice proof`` warn
    with these lines; ``notice issue`` refuses while there are any (unless forced).
    """
    folder = templates_root(templates) / "notices" / notice.folder
    page = folder / "notice.html"
    if not page.is_file():  # a notice.md notice: its checks need the render stage's variables
        raise TemplateError(f"notice {notice.number} has no notice.html: a notice written in "
                            "notice.md is checked by kenpo_docs.publish.notices.incomplete",
                            template=notice.template)
    source = page.read_text(encoding="utf-8")
    present = notice_inserts(notice, templates)
    out: list[str] = []
    for name in dict.fromkeys(_INSERT_REF.findall(source)):
        if name not in present:
            out.append(f"差し込みファイル {INSERTS}/{name}.png がありません "
                       f"(insert file missing: {folder / INSERTS / name}.png, .jpg or .svg)")
    for title in _EMPTY_SECTION.findall(source):
        out.append(f"「{title.strip()}」の本文がありません (section left empty)")
    if PLACEHOLDER in source:
        out.append(f"{PLACEHOLDER} が残っています (the skeleton's placeholder is still there)")
    return out


def issue_notice(
    number: int,
    *,
    templates: Path | None = None,
    force: bool = False,
    incomplete: list[str] | None = None,
    approved_by: str | None = None,
) -> Notice:
    """Mark a notice issued and freeze its template folder by hash.

    ``incomplete``: what the notice cannot print yet, as its builder found it (a notice.md
    notice's validation warnings); by default :func:`incomplete_sections` of its HTML.
    ``approved_by``: who approved it (kept in the register beside the hash).

    Raises:
        TemplateError: the notice is incomplete and ``force`` is not set.
    """
    notices = load_register(templates)
    notice = get_notice(number, templates)
    missing = incomplete_sections(notice, templates) if incomplete is None else incomplete
    if missing and not force:
        raise TemplateError(
            f"notice {number} is not complete, not issued (--force to issue anyway): "
            + "; ".join(missing),
            template=notice.template,
        )
    frozen = replace(notice, status="issued", hash=template_hash(notice, templates),
                     approved_by=approved_by or None)
    save_register([frozen if n.number == number else n for n in notices], templates)
    return frozen


def _mark(value: bool, yes: str = "可", no: str = "不可") -> str:
    return yes if value else no


def notice_context(notice: Notice, templates: Path | None = None) -> dict[str, Any]:
    """Everything a notice template may use: the register line and the rules' tables, the
    insurer settings' contact and series title, and the insert files present."""
    card_rows = []
    for label, h in facts.card_handling_table():
        issue = _mark(h.new_issue)
        if h.new_issue != h.reissue:  # one column in the notice; say both if they differ
            issue = f"新規{_mark(h.new_issue)}・再交付{_mark(h.reissue)}"
        card_rows.append(
            {
                "label": label,
                "card_use": _mark(h.card_use),
                "issue": issue,
                "collection": _mark(h.collection_required, "必要", "不要"),
                "self_disposal": _mark(h.self_disposal),
                "myna_use": _mark(h.myna_use),
            }
        )
    periods = [
        {
            "ordinal": i,
            "start": p.start,
            "end": p.end,
            "expiry": p.expiry,
            "years_after_period": p.expiry.year - p.end.year,
        }
        for i, p in enumerate(facts.certificate_periods_table(), start=1)
    ]
    from kenpo_docs.domain.era import format_wareki

    timings = []
    for t in facts.eligibility_notice_table():
        if t.acquired_from is None and t.acquired_until is not None:
            acquired = f"{format_wareki(t.acquired_until)}まで"
        elif t.acquired_until is None and t.acquired_from is not None:
            acquired = f"{format_wareki(t.acquired_from)}以降"
        elif t.acquired_from is not None and t.acquired_until is not None:
            acquired = f"{format_wareki(t.acquired_from)}から{format_wareki(t.acquired_until)}まで"
        else:
            acquired = ""
        timings.append({"who": t.who, "acquired": acquired, "issued": t.issued})
    ins = facts.insurer()
    closed = ins.hours.removesuffix("を除く")
    contact = {
        "name": ins.name,
        "department": ins.department,
        "phone": ins.phone,
        "hours": ins.hours,
        "closed": closed,
    }
    return {
        "notice": {
            "number": notice.number,
            "date": notice.date,
            "title": notice.title,
            "status": notice.status,
            "folder": notice.folder,
        },
        "card_rows": card_rows,
        "periods": periods,
        "timings": timings,
        "contact": contact,
        "series_title": ins.series_title,
        "inserts": notice_inserts(notice, templates),
    }


def check_frozen(notice: Notice, root: Path, force: bool) -> None:
    if notice.status != "issued" or force:
        return
    if notice.hash != template_hash(notice, root):
        raise RenderError(
            f"notice {notice.number} is issued and its template folder or templates/base/ "
            "changed since (hash differs); build with --force to print the changed version",
            template=notice.template,
        )
