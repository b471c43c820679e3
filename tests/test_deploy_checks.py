"""Deploy checks: `shop-privacy check --deploy`, and the same rules when the app starts in production."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from shop_privacy.app import create_app
from shop_privacy.deploy_checks import deployment_problems, refuse_demo, secret_weakness
from shop_privacy.settings import DEVELOPMENT_SECRET_KEY, Settings, SettingsError

from .conftest import PRODUCTION_READY, make_settings

pytestmark = pytest.mark.anyio


def _production(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(database_url, tmp_path, **{**PRODUCTION_READY, **overrides})


def _lines(settings: Settings, **options: bool) -> list[str]:
    return [problem.line for problem in deployment_problems(settings, **options)]


def _variables(settings: Settings, **options: bool) -> list[str]:
    return [problem.variable for problem in deployment_problems(settings, **options)]


def _clean_env(**values: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SHOP_PRIVACY_")}
    return {**kept, **values}


@pytest.mark.policy("P21")
async def test_p21_a_deployable_configuration_has_no_problems_and_starts(database_url: str, tmp_path: Path) -> None:
    settings = _production(database_url, tmp_path)
    assert deployment_problems(settings) == []
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert app.state.services.settings.production


@pytest.mark.policy("P21")
@pytest.mark.parametrize("key", [
    None, "short-key", DEVELOPMENT_SECRET_KEY, "a" * 32, "a" * 64, "abcd" * 8, "Xk9#mP2q" * 5,
    "0123456789abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba9876543210",
    "test-secret-key-0123456789abcdef0123456789abcdef", "prefix-" + DEVELOPMENT_SECRET_KEY,
    "aaaaaaabbbbbbbcccccccdddddddeeeeeeefffffff",
])
def test_p21_a_weak_secret_key_is_refused_without_showing_it(
    database_url: str, tmp_path: Path, key: str | None
) -> None:
    settings = _production(database_url, tmp_path, environment="development", secret_key=key)
    problems = [p for p in deployment_problems(settings) if p.variable == "SHOP_PRIVACY_SECRET_KEY"]
    assert len(problems) == 1
    assert not key or key not in problems[0].line


@pytest.mark.policy("P21")
def test_p21_random_secret_keys_pass() -> None:
    # 32 hex characters (128 bits) is the least random key a generator gives; it must not be refused.
    for _ in range(300):
        for key in (secrets.token_hex(16), secrets.token_hex(32), secrets.token_urlsafe(32)):
            assert secret_weakness(key) is None, key
    # Drawn by token_hex(16) in a CI run and refused then: sixteen single steps, scattered.
    assert secret_weakness("be032112114487598f40cdbcb2ee5454") is None


@pytest.mark.policy("P21")
@pytest.mark.parametrize("url", ["http://mail.butik-test.se:587", "mail.butik-test.se:587",
                                 "smtp+plain://mail.butik-test.se:25", "smtp://u:secretpw@mail.butik-test.se:port",
                                 "smtp://"])
def test_p21_an_smtp_url_the_mailer_cannot_use_is_refused(database_url: str, tmp_path: Path, url: str) -> None:
    lines = [line for line in _lines(_production(database_url, tmp_path, smtp_url=url))
             if line.startswith("SHOP_PRIVACY_SMTP_URL:")]
    assert len(lines) == 1 and "butik-test" not in lines[0] and "secretpw" not in lines[0]


@pytest.mark.policy("P21")
@pytest.mark.parametrize("url", ["smtp://u:p@mail.butik-test.se:587", "smtps://u:p@mail.butik-test.se:465",
                                 "smtp+plain://localhost:25", "smtp://mail.butik-test.se"])
def test_p21_the_smtp_schemes_the_mailer_supports_pass(database_url: str, tmp_path: Path, url: str) -> None:
    assert _lines(_production(database_url, tmp_path, smtp_url=url)) == []


@pytest.mark.policy("P21")
def test_p21_production_needs_an_smtp_url(database_url: str, tmp_path: Path) -> None:
    settings = _production(database_url, tmp_path, environment="development", smtp_url=None)
    assert "SHOP_PRIVACY_SMTP_URL" in _variables(settings)


@pytest.mark.policy("P21")
@pytest.mark.parametrize(("url", "reasons"), [
    ("http://localhost:8000", 2), ("https://localhost", 1), ("https://127.0.0.1:8443", 1), ("https://[::1]", 1),
    ("https://0.0.0.0", 1), ("https://shop.localhost", 1), ("https://example.com", 1), ("https://shop.example.org", 1),
    ("https://www.example.se", 1), ("https://shop.example", 1), ("https://shop.test", 1),
    ("http://www.butik-test.se", 1), ("not a url", 1),
])
@pytest.mark.parametrize("field", ["storefront_url", "api_url"])
def test_p21_public_urls_are_https_and_not_local_or_example_hosts(
    database_url: str, tmp_path: Path, field: str, url: str, reasons: int
) -> None:
    lines = _lines(_production(database_url, tmp_path, **{field: url}))
    assert len(lines) == reasons, lines
    assert all(line.startswith(f"SHOP_PRIVACY_{field.upper()}: ") and url not in line for line in lines)


@pytest.mark.policy("P01")
def test_p01_the_example_controller_and_dpo_are_refused(database_url: str, tmp_path: Path) -> None:
    defaults = {name: Settings.model_fields[name].default for name in ("controller_name", "dpo_email", "mail_from")}
    settings = _production(database_url, tmp_path, **defaults)
    assert _variables(settings) == ["SHOP_PRIVACY_CONTROLLER_NAME", "SHOP_PRIVACY_DPO_EMAIL",
                                    "SHOP_PRIVACY_MAIL_FROM"]
    other_example = _production(database_url, tmp_path, dpo_email="dpo@example.com")
    assert _variables(other_example) == ["SHOP_PRIVACY_DPO_EMAIL"]


@pytest.mark.policy("P21")
def test_p21_sqlite_only_when_explicitly_allowed(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'shop.db'}"
    refused = _production(sqlite, tmp_path, allow_sqlite_in_production=False)
    assert _variables(refused) == ["DATABASE_URL"]
    assert str(tmp_path) not in _lines(refused)[0]
    assert _lines(_production(sqlite, tmp_path)) == []  # PRODUCTION_READY allows it
    postgres = _production("postgresql://shop:pw@db.internal:5432/shop", tmp_path, allow_sqlite_in_production=False)
    assert _lines(postgres) == []


@pytest.mark.policy("P21")
def test_p21_cors_origins_in_production_are_https_and_not_local(database_url: str, tmp_path: Path) -> None:
    settings = _production(database_url, tmp_path,
                           cors_allowed_origins="https://www.butik-test.se,http://shop.butik-test.se,http://localhost:3000")
    lines = _lines(settings)
    assert [line.split(":")[0] for line in lines] == ["SHOP_PRIVACY_CORS_ALLOWED_ORIGINS"] * 2
    assert not any("butik-test" in line or "3000" in line for line in lines)


@pytest.mark.policy("P21")
def test_p21_demo_data_is_refused_in_production(database_url: str, tmp_path: Path) -> None:
    settings = _production(database_url, tmp_path)
    assert _variables(settings, demo=True) == ["serve --demo"]
    assert refuse_demo(settings, True) is not None and refuse_demo(settings, False) is None
    development = make_settings(database_url, tmp_path)
    assert refuse_demo(development, True) is None


@pytest.mark.policy("P21")
def test_p21_serve_demo_in_production_stops_before_touching_the_database(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    env = _clean_env(DATABASE_URL=f"sqlite:///{database}", **{
        f"SHOP_PRIVACY_{name.upper()}": str(value) for name, value in PRODUCTION_READY.items() if name != "environment"
    }, SHOP_PRIVACY_ENV="production")
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "serve", "--demo", "--port", "1"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "serve --demo: demo data" in result.stderr and "Traceback" not in result.stderr
    assert not database.exists()


@pytest.mark.policy("P21")
def test_p21_create_app_in_production_refuses_with_the_same_lines(database_url: str, tmp_path: Path) -> None:
    settings = _production(database_url, tmp_path, secret_key="a" * 40, storefront_url="http://localhost:8000",
                           controller_name=Settings.model_fields["controller_name"].default)
    with pytest.raises(SettingsError) as refused:
        create_app(settings)
    assert refused.value.problems == _lines(settings)
    assert [line.split(":")[0] for line in refused.value.problems] == [
        "SHOP_PRIVACY_SECRET_KEY", "SHOP_PRIVACY_STOREFRONT_URL", "SHOP_PRIVACY_STOREFRONT_URL",
        "SHOP_PRIVACY_CONTROLLER_NAME",
    ]


@pytest.mark.policy("P21")
async def test_development_apps_are_not_held_to_the_deploy_rules(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, secret_key=None, storefront_url="http://localhost:8000")
    assert "SHOP_PRIVACY_ENV" in _variables(settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert not app.state.services.settings.production


@pytest.mark.policy("P21")
@pytest.mark.policy("P11")
def test_p11_p21_production_needs_a_file_for_the_access_logs_checkpoints(database_url: str, tmp_path: Path) -> None:
    # Without it the retention run never cuts the access log at three years (it will not cut what it
    # cannot vouch for), so production refuses to start.
    settings = _production(database_url, tmp_path, audit_checkpoint_file=None)
    assert _variables(settings) == ["SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE"]
    with pytest.raises(SettingsError, match="SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE"):
        create_app(settings)
    assert _lines(_production(database_url, tmp_path, audit_checkpoint_file=tmp_path / "checkpoints")) == []


def test_p21_check_deploy_prints_every_problem_without_values_and_exits_1(tmp_path: Path) -> None:
    marker = "LEAKED7q"
    env = _clean_env(
        SHOP_PRIVACY_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path}/{marker}.db",
        SHOP_PRIVACY_SECRET_KEY=marker * 5, SHOP_PRIVACY_SMTP_URL=f"http://user:{marker}@{marker}.se",
        SHOP_PRIVACY_STOREFRONT_URL=f"http://{marker}.example.com", SHOP_PRIVACY_API_URL=f"https://127.0.0.1/{marker}",
        SHOP_PRIVACY_CONTROLLER_NAME="Example IT-tjänster AB", SHOP_PRIVACY_DPO_EMAIL=f"{marker}@example.se",
        SHOP_PRIVACY_MAIL_FROM=f"{marker}@butik-test.se",
    )
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "check", "--deploy"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "DATABASE_URL", "SHOP_PRIVACY_SECRET_KEY", "SHOP_PRIVACY_STOREFRONT_URL", "SHOP_PRIVACY_STOREFRONT_URL",
        "SHOP_PRIVACY_API_URL", "SHOP_PRIVACY_SMTP_URL", "SHOP_PRIVACY_CONTROLLER_NAME", "SHOP_PRIVACY_DPO_EMAIL",
        "SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE",
    ]
    assert marker.lower() not in (result.stdout + result.stderr).lower()
    assert "Traceback" not in result.stderr


@pytest.mark.policy("P21")
def test_p21_check_deploy_reports_invalid_values_and_missing_production_settings_as_lines(tmp_path: Path) -> None:
    env = _clean_env(SHOP_PRIVACY_ENV="production", SHOP_PRIVACY_PASSWORD_TIME_COST="1",
                     SHOP_PRIVACY_SECRET_KEY="short-SECRETVALUE")
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "check", "--deploy"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    variables = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert variables[0] == "SHOP_PRIVACY_PASSWORD_TIME_COST" and "SHOP_PRIVACY_SMTP_URL" in variables
    assert "SECRETVALUE" not in result.stdout + result.stderr and "Traceback" not in result.stderr


@pytest.mark.policy("P21")
def test_p21_check_deploy_exits_0_on_a_deployable_environment(tmp_path: Path) -> None:
    env = _clean_env(DATABASE_URL="postgresql://shop:pw@db.internal:5432/shop", **{
        f"SHOP_PRIVACY_{name.upper()}": str(value) for name, value in PRODUCTION_READY.items()
        if name not in {"environment", "allow_sqlite_in_production"}
    }, SHOP_PRIVACY_ENV="production")
    result = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "check", "--deploy"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "deployment checks passed"), result.stdout
    development = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "check", "--deploy"], cwd=tmp_path,
                                 env=_clean_env(), capture_output=True, text=True, timeout=60)
    assert development.returncode == 1 and development.stdout.startswith("SHOP_PRIVACY_ENV: must be production")
    plain = subprocess.run([sys.executable, "-m", "shop_privacy.cli", "check"], cwd=tmp_path, env=_clean_env(),
                           capture_output=True, text=True, timeout=60)
    assert (plain.returncode, plain.stdout.strip()) == (0, "settings are valid")
