# ruff: noqa: E501  (the notice's sentences are kept whole, one per line, to compare with the HTML)
"""Build ``notice.docx``, the Word template of notice No. 539, with python-docx.

Run ``python templates/notices/539/build_docx.py`` after changing the wording; the result is
committed beside ``notice.html``. It uses the same variables as the HTML template (a test
compares them) and the notice's own wording. docxtpl fills it: ``{%tr %}`` tags repeat table
rows for the tables that come from the rules.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HERE = Path(__file__).resolve().parent
FONT = "BIZ UDPGothic"


def _font(run, *, bold: bool = False, size: float | None = None) -> None:
    run.font.name = FONT
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def para(doc, text: str, *, bold: bool = False, size: float | None = None, center: bool = False,
         indent: bool = False):
    p = doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        p.paragraph_format.first_line_indent = Pt(10.5)
    _font(p.add_run(text), bold=bold, size=size)
    return p


def heading(doc, text: str) -> None:
    h = doc.add_heading(level=2)
    _font(h.add_run(text), bold=True, size=12)


def cell(c, *lines: str, bold: bool = False) -> None:
    c.text = ""
    first = True
    for line in lines:
        p = c.paragraphs[0] if first else c.add_paragraph()
        first = False
        _font(p.add_run(line), bold=bold)


def table(doc, rows: list[list[str | tuple[str, ...]]], *, header_rows: int = 0):
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    t.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            lines = value if isinstance(value, tuple) else (value,)
            cell(t.cell(r, c), *lines, bold=r < header_rows)
    return t


def build(path: Path) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(16))
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(10)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)

    para(doc, "年金機構けんぽからのお知らせ （第{{ notice.number }}号）{{ notice.date|wareki_short }}",
         bold=True)
    doc.core_properties.title = "{{ notice.title }}"
    para(doc, "{{ notice.title }}", bold=True, size=16, center=True)
    for text in (
        "令和6年12月2日から健康保険証の新規発行が終了し、健康保険証を利用登録したマイナンバーカード（以下「マイナ保険証」という。）で医療機関等を受診していただく仕組みに移行します。",
        "現在お持ちの健康保険証については、令和7年12月1日まで使用することができます。ただし、令和7年12月1日より前に、退職等により健康保険の資格を喪失した場合は、その時までとなります。",
        "なお、マイナンバーカードをお持ちでない等、マイナ保険証を利用することができない状況にある方については、「資格確認書」で医療機関等を受診することができます。",
        "令和6年12月2日以降、新たに被保険者や被扶養者になる方が資格確認書を必要とする場合は、別添１「資格確認書（再）交付申請書」を提出してください。",
    ):
        para(doc, text, indent=True)
    para(doc, "就労先拠点を経由して送付いたします。", bold=True)

    heading(doc, "「資格確認書」の申請について")
    table(doc, [
        ["対象者", ("新規加入者（令和6年12月2日以降）",
                 "※マイナ保険証を利用できない方（マイナンバーカードを持っていない、マイナ保険証の利用登録をしていない方）")],
        ["申請方法", ("・別添１「資格確認書（再）交付申請書」を日本年金機構本部給与Ｇへ提出してください。",
                  "・任意継続加入者となる場合は、「任意継続被保険者資格取得申出書」を提出する際、別添１「資格確認書（再）交付申請書」を健康保険組合へ提出してください。")],
        ["送付方法", ("日本年金機構本部給与G経由で被保険者の就労先へ送付（任継の方はご自宅宛に送付）",
                  "※資格確認書（再）申請書を受付後、送付までに数日かかります。",
                  "※被扶養者の手続きの際【（例）扶養認定のための異動届提出等】についても、日本年金機構本部給与G経由で被保険者の就労先へ送付します。")],
        ["有効期限", "３年間 （※交付時期により、2年～3年となります。）"],
        ["返却について", ("有効期限内に退職・扶養削除等が生じた場合は、事業主経由での返却が必要となります。",
                     "有効期限を過ぎたものは返却不要となりますので、ご自身にて破棄してください。")],
        ["その他", "高齢受給者に該当される方につきましては、70歳誕生月（誕生日が月の初日の場合は前月）に従来どおり、高齢受給者証を交付します。"],
    ])

    para(doc, "資格確認書の有効期限について", bold=True)
    table(doc, [
        ["{%tr for p in periods %}", "", "", "", ""],
        ["交付期間（{{ p.ordinal|fullwidth }}回目）", "{{ p.start|wareki }}～{{ p.end|wareki }}",
         "{{ p.years_after_period }}年間 →", "有効期限", "{{ p.expiry|wareki }}"],
        ["{%tr endfor %}", "", "", "", ""],
    ])

    para(doc, "令和6年12月1日に資格取得日の加入者（被保険者と被扶養者）については、保険証を交付します。任意継続加入者となる場合も、同様に交付します。")
    heading(doc, "健康保険証の取り扱いについて")
    para(doc, "現在お持ちの健康保険証については、退職等で資格喪失等にならない限り、令和7年12月1日まで使用できますので、大切にお持ちください。", indent=True)
    t = table(doc, [
        ["", "健康保険証", "", "", "", "マイナ保険証"],
        ["", "使用", "新規発行 再交付", "退職時等 の回収", "自己破棄", "使用"],
        ["{%tr for row in card_rows %}", "", "", "", "", ""],
        ["{{ row.label }}", "{{ row.card_use }}", "{{ row.issue }}", "{{ row.collection }}",
         "{{ row.self_disposal }}", "{{ row.myna_use }}"],
        ["{%tr endfor %}", "", "", "", "", ""],
    ], header_rows=2)
    merged = t.cell(0, 1).merge(t.cell(0, 4))
    cell(merged, "健康保険証", bold=True)

    heading(doc, "資格情報のお知らせについて")
    for text in (
        "前回発行対象とならなかった加入者の方は、令和7年1月頃送付いたします。",
        "また、令和6年12月2日以降の新規加入者の方（被保険者及び被扶養者）についても、順次送付します。",
        "下記の表を参照してください。",
    ):
        para(doc, text, indent=True)
    table(doc, [
        ["対象者", "取得日", "発行時期"],
        ["{%tr for t in timings %}", "", ""],
        ["{{ t.who }}", "{{ t.acquired }}", "{{ t.issued }}"],
        ["{%tr endfor %}", "", ""],
    ], header_rows=1)
    para(doc, "マイナ保険証が利用できない医療機関等において、「資格情報のお知らせ」は「マイナンバーカード」と一緒に医療機関受付で提示することにより受診することが可能となりますので、資格情報のお知らせは大切に保管してください。", indent=True)
    para(doc, "＜発行済みの「資格情報のお知らせ」を紛失・棄損した場合＞", bold=True)
    para(doc, "別添２「資格情報のお知らせ再交付申請書」を健保組合へ提出してください。")
    table(doc, [
        ["照 会 先", ("{{ contact.name }} {{ contact.department }}", "電話番号 {{ contact.phone }}",
                   "※お問い合わせは{{ contact.closed }}を除いた時間帯にお願いします。",
                   "（{{ contact.closed }}は担当不在により回答できない場合があります。）")],
        ["添 付 資 料", ("【別添１】資格確認書（再）交付申請書", "【別添２】資格情報のお知らせ再交付申請書",
                      "【別添３】厚労省ちらし_マイナンバーカードは持ち歩いても大丈夫")],
    ])

    doc.add_page_break()
    heading(doc, "「マイナ保険証」の利用登録手続きをしていない方へ")
    para(doc, "マイナンバーカードを健康保険証として利用するためには、以下の３つのステップが必要です。", bold=True, center=True)
    steps = [
        ("STEP１", "マイナンバーカードを申請・作成する", "申請方法",
         ["①（パソコン・スマートフォンから）オンラインで申請する", "②郵便で申請する", "③まちなかの証明写真機から申請する",
          "マイナ保険証をお持ちでない場合は、まずマイナンバーカードを取得ください。", "マイナンバーカード総合サイト"]),
        ("STEP２", "マイナンバーカードを健康保険証として登録する", "利用登録の方法",
         ["①医療機関・薬局の受付（カードリーダー）で行う", "②「マイナポータル」から行う", "③セブン銀行ATMから行う",
          "マイナンバーカードを取得すれば、医療機関等の窓口（カードリーダー）でもマイナ保険証の利用登録手続きができます。",
          "セブン銀行ATMでの申込みが簡単で（5分程度で登録）オススメです！", "セブンATM手続きサイト"]),
        ("STEP３", "医療機関・薬局でマイナンバーカードを用いて受付する", "受付方法",
         ["①顔認証つきカードリーダーにマイナンバーカードを置く", "②本人認証（顔認証・暗証番号）を行う", "③各種情報提供の同意選択をする"]),
    ]
    for badge, title, label, lines in steps:
        para(doc, f"{badge} {title}", bold=True, size=12)
        para(doc, label, bold=True)
        for line in lines:
            para(doc, line)

    doc.add_page_break()
    heading(doc, "医療機関等での受診方法について")
    table(doc, [
        ["マイナンバーカードとスマホを持っている", "はい →",
         ("マイナポータルの資格情報画面をスマホにダウンロードしてください。",
          "➡ダウンロードするためには、マイナ保険証の利用登録手続きが必要となります。",
          "※ダウンロード方法は、次ページを参照してください。")],
        ["↓ いいえ", "", ""],
        ["マイナンバーカードは持っているが、スマホはもっていない", "はい →",
         ("「資格情報のお知らせ」をマイナンバーカードと一緒に携帯してください。",
          "➡「資格情報のお知らせ」についてけんぽからのお知らせ（令和6年9月9日付）を参照ください。",
          "令和6年7月31日～令和6年12月1日までの新規加入対象者分については、令和7年1月にかけて発行します。",
          "【発行済みの「資格情報のお知らせ」を紛失・棄損した場合】",
          "別添２「資格情報のお知らせ再交付申請書」を提出してください。")],
        ["↓ いいえ", "", ""],
        ["マイナンバーカードを持っていない", "はい →",
         ("マイナンバーカードの取得にご協力をお願いします。",
          "➡マイナ保険証の取得が困難な方については、令和6年12月2日以降に申請により「資格確認書」を発行します。",
          "別添1「資格確認書（再）交付申請書」を提出してください。")],
    ])

    doc.add_page_break()
    heading(doc, "マイナポータルの資格情報画面のダウンロード方法")
    heading(doc, "よくあるご質問について")
    faq = [
        ("Q1", "マイナポータルの資格情報画面または資格情報のお知らせのみで保健診療を受けられるのですか？",
         "A1", ["マイナポータルの資格画面や資格情報のお知らせだけでは、保険診療は受けられません。オンライン資格確認等システムを導入していない医療機関に受診する際は、マイナ保険証と一緒に窓口に提示いただきますようお願いします。"]),
        ("Q2", "資格情報のお知らせは、必ず携帯しなければならないのですか？",
         "A2", ["マイナポータルの資格情報画面をダウンロードした場合は、資格情報のお知らせを携帯する必要はありません。マイナポータルの資格情報画面をダウンロードしたスマホは必要です。"]),
        ("Q3", "保険証の廃止後、保険給付の請求に必要な記号、番号はどのように確認するのですか？",
         "A3", ["保険給付の請求時に必要な記号・番号は、マイナポータルの資格情報画面や資格情報のお知らせで確認することができます。"]),
        ("Q4", "資格情報のお知らせを紛失した場合、どうするのですか？",
         "A４", ["マイナポータルの資格情報画面を確認できる場合、再交付の手続きは不要です。",
                "なお、マイナポータルの資格情報画面を確認できない場合は、資格情報のお知らせ交付申請書で再交付の手続きをしてください。"]),
        ("Q5", "資格情報に変更があった場合、資格情報のお知らせは再交付されるのですか？",
         "A5", ["「資格取得日」の変更がある場合のみ、再交付します。",
                "マイナポータルで資格情報画面を確認できる場合は、資格情報のお知らせは、原則再交付いたしません。"]),
    ]
    for q, question, a, answers in faq:
        para(doc, f"{q} {question}", bold=True)
        for i, answer in enumerate(answers):
            para(doc, f"{a} {answer}" if i == 0 else answer)

    doc.save(str(path))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "notice.docx")
