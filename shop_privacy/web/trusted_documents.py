"""Trusted documents (persisted queries): the storefront's operations registered ahead of time.

The storefront's build writes a JSON object mapping each document's SHA-256 hash (hex, optionally
prefixed `sha256:`) to the document's text, the manifest format of GraphQL Code Generator's persisted
documents and of other clients. The file is named by `SHOP_PRIVACY_TRUSTED_DOCUMENTS_FILE` and read
once at start-up; every entry is checked against its hash, so a stale or edited manifest stops the start.

A request may then carry, instead of the text (the GraphQL-over-HTTP ecosystem's conventions):
- `"documentId": "sha256:<hex>"` (or the bare hex), or
- `"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}` (Apollo's convention);
an unknown hash answers PERSISTED_QUERY_NOT_FOUND. With `SHOP_PRIVACY_TRUSTED_DOCUMENTS_ONLY` every
operation whose document is not in the manifest, sent as text or by hash, answers UNTRUSTED_DOCUMENT.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings import ENV_PREFIX, Settings, SettingsError

_HEX = re.compile(r"[0-9a-f]{64}")
_PREFIX = "sha256:"
_FILE_VARIABLE = f"{ENV_PREFIX}TRUSTED_DOCUMENTS_FILE"


class DocumentRefused(Exception):
    """The request's document is unknown or not trusted: answered as a GraphQL error with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bare(identifier: object) -> str | None:
    """The hex hash of a document id (`sha256:<hex>` or `<hex>`), or None if it is not one."""
    if not isinstance(identifier, str):
        return None
    bare = identifier.removeprefix(_PREFIX).lower()
    return bare if _HEX.fullmatch(bare) else None


@dataclass(frozen=True)
class TrustedDocuments:
    documents: Mapping[str, str]  # hex hash -> text
    only: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustedDocuments:
        if settings.trusted_documents_file is None:
            if settings.trusted_documents_only:
                raise SettingsError.of([(_FILE_VARIABLE, "must name the trusted documents file when "
                                                         f"{ENV_PREFIX}TRUSTED_DOCUMENTS_ONLY is on")])
            return cls({})
        return cls(read_manifest(settings.trusted_documents_file), settings.trusted_documents_only)

    def text_of(self, identifier: object) -> str:
        bare = _bare(identifier)
        text = self.documents.get(bare) if bare is not None else None
        if text is None:
            raise DocumentRefused("PERSISTED_QUERY_NOT_FOUND",
                                  "No trusted document has this id: send the document's text, or register it.")
        return text

    def check(self, text: str) -> None:
        """Refuses a document sent as text when only trusted ones are served."""
        if self.only and document_hash(text) not in self.documents:
            raise DocumentRefused("UNTRUSTED_DOCUMENT", "This server only runs the storefront's registered "
                                                        "operations; this document is not one of them.")

    def resolve(self, body: Mapping[str, Any], query: str | None) -> str | None:
        """The document text a request stands for: by its id or persisted-query hash, else its own text."""
        extensions = body.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        identifier = body.get("documentId")
        if identifier is None and isinstance(persisted, Mapping):
            identifier = persisted.get("sha256Hash")
        if identifier is not None:
            text = self.text_of(identifier)
            if query is not None and query != text:
                raise DocumentRefused("BAD_REQUEST", "The document's text does not match its id.")
            return text
        if query is not None:
            self.check(query)
        return query


def read_manifest(path: Path) -> dict[str, str]:
    """hash -> text from the storefront build's manifest; SettingsError for anything else."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError):
        raise SettingsError.of([(_FILE_VARIABLE, "must name a readable JSON file")]) from None
    if not isinstance(raw, dict):
        raise SettingsError.of([(_FILE_VARIABLE, "must hold a JSON object of document hash to document text")])
    documents: dict[str, str] = {}
    for key, text in raw.items():
        bare = _bare(key)
        if bare is None or not isinstance(text, str) or document_hash(text) != bare:
            # The key is a hash, not personal data, and names the entry the build has to fix.
            raise SettingsError.of([(_FILE_VARIABLE, f"entry {str(key)[:80]!r} is not the SHA-256 of its document")])
        documents[bare] = text
    return documents
