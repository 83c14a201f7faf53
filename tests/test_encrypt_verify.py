"""Encryption and verification together (issue 17, item 15).

The documented order is: merge with ``--encrypt``, verify the print files, hand them over.
``track verify`` therefore opens encrypted print files, with the password from
``KENPO_DOCS_PASSWORD`` or a hidden prompt asked once; a wrong one is a one-line error, exit 2.

Encryption (qpdf, through pikepdf) rewrites the file's own objects: no object is duplicated
(pypdf's clone made a copy of a shared content stream for every page referring to it, and
warned "Object count exceeds trailer size"), the pages decrypt to exactly the pages of the
same batch made in clear, and the files stay 0600, replaced atomically.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from tests.tracking_roster import HEADER, rows

PASSWORD = "batch-539-secret"

ROWS = rows("20-3001-00", "20-3002-00", "20-3004-00", "20-3005-00")


def _merge(roster: Path, out: Path, db: Path, *extra: str) -> list[str]:
    # form:bessou1 makes pieces of several pages, whose pages share content streams.
    return ["merge", str(roster), "--letter", "kakuninsho", "--as-of", "2026-12-01",
            "--enclose", "form:bessou1", "--out", str(out), "--db", str(db),
            "--batch-id", "ENC-1", "--workers", "1", *extra]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One batch made twice from the same input: in clear and with --encrypt (own dbs)."""
    base = tmp_path_factory.mktemp("encverify")
    roster = base / "roster.csv"
    roster.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    clear = CliRunner().invoke(cli, _merge(roster, base / "clear", base / "clear.sqlite"))
    assert clear.exit_code == 0, clear.output
    handler = _Collect()
    logging.getLogger("pypdf").addHandler(handler)
    try:
        enc = CliRunner().invoke(cli, _merge(roster, base / "enc", base / "enc.sqlite",
                                             "--encrypt"),
                                 env={"KENPO_DOCS_PASSWORD": PASSWORD})
    finally:
        logging.getLogger("pypdf").removeHandler(handler)
    assert enc.exit_code == 0, enc.output
    return {"base": base, "clear": base / "clear", "enc": base / "enc",
            "db": base / "enc.sqlite", "pypdf_log": handler.messages}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _files(out: Path) -> list[Path]:
    return sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))


@pytest.mark.parametrize("against", ["db", "manifest"])
def test_verify_reads_encrypted_print_files_with_the_env_password(
    made: dict[str, object], against: str,
) -> None:
    enc, db = Path(str(made["enc"])), Path(str(made["db"]))
    prints = sorted((enc / "print").glob("*.pdf"))
    assert len(prints) == 2
    for pdf in prints:
        check = (["--db", str(db)] if against == "db" else
                 ["--manifest", str(pdf.with_suffix(".inserter.csv"))])
        result = CliRunner().invoke(cli, ["track", "verify", str(pdf), *check],
                                    env={"KENPO_DOCS_PASSWORD": PASSWORD})
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().endswith("OK")
        assert PASSWORD not in result.output


def test_verify_asks_once_for_the_password_when_the_env_has_none(
    made: dict[str, object],
) -> None:
    pdf = Path(str(made["enc"])) / "print" / "home.pdf"
    result = CliRunner().invoke(cli, ["track", "verify", str(pdf), "--db", str(made["db"])],
                                env={"KENPO_DOCS_PASSWORD": ""}, input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("パスワード:") == 1 and "Repeat" not in result.stderr
    assert PASSWORD not in result.output


@pytest.mark.parametrize("how", ["env", "prompt"])
def test_a_wrong_password_is_one_line_exit_2(made: dict[str, object], how: str) -> None:
    pdf = Path(str(made["enc"])) / "print" / "home.pdf"
    env = {"KENPO_DOCS_PASSWORD": "not-the-password" if how == "env" else ""}
    result = CliRunner().invoke(cli, ["track", "verify", str(pdf), "--db", str(made["db"])],
                                env=env, input="not-the-password\n")
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "home.pdf" in errors[0] and "パスワードが違います" in errors[0]
    assert "Traceback" not in result.output and result.stdout == ""


def test_encryption_keeps_the_objects_and_decrypts_to_the_same_pages(
    made: dict[str, object],
) -> None:
    clear, enc = Path(str(made["clear"])), Path(str(made["enc"]))
    assert [p.name for p in _files(clear)] == [p.name for p in _files(enc)]
    for plain, locked in zip(_files(clear), _files(enc), strict=True):
        with pikepdf.open(plain) as a, pikepdf.open(locked, password=PASSWORD) as b:
            assert b.is_encrypted and not a.is_encrypted
            # Only the encryption dictionary may be added: no shared stream copied per page.
            assert len(b.objects) <= len(a.objects) + 1, locked.name
        with pytest.raises(pypdfium2.PdfiumError):
            pypdfium2.PdfDocument(locked)
        doc_a, doc_b = pypdfium2.PdfDocument(plain), pypdfium2.PdfDocument(locked,
                                                                           password=PASSWORD)
        try:
            assert len(doc_a) == len(doc_b) > 0
            for i in range(len(doc_a)):
                img_a = doc_a[i].render(scale=0.5).to_pil()
                img_b = doc_b[i].render(scale=0.5).to_pil()
                assert img_a.tobytes() == img_b.tobytes(), f"{locked.name} page {i + 1}"
        finally:
            doc_a.close()
            doc_b.close()
        assert stat.S_IMODE(locked.stat().st_mode) == 0o600
    assert not list(enc.rglob("*.tmp"))


def test_no_object_count_warning_at_encrypt(made: dict[str, object]) -> None:
    assert not [m for m in made["pypdf_log"] if "exceeds" in m]  # type: ignore[attr-defined]
