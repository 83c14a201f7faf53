"""Build the editable Word templates ``templates/letters/<name>/letter.docx`` (python-docx).

Run from the project root after changing a letter's wording::

    .venv/bin/python templates/letters/make_docx.py

Each DOCX is a docxtpl template for ONE piece: it receives the merge's letter context
(``letter``, ``as_of``, ``notice``, ``insurer``) plus ``piece`` (what ``piece_context`` gives
the HTML letter). It says what the HTML letter says, in plain Word paragraphs and tables
staff can edit; the envelope-window geometry and the barcode stay PDF-only. Quoted notice
sentences are kept verbatim, as in the HTML templates. Table rows repeat with docxtpl's
``{%tr %}`` tags, paragraphs with ``{%p %}``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HERE = Path(__file__).resolve().parent
FONT = "IPAexGothic"
GREETING = "平素より当健康保険組合の事業運営にご理解とご協力を賜り、厚く御礼申し上げます。"
KIND = '{{ "被保険者" if part.member.is_insured else "被扶養者" }}'
KEY = "{{ part.member.symbol }}-{{ part.member.number }}-{{ part.member.branch }}"


def _new() -> DocumentType:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(15), Mm(18)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    return doc


def _p(doc: DocumentType, text: str, *, bold: bool = False, size: float | None = None,
       align: WD_ALIGN_PARAGRAPH | None = None) -> None:
    para = doc.add_paragraph()
    run = para.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if align is not None:
        para.alignment = align


def _head(doc: DocumentType) -> None:
    """Sender, addressee and title: the frame ``letters/_letter.html`` prints around a letter."""
    right = WD_ALIGN_PARAGRAPH.RIGHT
    _p(doc, "{{ as_of | wareki }}", align=right)
    _p(doc, "{{ insurer.name }}", bold=True, align=right)
    _p(doc, "{{ insurer.department }}　電話 {{ insurer.phone }}", align=right)
    doc.add_paragraph("{%p if document_number %}")
    _p(doc, "文書番号 {{ document_number }}", size=8, align=right)
    doc.add_paragraph("{%p endif %}")
    _p(doc, "管理番号 {{ piece.piece_id }}　記号・番号 {{ piece.addressee.symbol }}-"
       "{{ piece.addressee.number }}", size=8, align=right)
    doc.add_paragraph("{%p if piece.is_home %}")
    _p(doc, "{{ piece.postal }}")
    _p(doc, "{{ piece.addressee.address1 }}{% if piece.addressee.address2 %}　"
       "{{ piece.addressee.address2 }}{% endif %}")
    doc.add_paragraph("{%p else %}")
    _p(doc, "{{ piece.addressee.workplace_name }}（{{ insurer.payroll_group }}経由）")
    doc.add_paragraph("{%p endif %}")
    _p(doc, "{{ piece.addressee.name }} 様", size=13)
    doc.add_paragraph("{%p if notice %}")
    _p(doc, "（{{ insurer.series_title }} 第{{ notice }}号 関連）", size=9)
    doc.add_paragraph("{%p endif %}")
    _p(doc, "{{ letter.title }}", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, GREETING)


def _contact(doc: DocumentType) -> None:
    _p(doc, "照会先　{{ insurer.name }} {{ insurer.department }}　電話番号 {{ insurer.phone }}",
       bold=True)
    _p(doc, "※お問い合わせは{{ insurer.hours }}時間帯にお願いします。", size=9)
    _p(doc, "所在地　{{ insurer.postal_display }} {{ insurer.address }}", size=9)


def _table(doc: DocumentType, headers: list[str], cells: list[str],
           loop: str = "part in piece.parts") -> None:
    """A header row and one row repeated per item (``{%tr for %}`` rows around it)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    table.rows[1].cells[0].text = f"{{%tr for {loop} %}}"
    for cell, text in zip(table.rows[2].cells, cells, strict=True):
        cell.text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9.5)


def _h(doc: DocumentType, text: str) -> None:
    _p(doc, text, bold=True, size=12)


def kakuninsho(doc: DocumentType) -> None:
    # 「マイナ保険証を利用できない方」 only when every member is one (as the HTML letter):
    # a registered member given a certificate on application is never told so.
    doc.add_paragraph('{%p if piece.parts | rejectattr("facts.cannot_use_myna") | list %}')
    _p(doc, "下記の方の「資格確認書」をお送りします。"
       "有効期限をご確認のうえ、医療機関等を受診する際にご使用ください。")
    doc.add_paragraph("{%p else %}")
    _p(doc, "マイナ保険証を利用できない方に交付する「資格確認書」をお送りします。"
       "下記の方の資格確認書の"
       "有効期限をご確認のうえ、医療機関等を受診する際にご使用ください。")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph('{%p for part in piece.parts | selectattr("facts.issue_reason_text") %}')
    _p(doc, "交付理由：{{ part.member.name }} 様　{{ part.facts.issue_reason_text }}")
    doc.add_paragraph("{%p endfor %}")
    _p(doc, '同封物：{{ enclosed | join("、") }}', size=9.5)
    _table(doc, ["氏名", "区分", "記号・番号・枝番", "交付日", "有効期限"],
           ["{{ part.member.name }}", KIND, KEY, "{{ part.facts.issued_on | wareki }}",
            "{{ part.facts.expiry | wareki }}"])
    _h(doc, "有効期限について")
    _p(doc, "資格確認書の有効期限は、交付時期により２年～３年となります。"
       "お一人ずつの有効期限は上の表のとおりです。")
    _table(doc, ["交付期間", "有効期限"],
           ["{{ part.facts.period_start | wareki }}～{{ part.facts.period_end | wareki }}",
            "{{ part.facts.expiry | wareki }}"],
           loop='part in piece.parts | unique(attribute="facts.period_start") '
                '| sort(attribute="facts.period_start")')
    _h(doc, "返却について")
    _p(doc, "{{ insurer.return_instruction(piece.route.kind) }}")
    _p(doc, "有効期限を過ぎたものは返却不要となりますので、ご自身にて破棄してください。")
    _h(doc, "送付方法")
    doc.add_paragraph("{%p if piece.is_home %}")
    _p(doc, "任意継続被保険者の方には、ご自宅宛に送付しています。")
    doc.add_paragraph("{%p else %}")
    _p(doc, "{{ insurer.payroll_group }}経由で被保険者の就労先へ送付しています。"
       '{% if piece.parts | rejectattr("member.is_insured") | list %}'
       "被扶養者の方の資格確認書も、被保険者の就労先へ送付しています。{% endif %}")
    doc.add_paragraph("{%p endif %}")


FAQ = [
    ("Q1", "マイナポータルの資格情報画面または資格情報のお知らせのみで"
           "保険診療を受けられるのですか？",
     ["マイナポータルの資格画面や資格情報のお知らせだけでは、保険診療は受けられません。オンライン資格確認等"
      "システムを導入していない医療機関に受診する際は、マイナ保険証と一緒に窓口に提示いただきますようお願い"
      "します。"]),
    ("Q2", "資格情報のお知らせは、必ず携帯しなければならないのですか？",
     ["マイナポータルの資格情報画面をダウンロードした場合は、資格情報のお知らせを携帯する必要はありません。"
      "マイナポータルの資格情報画面をダウンロードしたスマホは必要です。"]),
    ("Q3", "保険証の廃止後、保険給付の請求に必要な記号、番号はどのように確認するのですか？",
     ["保険給付の請求時に必要な記号・番号は、マイナポータルの資格情報画面や資格情報のお知らせで確認する"
      "ことができます。"]),
    ("Q4", "資格情報のお知らせを紛失した場合、どうするのですか？",
     ["マイナポータルの資格情報画面を確認できる場合、再交付の手続きは不要です。",
      "なお、マイナポータルの資格情報画面を確認できない場合は、別添２「資格情報のお知らせ再交付申請書」で"
      "再交付の手続きをしてください。"]),
    ("Q5", "資格情報に変更があった場合、資格情報のお知らせは再交付されるのですか？",
     ["「資格取得日」の変更がある場合のみ、再交付します。",
      "マイナポータルで資格情報画面を確認できる場合は、資格情報のお知らせは、原則再交付いたしません。"]),
]


def oshirase(doc: DocumentType) -> None:
    _p(doc, "この書面は、下記の方の健康保険の資格情報（記号・番号等）をお知らせする"
       "「資格情報のお知らせ」です。マイナ保険証が利用できない医療機関等を受診する際に必要と"
       "なりますので、内容をご確認のうえ、大切に保管してください。")
    _p(doc, "発行日　{{ as_of | wareki }}　　保険者名　{{ insurer.name }}　　"
       "保険者番号　{{ insurer.number_display }}", bold=True)
    _table(doc, ["記号・番号・枝番", "氏名", "区分", "生年月日", "資格取得日"],
           [KEY, "{{ part.member.name }}", KIND, "{{ part.member.birth_date | wareki }}",
            "{{ part.member.acquired_on | wareki }}"])
    _h(doc, "資格情報のお知らせについて")
    _p(doc, "マイナ保険証が利用できない医療機関等において、"
       "「資格情報のお知らせ」は「マイナンバーカード」と"
       "一緒に医療機関受付で提示することにより受診することが可能となりますので、資格情報のお知らせは大切に"
       "保管してください。")
    _p(doc, "＜発行済みの「資格情報のお知らせ」を紛失・き損した場合＞")
    _p(doc, "別添２「資格情報のお知らせ再交付申請書」を健保組合へ提出してください。")
    _h(doc, "よくあるご質問")
    for label, question, answers in FAQ:
        _p(doc, f"{label}　{question}", bold=True, size=9.5)
        for i, answer in enumerate(answers):
            prefix = f"A{label[1:]}　" if i == 0 else "　　"
            _p(doc, prefix + answer, size=9.5)


def koureisha(doc: DocumentType) -> None:
    _p(doc, "下記の方は、70歳となり高齢受給者に該当しますので、お知らせします。高齢受給者証は、"
       "下表の交付月に交付します。")
    _p(doc, "高齢受給者に該当される方につきましては、70歳誕生月（誕生日が月の初日の場合は前月）に"
       "従来どおり、高齢受給者証を交付します。")
    _table(doc, ["記号・番号・枝番", "氏名", "区分", "生年月日", "交付月"],
           [KEY, "{{ part.member.name }}", KIND, "{{ part.member.birth_date | wareki }}",
            "{{ part.facts.issue_month | year_month }}"])
    _p(doc, "※交付月は、生年月日をもとに「70歳誕生月（誕生日が月の初日の場合は前月）」により"
       "記載しています。", size=9)


def guidance(doc: DocumentType) -> None:
    answer = ("{% if v is true %}有{% elif v is false %}無{% else %}未回答{% endif %}")
    _p(doc, "令和6年12月2日から健康保険証の新規発行が終了し、"
       "マイナ保険証で医療機関等を受診していただく"
       "仕組みに移行しています。"
       '{% if piece.parts | selectattr("facts.answered") | list %}'
       "ご回答いただいた内容にもとづき、{% endif %}医療機関等での受診方法をご案内します。")
    _table(doc, ["氏名", "区分", "マイナンバーカード", "スマホ", "マイナ保険証の利用登録"],
           ["{{ part.member.name }}", KIND,
            "{% set v = part.member.has_mynumber_card %}" + answer,
            "{% set v = part.member.has_smartphone %}" + answer,
            "{% set v = part.member.myna_registered %}" + answer])
    _h(doc, "医療機関等での受診方法について")
    doc.add_paragraph("{%p for part in piece.parts %}")
    _p(doc, "{{ part.member.name }} 様：{% set h = part.facts.path.value %}"
       '{% if h == "smartphone" %}マイナンバーカードとスマホをお持ちの方'
       '{% elif h == "notice_with_card" %}マイナンバーカードはお持ちで、スマホはお持ちでない方'
       '{% elif h == "get_card" %}マイナンバーカードをお持ちでない方'
       "{% else %}ご回答が確認できていない方（受診方法の全体をご案内します）{% endif %}", bold=True)
    doc.add_paragraph("{%p for step in part.facts.steps %}")
    _p(doc, "{% if step.startswith('【') and step.endswith('】') %}{{ step }}"
       "{% else %}・{{ step }}{% endif %}", size=9.5)
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p if part.facts.registration %}")
    _p(doc, "「マイナ保険証」の利用登録手続きをしていない方へ：マイナンバーカードを健康保険証として"
       "利用するためには、以下の３つのステップが必要です。", size=9.5)
    doc.add_paragraph("{%p for step in part.facts.registration %}")
    _p(doc, "・{{ step }}", size=9.5)
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p endfor %}")


LETTERS: dict[str, Callable[[DocumentType], None]] = {
    "kakuninsho": kakuninsho,
    "oshirase": oshirase,
    "koureisha": koureisha,
    "guidance": guidance,
}


def build(name: str, out: Path | None = None) -> Path:
    """Write one letter's DOCX template; returns its path."""
    doc = _new()
    _head(doc)
    LETTERS[name](doc)
    _contact(doc)
    core = doc.core_properties
    core.author, core.title, core.comments = "kenpo-docs", name, "built by make_docx.py"
    path = out or HERE / name / "letter.docx"
    doc.save(str(path))
    return path


if __name__ == "__main__":
    for letter in LETTERS:
        print(build(letter))
