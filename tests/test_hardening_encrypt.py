"""``merge --encrypt``: piece PDFs and print files open only with the batch password (AES-256).

The password comes from ``KENPO_DOCS_PASSWORD`` or a hidden prompt, never from an option.
AES-256 is checked in the file itself: the encryption dictionary of PDF 2.0 / ISO 32000-2
(``/V 5``, ``/R 6``, crypt filter ``/AESV3``).
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from kenpo_docs.cli import cli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
import make_bad  # noqa: E402

PASSWORD = "batch-539-secret"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("enc")
    roster = base / "roster.csv"
    roster.write_text(make_bad.csv_text([
        make_bad.row(1, 氏名="暗号 一郎"),
        make_bad.row(2, 氏名="暗号 花子", 加入区分="任意継続", 就労先コード="", 就労先名=""),
    ]), encoding="utf-8")
    out = base / "out"
    result = CliRunner().invoke(cli, _merge(roster, out, base),
                                env={"KENPO_DOCS_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    return out


def _merge(roster: Path, out: Path, base: Path, *extra: str) -> list[str]:
    return ["merge", str(roster), "--letter", "kakuninsho", "--as-of", "2026-12-01",
            "--out", str(out), "--workers", "1", "--db", str(base / "track.sqlite"),
            "--encrypt", *extra]


def _protected(out: Path) -> list[Path]:
    return sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))


def test_pieces_and_print_files_open_only_with_the_password(batch: Path) -> None:
    files = _protected(batch)
    assert len(files) == 4  # two pieces, a workplace file and the home file
    for path in files:
        reader = PdfReader(path)
        assert reader.is_encrypted, path
        with pytest.raises(FileNotDecryptedError):
            reader.pages[0].extract_text()
        assert not PdfReader(path).decrypt("wrong password")
        opened = PdfReader(path)
        assert opened.decrypt(PASSWORD)
        text = "".join(p.extract_text() for p in opened.pages)
        assert "暗号" in text, path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_encryption_is_aes_256(batch: Path) -> None:
    for path in _protected(batch):
        encrypt = PdfReader(path).trailer["/Encrypt"].get_object()
        assert (encrypt["/V"], encrypt["/R"]) == (5, 6), path
        assert encrypt["/CF"]["/StdCF"]["/CFM"] == "/AESV3"


def test_password_is_never_an_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["merge", "x.csv", "--letter", "kakuninsho",
                                      "--password", PASSWORD])
    assert result.exit_code == 2 and "No such option" in result.output


def test_hidden_prompt_asks_twice_and_refuses_short_passwords(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(make_bad.csv_text([make_bad.row(1)]), encoding="utf-8")
    out = tmp_path / "out"
    short = CliRunner().invoke(cli, _merge(roster, out, tmp_path), input="abc\nabc\n",
                               env={"KENPO_DOCS_PASSWORD": ""})
    assert short.exit_code == 2 and "at least 8" in short.output
    assert not out.exists()
    prompted = CliRunner().invoke(cli, _merge(roster, out, tmp_path),
                                  input=f"{PASSWORD}\n{PASSWORD}\n",
                                  env={"KENPO_DOCS_PASSWORD": ""})
    assert prompted.exit_code == 0, prompted.output
    assert "Batch password" in prompted.output and PASSWORD not in prompted.output
    piece = next((out / "pieces").glob("*.pdf"))
    assert PdfReader(piece).is_encrypted and PdfReader(piece).decrypt(PASSWORD)


def test_an_encrypted_batch_is_not_reopened_in_clear(batch: Path, tmp_path: Path) -> None:
    roster = batch.parent / "roster.csv"
    plain = CliRunner().invoke(cli, _merge(roster, batch, tmp_path)[:-1])  # without --encrypt
    assert plain.exit_code == 2 and "holds a batch that was encrypted" in plain.output
    again = CliRunner().invoke(cli, _merge(roster, batch, tmp_path),
                               env={"KENPO_DOCS_PASSWORD": PASSWORD})
    assert again.exit_code == 0, again.output
    assert "0 files encrypted" in again.output and "2 pieces" in again.output
    wrong = CliRunner().invoke(cli, _merge(roster, batch, tmp_path),
                               env={"KENPO_DOCS_PASSWORD": "another-password"})
    assert wrong.exit_code == 2 and "another password" in wrong.output


@pytest.mark.parametrize("mistake", ["missing roster", "not a roster", "unknown letter",
                                     "another roster", "unknown enclosure"])
def test_finishing_an_encrypted_batch_checks_the_whole_command_first(
    batch: Path, tmp_path: Path, mistake: str
) -> None:
    """Before: ``--encrypt`` into an encrypted batch folder skipped the merge and reported
    success, even for a missing roster file and an unknown letter."""
    roster = batch.parent / "roster.csv"
    args = _merge(roster, batch, tmp_path)
    if mistake == "missing roster":
        args[1] = str(tmp_path / "nowhere.csv")
    elif mistake == "not a roster":
        (tmp_path / "x.csv").write_text("x", encoding="utf-8")
        args[1] = str(tmp_path / "x.csv")
    elif mistake == "another roster":
        (tmp_path / "other.csv").write_text(make_bad.csv_text([make_bad.row(7)]),
                                            encoding="utf-8")
        args[1] = str(tmp_path / "other.csv")
    elif mistake == "unknown letter":
        args[args.index("kakuninsho")] = "no-such-letter"
    else:
        args += ["--enclose", "form:no-such-form"]
    before = {p: p.read_bytes() for p in sorted(batch.rglob("*")) if p.is_file()}
    result = CliRunner().invoke(cli, args, env={"KENPO_DOCS_PASSWORD": PASSWORD})
    assert result.exit_code == 2, (mistake, result.output)
    assert "encrypted" not in result.stdout
    assert "Traceback" not in result.output
    after = {p: p.read_bytes() for p in sorted(batch.rglob("*")) if p.is_file()}
    assert after == before


def test_a_run_killed_while_encrypting_is_finished_by_the_same_command(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(make_bad.csv_text([make_bad.row(1)]), encoding="utf-8")
    out = tmp_path / "out"
    plain = CliRunner().invoke(cli, _merge(roster, out, tmp_path)[:-1])
    assert plain.exit_code == 0, plain.output
    # Killed just after it marked the folder and before it encrypted a file.
    (out / "encrypted.json").write_text('{"algorithm": "AES-256"}')
    done = CliRunner().invoke(cli, _merge(roster, out, tmp_path),
                              env={"KENPO_DOCS_PASSWORD": PASSWORD})
    assert done.exit_code == 0, done.output
    assert "2 files encrypted" in done.output and "1 pieces" in done.output
    for path in _protected(out):
        assert PdfReader(path).is_encrypted, path
