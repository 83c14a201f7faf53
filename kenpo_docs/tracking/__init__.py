"""Tracking: the database of batches and pieces, their events, and the reports on them."""
