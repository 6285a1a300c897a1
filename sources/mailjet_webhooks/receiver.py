"""The HTTP receiver: POST /events spools a delivery and answers; GET /health says how things stand.

Malformed deliveries, and those the spool cannot store, are answered 400 (Mailjet retries them, then gives
up) and recorded as `webhook_rejections`, as are array items that are not events; bodies over
`max_body_bytes` and deliveries of over `max_events` events get 413; a request whose length could be read
two ways (`framing.py`) is refused unread and its connection closed; requests without the
`[mailjet.webhooks]` credentials get 401.

The standard library's threading HTTP server rather than a web framework: two routes, and each answer
waits on an fsync of the spool; a framework would add a dependency and an event loop and change neither."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol

from sources.mailjet_webhooks.config import WebhooksConfiguration
from sources.mailjet_webhooks.delivery import read_delivery
from sources.mailjet_webhooks.exceptions import DeliveryRefused
from sources.mailjet_webhooks.framing import body_length
from sources.mailjet_webhooks.settings import BODY_KEPT
from sources.mailjet_webhooks.spool import Spool, events_line

# The command's console logger: the receiver's messages reach whoever runs `webhooks serve`.
log = logging.getLogger("mailjet_elt.console")


class LoadStats(Protocol):
    loaded: int  # events loaded so far
    last_error: str | None  # why the last load failed, while it does


class Loading(Protocol):
    """What the receiver needs of the loader: to wake it, and how loading goes."""

    def nudge(self) -> None:
        """Load soon: a spool file was sealed."""

    @property
    def stats(self) -> LoadStats:
        """How loading goes."""


class Handler(BaseHTTPRequestHandler):
    """POST /events; GET /health."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may stay silent (a stalled client frees its thread)
    disable_nagle_algorithm = True  # the answer's headers and body leave at once, not 40 ms apart
    server: Receiver
    server_version = "mailjet-elt-webhooks"
    sys_version = ""
    AUTH_REALM: ClassVar[str] = 'Basic realm="mailjet-elt webhooks"'

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every delivery is in the spool and the table; no access log with addresses on stderr

    def _reply(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/health":
            self._reply(200, json.dumps(self.server.health()))
        else:
            self._reply(404, "not found: Mailjet posts events to /events")

    def _refuse(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        """Answer without reading the body, and close: what is left of it is never read as a request."""
        self.close_connection = True
        self._reply(status, text, {"Connection": "close", **(headers or {})})

    def do_POST(self) -> None:
        receiver = self.server
        if self.path.split("?")[0].rstrip("/") != "/events":
            self._refuse(404, "not found: Mailjet posts events to /events")
            return
        if not receiver.authorized(self.headers.get("Authorization")):
            self._refuse(401, "unauthorized", {"WWW-Authenticate": self.AUTH_REALM})
            return
        try:
            length = body_length(self.headers)
        except DeliveryRefused as refused:
            receiver.reject(refused.reason, refused.detail, "", self.client_address[0])
            self._refuse(refused.status, refused.answer)
            return
        if length > receiver.config.max_body_bytes:
            receiver.reject(
                "too_large",
                f"{length} bytes, the limit is {receiver.config.max_body_bytes}",
                "",
                self.client_address[0],
            )
            self._refuse(413, f"body over {receiver.config.max_body_bytes} bytes")
            return
        body = self.rfile.read(length)
        status, text = receiver.receive(body, self.client_address[0])
        self._reply(status, text)


class Receiver(ThreadingHTTPServer):
    """The HTTP server, its spool and its loader."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], config: WebhooksConfiguration, spool: Spool, loader: Loading
    ) -> None:
        super().__init__(address, Handler)
        self.config = config
        self.spool = spool
        self.loader = loader
        token = f"{config.username}:{config.password}".encode()
        self._token = base64.b64encode(token)
        self.received = 0
        self.rejected = 0
        self._count_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://{host}:{port}/events"

    def authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").strip().partition(" ")
        return scheme.lower() == "basic" and hmac.compare_digest(token.strip().encode(), self._token)

    def health(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "rejected": self.rejected,
            "spooled": self.spool.waiting(),
            "loaded": self.loader.stats.loaded,
            "loading": "failing (see the receiver's log)" if self.loader.stats.last_error else "ok",
            "spool": f"failing: {self.spool.failed}; restart the receiver" if self.spool.failed else "ok",
        }

    def reject(self, reason: str, detail: str, body: str, remote: str) -> None:
        at = datetime.now(UTC).isoformat()
        record = {
            "kind": "rejection",
            "_id": hashlib.sha256(f"{at}|{reason}|{body}".encode()).hexdigest()[:32],
            "_received_at": at,
            "reason": reason,
            "detail": detail,
            "body": body[:BODY_KEPT],
            "remote": remote,
        }
        try:
            self.spool.append(record, 0)
        except OSError as exc:
            log.error(f"mailjet-elt webhooks: cannot record a rejected request ({exc})")
        with self._count_lock:
            self.rejected += 1

    def receive(self, body: bytes, remote: str) -> tuple[int, str]:
        """Spool a delivery; the status and text to answer."""
        try:
            delivery = read_delivery(body, self.config.max_events)
        except DeliveryRefused as refused:
            self.reject(refused.reason, refused.detail, _kept(body), remote)
            return refused.status, refused.answer
        events = delivery.count
        if not events and delivery.strays:
            self.reject("not_events", "neither an event object nor an array of them", _kept(body), remote)
            return 400, "expected an event object or an array of event objects"
        for stray in delivery.strays:
            self.reject("not_an_event", "an array item that is not an object", stray, remote)
        if events:
            try:
                line = events_line(datetime.now(UTC).isoformat(), delivery.events)
                self.spool.append_line(line, events)
            except OSError as exc:  # not on disk for sure: Mailjet keeps it and retries
                log.error(f"mailjet-elt webhooks: cannot spool a delivery ({exc}); answered 503")
                return 503, "cannot store the events now; retry later"
            with self._count_lock:
                self.received += events
            if self.spool.pending_events >= self.config.flush_events:
                # Files of a bounded size: a burst faster than the loads waits on disk, not in memory.
                try:
                    self.spool.seal(min_events=self.config.flush_events)
                except OSError as exc:  # acknowledged events were synced by their own request
                    log.error(f"mailjet-elt webhooks: could not seal the spool file ({exc})")
                self.loader.nudge()
        return 200, "OK"


def _kept(body: bytes) -> str:
    """The start of a refused body, as text, for `webhook_rejections` (its first BODY_KEPT characters)."""
    return body[: 4 * BODY_KEPT].decode("utf-8", "replace")[:BODY_KEPT]
