"""JSON log lines (`SHOP_PRIVACY_LOG_FORMAT=json`): one object per line with time, level, logger, message and
the request's id, and still no personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from shop_privacy.logs import JsonFormatter, configure_logging, current_request_id, uvicorn_log_config
from shop_privacy.services import Services
from shop_privacy.web.middleware import ACCESS_LOGGER, RedactAccessLine

from .conftest import make_settings
from .helpers import ME, StorefrontClient, create_customer, login
from .servers import free_port, wait_until_serving

pytestmark = pytest.mark.anyio


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the shop's loggers write, through a JSON handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shop_privacy")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.policy("P21")
def test_a_json_line_has_time_level_logger_message_and_the_request_id() -> None:
    record = logging.LogRecord("shop_privacy.rights", logging.INFO, __file__, 1, "export issued request_id=%s", ("r1",),
                               None)
    token = current_request_id.set("edge-7f3a9c21-0001")
    try:
        line = JsonFormatter().format(record)
    finally:
        current_request_id.reset(token)
    assert "\n" not in line
    parsed = json.loads(line)
    assert set(parsed) == {"time", "level", "logger", "message", "request_id"}
    assert parsed["level"] == "INFO" and parsed["logger"] == "shop_privacy.rights"
    assert parsed["message"] == "export issued request_id=r1"
    assert parsed["request_id"] == "edge-7f3a9c21-0001"
    assert datetime.fromisoformat(str(parsed["time"])).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    outside = json.loads(JsonFormatter().format(record))
    assert outside["request_id"] is None


@pytest.mark.policy("P07")
def test_p07_the_access_line_leaves_out_the_client_address_and_link_tokens() -> None:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.7:51234", "GET", "/unsubscribe/SECRET-TOKEN?x=1", "1.1", 200), None)
    RedactAccessLine().filter(record)  # installed on the access logger by create_app
    parsed = json.loads(JsonFormatter().format(record))
    assert "203.0.113.7" not in json.dumps(parsed) and "SECRET-TOKEN" not in json.dumps(parsed)
    assert parsed["message"] == "GET /unsubscribe/[redacted]?x=1 HTTP/1.1 200"
    assert (parsed["method"], parsed["status"]) == ("GET", 200)


@pytest.mark.policy("P21")
def test_p21_an_exception_is_logged_by_type_and_frames_never_by_its_message(unique_email: str) -> None:
    try:
        raise RuntimeError(f"could not read {unique_email}")
    except RuntimeError:
        record = logging.LogRecord("shop_privacy", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed["exception"] == "RuntimeError" and "test_json_logs.py" in str(parsed["traceback"])
    assert unique_email not in json.dumps(parsed)


@pytest.mark.policy("P21")
async def test_p21_lines_written_during_a_request_carry_its_id_and_no_personal_data(
    client: StorefrontClient, services: Services, unique_email: str, monkeypatch: pytest.MonkeyPatch,
    json_lines: io.StringIO,
) -> None:
    await create_customer(services, unique_email)
    (await login(client, unique_email)).ok()

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError(f"database exploded while reading {unique_email}")

    monkeypatch.setattr(services.profiles, "get", broken)
    response = await client.gql(ME, headers={"x-request-id": "edge-7f3a9c21-0002"})
    assert response.codes == ["INTERNAL_SERVER_ERROR"]
    lines = _parsed(json_lines)
    unexpected = [line for line in lines if str(line["message"]).startswith("unexpected RuntimeError")]
    assert len(unexpected) == 1
    assert unexpected[0]["request_id"] == response.headers["x-request-id"] == "edge-7f3a9c21-0002"
    assert unexpected[0]["level"] == "ERROR" and unexpected[0]["logger"] == "shop_privacy.graphql"
    assert unique_email not in json_lines.getvalue()


@pytest.mark.policy("P21")
def test_configure_logging_switches_root_handlers_to_json_only_when_asked(
    database_url: str, tmp_path: Path
) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        configure_logging(make_settings(database_url, tmp_path))
        assert not isinstance(handler.formatter, JsonFormatter)
        configure_logging(make_settings(database_url, tmp_path, log_format="json"))
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        root.removeHandler(handler)
    json_config = uvicorn_log_config(make_settings(database_url, tmp_path, log_format="json"))
    assert json_config["formatters"]["json"]["()"] == "shop_privacy.logs.JsonFormatter"
    assert "uvicorn.access" in json_config["loggers"]


def _serve_and_probe(tmp_path: Path, log_format: str) -> tuple[str, str]:
    """Runs `shop-privacy serve` with the log format, asks it for /health once, and returns its stdout (the
    access lines) and stderr."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("SHOP_PRIVACY_")}
    env.update(SHOP_PRIVACY_LOG_FORMAT=log_format, DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
    process = subprocess.Popen([sys.executable, "-m", "shop_privacy.cli", "serve", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started: list[str] = []
    try:
        assert process.stderr is not None
        started = wait_until_serving(process.stderr)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/health",
                                         headers={"X-Request-ID": "probe-7f3a9c21-0003"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=20)
    return stdout, "".join(started) + stderr


@pytest.mark.policy("P07")
def test_p07_serve_with_json_logs_writes_only_json_lines_with_request_ids(tmp_path: Path) -> None:
    stdout, stderr = _serve_and_probe(tmp_path, "json")
    log_lines = [line for line in stderr.splitlines() if line.strip()]
    access_lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert log_lines and all(json.loads(line)["level"] for line in log_lines), stderr
    started = [json.loads(line) for line in log_lines if "shop_privacy started" in line]
    assert started and started[0]["logger"] == "shop_privacy"
    (access,) = [json.loads(line) for line in access_lines if "/health" in line]
    assert access["logger"] == "uvicorn.access" and access["status"] == 200
    assert access["request_id"] == "probe-7f3a9c21-0003"
    assert "127.0.0.1:" not in json.dumps(access)


@pytest.mark.policy("P07")
def test_p07_serve_with_text_logs_writes_access_lines_without_the_client_address(tmp_path: Path) -> None:
    stdout, _stderr = _serve_and_probe(tmp_path, "text")
    (access,) = [line for line in stdout.splitlines() if "/health" in line]
    assert '- - "GET /health HTTP/1.1" 200' in access and "127.0.0.1" not in access, access
