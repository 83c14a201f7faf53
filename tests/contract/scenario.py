"""The contract scenario: a fixed set of commands whose every output byte is recorded.

Run before and after moving code: the restructure of the package must keep every file a
fixed sample merge writes, and the text and exit code of each command, byte for byte. The
recording lives in ``tests/data/contract/recording.json``, one for every machine: the fonts
are subset by the pinned uharfbuzz whether or not the system has HarfBuzz-Subset
(``tests/test_contract.py`` runs the scenario both ways where it can).

Regenerate only for a deliberate change of behaviour, in a commit of its own::

    .venv/bin/python -m tests.contract.scenario --write

The tracking database holds wall-clock times and ``batch.json`` the enclosures' absolute
paths: the database is compared through what ``track report`` and ``track postal`` print, not
by its bytes. The same recording holds in any checkout folder (CI clones elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "contract"
AS_OF = "2026-12-01"
BATCH = "CONTRACT-1"
#: Files whose bytes hold the time they were written (compared through the CLI instead).
UNSTABLE = ("tracking.sqlite", "tracking.sqlite-wal", "tracking.sqlite-shm")


def system_subsetter() -> bool:
    """True when WeasyPrint loaded the system's HarfBuzz-Subset library in this process."""
    from weasyprint.text import ffi

    return bool(ffi.harfbuzz_subset)


def recording_path() -> Path:
    return DATA / "recording.json"


def _commands(work: Path) -> list[tuple[str, list[str], str | None]]:
    samples = ROOT / "samples"
    roster = str(samples / "roster.csv")
    out = str(work / "merge")
    db = str(work / "tracking.sqlite")
    bad = work / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02 not a roster")
    return [
        ("version", ["--version"], None),
        ("check", ["check", roster, "--as-of", AS_OF, "--report", str(work / "rejects.csv")],
         None),
        ("check-xlsx", ["check", str(samples / "roster.xlsx"), "--as-of", AS_OF], None),
        ("check-unreadable", ["check", str(bad), "--as-of", AS_OF], None),
        ("merge", ["merge", roster, "--letter", "kakuninsho", "--notice", "539",
                   "--enclose", "form:bessou1", "--enclose", "notice:539",
                   "--enclose", f"file:{samples / 'bessou3-standin.pdf'}",
                   "--as-of", AS_OF, "--out", out, "--db", db, "--batch-id", BATCH,
                   "--workers", "2"], None),
        ("merge-again", ["merge", roster, "--letter", "kakuninsho", "--notice", "539",
                         "--enclose", "form:bessou1", "--enclose", "notice:539",
                         "--enclose", f"file:{samples / 'bessou3-standin.pdf'}",
                         "--as-of", AS_OF, "--out", out, "--db", db, "--batch-id", BATCH,
                         "--workers", "2"], None),
        ("merge-guidance", ["merge", roster, "--letter", "guidance", "--as-of", AS_OF,
                            "--out", str(work / "guidance"), "--db", db,
                            "--batch-id", "CONTRACT-2", "--sort", "postal", "--workers", "1"],
         None),
        ("merge-unknown-letter", ["merge", roster, "--letter", "nosuch", "--as-of", AS_OF,
                                  "--out", str(work / "x"), "--db", db], None),
        ("track-report", ["track", "report", "--db", db, "--batch", BATCH,
                          "--csv", str(work / "track.csv")], None),
        ("track-postal", ["track", "postal", "--db", db, "--batch", BATCH,
                          "--csv", str(work / "postal.csv")], None),
        ("track-verify", ["track", "verify", str(work / "merge" / "print" / "home.pdf"),
                          "--manifest", str(work / "merge" / "manifest.csv")], None),
        ("notice-list", ["notice", "list"], None),
        ("notice-build-pdf", ["notice", "build", "539", "--out", str(work / "notices")], None),
        ("notice-build-docx", ["notice", "build", "539", "--format", "docx",
                               "--out", str(work / "notices")], None),
        ("notice-build-html", ["notice", "build", "539", "--format", "html",
                               "--out", str(work / "notices")], None),
        ("notice-pack", ["notice", "pack", "539", "--out", str(work / "notices")], None),
        ("form-blank", ["form", "build", "bessou1", "--out", str(work / "forms"),
                        "--as-of", AS_OF], None),
        ("form-member", ["form", "build", "bessou2", "--roster", roster, "--member",
                         "0012-000101", "--out", str(work / "forms"), "--as-of", AS_OF], None),
        ("form-docx", ["form", "build", "bessou1", "--roster", roster, "--member",
                       "0012-000101", "--format", "docx", "--out", str(work / "forms"),
                       "--as-of", AS_OF], None),
        ("form-fillable", ["form", "build", "bessou1", "--fillable",
                           "--out", str(work / "forms"), "--as-of", AS_OF], None),
    ]


#: A run's duration and speed, as the merge's summary prints them.
_TIMING = re.compile(r"[0-9.]+ s \([0-9.]+ pieces/s\)")


#: The merge's progress lines (not a terminal): rate and time left.
_RATE = re.compile(r"(?:[0-9.]+|-) pieces/s  残り [-0-9:]+")


def _text(text: str, work: Path) -> str:
    text = text.replace(str(work), "<WORK>").replace(str(ROOT), "<ROOT>")
    return _RATE.sub("<RATE>", _TIMING.sub("<TIME>", text))


#: A UTC time stamp as the tracking database writes it.
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def _file_digest(path: Path) -> str:
    """A file's SHA-256; a DOCX's over its parts (the zip records when each was written),
    a tracking report's with its time stamps blanked."""
    if path.suffix == ".docx":
        import zipfile

        h = hashlib.sha256()
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                h.update(name.encode() + b"\0" + hashlib.sha256(z.read(name)).digest())
        return "parts:" + h.hexdigest()
    data = path.read_bytes()
    if path.suffix == ".html":  # links its stylesheets by the checkout's absolute URL
        data = data.replace((ROOT / "templates").as_uri().encode(), b"<ROOT>")
    if path.name == "track.csv":
        data = _STAMP.sub(b"<T>", data)
    return hashlib.sha256(data).hexdigest()


def run(work: Path) -> dict[str, str]:
    """Run the scenario in the empty folder ``work``; what it printed and wrote, by name."""
    from kenpo_docs.cli import cli

    record: dict[str, str] = {}
    runner = CliRunner()
    for name, args, stdin in _commands(work):
        result = runner.invoke(cli, args, input=stdin, prog_name="kenpo-docs",
                               catch_exceptions=False)
        record[f"cli/{name}"] = (f"exit {result.exit_code}\n{_text(result.stdout, work)}"
                                 f"--- stderr\n{_text(result.stderr, work)}")
    for path in sorted(p for p in work.rglob("*") if p.is_file()):
        rel = path.relative_to(work).as_posix()
        if path.name in UNSTABLE or path.name == "batch.json":
            continue
        record[f"file/{rel}"] = _file_digest(path)
    return record


def main(argv: list[str]) -> int:
    import tempfile

    os.environ.setdefault("PYTHONHASHSEED", "0")
    with tempfile.TemporaryDirectory(prefix="kenpo-contract-") as tmp:
        record = run(Path(tmp))
    if "--write" in argv:
        DATA.mkdir(parents=True, exist_ok=True)
        path = recording_path()
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                        encoding="utf-8")
        print(f"wrote {path} ({len(record)} entries)")
    else:
        print(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
