"""PDF/UA-1 as an independent validator reads it (docs/accessibility.md).

``page`` (the ``page-validation`` package: a Rust PDF/UA and PDF/A validator that passes the
veraPDF corpus; veraPDF itself is on no package index here) runs its 104 PDF/UA-1 rules on
every kind of PDF we write: the notice, the request forms (blank, prefilled, fillable), the
notice with its 別添 joined, and the mailed pieces of three merges (letters with the notice
and a prefilled form per member enclosed, cards on A4, cards on card stock). Each must pass
every rule, the XMP packet's title must be the document's, and each claims PDF/UA-1.

Print files are tagged but claim nothing: their pages draw one shared copy of each letter's
background, which the rule PDFUA1-FORM-STRUCTURE-001 refuses (render/xmp.py says why); the
test holds them to every other rule.
"""

from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import page
import pikepdf
import pytest

from kenpo_docs.mailing.options import MergeOptions
from kenpo_docs.mailing.run import merge
from kenpo_docs.paths import samples_dir
from kenpo_docs.publish.forms import build_form, write_form
from kenpo_docs.publish.notices import render_notice
from kenpo_docs.publish.pack import render_pack
from kenpo_docs.render.xmp import packet
from tests.test_tagged_pdfs import check_tagged

AS_OF = date(2026, 12, 1)
ROSTER = samples_dir() / "roster.csv"
STANDIN = samples_dir() / "bessou3-standin.pdf"
#: What a print file may fail: it claims no conformance, and shares its backgrounds.
PRINT_FILE_RULES = {"PDFUA1-ID-PART-001", "PDFUA1-ID-SCHEMA-001", "PDFUA1-FORM-STRUCTURE-001"}


def failures(data: bytes) -> list[str]:
    """The PDF/UA-1 rules ``data`` fails, each with the validator's message."""
    report = page.validate_pdf_bytes(data, profile=page.ValidationProfile.PDF_UA_1)
    assert report.rules.total >= 100  # the whole profile ran
    return sorted(f"{f.rule_id}: {f.message}" for f in report.failures)


def xmp_title_and_claim(data: bytes) -> tuple[str, str, str | None]:
    """(Info /Title, XMP dc:title, XMP pdfuaid:part) read back with pikepdf."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        return (str(pdf.docinfo.get("/Title", "")), str(meta.get("dc:title", "")),
                meta.get("{http://www.aiim.org/pdfua/ns/id/}part"))


def assert_pdfua(data: bytes, name: str) -> None:
    assert failures(data) == [], name
    info_title, dc_title, part = xmp_title_and_claim(data)
    assert info_title and dc_title == info_title, name
    assert part == "1", name


@pytest.fixture(scope="module")
def documents() -> dict[str, bytes]:
    out = {"notice 539": render_notice(539), "notice 539 with its 別添": render_pack(539)}
    for form in ("bessou1", "bessou2"):
        out[f"{form} blank"] = build_form(form, as_of=AS_OF)
        out[f"{form} fillable"] = build_form(form, as_of=AS_OF, fillable=True)
    return out


def test_notice_forms_and_pack_pass_pdfua(documents: dict[str, bytes]) -> None:
    for name, data in documents.items():
        assert_pdfua(data, name)


def test_the_archival_notice_passes_pdfa_3b_and_pdfua() -> None:
    """``notice build --pdfa``: WeasyPrint's PDF/A-3b claim survives our metadata, which
    describes the pdfuaid schema as PDF/A asks of a schema it does not predefine."""
    data = render_notice(539, pdfa=True)
    assert_pdfua(data, "notice 539 --pdfa")
    report = page.validate_pdf_bytes(data, profile=page.ValidationProfile.PDF_A_3B)
    assert [f"{f.rule_id}: {f.message}" for f in report.failures] == []
    assert report.is_compliant


def test_prefilled_forms_pass_pdfua(tmp_path: Path) -> None:
    for form in ("bessou1", "bessou2"):
        for fillable in (False, True):
            path = write_form(form, as_of=AS_OF, roster=ROSTER, member="0012-000101",
                              fillable=fillable, out_dir=tmp_path)
            assert_pdfua(path.read_bytes(), path.name)


@pytest.fixture(scope="module")
def merges(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pdfua")
    runs = {
        "letters, notice and a form per member": MergeOptions(
            letter="kakuninsho", out=tmp / "a", as_of=AS_OF, workers=1, notice="539",
            enclosures=("notice:539", "form:bessou1", f"file:{STANDIN}"), db=tmp / "a.sqlite"),
        "cards on card stock": MergeOptions(
            letter="kakuninsho", out=tmp / "b", as_of=AS_OF, workers=1, card_stock=True,
            db=tmp / "b.sqlite"),
        "資格情報のお知らせ": MergeOptions(
            letter="oshirase", out=tmp / "c", as_of=AS_OF, workers=1, db=tmp / "c.sqlite"),
    }
    for options in runs.values():
        result = merge(ROSTER, options=options)
        assert result.pieces > 5
    return {name: options.out for name, options in runs.items()}


def test_every_mailed_piece_passes_pdfua(merges: dict[str, Path]) -> None:
    for name, out in merges.items():
        pieces = sorted((out / "pieces").glob("*.pdf"))
        assert pieces, name
        for path in pieces:
            assert_pdfua(path.read_bytes(), f"{name}: {path.name}")


def test_print_files_are_held_to_every_other_rule(merges: dict[str, Path]) -> None:
    for name, out in merges.items():
        for path in sorted((out / "print").glob("*.pdf")):
            data = path.read_bytes()
            failed = {f.split(":")[0] for f in failures(data)}
            assert failed <= PRINT_FILE_RULES, f"{name}: {path.name}: {failed}"
            info_title, dc_title, part = xmp_title_and_claim(data)
            assert dc_title == info_title and part is None, path.name


def test_print_files_made_from_piece_files_keep_each_copy_apart(
        merges: dict[str, Path], tmp_path: Path) -> None:
    """A batch whose part files are lost makes its print files from the piece files: a card
    background copied in a piece (its n-th use) stays its own XObject there, and every
    marked-content sequence still has its one element."""
    made = merges["cards on card stock"]
    out = tmp_path / "b"
    shutil.copytree(made, out)
    for part in (out / "parts").glob("*.seg"):
        part.unlink()
    (out / "manifest.csv").unlink()
    shutil.rmtree(out / "print")
    result = merge(ROSTER, options=MergeOptions(
        letter="kakuninsho", out=out, as_of=AS_OF, workers=1, card_stock=True,
        db=tmp_path / "b.sqlite"))
    assert result.resumed == result.pieces  # no piece rendered again: read from its file
    for path in sorted((out / "print").glob("*.pdf")):
        data = path.read_bytes()
        check_tagged(data)
        assert {f.split(":")[0] for f in failures(data)} <= PRINT_FILE_RULES, path.name
    assert [p.read_bytes() for p in sorted((out / "pieces").glob("*.pdf"))] == [
        p.read_bytes() for p in sorted((made / "pieces").glob("*.pdf"))]


def test_the_validator_sees_what_a_piece_would_lack(merges: dict[str, Path]) -> None:
    """Without its /Lang and its XMP packet, a piece fails: the rules above can fail."""
    piece = sorted((merges["資格情報のお知らせ"] / "pieces").glob("*.pdf"))[0]
    with pikepdf.open(piece) as pdf:
        del pdf.Root.Lang
        del pdf.Root.Metadata
        buf = io.BytesIO()
        pdf.save(buf)
    failed = {f.split(":")[0] for f in failures(buf.getvalue())}
    assert {"PDFUA1-TEXT-LANGUAGE-001", "PDFUA1-METADATA-TITLE-001",
            "PDFUA1-ID-PART-001"} <= failed


def test_metadata_says_a_staff_written_title_as_written() -> None:
    """A notice's title is staff's text: markup characters and quotes stay text."""
    title = '説明会 <第2回> & "Q&A" ＆ 質疑'
    data = packet({"Title": title, "Author": "A&B健保", "CreationDate": "D:20261201093000+09'00"},
                  ua=True)
    ns = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
          "dc": "http://purl.org/dc/elements/1.1/", "xmp": "http://ns.adobe.com/xap/1.0/"}
    root = ET.fromstring(data.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    desc = root.find("rdf:RDF/rdf:Description", ns)
    assert desc is not None
    assert desc.findtext("dc:title/rdf:Alt/rdf:li", namespaces=ns) == title
    assert desc.findtext("dc:creator/rdf:Seq/rdf:li", namespaces=ns) == "A&B健保"
    assert desc.findtext("xmp:CreateDate", namespaces=ns) == "2026-12-01T09:30:00+09:00"
