"""The cross-reference stream's rows (pdf/structure.xref_rows) against rows written one by
one as PDF 2.0's table 18 describes them (``/W[1 5 2]``: type, field 2 big-endian in 5
bytes, field 3 in 2 bytes), and the PNG "Up" predictor they are written through against
its definition (PDF 2.0 7.4.4.4), undone by pikepdf on a written file."""

from __future__ import annotations

import random
from array import array

import pikepdf
import pytest

from kenpo_docs.pdf.structure import up_predicted, xref_rows


def _by_the_table(offsets: list[int], runs: list[tuple[int, int, int, int]]) -> bytes:
    inside = {}
    for first, count, stream, index in runs:
        for i in range(count):
            inside[first + i] = (stream, index + i)
    rows = [bytes([0, 0, 0, 0, 0, 0, 0xFF, 0xFF])]  # object 0: the head of the free list
    for num in range(1, len(offsets)):
        if num in inside:
            stream, index = inside[num]
            rows.append(bytes([2]) + stream.to_bytes(5, "big") + index.to_bytes(2, "big"))
        else:
            rows.append(bytes([1]) + offsets[num].to_bytes(5, "big") + bytes(2))
    return b"".join(rows)


def _random_table(seed: int) -> tuple[list[int], list[tuple[int, int, int, int]]]:
    rng = random.Random(seed)
    n = rng.randrange(2, 3000)
    offsets = [0] + [rng.randrange(0, 1 << 40) for _ in range(n - 1)]
    runs = []
    at = 1
    while at < n - 1 and len(runs) < 40:
        first = rng.randrange(at, n)
        count = rng.randrange(0, min(400, n - first) + 1)
        runs.append((first, count, rng.randrange(1, n), rng.randrange(0, 0xFFFF - count)))
        at = first + count
    return offsets, runs


@pytest.mark.parametrize("seed", range(5))
def test_rows_are_the_table_s(seed: int) -> None:
    offsets, runs = _random_table(seed)
    assert xref_rows(array("q", offsets), runs) == _by_the_table(offsets, runs)


def test_an_offset_past_five_bytes_is_refused() -> None:
    with pytest.raises(OverflowError):
        xref_rows(array("q", [0, 1 << 40]), [])


def _up_by_the_definition(rows: bytes, columns: int) -> bytes:
    out = bytearray()
    above = bytes(columns)
    for r in range(0, len(rows), columns):
        row = rows[r:r + columns]
        out.append(2)
        out += bytes((a - b) % 256 for a, b in zip(row, above, strict=True))
        above = row
    return bytes(out)


@pytest.mark.parametrize("seed", range(5))
def test_the_up_predictor_is_its_definition(seed: int) -> None:
    rng = random.Random(seed)
    rows = bytes(rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
                 for _ in range(8 * rng.randrange(1, 500)))
    assert up_predicted(rows) == _up_by_the_definition(rows, 8)
    assert up_predicted(b"") == b""


def test_a_reader_undoes_the_predictor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a file written with a cross-reference stream: its objects are where the rows say
    from kenpo_docs.pdf.stream import PdfStreamWriter
    from kenpo_docs.pdf.tagtree import Node, Tagged, compile_tags

    path = tmp_path / "x.pdf"
    with PdfStreamWriter(path) as writer:
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

        for n in range(30):
            page = DictionaryObject({NameObject("/Type"): NameObject("/Page"),
                                     NameObject("/MediaBox"): ArrayObject(
                                         [NumberObject(0), NumberObject(0),
                                          NumberObject(100), NumberObject(100 + n)]),
                                     NameObject("/Resources"): DictionaryObject()})
            writer.add_page(page, tags=Tagged(compile_tags([Node("P", [0])])))
        writer.close()
    assert b"/DecodeParms<</Predictor 12/Columns 8>>" in path.read_bytes()
    # (no recovery: a wrong row is an error, not a file qpdf reconstructs by scanning)
    with pikepdf.open(path, attempt_recovery=False) as pdf:
        assert [int(p.MediaBox[3]) for p in pdf.pages] == [100 + n for n in range(30)]
        assert len(pdf.Root.StructTreeRoot.K.K) == 30
        assert not pdf.get_warnings()
