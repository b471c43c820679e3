"""Disclosures to recipients outside the shop, only through `disclose`, and the outbox that carries them."""
