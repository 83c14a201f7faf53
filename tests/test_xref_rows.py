"""The cross-reference stream's rows (pdf/structure.xref_rows) against rows written one by
one as PDF 2.0's table 18 describes them (``/W[1 5 2]``: type, field 2 big-endian in 5
bytes, field 3 in 2 bytes)."""

from __future__ import annotations

import random
from array import array

import pytest

from kenpo_docs.pdf.structure import xref_rows


def _by_the_table(offsets: list[int], packed: dict[int, tuple[int, int]],
                  runs: list[tuple[int, int, int]]) -> bytes:
    inside = dict(packed)
    for first, count, stream in runs:
        for i in range(count):
            inside[first + i] = (stream, i)
    rows = [bytes([0, 0, 0, 0, 0, 0, 0xFF, 0xFF])]  # object 0: the head of the free list
    for num in range(1, len(offsets)):
        if num in inside:
            stream, index = inside[num]
            rows.append(bytes([2]) + stream.to_bytes(5, "big") + index.to_bytes(2, "big"))
        else:
            rows.append(bytes([1]) + offsets[num].to_bytes(5, "big") + bytes(2))
    return b"".join(rows)


@pytest.mark.parametrize("seed", range(5))
def test_rows_are_the_table_s(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(2, 3000)
    offsets = [0] + [rng.randrange(0, 1 << 40) for _ in range(n - 1)]
    packed = {rng.randrange(1, n): (rng.randrange(1, n), rng.randrange(0, 0x10000))
              for _ in range(rng.randrange(0, 50))}
    runs = []
    at = 1
    while at < n - 1 and len(runs) < 40:
        first = rng.randrange(at, n)
        count = rng.randrange(0, min(400, n - first) + 1)
        runs.append((first, count, rng.randrange(1, n)))
        at = first + count
    # an object in a run and in ``packed`` too: the run's entry wins, as in the writer
    assert xref_rows(array("q", offsets), packed, runs) == _by_the_table(offsets, packed, runs)


def test_an_offset_past_five_bytes_is_refused() -> None:
    with pytest.raises(OverflowError):
        xref_rows(array("q", [0, 1 << 40]), {}, [])
