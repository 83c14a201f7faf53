"""python-docx's private parts we use, each behind one function (tested in tests/test_gates.py).

python-docx's public API (paragraphs, runs, tables, styles, ``paragraph_format``) has no
borders on paragraphs or cells, no shading, no frames, no content controls, no fields and no
schema order: the Word twins and the notices write those as WordprocessingML with python-docx's
``docx.oxml`` package, and reach the XML under a proxy through its private attribute
(``Paragraph._p``, ``Run._r``, ``Table._tbl``, ``_Row._tr``, ``_Cell._tc``, a header's
``_element``, an inline picture's ``_inline``). None of that is documented; every such symbol is
imported or read here and nowhere else (tests/test_architecture.py checks), and
:func:`kenpo_docs.gates.docx_status` warns once when the installed python-docx is not the one
these tests ran on.

What counts as private: every ``docx.oxml*`` import (``OxmlElement``, ``qn``, ``parse_xml``,
the ``CT_*`` element classes and their ``get_or_add_*`` / ``pPr`` / ``rPr`` / ``tblPr``
accessors), every ``_underscore`` attribute or class of python-docx (``_Cell``). Public: the
documented proxies and their ``element`` property (``Document.element``,
``styles.element``, ``settings.element``, a style's ``element``), and lxml's own element API
(``find``, ``append``, ``set`` …) on the elements these functions return.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml import parse_xml as _parse_xml
from docx.oxml.ns import qn as _qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

__all__ = ["Cell", "body_blocks", "cell_element", "cell_properties", "new_element",
           "paragraph_at", "paragraph_element", "paragraph_properties",
           "paragraph_properties_if_any", "parse_xml", "part_element", "picture_inline",
           "qn", "row_properties", "run_at", "run_element", "run_fonts", "run_fonts_if_any",
           "run_properties", "style_paragraph_properties", "table_element", "table_grid",
           "table_properties"]

#: A table cell's proxy class (python-docx names it ``_Cell``), for type hints.
Cell = _Cell


def qn(tag: str) -> str:
    """``"w:val"`` → ``"{http://…/wordprocessingml/2006/main}val"`` (``docx.oxml.ns.qn``)."""
    return _qn(tag)


def new_element(tag: str, **attrs: str) -> Any:
    """A new element ``tag`` (``"w:shd"``, ``"w14:checkbox"``) with ``attrs`` in the ``w:``
    namespace, set in the order given (``docx.oxml.OxmlElement``)."""
    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(_qn(f"w:{key}"), value)
    return el


def parse_xml(text: str | bytes) -> Any:
    """An element parsed from XML text, with python-docx's element classes (``parse_xml``)."""
    return _parse_xml(text)


# -- the XML under a proxy ---------------------------------------------------------------------

def paragraph_element(paragraph: Paragraph) -> Any:
    """A paragraph's ``w:p`` (``Paragraph._p``)."""
    return paragraph._p


def run_element(run: Run) -> Any:
    """A run's ``w:r`` (``Run._r``)."""
    return run._r


def table_element(table: Table) -> Any:
    """A table's ``w:tbl`` (``Table._tbl``)."""
    return table._tbl


def cell_element(cell: _Cell) -> Any:
    """A cell's ``w:tc`` (``_Cell._tc``)."""
    return cell._tc


def part_element(part: Any) -> Any:
    """The root element of a header or footer (``_Header._element``)."""
    return part._element


def picture_inline(picture: Any) -> Any:
    """An inline picture's ``wp:inline`` (``InlineShape._inline``)."""
    return picture._inline


# -- properties elements (the CT_* classes' accessors) -----------------------------------------

def paragraph_properties(paragraph: Paragraph) -> Any:
    """A paragraph's ``w:pPr``, added if missing (``CT_P.get_or_add_pPr``)."""
    return paragraph._p.get_or_add_pPr()


def style_paragraph_properties(style: Any) -> Any:
    """A paragraph style's ``w:pPr``, added if missing (``CT_Style.get_or_add_pPr``)."""
    return style.element.get_or_add_pPr()


def paragraph_properties_if_any(paragraph: Paragraph) -> Any:
    """A paragraph's ``w:pPr``, or None (``CT_P.pPr``)."""
    return paragraph._p.pPr


def run_properties(run: Run) -> Any:
    """A run's ``w:rPr``, added if missing (``CT_R.get_or_add_rPr``)."""
    return run._r.get_or_add_rPr()


def run_fonts(run: Run) -> Any:
    """A run's ``w:rFonts``, added if missing (``CT_RPr.get_or_add_rFonts``)."""
    return run._r.get_or_add_rPr().get_or_add_rFonts()


def run_fonts_if_any(run: Run) -> Any:
    """A run's ``w:rFonts``, or None when the run has none (``CT_R.rPr.rFonts``)."""
    rpr = run._r.rPr
    return rpr.rFonts if rpr is not None else None


def table_properties(table: Table) -> Any:
    """A table's ``w:tblPr`` (``CT_Tbl.tblPr``; python-docx always writes one)."""
    return table._tbl.tblPr


def table_grid(table: Table) -> Any:
    """A table's ``w:tblGrid`` (``CT_Tbl.tblGrid``)."""
    return table._tbl.tblGrid


def row_properties(row: Any) -> Any:
    """A row's ``w:trPr``, added if missing (``_Row._tr.get_or_add_trPr``)."""
    return row._tr.get_or_add_trPr()


def cell_properties(cell: _Cell) -> Any:
    """A cell's ``w:tcPr``, added if missing (``CT_Tc.get_or_add_tcPr``)."""
    return cell._tc.get_or_add_tcPr()


# -- proxies over elements ---------------------------------------------------------------------

def paragraph_at(element: Any, parent: Any) -> Paragraph:
    """The ``Paragraph`` proxy of a ``w:p`` met while walking the XML."""
    return Paragraph(element, parent)


def run_at(element: Any, paragraph: Paragraph) -> Run:
    """The ``Run`` proxy of a ``w:r`` met while walking the XML."""
    return Run(element, paragraph)


def body_blocks(document: Any) -> Iterator[Paragraph | Table]:
    """The document body's paragraphs and tables, in the order they are written."""
    for child in document.element.body.iterchildren():
        if child.tag == _qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == _qn("w:tbl"):
            yield Table(child, document)
