"""Workbooks broken in any part (XML, zip data, the zip itself): a roster or one line.

The named cases are in the bad-roster corpus (``tests/data/bad/make_bad.py``), which
``tests/test_hardening_input.py`` runs through ``check`` and ``merge``; here Hypothesis damages
the parts and the zip at random: every result is a roster or a one-line ``RosterError``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kenpo_docs.errors import RosterError
from kenpo_docs.input.roster import read_roster

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
import make_bad  # noqa: E402

_PARTS = make_bad.excel_parts([make_bad.row(1), make_bad.row(2)])
_GOOD = make_bad.zip_parts(_PARTS)


def _roster_or_roster_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.xlsx"
        path.write_bytes(data)
        try:
            read_roster(path, as_of=date(2026, 12, 1))
        except RosterError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_PARTS)), st.floats(0, 1), st.binary(max_size=12),
       st.integers(0, 12))
def test_fuzz_a_damaged_part_gives_a_roster_or_one_line(
    part: str, where: float, junk: bytes, cut: int
) -> None:
    """Any part with bytes replaced, inserted or cut out: a roster or a RosterError."""
    data = _PARTS[part]
    at = int(where * len(data))
    damaged = data[:at] + junk + data[at + cut:]
    _roster_or_roster_error(make_bad.zip_parts({**_PARTS, part: damaged}))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_GOOD)), st.binary(min_size=1, max_size=4))
def test_fuzz_damaged_zip_bytes_give_a_roster_or_one_line(at: int, junk: bytes) -> None:
    _roster_or_roster_error(_GOOD[:at] + junk + _GOOD[at + len(junk):])
