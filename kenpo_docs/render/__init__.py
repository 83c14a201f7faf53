"""Rendering: Jinja2 (sandboxed, strict, autoescaped) → WeasyPrint PDF / HTML, docxtpl DOCX.

Modules by concept: ``options`` (the run's settings), ``environment`` (Jinja and its era
filters), ``fetcher`` (the only files WeasyPrint may read), ``pdf`` (WeasyPrint, fonts,
reproducible bytes), ``docx`` (docxtpl), ``twin`` (the Word twin of a laid-out HTML
document) and ``docxstyle`` (the house Word styles every DOCX uses).
"""

from __future__ import annotations

from kenpo_docs.render.docx import docx_variables, render_docx
from kenpo_docs.render.environment import make_environment
from kenpo_docs.render.fetcher import FetchRefused, SafeFetcher
from kenpo_docs.render.options import RenderOptions
from kenpo_docs.render.pdf import (
    font_face_css,
    render_document,
    render_html,
    render_pdf,
    write_pdf,
)
from kenpo_docs.render.twin import render_docx_twin

__all__ = [
    "FetchRefused",
    "RenderOptions",
    "SafeFetcher",
    "docx_variables",
    "font_face_css",
    "make_environment",
    "render_document",
    "render_docx",
    "render_docx_twin",
    "render_html",
    "render_pdf",
    "write_pdf",
]
