"""The SDL of both schemas, as checked in at the repository's root (`schema.graphql`, `admin.graphql`)."""

from __future__ import annotations

from pathlib import Path

from ..settings import Settings
from .admin_schema import admin_schema
from .storefront import storefront_schema

FILES = {"schema.graphql": storefront_schema, "admin.graphql": admin_schema}


def sdl(name: str) -> str:
    return FILES[name](Settings()).as_str() + "\n"


def write(directory: Path) -> list[Path]:
    written = []
    for name in FILES:
        path = directory / name
        path.write_text(sdl(name), encoding="utf-8")
        written.append(path)
    return written
