"""The merge's fast path is really on here, and off (with one warning, or an error with
--strict) on library versions its gates were not tested on.

The contract test proves the bytes; these prove which path made them.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from kenpo_docs import gates
from kenpo_docs.cli import cli
from kenpo_docs.errors import KenpoDocsError
from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
AS_OF = date(2026, 12, 1)


def _options(out: Path, **extra: object) -> MergeOptions:
    return MergeOptions(letter="kakuninsho", out=out, as_of=AS_OF,
                        enclosures=("form:bessou1",), workers=1, batch_id="FAST-1", **extra)


@pytest.fixture
def untested_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(gates.TESTED, "weasyprint", ("0.1",))
    monkeypatch.setattr(gates, "_WARNED", [])
    gates.fast_path.cache_clear()
    yield
    gates.fast_path.cache_clear()


def test_every_letter_and_form_of_the_sample_is_drawn_over_its_shape(tmp_path: Path) -> None:
    result = merge(ROSTER, options=_options(tmp_path / "m"))
    assert result.fast_path and result.pieces == 8
    assert result.full_layout == {}  # 8 letters and 8 forms, none laid out in full


def test_a_letter_without_slots_is_counted_as_laid_out_in_full(tmp_path: Path) -> None:
    result = merge(ROSTER, options=MergeOptions(letter="guidance", out=tmp_path / "g",
                                                as_of=AS_OF, workers=1))
    assert result.full_layout == {"no overlay for its shape": result.pieces}


def _text(path: Path) -> list[tuple[int, Counter[str]]]:
    """Per page, the characters it prints (the order text is read back in differs: an overlay
    page draws its background's text first, then the values)."""
    pdf = pdfium.PdfDocument(path)
    try:
        return [(i, Counter(c for c in pdf[i].get_textpage().get_text_range() if not c.isspace()))
                for i in range(len(pdf))]
    finally:
        pdf.close()


def test_untested_versions_lay_everything_out_in_full_with_one_warning(
        tmp_path: Path, untested_weasyprint: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="kenpo_docs"):
        slow = merge(ROSTER, options=_options(tmp_path / "slow"))
    # The sample roster has a 資格確認書 issued after notice 539's periods: the merge says once
    # that its period is extrapolated (issue 18); that warning is not about the fast path.
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "extrapolated" not in r.getMessage()]
    assert [r.getMessage().split(":")[0] for r in warnings] == ["fast path off (untested library "
                                                                "versions"]
    assert not slow.fast_path
    # 8 pieces: each letter, its form and (issue 19) its sheet of 資格確認書 cards
    assert slow.full_layout == {"fast path off": 24}
    assert any("24 letters and forms laid out in full" in r.getMessage() for r in caplog.records)
    gates.fast_path.cache_clear()
    gates.TESTED["weasyprint"] = (gates.installed("weasyprint"),)
    fast = merge(ROSTER, options=_options(tmp_path / "fast"))
    assert fast.fast_path
    # The same pieces and text either way; only the way they were made differs.
    slow_pieces = sorted(p.name for p in (tmp_path / "slow" / "pieces").iterdir())
    assert slow_pieces == sorted(p.name for p in (tmp_path / "fast" / "pieces").iterdir())
    for name in slow_pieces:
        assert _text(tmp_path / "slow" / "pieces" / name) == \
            _text(tmp_path / "fast" / "pieces" / name)


def test_strict_refuses_untested_versions_before_writing(
        tmp_path: Path, untested_weasyprint: None) -> None:
    with pytest.raises(KenpoDocsError, match="fast path off"):
        merge(ROSTER, options=_options(tmp_path / "m", strict=True))
    assert not (tmp_path / "m").exists()
    result = CliRunner().invoke(cli, ["merge", str(ROSTER), "--letter", "kakuninsho",
                                      "--as-of", "2026-12-01", "--out", str(tmp_path / "c"),
                                      "--db", str(tmp_path / "t.sqlite"), "--strict"])
    assert result.exit_code == 2
    assert "fast path off" in result.stderr and "--strict" in result.stderr
    assert not (tmp_path / "c").exists()
