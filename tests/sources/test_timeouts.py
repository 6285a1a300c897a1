"""The client against slow servers and many threads: `timeout_seconds` bounds a whole request (connect,
headers and body), reads and writes, and the extract's threads fit its connection pool."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from pipelines.extract import extract
from pipelines.report import text
from sources.mailjet.client import HttpSettings, MailjetHttp
from sources.mailjet.exceptions import MailjetError
from tests.conftest import Api, run_cli, start
from tests.sources.conftest import point_at

GAP_SECONDS = 0.5  # between two dripped bytes: 60 bytes take 30 s, far beyond the 1 s timeout
ACCEPT_TICKS = 150  # the drip server waits at most 150 x 0.2 s for its clients


@dataclass(frozen=True)
class Drip:
    """An answer sent as `head` at once, then `slow` one byte every GAP_SECONDS."""

    head: bytes
    slow: bytes


DRIPS = [
    pytest.param(
        Drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", b"[" * 60),
        id="body",
    ),
    pytest.param(Drip(b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 52), id="headers"),
]


class DripServer:
    """Answers up to `connections` connections on 127.0.0.1 by dripping `drip`, one at a time, and
    counts the connections whose client hung up before the drip ended. Stops by itself: its waits for
    clients are bounded and a drip is at most len(drip.slow) sends."""

    def __init__(self, drip: Drip, connections: int) -> None:
        self.drip = drip
        self.connections = connections
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.served = 0
        self.cut_off = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="drip-server", daemon=True)

    def _run(self) -> None:
        with self.listener:
            for _ in range(ACCEPT_TICKS):
                if self.stop.is_set() or self.served == self.connections:
                    return
                try:
                    conn, _ = self.listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        request = b""
        for _ in range(100):
            chunk = conn.recv(65536)
            request += chunk
            if not chunk or b"\r\n\r\n" in request:
                break
        self.served += 1
        try:
            conn.sendall(self.drip.head)
            for i in range(len(self.drip.slow)):
                if self.stop.wait(GAP_SECONDS):
                    return
                conn.sendall(self.drip.slow[i : i + 1])
        except OSError:  # the client closed the connection: its timeout worked
            self.cut_off += 1

    def finish(self) -> None:
        """Wait (bounded) for the server to notice its clients gave up."""
        self.thread.join(timeout=10)


@contextmanager
def dripping(drip: Drip, connections: int = 1) -> Iterator[DripServer]:
    server = DripServer(drip, connections)
    server.thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.thread.join(timeout=5)


def client(url: str, **tuning: Any) -> MailjetHttp:
    return MailjetHttp(url, HttpBasicAuth("key", "secret"), HttpSettings(**tuning))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("drip", DRIPS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_request_is_bounded_as_a_whole(drip: Drip, method: str) -> None:
    with dripping(drip) as server:
        http = client(server.url, timeout=1, max_attempts=1)
        with pytest.raises(MailjetError) as failure:
            http.request(method, "/v3/REST/contact", json={"Email": "a@example.com"})
        http.close()
        server.finish()
    assert failure.value.transient
    assert f"{method} /v3/REST/contact timed out: ReadTimeout: no complete answer within 1 s" in str(
        failure.value
    )
    assert (server.served, server.cut_off) == (1, 1)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("drip", DRIPS)
def test_extract_request_is_bounded_as_a_whole(drip: Drip) -> None:
    with dripping(drip) as server:
        http = client(server.url, timeout=1, max_attempts=1)
        with pytest.raises(MailjetError) as failure:
            http.get_json("/v3/REST/contact", {})
        server.finish()
    assert failure.value.transient
    assert "GET /v3/REST/contact timed out: ReadTimeout: no complete answer within 1 s" in str(failure.value)
    assert (server.served, server.cut_off) == (1, 1)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_a_timed_out_attempt_is_retried_and_counted_as_a_timeout(method: str) -> None:
    drip = DRIPS[0].values[0]
    with dripping(drip, connections=2) as server:
        http = client(server.url, timeout=1, max_attempts=2, backoff_seconds=0.01)
        with pytest.raises(MailjetError, match="no complete answer within 1 s"):
            http.request(method, "/v3/REST/contactslist/1001/managemanycontacts", json={"Action": "unsub"})
        server.finish()
    assert http.stats.requests == 2 and dict(http.stats.retries) == {"ReadTimeout": 1}
    assert (server.served, server.cut_off) == (2, 2)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("drip", DRIPS)
def test_check_honours_timeout_seconds(drip: Drip, tmp_path: Path) -> None:
    with dripping(drip) as server:
        env = {
            "MAILJET__BASE_URL": server.url,
            "MAILJET__API_KEY": "key",
            "MAILJET__API_SECRET": "secret",
            "MAILJET__TIMEOUT_SECONDS": "1",
        }
        result = run_cli(["check"], env, tmp_path)
        server.finish()
    assert result.returncode == 1, result.stderr
    assert f"cannot reach Mailjet at {server.url}" in result.stderr and "timed out" in result.stderr
    assert "no complete answer within 1 s" in result.stderr
    assert "Traceback" not in result.stderr
    assert (server.served, server.cut_off) == (1, 1)


def test_extract_threads_fit_the_connection_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Small pages and a little latency keep every resource's lanes in requests at the same time.
    app = start(contacts=1200, faults="latency_ms=10")
    try:
        point_at(Api(app), monkeypatch, concurrency="2", page_size="100", sms_token=app.config.sms_token)
        with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
            summary = text(extract(db=str(tmp_path / "mj.duckdb")))
    finally:
        app.stop()
    assert "contacts" in summary and "1,200 rows" in summary
    full = [r.getMessage() for r in caplog.records if "Connection pool is full" in r.getMessage()]
    assert full == []
