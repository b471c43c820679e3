"""Consent: an append-only record per customer and purpose; the newest row is the live state."""
