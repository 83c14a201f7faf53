"""Tracking: the database of batches and pieces, their events, and the reports on them.

Imports run one way: ``db`` (schema, connections) and ``postage`` (the rate table) at the
bottom; ``record`` (the merge writes a batch; it asks ``mailing.printfiles`` which print file
holds each piece), ``events`` (status changes), ``reports`` (reading back) and ``expected``
(what a print file should hold, for ``track verify``) on them; ``postal`` (the post-office
form) on ``reports`` and ``postage``.
"""
