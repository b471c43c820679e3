"""Database URLs: one setting, turned into the async (app) and sync (migrations, CLI) forms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url


@dataclass(frozen=True)
class DatabaseURL:
    url: URL

    @classmethod
    def parse(cls, raw: str) -> DatabaseURL:
        url = make_url(raw)
        backend = url.get_backend_name()
        if backend == "postgres":
            backend = "postgresql"
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
        return cls(url.set(drivername=backend))

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def async_url(self) -> URL:
        return self.url.set(drivername="sqlite+aiosqlite" if self.is_sqlite else "postgresql+psycopg")

    @property
    def sync_url(self) -> URL:
        return self.url.set(drivername="sqlite" if self.is_sqlite else "postgresql+psycopg")

    def __str__(self) -> str:
        return self.url.render_as_string(hide_password=True)
