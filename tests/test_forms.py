"""The 別添 request forms: read back the printed PDF, the AcroForm fields and the DOCX.

Expected wording comes from notice 539 and domain-rules.md (titles 「資格確認書（再）交付申請書」 /
「資格情報のお知らせ再交付申請書」, submission to 日本年金機構本部給与G or, for 任意継続, to the
健康保険組合 with the 任意継続被保険者資格取得申出書); era dates are worked out by hand.
"""

from __future__ import annotations

import io
import os
import re
import stat
from datetime import date
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from kenpo_docs.cli import cli
from kenpo_docs.documents.forms import FORMS, form_context
from kenpo_docs.input.roster import Household, Member
from kenpo_docs.publish.forms import build_form, render_forms
from kenpo_docs.render import RenderOptions, render_document
from kenpo_docs.render.pages import page_ranges

AS_OF = date(2025, 1, 10)
TITLES = {"bessou1": "資格確認書（再）交付申請書", "bessou2": "資格情報のお知らせ再交付申請書"}
LABELS = {"bessou1": "別添1", "bessou2": "別添2"}
FIELD_LABELS = ["申請日", "記号・番号", "フリガナ", "氏名", "生年月日", "対象者", "対象", "枝番",
                "申請理由", "その他", "送付先", "就労先", "自宅", "連絡先電話番号", "署名"]
REASONS = {"bessou1": ["新規", "紛失", "き損", "その他"], "bessou2": ["紛失", "き損", "その他"]}


def member(branch: str, name: str, kana: str, born: date, *, membership: str | None = "一般",
           workplace: str | None = "1001") -> Member:
    return Member(
        row=2, symbol="0012", number="000345", branch=branch, name=name, kana=kana,
        birth_date=born, acquired_on=date(2024, 12, 2), lost_on=None, membership=membership,
        certificate_issued_on=None, postal_code="1000013",
        address1="東京都千代田区霞が関1丁目3番2号", address2="郵便プラザ503室",
        workplace_code=workplace, workplace_name="本部" if workplace else None,
        myna_registered=None, has_mynumber_card=None, has_smartphone=None,
    )


FAMILY = Household(
    member("00", "髙橋 一郎", "タカハシ イチロウ", date(1980, 4, 1)),
    (member("01", "髙橋 花子", "タカハシ ハナコ", date(1982, 5, 3), membership=None),
     member("02", "髙橋 健太", "タカハシ ケンタ", date(2010, 1, 8), membership=None)),
)
CONTINUATION = Household(
    member("00", "佐藤 次郎", "サトウ ジロウ", date(1960, 2, 29), membership="任意継続",
           workplace=None),
)


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def blanks() -> dict[str, bytes]:
    return {name: build_form(name, as_of=AS_OF) for name in FORMS}


@pytest.mark.parametrize("name", ["bessou1", "bessou2"])
def test_blank_form_has_title_labels_and_route(blanks: dict[str, bytes], name: str) -> None:
    pages = text_of(blanks[name])
    assert len(pages) == 1, "a form is one page"
    text = flat(pages[0])
    assert TITLES[name] in text
    assert LABELS[name] in text
    for label in FIELD_LABELS + REASONS[name]:
        assert label in text, label
    if name == "bessou1":
        # 「別添１…を日本年金機構本部給与Ｇへ提出」; 任意継続: with the 申出書 to the 健康保険組合.
        assert "日本年金機構本部給与Gへ提出" in text
        assert "「任意継続被保険者資格取得申出書」を提出する際" in text
        assert "健康保険組合（日本年金機構健康保険組合）へ提出" in text
        assert "新規" in text
    else:
        # 「別添２…を健保組合へ提出してください。」
        assert "健康保険組合（日本年金機構健康保険組合業務課）へ提出" in text
        assert "新規" not in text
        assert "本部給与Gへ提出" not in text
    assert text.count("✓") == 1, "only the instruction's ✓: nothing is ticked on a blank form"
    assert "▶" not in text, "no route is singled out on a blank form"


def test_prefilled_form_prints_household_in_era_form() -> None:
    text = flat(text_of(build_form("bessou1", household=FAMILY, as_of=AS_OF))[0])
    assert "髙橋一郎" in text and "タカハシイチロウ" in text
    assert "0012-000345" in text
    assert "昭和55年4月1日" in text  # 1980-04-01
    # Dependents with 枝番, name and birth date (1982 = 昭和57, 2010 = 平成22).
    assert "被扶養者01髙橋花子昭和57年5月3日" in text
    assert "被扶養者02髙橋健太平成22年1月8日" in text
    assert "被保険者00髙橋一郎昭和55年4月1日" in text
    # 一般: sent to the workplace via 本部給与G; that box is ticked, home is not.
    assert "✓就労先（日本年金機構本部給与G経由）" in text
    assert "✓自宅" not in text
    assert "▶この申請書は日本年金機構本部給与Gへ提出" in text
    assert "霞が関" not in text, "the home address is not printed for a workplace route"


def test_continuation_member_is_sent_home_and_submits_to_the_kenpo() -> None:
    text = flat(text_of(build_form("bessou1", household=CONTINUATION, as_of=AS_OF))[0])
    assert "昭和35年2月29日" in text
    assert "✓自宅" in text and "✓就労先" not in text
    assert "100-0013" in text and "東京都千代田区霞が関1丁目3番2号" in text
    assert "▶任意継続被保険者となる方は" in text


def test_member_branch_ticks_only_that_row() -> None:
    item = form_context("bessou2", FAMILY, as_of=AS_OF, branch="01")
    ticked = [t["branch"] for t in item["targets"] if t["checked"]]
    assert ticked == ["01"]
    text = flat(text_of(render_forms("bessou2", [item], as_of=AS_OF))[0])
    assert "✓被扶養者01髙橋花子" in text


def test_many_forms_in_one_document_split_by_anchor() -> None:
    """The merge's contract: each form starts a new page inside its anchor element."""
    anchors = ["form-bessou1-a", "form-bessou1-b", "form-bessou1-c"]
    items = [form_context("bessou1", h, as_of=AS_OF, anchor=a)
             for h, a in zip((FAMILY, CONTINUATION, None), anchors, strict=True)]
    document = render_document("forms/bessou1/form.html", {"forms": items},
                               options=RenderOptions(as_of=AS_OF, pdf_tags=False))
    assert page_ranges(document, anchors) == {
        "form-bessou1-a": (0, 1), "form-bessou1-b": (1, 2), "form-bessou1-c": (2, 3)}


@pytest.fixture(scope="module")
def fillable() -> bytes:
    return build_form("bessou1", household=FAMILY, fillable=True, as_of=AS_OF)


def test_fillable_pdf_has_prefilled_acroform_fields(fillable: bytes) -> None:
    reader = PdfReader(io.BytesIO(fillable))
    assert len(reader.pages) == 1
    fields = reader.get_fields()
    assert fields is not None
    for name in ("application_date", "symbol_number", "kana", "name", "birth_date", "phone",
                 "reason_new", "reason_lost", "reason_damaged", "reason_other",
                 "send_workplace", "send_home", "address", "target6_name"):
        assert name in fields, name
    assert fields["name"]["/V"] == "髙橋 一郎"
    assert fields["symbol_number"]["/V"] == "0012-000345"
    assert fields["birth_date"]["/V"] == "昭和55年4月1日"
    assert fields["target2_name"]["/V"] == "髙橋 花子"
    assert fields["target3_birth"]["/V"] == "平成22年1月8日"
    assert fields["send_workplace"]["/V"] == "/Yes"
    assert fields["send_home"]["/V"] == "/Off"
    assert fields["phone"]["/V"] == ""
    assert fields["name"]["/FT"] == "/Tx" and fields["reason_lost"]["/FT"] == "/Btn"
    assert fields["phone"]["/TU"] == "連絡先電話番号"


def test_fillable_field_can_be_filled_and_read_back(fillable: bytes) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(fillable)))
    writer.update_page_form_field_values(
        writer.pages[0],
        {"phone": "03-1234-5678", "application_date": "令和7年1月20日", "reason_lost": "/Yes"},
        auto_regenerate=False,
    )
    buf = io.BytesIO()
    writer.write(buf)
    fields = PdfReader(io.BytesIO(buf.getvalue())).get_fields()
    assert fields is not None
    assert fields["phone"]["/V"] == "03-1234-5678"
    assert fields["application_date"]["/V"] == "令和7年1月20日"
    assert fields["reason_lost"]["/V"] == "/Yes"
    assert fields["name"]["/V"] == "髙橋 一郎"


def test_printed_form_has_no_fields(blanks: dict[str, bytes]) -> None:
    assert not PdfReader(io.BytesIO(blanks["bessou1"])).get_fields()


def docx_text(data: bytes) -> str:
    body = docx.Document(io.BytesIO(data)).element.body
    return "".join(t.text or "" for t in body.iter() if t.tag.endswith("}t"))


@pytest.mark.parametrize("name", ["bessou1", "bessou2"])
def test_docx_prints_the_member(name: str) -> None:
    # The DOCX is the twin of the HTML form (kenpo_docs.render.twin): same template, same
    # variables by construction; tests/test_word.py compares how it looks.
    text = docx_text(build_form(name, household=FAMILY, as_of=AS_OF, fmt="docx"))
    assert "{{" not in text and "{%" not in text
    assert TITLES[name] in text and LABELS[name] in text
    assert "髙橋 一郎" in text and "0012-000345" in text and "昭和55年4月1日" in text
    assert "髙橋 花子" in text and "昭和57年5月3日" in text
    for label in REASONS[name]:
        assert label in text


ROSTER = "\n".join([
    "記号,番号,枝番,氏名,フリガナ,生年月日,資格取得日,加入区分,郵便番号,住所1,就労先コード,就労先名",
    "0012,000345,00,髙橋 一郎,タカハシ イチロウ,1980-04-01,2010-04-01,一般,1000013,"
    "東京都千代田区霞が関1丁目3番2号,1001,本部",
    "0012,000345,01,髙橋 花子,タカハシ ハナコ,1982-05-03,2010-04-01,,,,,",
    "",
])

def test_cli_builds_prefilled_form_from_roster(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "forms"
    result = CliRunner().invoke(cli, ["form", "build", "bessou1", "--roster", str(roster),
                                      "--member", "0012-000345", "--out", str(out),
                                      "--as-of", "2025-01-10"])
    assert result.exit_code == 0, result.output
    path = out / "bessou1-0012-000345.pdf"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = flat(text_of(path.read_bytes())[0])
    assert "髙橋一郎" in text and "昭和55年4月1日" in text and "髙橋花子" in text

    result = CliRunner().invoke(cli, ["form", "build", "bessou2", "--blank", "--format", "docx",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert TITLES["bessou2"] in docx_text((out / "bessou2-blank.docx").read_bytes())


def test_cli_unknown_member_is_one_line_exit_2(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    for key in ("0012-999999", "0012-000345-07"):
        result = CliRunner().invoke(cli, ["form", "build", "bessou1", "--roster", str(roster),
                                          "--member", key, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and key in lines[0] and "roster.csv" in lines[0]
        assert "髙橋" not in result.output
    assert not (tmp_path / "o").exists()


def test_household_of_eight_fits_one_page() -> None:
    children = tuple(
        member(f"{i:02d}", f"髙橋 子{i}", "タカハシ", date(2010, 1, i), membership=None)
        for i in range(1, 8)
    )
    pages = text_of(build_form("bessou1", household=Household(FAMILY.insured, children),
                               as_of=AS_OF))
    assert len(pages) == 1
    assert "被扶養者07髙橋子7平成22年1月7日" in flat(pages[0])
