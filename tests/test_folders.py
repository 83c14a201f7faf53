"""We create missing folders 0700 and never change the mode of a folder we did not create
(a shared 1777 or 2775 parent stays as it was)."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.files import private_dir, write_atomic

ROSTER = Path(__file__).resolve().parent.parent / "samples" / "roster.csv"


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_missing_parents_are_created_private(tmp_path: Path) -> None:
    target = private_dir(tmp_path / "a" / "b" / "c")
    for folder in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert _mode(folder) == 0o700


def test_a_shared_folder_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2775)
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    write_atomic(shared / "report.csv", b"x")
    private_dir(sticky)
    assert _mode(shared) == 0o2775 and _mode(sticky) == 0o1777
    assert _mode(shared / "report.csv") == 0o600


def test_check_report_into_a_shared_folder_leaves_the_folder_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2775)
    result = CliRunner().invoke(cli, ["check", str(ROSTER), "--as-of", "2026-12-01",
                                      "--report", str(shared / "rejects.csv")])
    assert result.exit_code == 1
    assert _mode(shared) == 0o2775
    assert _mode(shared / "rejects.csv") == 0o600


def test_written_files_replace_a_link_and_never_write_through_it(tmp_path: Path) -> None:
    """Files are created new (O_EXCL, 0600) and renamed over the name: a link planted where
    an output goes is replaced, its target untouched (stamp_pieces opened the name with
    O_TRUNC and wrote through a link into its target)."""
    from pypdf import PdfWriter

    from kenpo_docs.barcodes import stamp_pieces

    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    os.chmod(victim, 0o644)
    source = tmp_path / "one.pdf"
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    blank.write(source)
    for name, write in (
        ("stamped.pdf", lambda p: stamp_pieces(source, p, [("P1", 1)])),
        ("plain.bin", lambda p: write_atomic(p, b"data")),
    ):
        link = tmp_path / name
        link.symlink_to(victim)
        write(link)
        assert not link.is_symlink() and _mode(link) == 0o600, name
        assert victim.read_text() == "not yours" and _mode(victim) == 0o644
