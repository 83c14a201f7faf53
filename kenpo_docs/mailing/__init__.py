"""Mailings: plan a batch from a roster, render one PDF per envelope, print files, manifest.

The path of a batch, module by module: ``plan`` (every row's fate, the pieces and their ids)
→ ``window`` (does the address fit the envelope window) → ``enclosures`` (what goes in besides
the letter) → ``chunk`` (a chunk of pieces rendered and written, in a worker process) →
``printfiles`` and ``covers`` (print-ready files per route) → ``manifest`` → ``run``
(``merge`` with its ``options``: drives the stages through the ``executor``'s worker
processes and records the batch in :mod:`kenpo_docs.tracking`) →
``protect`` (encryption of a finished batch). ``letter_docx`` writes one letter as Word.
"""
