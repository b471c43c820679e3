"""Restriction of processing (GDPR Art. 18) and objections to it (Art. 21)."""
