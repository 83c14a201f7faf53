"""Shapes: pages printed as a shared background plus the values drawn at their slots."""
