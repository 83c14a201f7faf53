"""Mailings: plan a batch from a roster, render one PDF per envelope, print files, manifest."""

from __future__ import annotations

from kenpo_docs.documents.letters import LETTERS, Envelope, LetterSpec, get_letter, load_envelope
from kenpo_docs.mailing.letter_docx import render_letter_docx
from kenpo_docs.mailing.run import MANIFEST_COLUMNS, MergeOptions, MergeResult, merge
from kenpo_docs.mailing.plan import BatchPlan, PiecePlan, RowOutcome, plan_batch
from kenpo_docs.tracking.postal import PostageTable, load_postage, postal_report
from kenpo_docs.tracking.db import (
    RETURN_REASONS,
    STATUSES,
    MarkResult,
    TrackReport,
    record_batch,
)

__all__ = [
    "LETTERS",
    "MANIFEST_COLUMNS",
    "RETURN_REASONS",
    "STATUSES",
    "BatchPlan",
    "Envelope",
    "LetterSpec",
    "MarkResult",
    "MergeOptions",
    "MergeResult",
    "PiecePlan",
    "PostageTable",
    "RowOutcome",
    "TrackReport",
    "get_letter",
    "load_envelope",
    "load_postage",
    "merge",
    "plan_batch",
    "postal_report",
    "record_batch",
    "render_letter_docx",
]
