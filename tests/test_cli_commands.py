"""The `shop-privacy` command itself: --app, one-line errors with stable exit statuses, --version, help on
every option, the staff commands without a terminal, and `serve --demo` on a real shop's database."""

from __future__ import annotations

import argparse
import asyncio
import io
import subprocess
import sys
from pathlib import Path

import pytest

from shop_privacy import cli
from shop_privacy.storage.database import Database

from .helpers import create_customer

STRONG = "Ett-Långt-Lösenord-2026"
OTHER_STRONG = "Ett-Annat-Långt-Lösen-2027"


def _parsers(parser: argparse.ArgumentParser, name: str = "shop-privacy") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += _parsers(sub, f"{name} {sub_name}")
    return found


def test_every_command_and_option_has_help_and_the_exit_statuses_are_documented(
    capsys: pytest.CaptureFixture[str]
) -> None:
    parsers = _parsers(cli.build_parser())
    assert {"shop-privacy staff list", "shop-privacy staff disable", "shop-privacy staff reset-password",
            "shop-privacy db revision"} <= {name for name, _ in parsers}
    undocumented = [f"{name} {action.option_strings or action.dest}" for name, parser in parsers
                    for action in parser._actions
                    if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert undocumented == []
    with pytest.raises(SystemExit) as shown:
        cli.main(["--help"])
    assert shown.value.code == 0
    help_text = capsys.readouterr().out
    assert all(f"  {status}  " in help_text for status in (0, 1, 2)) and "--app" in help_text
    with pytest.raises(SystemExit) as version:
        cli.main(["--version"])
    assert version.value.code == 0 and capsys.readouterr().out.startswith("shop-privacy ")
    with pytest.raises(SystemExit) as misused:
        cli.main(["staff", "fire"])
    assert misused.value.code == 2


@pytest.mark.parametrize(("app", "named"), [
    ("myshop", "is not 'module:attribute'"),
    ("tests.no_such_module:shop", "cannot import 'tests.no_such_module'"),
    ("tests.support_shop:no_such_shop", "has no attribute 'no_such_shop'"),
    ("tests.support_shop:not_a_shop", "is a int, not a shop_privacy.Shop"),
])
def test_a_bad_app_is_one_line_naming_the_problem_and_exit_status_2(
    app: str, named: str, command_environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--app", app, "ropa"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shop-privacy: --app: ") and named in lines[0], lines
    # --debug adds the traceback; the option is taken after the command as well.
    assert cli.main(["ropa", "--app", app, "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_the_app_may_be_a_factory_and_is_read_from_the_environment(
    command_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOP_PRIVACY_APP", "tests.support_shop:make_shop")
    assert cli.main(["ropa", "--format", "json"]) == 0
    assert "Exempel Helpdesk AB" in capsys.readouterr().out
    monkeypatch.setenv("SHOP_PRIVACY_APP", "")
    assert cli.main(["ropa", "--format", "json"]) == 0
    assert "Exempel Helpdesk AB" not in capsys.readouterr().out  # the package's defaults


def _staff(monkeypatch: pytest.MonkeyPatch, *arguments: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # no terminal
    return cli.main(["staff", *arguments])


@pytest.mark.policy("P14")
def test_p14_staff_list_disable_and_reset_password_work_without_a_terminal(
    command_environment: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    create = ["create", "--email", "Dpo@Shop.Example", "--name", "Dana", "--role", "dpo"]
    assert _staff(monkeypatch, *create) == 2
    assert "--password-stdin" in capsys.readouterr().err
    assert _staff(monkeypatch, *create, "--password-stdin", stdin=STRONG + "\n") == 0
    assert _staff(monkeypatch, *create, "--password-stdin", stdin=STRONG + "\n") == 1  # refused: taken
    assert capsys.readouterr().err.strip() == "shop-privacy: A staff user with that e-mail address exists."
    assert _staff(monkeypatch, "create", "--email", "sup@shop.example", "--name", "Sam", "--role", "support",
                  "--password-stdin", stdin=STRONG + "\n") == 0
    capsys.readouterr()

    assert _staff(monkeypatch, "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[1:] for line in listed[:-1]] == [["dpo@shop.example", "dpo", "active"],
                                                          ["sup@shop.example", "support", "active"]]

    assert _staff(monkeypatch, "reset-password", "--email", "sup@shop.example", "--password-stdin",
                  stdin="password\n") == 1
    assert "password" in capsys.readouterr().err.lower()
    assert _staff(monkeypatch, "reset-password", "--email", "SUP@shop.example", "--password-stdin",
                  stdin=OTHER_STRONG + "\n") == 0
    assert asyncio.run(_logs_in(database_url, "sup@shop.example", OTHER_STRONG))
    assert not asyncio.run(_logs_in(database_url, "sup@shop.example", STRONG))

    assert _staff(monkeypatch, "disable", "--email", "sup@shop.example") == 0
    assert not asyncio.run(_logs_in(database_url, "sup@shop.example", OTHER_STRONG))
    assert _staff(monkeypatch, "disable", "--email", "nobody@shop.example") == 1
    capsys.readouterr()
    assert _staff(monkeypatch, "list") == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1:] == ["sup@shop.example", "support", "disabled"]


async def _logs_in(database_url: str, email: str, password: str) -> bool:
    from shop_privacy.errors import ShopError
    from shop_privacy.shop import Shop

    services = Shop().services()
    try:
        await services.staff.login(email, password, client_ip=None)
        return True
    except ShopError:
        return False
    finally:
        await services.close()


@pytest.mark.policy("P12")
def test_p12_serve_demo_refuses_a_database_with_other_customers(
    command_environment: dict[str, str], database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def a_real_customer() -> None:
        from shop_privacy.shop import Shop

        services = Shop().services()
        await create_customer(services, "riktig.kund@exempel.se")
        await services.close()

    asyncio.run(a_real_customer())
    assert cli.main(["serve", "--demo", "--no-migrate"]) == 1
    assert "refused: --demo on a database that holds 1 other customer(s)" in capsys.readouterr().err

    async def customers() -> list[str]:
        from sqlmodel import select

        from shop_privacy.storage.tables import Customer

        db = Database(database_url)
        async with db.read() as session:
            emails = list((await session.exec(select(Customer.email))).all())
        await db.dispose()
        return emails

    assert asyncio.run(customers()) == ["riktig.kund@exempel.se"]


def test_the_old_entry_points_still_work_and_db_current_says_behind_with_status_1(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    behind = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "db", "current"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert behind.returncode == 1 and "behind" in behind.stdout, behind.stderr
    from shop_privacy.cli import build_parser, main

    assert callable(main) and build_parser().prog == "shop-privacy"
