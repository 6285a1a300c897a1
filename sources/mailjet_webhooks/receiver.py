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
import time
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol

from sources.mailjet_webhooks.config import WebhooksConfiguration
from sources.mailjet_webhooks.delivery import read_delivery
from sources.mailjet_webhooks.exceptions import DeliveryRefused
from sources.mailjet_webhooks.framing import Headers, HeadersTooLarge, body_length, read_headers
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
    """POST /events; GET /health.

    The standard library's request loop (keep-alive, HTTP/1.0, the idle timeout), with a lean reading of
    the request (`parse_request`: the header lines as `framing.read_headers` reads them, not through the
    email parser) and each answer sent in one write."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may stay silent (a stalled client frees its thread)
    disable_nagle_algorithm = True  # the answer's headers and body leave at once, not 40 ms apart
    server: Receiver
    server_version = "mailjet-elt-webhooks"
    sys_version = ""
    AUTH_REALM: ClassVar[str] = 'Basic realm="mailjet-elt webhooks"'
    fields: Headers
    raw_requestline: bytes  # set by the standard library's request loop

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every delivery is in the spool and the table; no access log with addresses on stderr

    def parse_request(self) -> bool:
        """The request line as the standard library reads it (its answers to a bad one: 400, 505), and
        the header section through `read_headers` (431 past its limits); `Connection` and `Expect:
        100-continue` as the standard library takes them. False once an error is answered."""
        self.command = None  # type: ignore[assignment]  # as the standard library's, till the line is read
        self.request_version = self.default_request_version
        self.requestline = ""  # for the standard library's error answers (its log line)
        self.close_connection = True
        words = self.raw_requestline.split()
        if len(words) == 3 and words[2] in _VERSIONS:  # the common case, checked at once
            version = self.request_version = _VERSIONS[words[2]]
            self.close_connection = version == "HTTP/1.0"
            self.command, self.path = words[0].decode("iso-8859-1"), words[1].decode("iso-8859-1")
        elif not self._odd_request_line():
            return False
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # as the standard library (gh-87389)
        try:
            self.fields = read_headers(self.rfile)
        except HeadersTooLarge as exc:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, *exc.args)
            return False
        connection = (self.fields.get("Connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = (self.fields.get("Expect") or "").lower()
        if expect == "100-continue" and self.request_version >= "HTTP/1.1":
            self.wfile.write(b"%s 100 Continue\r\n\r\n" % self.protocol_version.encode())
        return True

    def _odd_request_line(self) -> bool:
        """Any request line but `METHOD PATH HTTP/1.x`, read as the standard library reads it (HTTP/0.9
        GET; a bad version 400, HTTP/2 and later 505); False once an error is answered."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if not words:
            return False
        if len(words) >= 3:
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                number = version.split("/", 1)[1].split(".")
                if len(number) != 2 or any(not part.isdigit() or len(part) > 10 for part in number):
                    raise ValueError
                major, minor = int(number[0]), int(number[1])
            except (ValueError, IndexError):
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if (major, minor) >= (1, 1):
                self.close_connection = False
            if (major, minor) >= (2, 0):
                self.send_error(
                    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({major}.{minor})"
                )
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        self.command, self.path = words[0], words[1]
        if len(words) == 2:
            self.close_connection = True
            if self.command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({self.command!r})")
                return False
        return True

    def _reply(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        if self.request_version == "HTTP/0.9":  # no status line nor headers, as the standard library
            self.wfile.write(body)
            return
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        if "connection: close" in extra.lower():
            self.close_connection = True
        phrase = self.responses[status][0] if status in self.responses else ""
        head = (
            f"{self.protocol_version} {status} {phrase}\r\nServer: {self.version_string()}\r\n"
            f"Date: {_date()}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        self.wfile.write(head.encode("latin-1", "strict") + body)  # one send: headers and body

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
        if not receiver.authorized(self.fields.get("Authorization")):
            self._refuse(401, "unauthorized", {"WWW-Authenticate": self.AUTH_REALM})
            return
        try:
            length = body_length(self.fields)
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


_VERSIONS = {b"HTTP/1.1": "HTTP/1.1", b"HTTP/1.0": "HTTP/1.0"}
_dated: list[tuple[int, str]] = [(0, "")]  # the second and its Date value


def _date() -> str:
    """The Date header's value, formatted once a second."""
    now = int(time.time())
    second, text = _dated[0]
    if second != now:
        text = formatdate(now, usegmt=True)
        _dated[0] = (now, text)
    return text


def _kept(body: bytes) -> str:
    """The start of a refused body, as text, for `webhook_rejections` (its first BODY_KEPT characters)."""
    return body[: 4 * BODY_KEPT].decode("utf-8", "replace")[:BODY_KEPT]
