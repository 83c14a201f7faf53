"""Publish: single documents for staff (a notice, a form, a notice with its 別添) as files."""
