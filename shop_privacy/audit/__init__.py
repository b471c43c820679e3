"""Accountability: the tamper-evident log of staff reads of personal data."""
