"""The insurer settings file (data/insurer.toml): validated at load, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenpo_docs.domain.insurer import (
    default_insurer,
    insurer_number_check_digit,
    key_widths,
    load_insurer,
)
from kenpo_docs.errors import RuleError
from kenpo_docs.paths import data_dir

DEFAULT = data_dir() / "insurer.toml"


def test_check_digit_follows_the_ministry_rule() -> None:
    # The worked example of the 保険者番号設定要領 rule: 33120015 (33 12 001, 検証番号 5).
    assert insurer_number_check_digit("3312001") == 5
    # A total ending in 0 gives 0, not 10: 0000019 -> 9*2 (=18 -> 1+8) + 1*1 = 10 -> 0.
    assert insurer_number_check_digit("0000019") == 0
    assert insurer_number_check_digit("0613999") == 2  # the packaged sample 06139992


def test_packaged_settings() -> None:
    ins = load_insurer()
    assert ins == default_insurer()
    assert ins.name == "日本年金機構健康保険組合"  # 「照会先 日本年金機構健康保険組合 業務課」
    assert ins.department == "業務課"
    assert ins.phone == "03-5216-3223"  # 「電話番号 03-5216-3223」
    assert ins.hours == "12時～13時を除く"  # 「12時～13時を除いた時間帯にお願いします」
    assert ins.payroll_group == "日本年金機構本部給与G"
    assert ins.series_title == "年金機構けんぽからのお知らせ"  # the notice's masthead
    assert len(ins.number) == 8 and ins.number_is_sample
    assert ins.number_display.endswith("（見本）")
    assert ins.postal_display.startswith("〒")
    assert key_widths() == (4, 6)  # issue 18: 記号 0012, 番号 000201
    assert ins.document_number(12) == "年けん発第12号"
    assert "事業主経由" in ins.return_instruction("workplace")
    home = ins.return_instruction("home")
    assert "事業主" not in home and ins.address in home and ins.postal_code in home


def _bad(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "insurer.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('number = "06139992"', 'number = "06139993"', "insurer.number", "検証番号"),
        ('number = "06139992"', 'number = "0613999"', "insurer.number", "8"),
        ('number = "06139992"', "number = 6139992", "insurer.number", "string"),
        ('phone = "03-5216-3223"', "phone = 352163223", "insurer.phone", "string"),
        ('postal_code = "168-8505"', 'postal_code = "1688505"', "insurer.postal_code", "NNN"),
        ("\nnumber_is_sample = true\n", "\n", "insurer.number_is_sample", "missing"),
        ("symbol_width = 4", "symbol_width = 0", "keys.symbol_width", "1 to 20"),
        ("number_width = 6", 'number_width = "6"', "keys.number_width", "integer"),
        ('format = "年けん発第{number}号"', 'format = "年けん発第号"', "document_number.format",
         "{number}"),
        ("（〒{postal_code}", "（〒{zip}", "return_instruction.home", "zip"),
        ('title = "年金機構けんぽからのお知らせ"', 'title = ""', "series.title", "non-empty"),
        ("[series]", "[seriez]", "", "seriez"),
    ],
)
def test_bad_settings_name_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    path = _bad(tmp_path, old, new)
    with pytest.raises(RuleError) as info:
        load_insurer(path)
    assert info.value.file == str(path)
    assert info.value.column == (key or "(top level)")
    assert str(path) in str(info.value) and words in str(info.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_insurer(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[insurer\n", encoding="utf-8")
    with pytest.raises(RuleError, match="not valid TOML"):
        load_insurer(broken)
