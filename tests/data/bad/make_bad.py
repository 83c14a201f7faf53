"""The bad-roster corpus: every way a roster arrives broken or hostile.

Small text cases are committed beside this script (run ``python tests/data/bad/make_bad.py``
to rewrite them); the big and binary ones (200,000 rows, a 1 MB cell, UTF-16, Shift_JIS with
invalid bytes, mixed line endings, control characters, workbooks, a password-protected
workbook, workbooks with broken XML or a broken zip, zip bombs) are made at test time by
:func:`make_generated`, so the repository holds no megabytes of rows. Every file is built
from :data:`HEADER` and :func:`row`: a valid 一般 insured person with a 資格確認書 issue date,
changed in exactly one way per case.
"""

from __future__ import annotations

import csv
import io
import struct
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = ["記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "資格喪失日",
          "加入区分", "資格確認書交付日", "郵便番号", "住所1", "住所2", "就労先コード", "就労先名",
          "マイナ保険証", "マイナンバーカード", "スマートフォン"]
# Known-valid My Numbers from independent implementations (see tests/test_hardening_input.py).
MY_NUMBER = "4652-8126-6333"


def row(number: int, **over: str) -> list[str]:
    base = {"記号": "30", "番号": str(number), "枝番": "00", "氏名": f"試験 太郎{number}",
            "フリガナ": "シケン タロウ", "生年月日": "1970-04-01", "資格取得日": "2010-04-01",
            "加入区分": "一般", "資格確認書交付日": "2024-12-02", "郵便番号": "100-0013",
            "住所1": "東京都千代田区霞が関1丁目3番2号", "就労先コード": "W01",
            "就労先名": "本部"}
    base.update(over)
    return [base.get(h, "") for h in HEADER]


def csv_text(rows: list[list[str]], header: list[str] = HEADER, newline: str = "\r\n") -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def small_cases() -> dict[str, bytes]:
    """name -> bytes of the committed cases."""
    good = csv_text([row(1)])
    typo = HEADER.copy()
    typo[5] = "生年月目"
    missing = [h for h in HEADER if h != "住所1"]
    extra = [*HEADER, "備考"]
    return {
        "empty.csv": b"",
        "header_only.csv": csv_text([]).encode(),
        # cut inside a quoted address: the rest of the file would vanish into one cell
        "truncated_quote.csv": (good + '30,2,00,試験 次郎,,1970-04-01,2010-04-01,,一般,'
                                '2024-12-02,100-0013,"東京都千代田').encode(),
        # cut in the middle of a row (no quote open): that row lacks its required cells
        "truncated_row.csv": (good + "30,2,00,試験 次郎,シケン").encode(),
        "header_typo.csv": csv_text([row(1)], header=typo).encode(),
        "missing_column.csv": csv_text([[c for h, c in zip(HEADER, row(1), strict=True)
                                         if h != "住所1"]], header=missing).encode(),
        "extra_columns.csv": csv_text([[*row(1), "メモ"], [*row(2), "", "見出しのない値"]],
                                      header=extra).encode(),
        "short_row.csv": csv_text([row(1), row(2)[:6]]).encode(),
        "fullwidth_digits.csv": csv_text([
            row(1, 郵便番号="１００－００１３", 生年月日="１９７０－０４－０１",
                資格取得日="令和２年４月１日", 資格確認書交付日="２０２４年１２月２日"),
            row(2, 郵便番号="〒１００００１３", 生年月日="Ｓ４５．４．１"),
        ]).encode(),
        "invisible_characters.csv": csv_text([
            row(1, 氏名="試験\u200b 太郎"),             # zero-width space: removed, warned
            row(2, 氏名="カ\u3099ク 太郎"),             # カ + combining dakuten: NFC -> ガ
            row(3, 住所1="\u0301東京都千代田区霞が関1"),   # starts with a combining mark
            row(4, 住所2="\u202e3号室"),                 # right-to-left override
        ]).encode(),
        "bad_date.csv": csv_text([row(1), row(2, 生年月日="昭和45年2月30日")]).encode(),
        "my_number_column.csv": csv_text([[*row(1), "1234"]],
                                         header=[*HEADER, "個人番号"]).encode(),
        "my_number_values.csv": csv_text([[*row(1), MY_NUMBER], [*row(2), "621498320257"]],
                                         header=[*HEADER, "備考"]).encode(),
        "my_number_in_field.csv": csv_text([row(1), row(2, 住所2=f"番号{MY_NUMBER}")]).encode(),
    }


def make_generated(folder: Path, *, big_rows: int = 200_000) -> dict[str, Path]:
    """Write the big and binary cases into ``folder``; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        out[name] = folder / name
        out[name].write_bytes(data)

    good = csv_text([row(1), row(2)])
    put("utf16.csv", good.encode("utf-16"))
    # Shift_JIS text with bytes that are no character in CP932 (0x85 0x40 is unassigned,
    # 0xFD..0xFF are not lead bytes) in a name.
    sjis = good.encode("cp932").replace("試験 太郎2".encode("cp932"), b"\x85\x40\xfd\xfe\xff")
    put("shift_jis_invalid.csv", sjis)
    put("mixed_line_endings.csv", (csv_text([row(1)], newline="\n")
                                   + csv_text([row(2)], newline="\r")[len(",".join(HEADER)) + 1:]
                                   + csv_text([row(3)], newline="\r\n")
                                   [len(",".join(HEADER)) + 2:]).encode())
    put("control_characters.csv", csv_text([row(1), row(2, 氏名="試験\x07太郎")]).encode())
    put("huge_cell.csv", csv_text([row(1), row(2, 住所2="あ" * 1_000_000)]).encode())
    lines = [csv_text([])]
    lines += [",".join(row(i)) + "\r\n" for i in range(1, big_rows + 1)]
    put("rows_200k.csv", "".join(lines).encode("cp932"))
    put("book.xlsx", _workbook())
    put("encrypted.xlsx", _encrypted(_workbook()))
    for name, data in broken_workbooks().items():
        put(name, data)
    make_bomb(folder / "bomb_shared_strings.xlsx")
    out["bomb_shared_strings.xlsx"] = folder / "bomb_shared_strings.xlsx"
    return out


# --------------------------------------------------------------------------------- workbooks
# Written part by part, as Excel writes them (shared strings, not openpyxl's inline strings),
# so that each part can be broken on its own.

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"


def excel_parts(rows: list[list[str]], header: list[str] = HEADER) -> dict[str, bytes]:
    """The parts of a one-sheet workbook (sheet 名簿) holding ``header`` and ``rows``."""
    strings: dict[str, int] = {}
    sheet_rows = []
    for r, cells in enumerate([header, *rows], start=1):
        xml_cells = []
        for c, value in enumerate(cells):
            if value == "":
                continue
            index = strings.setdefault(value, len(strings))
            ref = f"{chr(ord('A') + c)}{r}" if c < 26 else f"A{chr(ord('A') + c - 26)}{r}"
            xml_cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(xml_cells)}</row>')
    sst = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/{SHEET}" ContentType="{_CT}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
            f'<Override PartName="/{SHARED_STRINGS}" ContentType="{_CT}.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            '<sheet name="名簿" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/>'
            '<name val="游ゴシック"/></font></fonts><fills count="1"><fill>'
            '<patternFill patternType="none"/></fill></fills><borders count="1"><border/>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" '
            'fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>'),
        SHARED_STRINGS: (f'<sst xmlns="{_MAIN}" count="{len(strings)}" '
                         f'uniqueCount="{len(strings)}">{sst}</sst>'),
        SHEET: f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(sheet_rows)}</sheetData>'
               "</worksheet>",
    }
    return {name: (_HEAD + text).encode() for name, text in parts.items()}


def zip_parts(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buf.getvalue()


def excel_workbook(rows: list[list[str]]) -> bytes:
    return zip_parts(excel_parts(rows))


# Which part of a workbook is broken, and how the file is named in the corpus.
BROKEN_PARTS = {
    "[Content_Types].xml": "xlsx_bad_content_types.xlsx",
    "xl/workbook.xml": "xlsx_bad_workbook.xlsx",
    "xl/_rels/workbook.xml.rels": "xlsx_bad_workbook_rels.xlsx",
    "xl/styles.xml": "xlsx_bad_styles.xlsx",
    SHARED_STRINGS: "xlsx_bad_shared_strings.xlsx",
    SHEET: "xlsx_bad_sheet.xlsx",
}


def broken_workbooks() -> dict[str, bytes]:
    """name -> bytes of workbooks broken in one way each, and ``xlsx_good.xlsx`` they come from."""
    rows = [row(1), row(2)]
    parts = excel_parts(rows)
    good = zip_parts(parts)
    cases = {"xlsx_good.xlsx": good}
    for part, name in BROKEN_PARTS.items():
        # cut in the middle of the part: an unclosed tag, as a half-written file has
        cases[name] = zip_parts({**parts, part: parts[part][: len(parts[part]) // 2]})
    # a saved file cut short (a copy that stopped half way): no zip directory at its end
    cases["xlsx_truncated.xlsx"] = good[: len(good) * 2 // 3]
    # a zip, but not a workbook (e.g. a folder zipped and renamed)
    cases["xlsx_not_a_workbook.xlsx"] = zip_parts({"名簿/roster.csv": csv_text(rows).encode()})
    # the workbook names a sheet that is not in the file
    cases["xlsx_missing_sheet.xlsx"] = zip_parts({k: v for k, v in parts.items() if k != SHEET})
    # one member's compressed bytes damaged: the CRC check at its end fails
    cases["xlsx_bad_crc.xlsx"] = _damaged(good, SHARED_STRINGS)
    # entity expansion ("billion laughs") in the shared strings
    laughs = ('<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                        for i in range(8))
              + f']><sst xmlns="{_MAIN}"><si><t>&i;</t></si></sst>')
    cases["xlsx_entities.xlsx"] = zip_parts({**parts, SHARED_STRINGS: (_HEAD + laughs).encode()})
    return cases


def _damaged(data: bytes, member: str) -> bytes:
    """``data`` with one byte of ``member``'s compressed bytes changed."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    at = start + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:]


def make_bomb(path: Path, *, size: int = 300 * 1024 * 1024) -> Path:
    """A workbook with a few rows whose shared strings hold ``size`` bytes of "A" in one more,
    unused string: a ~300 KB file that expands to 300 MB. Written in streamed chunks, so
    making it takes well under a second and little memory."""
    parts = excel_parts([row(1), row(2)])
    sst = parts[SHARED_STRINGS]
    head, tail = sst[: sst.rindex(b"</sst>")], b"</t></si></sst>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            if name != SHARED_STRINGS:
                archive.writestr(name, data)
        with archive.open(SHARED_STRINGS, "w") as fh:
            fh.write(head + b"<si><t>")
            chunk = b"A" * (1 << 20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
            fh.write(tail)
    return path


def _workbook() -> bytes:
    """Three sheets: 名簿 (merged cells, formulas with and without a saved result),
    別シート (a clean roster of other people), メモ (not a roster)."""
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "名簿"
    ws.append(HEADER)
    ws.append(row(1))
    ws.append(row(2))  # 氏名 becomes a formula with a saved result (patched below)
    ws.append(row(3))  # 氏名 becomes a formula without a saved result
    ws.append(row(4))
    ws.append(row(5))
    ws["D3"] = '="試験 "&"花子"'
    ws["D4"] = '="試験 "&"次郎"'
    ws.merge_cells("O5:O6")  # 就労先名 of rows 5 and 6 merged: row 6 has no value of its own
    other = book.create_sheet("別シート")
    other.append(HEADER)
    other.append(row(11))
    other.append(row(12))
    memo = book.create_sheet("メモ")
    memo["A1"] = "作業メモ"
    buf = io.BytesIO()
    book.save(buf)
    return _with_cached_value(buf.getvalue(), "D3", "試験 花子")


def _with_cached_value(data: bytes, ref: str, value: str) -> bytes:
    """Give one formula cell the saved result Excel would have written (openpyxl writes none)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                start = text.index(f'<c r="{ref}"')
                end = text.index("</c>", start)
                cell = text[start:end]
                formula = cell[cell.index("<f>"):cell.index("</f>") + 4]
                text = (text[:start] + f'<c r="{ref}" t="str">{formula}<v>{value}</v>'
                        + text[end:])
                content = text.encode()
            dst.writestr(item, content)
    return buf.getvalue()


def _encrypted(data: bytes) -> bytes:
    """The workbook encrypted the way Excel does ("Encrypt with Password", agile AES)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("kenpo-test", out)
    return out.getvalue()


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for name, data in small_cases().items():
        (here / name).write_bytes(data)
        print(here / name, file=sys.stderr)
