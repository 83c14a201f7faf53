"""Zip bombs and lying zip directories: an .xlsx is bounded before anything is decompressed.

The bounds are the module constants of :mod:`kenpo_docs.input.tables` (total uncompressed size,
per-member compression ratio, size of the zip's central directory). The zip directory is what
decides: Python's zipfile never returns more bytes for a member than its directory entry
declares (``ZipExtFile._read1`` cuts the output at ``file_size``, and the CRC check at the end
turns a longer stream into ``BadZipFile``); ``test_zipfile_never_yields_more_than_declared``
pins that, so the bounds cannot be got round by a directory that lies.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenpo_docs.cli import cli
from kenpo_docs.errors import RosterError
from kenpo_docs.input import tables
from kenpo_docs.input.roster import read_roster

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
import make_bad  # noqa: E402

AS_OF = "2026-12-01"

# Runs a command and reports its exit code, output and peak RSS (KiB) as JSON: the peak of
# this fresh process's only child, not of whatever the test process ran before.
_PROBE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"code": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                  "seconds": time.monotonic() - started,
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _measured(*args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, sys.executable, "-m", "kenpo_docs",
                           *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_bomb_is_refused_quickly_with_bounded_memory(tmp_path: Path) -> None:
    started = time.monotonic()
    bomb = make_bad.make_bomb(tmp_path / "bomb.xlsx")  # 300 MB of shared strings
    made = time.monotonic() - started
    assert bomb.stat().st_size < 2_000_000 and made < 10
    result = _measured("check", str(bomb), "--as-of", AS_OF)
    print(f"bomb: {bomb.stat().st_size} bytes, made in {made:.1f} s; refused in "
          f"{result['seconds']:.2f} s, peak RSS {int(result['peak_kib']) // 1024} MiB")  # type: ignore[call-overload]
    assert result["code"] == 2
    stderr = str(result["stderr"])
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert "xl/sharedStrings.xml" in stderr and "over the 100:1 limit" in stderr
    assert float(result["seconds"]) < 10  # type: ignore[arg-type]
    # reading it in full took 681 MiB (2.1 GiB for a 1 GB bomb); refusing takes what the
    # program needs to start
    assert int(result["peak_kib"]) < 300 * 1024  # type: ignore[call-overload]

    out = tmp_path / "out"
    merged = CliRunner().invoke(cli, ["merge", str(bomb), "--letter", "kakuninsho", "--as-of",
                                      AS_OF, "--out", str(out), "--workers", "1",
                                      "--db", str(tmp_path / "t.sqlite")])
    assert merged.exit_code == 2 and "over the 100:1 limit" in merged.output
    assert not out.exists() or not any(out.iterdir())


def test_normal_workbooks_still_read(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(make_bad.excel_workbook([make_bad.row(1), make_bad.row(2)]))
    roster = read_roster(good, as_of=date(2026, 12, 1))
    assert [m.name for m in roster.members] == ["試験 太郎1", "試験 太郎2"]
    sample = read_roster(ROOT / "samples" / "roster.xlsx", as_of=date(2026, 12, 1))
    assert sample.row_count == 40


def _refused(path: Path) -> str:
    with pytest.raises(RosterError) as info:
        read_roster(path, as_of=date(2026, 12, 1))
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def test_total_uncompressed_size_is_bounded(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(make_bad.excel_workbook([make_bad.row(1)]))
    total = sum(i.file_size for i in zipfile.ZipFile(good).infolist())
    monkeypatch.setattr(tables, "MAX_XLSX_UNCOMPRESSED", total - 1)
    assert "over the limit" in _refused(good)
    monkeypatch.setattr(tables, "MAX_XLSX_UNCOMPRESSED", total)
    assert len(read_roster(good, as_of=date(2026, 12, 1)).members) == 1


def test_overlapping_entries_count_every_time(tmp_path: Path) -> None:
    """The "better zip bomb" (Fifield, 2019): many directory entries over one compressed
    stream, each with a harmless ratio. Their declared sizes add up, so the total refuses it."""
    payload = "".join(f"{i:07d}," for i in range(250_000)).encode()  # 2 MB, ratio about 4:1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in make_bad.excel_parts([make_bad.row(1)]).items():
            archive.writestr(name, data)
        archive.writestr("xl/media/x0000.bin", payload)
    data = _with_copies(buf.getvalue(), "xl/media/x0000.bin", copies=200)
    path = tmp_path / "overlap.xlsx"
    path.write_bytes(data)
    infos = zipfile.ZipFile(path).infolist()
    assert len(infos) > 200 and sum(i.file_size for i in infos) > 400_000_000
    assert path.stat().st_size < 3_000_000
    message = _refused(path)
    assert "over the limit" in message and "MB" in message


def _with_copies(data: bytes, member: str, *, copies: int) -> bytes:
    """``data`` with ``copies`` more central directory entries pointing at ``member``'s data."""
    end = data.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack_from("<HII", data, end + 10)
    directory = data[cd_offset:cd_offset + cd_size]
    at = directory.index(member.encode()) - 46
    name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, at + 28)
    entry = directory[at:at + 46 + name_len + extra_len + comment_len]
    extra = b"".join(entry[:46] + f"xl/media/x{i:04d}.bin".encode()
                     + entry[46 + name_len:] for i in range(1, copies + 1))
    record = bytearray(data[end:])
    struct.pack_into("<HHII", record, 8, count + copies, count + copies,
                     cd_size + len(extra), cd_offset)
    return data[:cd_offset] + directory + extra + bytes(record)


def test_a_flood_of_entries_is_refused_before_the_directory_is_read(tmp_path: Path) -> None:
    path = tmp_path / "flood.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in make_bad.excel_parts([make_bad.row(1)]).items():
            archive.writestr(name, data)
        for i in range(40_000):
            archive.writestr(f"x/{i}", b"")
    started = time.monotonic()
    message = _refused(path)
    assert time.monotonic() - started < 1
    assert "zip directory" in message


def _lying(real: bytes, declared: int) -> bytes:
    """A zip whose one member really inflates to ``real`` but is declared ``declared`` bytes
    long (directory and local header), below every bound."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", real)
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, 22, declared)  # local header: uncompressed size
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # central directory: same
    return bytes(data)


def test_zipfile_never_yields_more_than_declared() -> None:
    """What makes the zip directory trustworthy: CPython's ``ZipExtFile._read1`` ends with
    ``data = data[:self._left]`` (``_left`` starts at the directory's ``file_size``) and
    ``_update_crc`` raises ``BadZipFile`` when the CRC does not match at that end."""
    real = b"<x>" + b"A" * 50_000_000 + b"</x>"
    archive = zipfile.ZipFile(io.BytesIO(_lying(real, 1000)))
    got = 0
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        with archive.open("xl/worksheets/sheet1.xml") as fh:
            while chunk := fh.read(65536):
                got += len(chunk)
    assert got <= 1000


def test_a_lying_directory_gives_a_damaged_member_not_a_big_read(tmp_path: Path) -> None:
    parts = make_bad.excel_parts([make_bad.row(1)])
    sheet = parts.pop("xl/worksheets/sheet1.xml")
    lie = _lying(sheet[:-len(b"</worksheet>")] + b" " * 50_000_000 + b"</worksheet>",
                 len(sheet))
    # the lying member first, then the other parts of the workbook
    buf = io.BytesIO(lie)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path = tmp_path / "lie.xlsx"
    path.write_bytes(buf.getvalue())
    message = _refused(path)
    assert "damaged data in xl/worksheets/sheet1.xml" in message

