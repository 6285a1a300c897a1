"""Webhook delivery: Version 1 one object per POST, Version 2 grouped arrays, retries on non-200."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import Api, start


class Receiver:
    """A local endpoint recording every delivery; answers `fail_first` requests with 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[Any] = []
        self.attempts = 0
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                status = 500 if outer.attempts <= outer.fail_first else 200
                if status == 200:
                    outer.bodies.append(json.loads(raw))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, n: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < n and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_version_1_posts_one_object_per_event(api: Api, receiver: Receiver) -> None:
    for kind in ("open", "click", "unsub"):
        assert (
            api.post("eventcallbackurl", {"EventType": kind, "Url": receiver.url, "Version": 1}).status_code
            == 201
        )
    email = api.data("message", FromTS=1, Limit=1, ShowContactAlt="true", Sort="ArrivedAt DESC")[0][
        "ContactAlt"
    ]
    for kind in ("open", "click", "unsub"):
        assert api.admin("POST", "events", {"event": kind, "email": email}).status_code == 200
    receiver.wait_for(3)
    assert [b["event"] for b in receiver.bodies] == ["open", "click", "unsub"]
    for body in receiver.bodies:
        assert isinstance(body, dict) and body["email"] == email
        assert isinstance(body["MessageID"], int) and isinstance(body["time"], int)
    unsub = receiver.bodies[2]
    assert isinstance(unsub["mj_list_id"], int)


def test_version_2_groups_events_in_arrays(receiver: Receiver) -> None:
    app = start(webhook_group_seconds=0.3)
    api = Api(app)
    try:
        api.post("eventcallbackurl", {"EventType": "open", "Url": receiver.url, "Version": 2})
        api.post("eventcallbackurl", {"EventType": "sent", "Url": receiver.url, "Version": 2})
        result = api.session.post(
            f"{api.base}/v3.1/send",
            json={
                "Messages": [
                    {
                        "From": {"Email": "shop@example.com"},
                        "To": [{"Email": "one@example.com"}, {"Email": "two@example.com"}],
                        "Subject": "Hi",
                        "TextPart": "Hello",
                    }
                ]
            },
        )
        assert result.status_code == 200
        api.admin("POST", "events", {"event": "open", "email": "two@example.com"})
        receiver.wait_for(1)
        time.sleep(0.4)
        assert len(receiver.bodies) == 1
        group = receiver.bodies[0]
        assert isinstance(group, list) and len(group) == 3
        assert [e["event"] for e in group] == ["sent", "sent", "open"]
        assert {e["email"] for e in group} == {"one@example.com", "two@example.com"}
    finally:
        app.stop()


def test_failed_deliveries_are_retried_until_200() -> None:
    receiver = Receiver(fail_first=2)
    app = start(webhook_retry_seconds=0.1)
    api = Api(app)
    try:
        api.post("eventcallbackurl", {"EventType": "open", "Url": receiver.url})
        api.admin("POST", "events", {"event": "open", "message_id": next(iter(app.store.messages.rows))})
        receiver.wait_for(1)
        assert receiver.attempts == 3 and len(receiver.bodies) == 1
        log = api.admin("GET", "webhooks").json()["deliveries"]
        assert [d["status"] for d in log] == [500, 500, 200]
    finally:
        app.stop()
        receiver.close()


def test_giving_up_marks_the_url_dead_and_the_backup_takes_over() -> None:
    failing = Receiver(fail_first=10**6)
    backup = Receiver()
    app = start(webhook_retry_seconds=0.05, webhook_give_up_seconds=0.2)
    api = Api(app)
    try:
        primary = api.post("eventcallbackurl", {"EventType": "open", "Url": failing.url}).json()["Data"][0]
        api.post("eventcallbackurl", {"EventType": "open", "Url": backup.url, "IsBackup": True})
        message_id = next(iter(app.store.messages.rows))
        api.admin("POST", "events", {"event": "open", "message_id": message_id})
        deadline = time.monotonic() + 5
        while (
            api.data(f"eventcallbackurl/{primary['ID']}")[0]["Status"] != "dead"
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert api.data("eventcallbackurl/open|false")[0]["Status"] == "dead"
        api.admin("POST", "events", {"event": "open", "message_id": message_id})
        backup.wait_for(1)
        assert backup.bodies[0]["event"] == "open"
    finally:
        app.stop()
        failing.close()
        backup.close()


def test_remote_urls_are_not_contacted(api: Api) -> None:
    api.post("eventcallbackurl", {"EventType": "spam", "Url": "https://hooks.example.com/mj"})
    api.admin("POST", "events", {"event": "spam", "message_id": next(iter(api.app.store.messages.rows))})
    api.admin("POST", "webhooks/flush")
    log = api.admin("GET", "webhooks").json()["deliveries"]
    assert log and str(log[0]["status"]).startswith("refused")


def test_eventcallbackurl_validation(api: Api) -> None:
    assert (
        api.post("eventcallbackurl", {"EventType": "opened", "Url": "http://127.0.0.1/x"}).status_code == 400
    )
    assert api.post("eventcallbackurl", {"EventType": "open", "Url": "ftp://x"}).status_code == 400
    assert (
        api.post(
            "eventcallbackurl", {"EventType": "open", "Url": "http://127.0.0.1/x", "Version": 3}
        ).status_code
        == 400
    )
    assert api.post("eventcallbackurl", {"EventType": "open", "Url": "http://127.0.0.1/x"}).status_code == 201
    dup = api.post("eventcallbackurl", {"EventType": "open", "Url": "http://127.0.0.1/y"})
    assert dup.status_code == 400 and "MJ18" in dup.json()["ErrorMessage"]
    assert api.data("eventcallbackurl", EventType=6)[0]["EventType"] == "open"
