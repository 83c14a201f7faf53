"""Mailings: plan a batch from a roster, render one PDF per envelope, print files, manifest."""

from __future__ import annotations

from kenpo_docs.documents.letters import LETTERS, Envelope, LetterSpec, get_letter, load_envelope
from kenpo_docs.mailing.letter_docx import render_letter_docx
from kenpo_docs.mailing.plan import BatchPlan, PiecePlan, RowOutcome, plan_batch
from kenpo_docs.mailing.run import MANIFEST_COLUMNS, MergeOptions, MergeResult, merge

__all__ = [
    "LETTERS",
    "MANIFEST_COLUMNS",
    "BatchPlan",
    "Envelope",
    "LetterSpec",
    "MergeOptions",
    "MergeResult",
    "PiecePlan",
    "RowOutcome",
    "get_letter",
    "load_envelope",
    "merge",
    "plan_batch",
    "render_letter_docx",
]
