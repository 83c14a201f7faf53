"""Write the sample rosters: samples/roster.csv (CP932) and samples/roster.xlsx (same people).

Deterministic: running it twice gives the same bytes (fixed workbook timestamps, zip entries
re-packed with a fixed date). Run from anywhere: ``.venv/bin/python samples/make_samples.py``.

Everyone is fictional; postal codes and town names are real (the first five are the examples
of Japan Post's customer-barcode manual) so the barcode code can be tried on them. The dates are
written as a clerk might: ISO, 和暦, R-abbreviated, slashes. In the xlsx, ISO dates become real
date cells, other forms stay text; postal codes and 枝番 of some households are numeric cells
that lost their leading zeros (see ``NUMERIC_POSTAL`` and ``NUMERIC_BRANCH``).

The deliberately bad rows are listed in samples/README.md.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER = [
    "記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "資格喪失日", "加入区分",
    "資格確認書交付日", "郵便番号", "住所1", "住所2", "就労先コード", "就労先名",
    "マイナ保険証", "マイナンバーカード", "スマートフォン",
    "備考",  # not a roster column: ignored with a warning
    "性別", "負担割合", "発効期日",  # the cards' items (docs/cards.md)
]

WORKPLACES = {
    "1001": "本部",
    "2001": "千葉事務センター",
    "3001": "秋田事務所",
    "4001": "札幌事務所",
    "5001": "大阪事務所",
}

# Household address: (郵便番号 as typed, 住所1, 住所2)
ADDRESSES = {
    "0012-000101": ("100-0013", "東京都千代田区霞が関1丁目3番2号", "郵便プラザ503室"),
    "0012-000102": ("110-0016", "東京都台東区台東5-6-3", "ABCビル10F"),
    "0034-000201": ("２６３－００２３", "千葉県千葉市稲毛区緑町3丁目30-8", "郵便ビル403号"),
    "0034-000202": ("273-0102", "千葉県鎌ケ谷市右京塚 東3丁目-20-5", ""),
    "0056-000301": ("014-0113", "秋田県大仙市堀見内 南田茂木 添60-1", ""),
    "0012-000103": ("1600023", "東京都新宿区西新宿2丁目8-1", ""),
    "0078-000401": ("060-0001", "北海道札幌市中央区北一条西2丁目", ""),
    "0078-000402": ("064-0941", "北海道札幌市中央区旭ケ丘5丁目6-51", ""),
    "0034-000203": ("980-0021", "宮城県仙台市青葉区中央1丁目1-1", ""),
    "0012-000104": ("260-0013", "千葉県千葉市中央区中央4丁目5-1", ""),
    "0012-000105": ("330-0063", "埼玉県さいたま市浦和区高砂3丁目15-1", ""),
    "0056-000302": ("030-0801", "青森県青森市新町1丁目3-7", ""),
    "0090-000501": ("530-0001", "大阪府大阪市北区梅田3丁目2-2", "JPタワー大阪"),
    "0090-000502": ("220-0012", "神奈川県横浜市西区みなとみらい2丁目2-1", ""),
    "0034-000204": ("", "東京都千代田区麹町1丁目1", ""),  # BAD: no postal code
}

# Households whose xlsx cells are numbers: postal code (leading zero lost where it had one)
# and 枝番 (00 -> 0, 01 -> 1, ...).
NUMERIC_POSTAL = {"0012-000101", "0056-000301", "0078-000401", "0078-000402", "0056-000302"}
NUMERIC_BRANCH = {"0056-000301", "0078-000402"}

# (記号, 番号, 枝番 as typed, 氏名, フリガナ, 生年月日, 資格取得日, 資格喪失日, 加入区分,
#  資格確認書交付日, 就労先コード, マイナ保険証, マイナンバーカード, スマートフォン, 備考)
# Address and 就労先名 come from the household (00 rows only). 加入区分 is left empty on
# dependents: they inherit it.
S = "一般"
V = "任意継続"
PEOPLE: list[tuple[str, ...]] = [
    # 1: three members with three different 資格確認書交付日 (1st-period start and end, 2nd start)
    ("0012", "000101", "00", "髙橋 一郎", "タカハシ イチロウ", "昭和45年4月1日", "2010-04-01", "",
     S,
     "2024-12-02", "1001", "有", "有", "有", ""),
    ("0012", "000101", "01", "髙橋 花子", "タカハシ ハナコ", "1972-05-05", "2010-04-01", "", "",
     "2025-11-30", "", "無", "有", "無", ""),
    ("0012", "000101", "02", "髙橋 健太", "タカハシ ケンタ", "2005-08-20", "2010-04-01", "", "",
     "2025-12-01", "", "", "", "", ""),
    # 2: 2nd-period end and 3rd (continuation) period start; acquired on the card boundaries
    ("0012", "000102", "00", "山﨑 誠", "ヤマザキ マコト", "1980-11-03", "令和6年12月1日", "", S,
     "2026-11-30", "1001", "登録済", "有", "有", ""),
    ("0012", "000102", "01", "山﨑 由美", "ヤマザキ ユミ", "1982/02/14", "R6.12.2", "", "",
     "2026-12-01", "", "未登録", "有", "有", ""),
    # 3: 任意継続 (home); insured turns 70 on 2027-01-01 (born on the 1st: 高齢受給者証 2026-12)
    ("0034", "000201", "00", "渡邉 大輔", "ワタナベ ダイスケ", "昭和32年1月1日", "2025-04-01", "",
     V,
     "令和7年4月1日", "", "無", "無", "無", "任継"),
    ("0034", "000201", "01", "渡邉 幸子", "ワタナベ サチコ", "1959-06-10", "2025-04-01", "", "",
     "R7.4.1", "", "", "", "", ""),
    # 4: 任意継続; insured turns 70 on 2026-12-15 (the notice's own example, 1956-12-15)
    ("0034", "000202", "00", "佐藤 和子", "サトウ カズコ", "1956-12-15", "2024-12-02", "", V,
     "2024-12-02", "", "no", "no", "yes", ""),
    ("0034", "000202", "01", "佐藤 浩", "サトウ ヒロシ", "昭和30年3月3日", "2024-12-02", "", "",
     "2024-12-02", "", "", "", "", ""),
    # 5: three dependents; half-width kana on the insured (NFKC makes it full-width)
    ("0056", "000301", "00", "鈴木 正人", "ｽｽﾞｷ ﾏｻﾄ", "1975-01-20", "2000-04-01", "", S,
     "", "3001", "1", "1", "1", ""),
    ("0056", "000301", "01", "鈴木 恵子", "スズキ ケイコ", "1977-09-30", "2003-06-01", "", "",
     "", "", "0", "1", "0", ""),
    ("0056", "000301", "02", "鈴木 翔", "スズキ ショウ", "2008-03-12", "2008-03-12", "", "",
     "", "", "", "", "", ""),
    ("0056", "000301", "03", "鈴木 葵", "スズキ アオイ", "平成24年7月7日", "平成24年7月7日", "", "",
     "", "", "", "", "", ""),
    # 6
    ("0012", "000103", "00", "田中 美咲", "タナカ ミサキ", "1990-07-07", "2015-04-01", "", S,
     "2025-06-16", "1001", "有", "有", "有", ""),
    ("0012", "000103", "01", "田中 陽太", "タナカ ヨウタ", "2024-12-20", "2024-12-20", "", "",
     "2025-01-10", "", "無", "無", "無", "新生児"),
    # 7
    ("0078", "000401", "00", "伊藤 直樹", "イトウ ナオキ", "1985-04-18", "2012-10-01", "", S,
     "", "4001", "", "", "", ""),
    ("0078", "000401", "01", "伊藤 真由美", "イトウ マユミ", "1986-12-24", "2014-05-01", "", "",
     "", "", "", "", "", ""),
    # 8: 枝番 typed without the leading zero, as a CSV saved by Excel has it
    ("0078", "000402", "00", "渡辺 聡", "ワタナベ サトシ", "1970-02-28", "1995-04-01", "", S,
     "", "4001", "有", "有", "無", ""),
    ("0078", "000402", "1", "渡辺 明美", "ワタナベ アケミ", "1972-08-08", "1998-06-01", "", "",
     "", "", "", "", "", ""),
    ("0078", "000402", "2", "渡辺 大和", "ワタナベ ヤマト", "2001-05-05", "2001-05-05", "", "",
     "", "", "", "", "", ""),
    # 9: 任意継続
    ("0034", "000203", "00", "小林 修", "コバヤシ オサム", "1960-09-09", "2025-10-01", "", V,
     "2025-10-01", "", "無", "無", "有", ""),
    ("0034", "000203", "01", "小林 久美子", "コバヤシ クミコ", "1962-11-11", "2025-10-01", "", "",
     "2025-10-01", "", "無", "無", "有", ""),
    # 10
    ("0012", "000104", "00", "加藤 拓也", "カトウ タクヤ", "1988-06-01", "2011-04-01", "", S,
     "", "2001", "", "", "", ""),
    ("0012", "000104", "01", "加藤 さくら", "カトウ サクラ", "1990-03-25", "2016-11-01", "", "",
     "", "", "", "", "", ""),
    ("0012", "000104", "02", "加藤 蓮", "カトウ レン", "2019-05-01", "2019-05-01", "", "",
     "", "", "", "", "", ""),
    # 11: a dependent removed on 2026-04-01: no documents as of 2026-12-01
    ("0012", "000105", "00", "吉田 健一", "ヨシダ ケンイチ", "1968-10-10", "1991-04-01", "", S,
     "", "2001", "有", "有", "有", ""),
    ("0012", "000105", "01", "吉田 里美", "ヨシダ サトミ", "1969-01-31", "1994-02-01", "", "",
     "", "", "", "", "", ""),
    ("0012", "000105", "02", "吉田 陸", "ヨシダ リク", "2000-12-12", "2000-12-12", "2026-04-01",
     "", "", "", "", "", "", "就職により削除"),
    # 12: a dependent whose coverage ends after the as-of date: still gets documents
    ("0056", "000302", "00", "山本 洋子", "ヤマモト ヨウコ", "1979-04-04", "2002-04-01", "", S,
     "", "3001", "", "", "", ""),
    ("0056", "000302", "01", "山本 隆", "ヤマモト タカシ", "1978-07-21", "2010-01-01", "2027-03-31",
     "", "", "", "", "", "", ""),
    # 13
    ("0090", "000501", "00", "中村 光", "ナカムラ ヒカル", "1995-02-02", "2018-04-01", "", S,
     "2026-01-15", "5001", "有", "有", "有", ""),
    ("0090", "000501", "01", "中村 彩", "ナカムラ アヤ", "1996-10-20", "2022-06-01", "", "",
     "2026-01-15", "", "", "", "", ""),
    # 14: 任意継続
    ("0090", "000502", "00", "松本 勝", "マツモト マサル", "1962-03-03", "2026-04-01", "", V,
     "2026-04-01", "", "未登録", "有", "無", ""),
    ("0090", "000502", "01", "松本 節子", "マツモト セツコ", "1964-05-15", "2026-04-01", "", "",
     "", "", "", "", "", ""),
    # ---- deliberately bad rows (samples/README.md) ----
    # BAD: 生年月日 that does not exist (令和5年2月30日)
    ("0012", "000104", "03", "加藤 結衣", "カトウ ユイ", "令和5年2月30日", "2023-03-01", "", "",
     "", "", "", "", "", ""),
    # BAD: 資格確認書交付日 before 2024-12-02
    ("0078", "000401", "02", "伊藤 翼", "イトウ ツバサ", "2010-10-10", "2010-10-10", "", "",
     "2024-11-29", "", "", "", "", ""),
    # BAD: duplicate of 0012-000101-01 (row 3)
    ("0012", "000101", "01", "髙橋 花子", "タカハシ ハナコ", "1972-05-05", "2010-04-01", "", "",
     "", "", "", "", "", "重複"),
    # BAD: dependent without an insured person (no 0090-000599-00 row)
    ("0090", "000599", "01", "森 優子", "モリ ユウコ", "1991-09-19", "2021-04-01", "", "",
     "", "", "", "", "", ""),
    # BAD: insured person without 郵便番号; their dependent is rejected with them
    ("0034", "000204", "00", "井上 進", "イノウエ ススム", "1958-08-15", "2026-02-01", "", V,
     "", "", "", "", "", ""),
    ("0034", "000204", "01", "井上 京子", "イノウエ キョウコ", "1960-12-01", "2026-02-01", "", "",
     "", "", "", "", "", ""),
]

# 性別 by name, written as clerks do: 男/女, 男性/女性, and the ISO/IEC 5218 codes 1/2.
SEX = {
    "髙橋 一郎": "男", "髙橋 花子": "女", "髙橋 健太": "1", "山﨑 誠": "男性", "山﨑 由美": "女性",
    "渡邉 大輔": "男", "渡邉 幸子": "女", "佐藤 和子": "2", "佐藤 浩": "男", "鈴木 正人": "男",
    "鈴木 恵子": "女", "鈴木 翔": "男", "鈴木 葵": "女", "田中 美咲": "女", "田中 陽太": "男",
    "伊藤 直樹": "男", "伊藤 真由美": "女", "渡辺 聡": "男", "渡辺 明美": "女", "渡辺 大和": "男",
    "小林 修": "男", "小林 久美子": "女", "加藤 拓也": "男", "加藤 さくら": "女", "加藤 蓮": "男",
    "吉田 健一": "男", "吉田 里美": "女", "吉田 陸": "男", "山本 洋子": "女", "山本 隆": "男",
    "中村 光": "男", "中村 彩": "女", "松本 勝": "男", "松本 節子": "女", "加藤 結衣": "女",
    "伊藤 翼": "男", "森 優子": "女", "井上 進": "男", "井上 京子": "女",
}
# Members 70 and over with their 一部負担金の割合 and 発効期日 (the first of the month after
# the 70th birthday): 佐藤 浩 (born 1955-03-03, 70 on 2025-03-03) and 佐藤 和子 (born
# 1956-12-15: 70 on 2026-12-15, effective 2027-01-01, after the letter date).
COPAY = {"佐藤 浩": ("2割", "R7.4.1"), "佐藤 和子": ("3割", "令和9年1月1日")}

DATE_COLUMNS = ("生年月日", "資格取得日", "資格喪失日", "資格確認書交付日", "発効期日")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)


def rows() -> list[list[str]]:
    """The roster as text cells, header first (what the CSV holds)."""
    out = [list(HEADER)]
    for p in PEOPLE:
        (symbol, number, branch, name, kana, birth, acquired, lost, membership, cert,
         wp_code, myna, card, phone, note) = p
        household = f"{symbol}-{number}"
        insured = branch == "00"
        postal, addr1, addr2 = ADDRESSES[household] if insured else ("", "", "")
        wp_name = WORKPLACES[wp_code] if insured and wp_code else ""
        ratio, effective = COPAY.get(name, ("", ""))
        out.append([symbol, number, branch, name, kana, birth, acquired, lost, membership,
                    cert, postal, addr1, addr2, wp_code, wp_name, myna, card, phone, note,
                    SEX[name], ratio, effective])
    return out


def write_csv(path: Path) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows())
    path.write_bytes(buf.getvalue().encode("cp932"))


def _xlsx_cell(column: str, value: str, household: str) -> object:
    if value == "":
        return None
    if column in DATE_COLUMNS and _ISO.fullmatch(value):
        return date.fromisoformat(value)
    if column == "郵便番号" and household in NUMERIC_POSTAL:
        return int(value.replace("-", ""))
    if column == "枝番" and household in NUMERIC_BRANCH:
        return int(value)
    return value


def write_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名簿"
    table = rows()
    sheet.append(table[0])
    for cells in table[1:]:
        household = f"{cells[0]}-{cells[1]}"
        sheet.append([_xlsx_cell(col, value, household)
                      for col, value in zip(HEADER, cells, strict=True)])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    book.properties.created = _FIXED_TIME
    book.properties.modified = _FIXED_TIME
    raw = io.BytesIO()
    book.save(raw)
    # Re-pack with fixed entry dates so the file is byte-for-byte reproducible.
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' with now()
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z",
                              data)
            dst.writestr(fixed, data)
    path.write_bytes(out.getvalue())


def main() -> None:
    write_csv(HERE / "roster.csv")
    write_xlsx(HERE / "roster.xlsx")
    print(f"wrote {HERE / 'roster.csv'} and {HERE / 'roster.xlsx'} ({len(PEOPLE)} rows)")


if __name__ == "__main__":
    main()
