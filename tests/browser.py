"""Browser tests' support: the shop under a real uvicorn server in a thread (its mails handed to the test
through a queue, so the test waits for a mail, never for a time), Debian's Chromium through Playwright,
axe-core from the npm registry (packed once into a cache folder kept out of git), and screenshots."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from shop_privacy.app import create_app
from shop_privacy.catalogue.demo import seed_catalogue
from shop_privacy.services import Services, build_services
from shop_privacy.settings import Settings

from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CACHE = ROOT / ".cache"  # kept out of git
SCREENSHOTS = ROOT / "test-screenshots"  # kept out of git: for a reviewer to look at
AXE_VERSION = "4"
T = TypeVar("T")


def browser_or_skip() -> Any:
    """Playwright and Chromium, or a skip (a failure on CI, where .ci/run installs both)."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing, sync_playwright = "the playwright package is not installed", None
    if missing is None and not CHROMIUM.exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    return sync_playwright


def axe_source() -> str:
    """axe-core's browser build, packed from the npm registry once (npm pack) and cached."""
    target = CACHE / "axe-core" / "axe.min.js"
    if not target.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed once to fetch axe-core (apt-get install npm)", pytrace=False)
        packs = CACHE / "npm-pack"
        packs.mkdir(parents=True, exist_ok=True)
        name = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=packs, check=True,
                              capture_output=True, text=True, timeout=300).stdout.strip().splitlines()[-1]
        with tarfile.open(packs / name) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(member.read())
    return target.read_text(encoding="utf-8")


class QueuedMail:
    """A mail backend that hands each mail to the test as it is sent."""

    def __init__(self) -> None:
        self.sent: queue.Queue[EmailMessage] = queue.Queue()

    def deliver(self, message: EmailMessage) -> None:
        self.sent.put(message)

    def next_link(self, kind: str, timeout: float = 30) -> str:
        """The link in the next mail of `kind` (other kinds are passed over)."""
        while True:
            message = self.sent.get(timeout=timeout)  # waits for the mail: no polling, no sleep
            if message["X-Shop-Mail-Kind"] == kind:
                body = message.get_body(("plain",))
                assert body is not None
                match = re.search(r"https?://\S+token=[A-Za-z0-9_\-.]+", body.get_content())
                assert match, body.get_content()
                return match.group(0)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started = started

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self._started.set()


@dataclass
class RunningShop:
    url: str
    settings: Settings
    mail: QueuedMail

    def page_url(self, page: str = "") -> str:
        return f"{self.url}/account/{page}"

    def call(self, work: Callable[[Services], Awaitable[T]]) -> T:
        """Runs `work` with services of its own on the server's database (set-up the pages do not cover)."""

        async def run() -> T:
            services = build_services(self.settings)
            try:
                return await work(services)
            finally:
                await services.close()

        # A thread of its own: Playwright's sync API keeps an event loop running in the test's thread.
        with ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, run()).result()


async def _seed(settings: Settings) -> None:
    services = build_services(settings)
    try:
        async with services.db.transaction() as session:
            await seed_catalogue(session)
        for role in ("accounting", "fulfilment"):
            await services.staff.create({"email": f"{role}@shop.example", "display_name": role, "role": role,
                                         "password": STAFF_PASSWORD})
    finally:
        await services.close()


STAFF_PASSWORD = "Personal-Lösen-För-Stab-7"


@pytest.fixture
def running_shop(database_url: str, tmp_path: Path) -> Iterator[RunningShop]:
    from .conftest import make_settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, tmp_path, storefront_url=f"{url}/account", api_url=url,
                             recipient_outbox_dir=tmp_path / "recipients")
    asyncio.run(_seed(settings))
    mail = QueuedMail()
    app = create_app(settings, mail_backend=mail)
    started = threading.Event()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"), started)
    thread = threading.Thread(target=server.run, name="account-pages-server", daemon=True)
    thread.start()
    assert started.wait(timeout=60), "the server did not start"
    try:
        yield RunningShop(url, settings, mail)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page: Any, axe: str, name: str) -> None:
    """axe-core's WCAG 2.1 A/AA rules find nothing on the page as it is now."""
    page.locator("html[data-ready]").wait_for(state="attached")  # rendered, banner included
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe)
    result = page.evaluate("""async () => (await axe.run(document, { runOnly: { type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })).violations
        .map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))""")
    assert result == [], f"{name}: {result}"
