"""The receiver's bounds: events per delivery capped, with the memory of one delivery bounded by its
bytes; a body the spool cannot store answered 400, never a dead handler; one reading of a request's length,
so that no request is ever smuggled inside another."""

from __future__ import annotations

import socket
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.webhooks.receiver import AUTH, Running, rows, start_receiver
from tests.webhooks.test_receiver import event


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Running]:
    running = start_receiver(tmp_path / "hooks.duckdb")
    yield running
    running.stopped()


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"deeper": value}
    return value


def test_a_delivery_over_max_events_is_refused_413_and_recorded(tmp_path: Path) -> None:
    running = start_receiver(tmp_path / "hooks.duckdb", max_events=5)
    url = running.server.url
    over = requests.post(url, json=[event("open", n) for n in range(6)], auth=AUTH, timeout=10)
    assert over.status_code == 413
    assert over.text == "more than 5 events in one delivery: send at most 5 per request\n"
    assert (
        requests.post(url, json=[event("open", n) for n in range(5)], auth=AUTH, timeout=10).status_code
        == 200
    )
    assert (
        requests.post(url, json=[event("click", 9), 42, 43, 44, 45, 46], auth=AUTH, timeout=10).status_code
        == 413
    )
    db = running.stopped()
    assert (
        rows(db, "select reason, detail from mailjet.webhook_rejections order by detail")
        == [
            (
                "too_many_events",
                "more than 5 events in one delivery, the limit ([mailjet.webhooks] max_events)",
            )
        ]
        * 2
    )
    assert rows(db, "select count(*) from mailjet.events where event = 'open'") == [(5,)]
    assert rows(db, "select count(*) from mailjet.events where event = 'click'") == [(0,)]


def test_a_body_of_millions_of_tiny_events_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """As many `{}` as fit in the default body limit (1.4 million): refused by the default cap, the
    receiver's Python allocations for it a few times its 4 MiB (parsed whole, they pass 100 MiB)."""
    running = start_receiver(tmp_path / "hooks.duckdb", flush_seconds=3600)  # no load meanwhile
    server = running.server
    count = (server.config.max_body_bytes - 1) // 3
    body = b"[" + b",".join([b"{}"] * count) + b"]"
    assert len(body) <= server.config.max_body_bytes
    tracemalloc.start()
    try:
        status, text = server.receive(body, "127.0.0.1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(body), f"{peak / 2**20:.0f} MiB of Python allocations for a 4 MiB body"
    assert (status, text) == (413, "more than 20000 events in one delivery: send at most 20000 per request")
    db = running.stopped()
    assert rows(db, "select reason from mailjet.webhook_rejections") == [("too_many_events",)]


def test_a_body_the_spool_cannot_store_is_answered_400_and_recorded(receiver: Running) -> None:
    url = receiver.server.url
    too_deep = event("open", 1, extra=nested(500))  # JSON takes it; the spool writes 255 levels at most
    for body in (too_deep, [event("open", 2), too_deep]):  # nothing of a delivery is kept, or all of it
        answer = requests.post(url, json=body, auth=AUTH, timeout=10)
        assert answer.status_code == 400
        assert answer.text.startswith("event ") and "cannot be stored" in answer.text
    # An array item that is not an event, however deep, is recorded and the events beside it kept.
    stray = [event("open", 3), [nested(300)]]
    assert requests.post(url, json=stray, auth=AUTH, timeout=10).status_code == 200
    headers = {"Content-Type": "application/json"}
    for body_bytes in (b'[{"event": "open", "email": "\xff"}]', b'{"event": "open"}\n{"event": "open"}'):
        assert requests.post(url, data=body_bytes, auth=AUTH, headers=headers, timeout=10).status_code == 400
    assert requests.post(url, json=[event("open", 4)], auth=AUTH, timeout=10).status_code == 200
    db = receiver.stopped()
    assert rows(db, "select reason, count(*) from mailjet.webhook_rejections group by 1 order by 1") == [
        ("malformed_json", 2),
        ("not_an_event", 1),
        ("unstorable", 2),
    ]
    assert rows(db, "select message_id from mailjet.events order by 1") == [(10_003,), (10_004,)]


def exchange(running: Running, request: bytes) -> bytes:
    """Everything the receiver answers to `request` on one connection, until it closes it."""
    host, port = running.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_request_whose_length_could_be_read_two_ways_is_refused_and_closed(receiver: Running) -> None:
    """Two Content-Lengths, a length in other digits than ASCII's, a header line that is not one, a
    Transfer-Encoding beside a Content-Length: one answer, a refusal, and the connection closed, so that
    the request hidden after the first body is never served."""
    body = b'{"event": "open", "time": 1760000001, "MessageID": 1, "email": "a@example.com"}'
    hidden = b"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + _token() + b"\r\n"
    hidden += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    length = f"Content-Length: {len(body)}\r\n".encode()
    auth = b"Authorization: Basic " + _token() + b"\r\n"
    cases = [
        (400, length + length),  # the same twice
        (400, length + f"Content-Length: {len(body) + len(hidden)}\r\n".encode()),
        (400, "Content-Length: ²\r\n".encode("latin-1")),  # str.isdigit() says yes; int() says no
        (400, length + b"Transfer-Encoding : chunked\r\n"),  # not a header to Python: one to some proxies
        (411, length + b"Transfer-Encoding: chunked\r\n"),
    ]
    for status, headers in cases:
        request = b"POST /events HTTP/1.1\r\nHost: x\r\n" + auth + headers + b"\r\n" + body + hidden
        answer = exchange(receiver, request)
        assert answer.count(b"HTTP/1.1 ") == 1, (headers, answer)
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), (headers, answer)
        assert b"Connection: close" in answer
    db = receiver.stopped()
    assert rows(db, "select reason, count(*) from mailjet.webhook_rejections group by 1") == [
        ("bad_framing", len(cases))
    ]
    assert rows(db, "select count(*) from mailjet.events") == [(0,)]


def _token() -> bytes:
    import base64

    return base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode())
