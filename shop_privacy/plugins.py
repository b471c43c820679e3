"""The plugin API: a shop adds its own personal data, declared like the package's, and it is part of
every export and erasure by construction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import MetaData

from .disclosures.outbox import RecipientAdapter
from .privacy.recipients import Recipient
from .rights.export_model import Exporter
from .rights.subject_map import Resolver


@dataclass(frozen=True)
class Plugin:
    name: str
    # The plugin's own tables (and its own migrations), each column declared with
    # `shop_privacy.storage.columns` as the package's are; a personal table links to its subject.
    metadata: MetaData | None = None
    # For a table keyed otherwise than by the customer's id: how to find a customer's rows.
    resolvers: Mapping[str, Resolver] = field(default_factory=dict)
    # Personal data kept outside the database (another system, files): a section of the export.
    exporters: Sequence[Exporter] = ()
    # More recipients, declared like the package's, and the adapters that deliver to recipients.
    recipients: Sequence[Recipient] = ()
    adapters: Mapping[str, RecipientAdapter] = field(default_factory=dict)
