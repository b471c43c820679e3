"""Test fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), created by
the migrations, an app per test, an HTTP client, and the development mail outbox."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette

from shop_privacy.app import create_app
from shop_privacy.services import Services, build_services
from shop_privacy.settings import Settings
from shop_privacy.storage.database import Database
from shop_privacy.storage.migrate import upgrade
from shop_privacy.storage.urls import DatabaseURL

from .helpers import Outbox, StorefrontClient, random_email

pytest_plugins = ["anyio"]

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgres") else None


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: a template SQLite file, or the PostgreSQL test database."""
    postgres = _postgres_url()
    if postgres:
        engine = create_engine(DatabaseURL.parse(postgres).sync_url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            message = f"PostgreSQL at TEST_DATABASE_URL is unreachable: {type(error).__name__}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        finally:
            engine.dispose()
        _drop_everything(postgres)
        upgrade(postgres)
        yield postgres
        return
    template = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{template}")
    yield str(template)


def _drop_everything(url: str) -> None:
    engine = create_engine(DatabaseURL.parse(url).sync_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if database_template.startswith("postgres"):
        engine = create_engine(DatabaseURL.parse(database_template).sync_url)
        with engine.begin() as connection:
            # Plugins record their migrations in version tables of their own (alembic_version_<plugin>).
            tables = [t for t in inspect(connection).get_table_names() if not t.startswith("alembic_version")]
            # The access log refuses TRUNCATE by trigger; between tests, triggers are switched off.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return database_template
    copy = tmp_path / "test.db"
    shutil.copyfile(database_template, copy)
    return f"sqlite:///{copy}"


# What `create_app` in production needs besides the defaults (see shop_privacy/deploy_checks.py): spread it
# into `make_settings`/`client_with` for a production app. SQLite is allowed so that it runs on both databases.
PRODUCTION_READY: dict[str, object] = {
    "environment": "production",
    "secret_key": "q3Vx9-ZpT7mL2cRk8YwN4bHs6JdF1aGe5Uo0iQtXvB",
    "smtp_url": "smtp://mailer:password@mail.butik-test.se:587",
    "storefront_url": "https://www.butik-test.se",
    "api_url": "https://api.butik-test.se",
    "controller_name": "Butik Test AB",
    "dpo_email": "dpo@butik-test.se",
    "mail_from": "no-reply@butik-test.se",
    "allow_sqlite_in_production": True,
    # Only written by `audit checkpoint` and the retention run, which these tests do not run in production.
    "audit_checkpoint_file": str(Path(tempfile.gettempdir()) / "shop-privacy-tests" / "access-log-checkpoints.jsonl"),
}


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "mail_outbox_dir": tmp_path / "outbox",
        "storefront_url": "https://shop.example",
        # OWASP's minimum: the cheapest parameters the settings accept.
        "password_time_cost": 2,
        "password_memory_kib": 19456,
        "password_parallelism": 1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def command_environment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        vocabulary: None) -> dict[str, str]:
    """The environment a `shop-privacy` command reads its settings from, as on the shop's server
    (for `cli.main([...])` in the test's process; also returned, for a subprocess). The vocabulary a
    shop's plugins add while the command runs in this process is gone after the test."""
    for variable in [v for v in os.environ if v.startswith("SHOP_PRIVACY_")]:
        monkeypatch.delenv(variable)
    values = {"DATABASE_URL": database_url, "SHOP_PRIVACY_SECRET_KEY": TEST_SECRET,
              "SHOP_PRIVACY_PASSWORD_TIME_COST": "2", "SHOP_PRIVACY_PASSWORD_MEMORY_KIB": "19456",
              "SHOP_PRIVACY_PASSWORD_PARALLELISM": "1", "SHOP_PRIVACY_MAIL_OUTBOX_DIR": str(tmp_path / "mail"),
              "SHOP_PRIVACY_RECIPIENT_OUTBOX_DIR": str(tmp_path / "recipients")}
    for variable, value in values.items():
        monkeypatch.setenv(variable, value)
    return {**os.environ}


@pytest.fixture
def vocabulary() -> Iterator[None]:
    """The registries as they were: a plugin's categories, purposes and rules stay in the test that added them."""
    from shop_privacy.privacy import purposes, retention, taxonomy

    saved = [(registry, dict(registry)) for registry in (taxonomy.CATEGORIES, purposes.PURPOSES,
                                                         retention.RETENTION_RULES)]
    yield
    for registry, before in saved:
        registry.clear()  # type: ignore[attr-defined]  (the registries are dicts)
        registry.update(before)  # type: ignore[attr-defined]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = build_services(settings, db=Database(settings.database_url))
    yield built
    await built.close()


@pytest.fixture
async def app(settings: Settings, services: Services) -> AsyncIterator[Starlette]:
    application = create_app(settings, services=services)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def outbox(settings: Settings, services: Services) -> Outbox:
    return Outbox(settings.mail_outbox_dir, services.mailer)


@asynccontextmanager
async def client_with(database_url: str, tmp_path: Path, *, base_url: str = "http://testserver",
                      **overrides: object) -> AsyncIterator[StorefrontClient]:
    """A client of an app started with other settings than the default fixture's."""
    settings = make_settings(database_url, tmp_path, **overrides)
    services = build_services(settings)
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        client = client_for(app, base_url=base_url)
        yield client
        await client.http.aclose()
    await services.close()


def client_for(app: Starlette, ip: str = "203.0.113.7", base_url: str = "http://testserver") -> StorefrontClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 51234))
    return StorefrontClient(httpx.AsyncClient(transport=transport, base_url=base_url))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[StorefrontClient]:
    storefront = client_for(app)
    yield storefront
    await storefront.http.aclose()


@pytest.fixture
def unique_email() -> str:
    return random_email()


@pytest.fixture
async def catalogue(services: Services) -> dict[str, uuid.UUID]:
    """The demo catalogue, by SKU."""
    from sqlmodel import select

    from shop_privacy.catalogue.demo import seed_catalogue
    from shop_privacy.storage.tables import Product

    async with services.db.transaction() as session:
        await seed_catalogue(session)
        return {product.sku: product.id for product in (await session.exec(select(Product))).all()}
