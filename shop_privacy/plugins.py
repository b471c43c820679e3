"""The plugin API: a shop adds its own personal data, declared like the package's, and it is part of
every export and erasure by construction."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData

from .disclosures.outbox import RecipientAdapter
from .privacy.purposes import Purpose
from .privacy.recipients import Recipient
from .privacy.retention import RetentionRule
from .rights.export_model import Exporter
from .rights.subject_map import Resolver

if TYPE_CHECKING:
    from .retention.sweep import Step

# A plugin's name becomes part of its Alembic version table's name: an SQL identifier, kept simple.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Plugin:
    name: str
    # The plugin's own tables (and its own migrations), each column declared with
    # `shop_privacy.storage.columns` as the package's are; a personal table links to its subject.
    metadata: MetaData | None = None
    # The folder of the plugin's own Alembic revision scripts; `shop-privacy db upgrade` runs them after
    # the package's, recorded in their own version table (`alembic_version_<name>`).
    migrations: Path | None = None
    # For a table keyed otherwise than by the customer's id: how to find a customer's rows.
    resolvers: Mapping[str, Resolver] = field(default_factory=dict)
    # Personal data kept outside the database (another system, files): a section of the export.
    exporters: Sequence[Exporter] = ()
    # More recipients, declared like the package's, and the adapters that deliver to recipients.
    recipients: Sequence[Recipient] = ()
    adapters: Mapping[str, RecipientAdapter] = field(default_factory=dict)
    # The shop's own vocabulary, added to the package's (see `shop_privacy.privacy.vocabulary`):
    # data categories (dotted key -> English description), purposes and retention rules.
    categories: Mapping[str, str] = field(default_factory=dict)
    purposes: Sequence[Purpose] = ()
    retention_rules: Sequence[RetentionRule] = ()
    # Deprecated: declare the rule on the table instead (`__table_args__ = swept(sweep(...))`, see
    # `shop_privacy.storage.columns`), and the sweep derives the step. Steps given here still run.
    retention_steps: Sequence[Step] = ()

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"plugin name {self.name!r}: use lower-case letters, digits and _ "
                             "(at most 40, starting with a letter)")
        if self.retention_steps:
            warnings.warn(f"plugin {self.name!r}: Plugin.retention_steps is deprecated; declare the retention rule "
                          "on the table with swept(sweep(...)) and the sweep derives the step",
                          DeprecationWarning, stacklevel=3)

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self.metadata.tables) if self.metadata is not None else ()
