"""Tracking: the database of batches and pieces, their events, and the reports on them.

Imports run one way: ``db`` (schema, connections) and ``postage`` (the rate table) at the
bottom; ``record`` (the merge writes a batch), ``events`` (status changes) and ``reports``
(reading back) on them; ``postal`` (the post-office form) on ``reports`` and ``postage``.
"""
