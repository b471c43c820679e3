"""The export of everything held about a customer (P22, P26): a ZIP with `data.json` (versioned,
validated by `export-v1.schema.json`) and `index.html` (the same, for a person, in their language).

Complete by construction: the sections are every table the subject map finds, column by column as
declared, plus any exporter a plugin registers. Streamed: rows are read in batches and written into
the ZIP as they come, so a customer with tens of thousands of orders needs no more memory than one.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Uuid
from sqlmodel import col, select

from ..privacy.retention import RETENTION_RULES, FiscalYear, RetentionRule, erase_on
from ..settings import Settings
from ..storage.columns import WITHHELD_FROM_SUBJECT
from ..storage.database import Database
from ..storage.tables import Customer, Disclosure
from ..storage.tables.disclosures import withheld_from_subject
from ..storage.types import dashed, utc_now
from . import export_html
from .compressed_spool import CompressedSpool
from .export_model import (
    FORMAT,
    SECTION_LABELS,
    VERSION,
    CategorySummary,
    ExportColumn,
    Exporter,
    ExportRow,
    Section,
    rights_json,
    section_label,
)
from .subject_map import Subject, SubjectMap, SubjectTable

_BATCH = 500
_BLOCK = 64 * 1024  # bytes handed to the ZIP at a time


def _json(value: Any) -> bytes:
    # Keys may be `str` subclasses (SQLAlchemy's column names, a plugin's): orjson takes only exact `str` keys
    # unless told otherwise.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream the ZIP writes into; its bytes are handed on as they come."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class DataExport:
    def __init__(self, db: Database, settings: Settings, subject_map: SubjectMap,
                 exporters: Sequence[Exporter] = ()) -> None:
        self._db = db
        self._settings = settings
        self._map = subject_map
        self._exporters = list(exporters)

    async def subject(self, customer_id: Any) -> Subject | None:
        async with self._db.read() as session:
            customer = await session.get(Customer, customer_id)
        if customer is None:
            return None
        return Subject.of(customer)

    def sections(self, subject: Subject, now: datetime) -> list[Section]:
        order = list(SECTION_LABELS)
        tables = sorted((entry for entry in self._map.tables if entry.personal),
                        key=lambda entry: order.index(entry.name) if entry.name in order else len(order))
        sections = [self._table_section(entry, subject, now) for entry in tables]
        for exporter in self._exporters:
            sections.append(Section(f"plugin:{exporter.name}", exporter.label, exporter.columns,
                                    self._plugin_rows(exporter, subject)))
        return sections

    def _table_section(self, entry: SubjectTable, subject: Subject, now: datetime) -> Section:
        columns = tuple(ExportColumn(column.name, declaration) for column, declaration in entry.personal)
        label = section_label(entry.name, entry.table.info)
        rules = [RETENTION_RULES[r] for r in sorted({d.retention for _, d in entry.personal}) if r in RETENTION_RULES]
        parent_column = entry.parent[0].name if entry.parent else None
        key_column = entry.primary_key.name
        uuids = {c.name for c in entry.table.c if isinstance(c.type, Uuid)}
        # Decided once per section, not per value: how each column's values are written (ids are read as
        # text: no UUID object per value).
        converters = [(c.name, dashed if c.name in uuids and not c.secret else c.converter()) for c in columns]
        key_text = dashed if key_column in uuids else str
        parent_text = dashed if parent_column in uuids else str
        anchors = {"placed_at" if r.anchor == "end_of_fiscal_year" else r.anchor for r in rules}
        fiscal_year = FiscalYear(self._settings.fiscal_year_start_month)
        wanted = list(dict.fromkeys([key_column, *([parent_column] if parent_column else []),
                                     *(c.name for c in columns), *(a for a in anchors if a in entry.table.c)]))

        async def rows() -> AsyncIterator[ExportRow]:
            subject_anchors: dict[str, Any] = {"last_activity": subject.last_activity}
            # Many rows share an anchor (an order's lines, a day's orders): each day is worked out once.
            erase_days: dict[tuple[str, Any], str | None] = {}

            def erase_day(rule: RetentionRule, row: Any) -> str | None:
                anchor = _anchors(rule, row, subject_anchors)
                key = (rule.key, *anchor.values())
                if key not in erase_days:
                    erase_days[key] = _iso(erase_on(rule, anchor, fiscal_year))
                return erase_days[key]

            async with self._db.read() as session:
                query = self._map.rows(entry, subject, wanted, uuids_as_text=True)
                withheld = entry.table.info.get(WITHHELD_FROM_SUBJECT)
                if withheld is not None:
                    query = query.where(~withheld(entry.table, now))
                query = query.execution_options(yield_per=_BATCH)
                result = await session.stream(query)
                # Whole batches at a time: one hop into the database driver per batch, not per row.
                async for batch in result.mappings().partitions(_BATCH):
                    for row in batch:
                        yield ExportRow(
                            id=key_text(row[key_column]),
                            parent=parent_text(row[parent_column]) if parent_column else None,
                            values={name: convert(row[name]) for name, convert in converters},
                            erase_on={rule.key: erase_day(rule, row) for rule in rules},
                        )

        return Section(entry.name, label, columns, rows)

    def _plugin_rows(self, exporter: Exporter, subject: Subject) -> Any:
        async def rows() -> AsyncIterator[ExportRow]:
            async with self._db.read() as session:
                async for row in exporter.rows(session, subject):
                    yield row

        return rows

    async def disclosures(self, subject: Subject, now: datetime) -> list[Disclosure]:
        """What went to whom, and each notice that followed; a disclosure still confidential is left out (P20)."""
        table = Disclosure.__table__  # type: ignore[attr-defined]
        async with self._db.read() as session:
            query = select(Disclosure).where(Disclosure.customer_id == subject.id,
                                             ~withheld_from_subject(table, now))
            return list((await session.exec(query.order_by(col(Disclosure.disclosed_at), col(Disclosure.id)))).all())

    async def any_withheld(self, subject: Subject, now: datetime) -> bool:
        """Whether a disclosure is kept from the customer right now: then the export must not say that
        nothing went out (it did), nor say what did (P20)."""
        table = Disclosure.__table__  # type: ignore[attr-defined]
        async with self._db.read() as session:
            query = select(Disclosure.id).where(Disclosure.customer_id == subject.id,
                                                withheld_from_subject(table, now)).limit(1)
            return (await session.exec(query)).first() is not None

    def meta(self, subject: Subject, generated_at: datetime) -> dict[str, Any]:
        settings = self._settings
        return {
            "format": FORMAT,
            "version": VERSION,
            "generatedAt": generated_at.isoformat(),
            "language": subject.language,
            "controller": {"name": settings.controller_name, "dpoEmail": settings.dpo_email,
                           "supervisoryAuthority": settings.supervisory_authority},
            "subject": {"id": str(subject.id)},
            "rights": rights_json(dpo=settings.dpo_email, authority=settings.supervisory_authority),
        }

    async def _json_chunks(self, subject: Subject, sections: Sequence[Section], summaries: dict[str, CategorySummary],
                           recipients: list[dict[str, Any]], generated_at: datetime, html: CompressedSpool,
                           language: str) -> AsyncIterator[bytes]:
        """data.json, piece by piece, reading each row once: on the way it fills `summaries` and writes the
        HTML's tables into `html` (the HTML puts the summary first, so it is written afterwards)."""
        meta = self.meta(subject, generated_at)
        yield _json(meta)[:-1] + b',"sections":['
        for index, section in enumerate(sections):
            for column in section.columns:
                for category in column.declaration.categories:
                    summaries.setdefault(category, CategorySummary(category)).note_column(column.declaration)
            head = {"name": section.name, "label": dict(section.label),
                    "columns": [_column_json(c) for c in section.columns]}
            yield (b"," if index else b"") + _json(head)[:-1] + b',"rows":['
            html.write(export_html.section_start(section, language))
            write_row = export_html.row_writer(section, language)
            separator = b""
            groups = _erasure_groups(summaries, section)
            async for row in section.rows():
                _note_erasure(groups, row)
                yield separator + _json(
                    {"id": row.id, "parent": row.parent, "values": row.values, "eraseOn": row.erase_on})
                html.write(write_row(row))
                separator = b","
            yield b"]}"
            html.write(export_html.section_end(section, language, empty=not separator))
        categories = [summaries[key].as_json() for key in sorted(summaries)]
        yield b'],"categories":' + _json(categories) + b',"recipients":' + _json(recipients) + b"}"

    async def _html_head(self, subject: Subject, sections: Sequence[Section], summaries: dict[str, CategorySummary],
                         recipients: list[dict[str, Any]], generated_at: datetime, language: str) -> str:
        """index.html up to its tables: the contents, the summary of every category, the rights."""
        meta = self.meta(subject, generated_at)
        withheld = not recipients and await self.any_withheld(subject, generated_at)
        return (export_html.document_start(meta, sections, language)
                + export_html.summary(list(summaries.values()), recipients, language, withheld=withheld)
                + export_html.rights(meta, language))

    async def zip_stream(self, subject: Subject, now: datetime | None = None) -> AsyncIterator[bytes]:
        """The export package, as bytes to send while it is written (as of `now`, by default the moment)."""
        generated_at = now or utc_now()
        language = subject.language if subject.language in {"sv", "en"} else "en"
        sections = self.sections(subject, generated_at)
        summaries: dict[str, CategorySummary] = {}
        recipients = [disclosure_json(d) for d in await self.disclosures(subject, generated_at)]
        tables = CompressedSpool()
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            with archive.open("data.json", "w", force_zip64=True) as entry:
                buffered: list[bytes] = []
                size = 0
                async for chunk in self._json_chunks(subject, sections, summaries, recipients, generated_at, tables,
                                                     language):
                    buffered.append(chunk)
                    size += len(chunk)
                    if size >= _BLOCK:
                        entry.write(b"".join(buffered))
                        buffered, size = [], 0
                        if data := sink.drain():
                            yield data
                entry.write(b"".join(buffered))
            yield sink.drain()
            with archive.open("index.html", "w", force_zip64=True) as entry:
                entry.write((await self._html_head(subject, sections, summaries, recipients, generated_at,
                                                   language)).encode())
                for block in tables.read():
                    entry.write(block)
                    if data := sink.drain():
                        yield data
                entry.write(export_html.document_end(language).encode())
            yield sink.drain()
        yield sink.drain()


def _anchors(rule: Any, row: Any, subject_anchors: dict[str, Any]) -> dict[str, Any]:
    anchor = "placed_at" if rule.anchor == "end_of_fiscal_year" else rule.anchor
    return {anchor: row[anchor] if anchor in row else subject_anchors.get(anchor)}


def disclosure_json(disclosure: Disclosure) -> dict[str, Any]:
    return {"recipient": disclosure.recipient, "kind": disclosure.kind,
            "categories": disclosure.categories.split(",") if disclosure.categories else [],
            "fields": disclosure.fields.split(",") if disclosure.fields else [], "purpose": disclosure.purpose,
            "legalBasis": disclosure.legal_basis, "disclosedAt": disclosure.disclosed_at.isoformat(),
            "reference": disclosure.reference}


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def _column_json(column: ExportColumn) -> dict[str, Any]:
    declaration = column.declaration
    return {"name": column.name, "label": {"en": declaration.label_en, "sv": declaration.label_sv},
            "categories": list(declaration.categories), "purposes": list(declaration.purposes),
            "retention": declaration.retention, "source": declaration.source}


def _erasure_groups(summaries: dict[str, CategorySummary],
                    section: Section) -> list[tuple[str, list[str], list[CategorySummary]]]:
    """Per retention rule of a section: its columns, and the summaries of their categories."""
    groups: dict[str, tuple[list[str], list[CategorySummary]]] = {}
    for column in section.columns:
        names, targets = groups.setdefault(column.declaration.retention, ([], []))
        names.append(column.name)
        targets.extend(summaries[c] for c in column.declaration.categories if summaries[c] not in targets)
    return [(rule, names, targets) for rule, (names, targets) in groups.items()]


def _note_erasure(groups: list[tuple[str, list[str], list[CategorySummary]]], row: ExportRow) -> None:
    """Each category's latest erasure day, from the rows that hold a value of it."""
    values = row.values
    for rule, names, targets in groups:
        if any(values.get(name) is not None for name in names):
            day = row.erase_on.get(rule)
            for summary in targets:
                summary.note_erase_on(day)
