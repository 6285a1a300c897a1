"""Bad settings, bad `--data` and answers that are not Mailjet's: a message and an exit code, never a
traceback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import Api, creds, run_cli

KEYS = {"MAILJET__API_KEY": "key", "MAILJET__API_SECRET": "secret"}


@pytest.mark.parametrize(
    ("command", "base_url"),
    [
        pytest.param("check", "not a url", id="words"),
        pytest.param("check", "localhost:8765", id="no-scheme"),
        pytest.param("check", "http://", id="no-host"),
        pytest.param("check", "ftp://example.com", id="ftp"),
        pytest.param("check", "http://example.com:port", id="bad-port"),
        pytest.param("api", "http://exa mple.com", id="space-in-host"),
        pytest.param("extract", "not a url", id="extract"),
    ],
)
def test_base_url_that_is_not_an_http_url_exits_2(command: str, base_url: str, tmp_path: Path) -> None:
    args = ["api", "GET", "contact"] if command == "api" else [command]
    result = run_cli(args, {**KEYS, "MAILJET__BASE_URL": base_url}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "[mailjet] base_url" in result.stderr and "MAILJET__BASE_URL" in result.stderr
    assert repr(base_url) in result.stderr and "https://api.mailjet.com" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        pytest.param("timeout_seconds", "nan", id="timeout-nan"),
        pytest.param("timeout_seconds", "inf", id="timeout-inf"),
        pytest.param("requests_per_second", "nan", id="rate-nan"),
        pytest.param("requests_per_second", "inf", id="rate-inf"),
        pytest.param("backoff_seconds", "nan", id="backoff-nan"),
        pytest.param("backoff_seconds", "inf", id="backoff-inf"),
    ],
)
def test_non_finite_settings_exit_2(setting: str, value: str, tmp_path: Path) -> None:
    env = {**KEYS, "MAILJET__BASE_URL": "http://127.0.0.1:9", f"MAILJET__{setting.upper()}": value}
    result = run_cli(["check"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"[mailjet] {setting}={value}" in result.stderr and "finite" in result.stderr
    assert f"MAILJET__{setting.upper()}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param('{"Email": NaN}', "NaN is not JSON", id="nan"),
        pytest.param('{"Email": Infinity}', "Infinity is not JSON", id="infinity"),
        pytest.param('{"Email": -Infinity}', "-Infinity is not JSON", id="minus-infinity"),
        pytest.param('{"Email": 1e999}', "1e999 is out of range", id="overflow"),
        pytest.param("[" * 20000 + "]" * 20000, "nested too deep", id="deep"),
        pytest.param('{"Email": 1' + "0" * 5000 + "}", "digits", id="huge-integer"),
        pytest.param("{oops", "Expecting property name", id="syntax"),
    ],
)
def test_api_data_that_is_not_json_for_mailjet_exits_2_and_sends_nothing(
    api: Api, tmp_path: Path, data: str, reason: str
) -> None:
    before = api.admin("GET", "requests").json()["total"]
    result = run_cli(["api", "POST", "contact", "--data", data], creds(api), tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--data is not valid JSON for Mailjet" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr
    assert api.admin("GET", "requests").json()["total"] == before


@contextmanager
def answering(body: bytes) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering `body` (200, JSON) to any GET; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # the stdlib's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        pytest.param(b"[1,2,3]", "[1, 2, 3]", id="array"),
        pytest.param(b"{}", "answered {}", id="empty-object"),
        pytest.param(b"null", "answered null", id="null"),
        pytest.param(b'{"Total": "x"}', '{"Total": "x"}', id="text-total"),
        pytest.param(b'{"Total": true}', '{"Total": true}', id="boolean-total"),
        pytest.param(b'{"Total": 2.5}', '{"Total": 2.5}', id="fraction-total"),
        pytest.param(b'{"Total": -5}', '{"Total": -5}', id="negative-total"),
    ],
)
def test_check_against_an_answer_that_is_not_mailjets_exits_1(body: bytes, what: str, tmp_path: Path) -> None:
    with answering(body) as url:
        result = run_cli(["check"], {**KEYS, "MAILJET__BASE_URL": url}, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"unexpected answer from {url}" in result.stderr and what in result.stderr
    assert "Total: a count of 0 or more" in result.stderr
    assert "OK" not in result.stdout
    assert "Traceback" not in result.stderr
