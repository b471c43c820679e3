"""The `shop-privacy` command: `serve --demo` on a fresh SQLite file, and `db upgrade`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from shop_privacy.storage.migrate import current_revisions

from .servers import free_port, wait_until_serving

CATALOGUE = "{ products(first: 20) { edges { node { sku kind unitPrice { gross { currency } } } } } }"


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SHOP_PRIVACY_")}


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.policy("P12")
def test_p12_serve_demo_starts_on_a_fresh_sqlite_file_and_answers_a_catalogue_query(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "shop_privacy.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    started: list[str] = []
    try:
        assert process.stdout is not None
        started = wait_until_serving(process.stdout)
        answer = _post(f"http://127.0.0.1:{port}/graphql", CATALOGUE)
        products = [edge["node"] for edge in answer["data"]["products"]["edges"]]
        assert {p["kind"] for p in products} == {"DOMAIN", "HOSTING", "SSL", "EMAIL"}
        assert {p["sku"] for p in products} >= {"DOMAIN-SE", "DOMAIN-COM", "DOMAIN-NU"}
        assert all(p["unitPrice"]["gross"]["currency"] == "SEK" for p in products)
        assert (tmp_path / "shop_privacy.db").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/account/", timeout=5) as pages:
            assert pages.status == 200 and b"static/app.js" in pages.read()  # the reference account pages
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "demo@example.se" in "".join(started) + output
    # With no storefront of its own, the demo's mail links land on the account pages.
    assert (f"Account pages: http://127.0.0.1:{port}/account/ (mail links go to http://127.0.0.1:{port}/account)"
            in "".join(started) + output)


def test_db_upgrade_creates_the_schema_at_head(tmp_path: Path) -> None:
    env = {**_clean_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    current, heads = current_revisions(env["DATABASE_URL"])
    assert current == heads and heads
    status = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "db", "current"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert "up to date" in status.stdout


def test_production_configuration_errors_are_reported_not_raised(tmp_path: Path) -> None:
    env = {**_clean_env(), "SHOP_PRIVACY_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "db", "current"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.policy("P14")
def test_p14_staff_create_makes_a_staff_user_with_a_role(database_url: str) -> None:
    import asyncio

    from sqlmodel import select

    from shop_privacy.storage.database import Database
    from shop_privacy.storage.tables import StaffUser

    env = {**_clean_env(), "DATABASE_URL": database_url, "SHOP_PRIVACY_PASSWORD_MEMORY_KIB": "19456",
           "SHOP_PRIVACY_PASSWORD_TIME_COST": "2", "SHOP_PRIVACY_PASSWORD_PARALLELISM": "1"}
    command = [sys.executable, "-m", "shop_privacy.cli", "staff", "create", "--email", "Dpo@Shop.Example",
               "--name", "Dana Dataskydd", "--role", "dpo", "--password-stdin"]
    created = subprocess.run(command, input="Ett-Långt-Lösenord-2026\n", env=env, capture_output=True,
                             text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    again = subprocess.run(command, input="Ett-Långt-Lösenord-2026\n", env=env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode != 0 and "exists" in again.stderr
    weak = subprocess.run([*command[:6], "other@shop.example", *command[7:]], input="password\n", env=env,
                          capture_output=True, text=True, timeout=120)
    assert weak.returncode != 0 and "password" in weak.stderr.lower() and "Traceback" not in weak.stderr

    async def stored() -> list[tuple[str, str]]:
        db = Database(database_url)
        async with db.reader() as session:
            rows = [(s.email, s.role) for s in (await session.exec(select(StaffUser))).all()]
        await db.dispose()
        return rows

    assert asyncio.run(stored()) == [("dpo@shop.example", "dpo")]
