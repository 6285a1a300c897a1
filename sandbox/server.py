"""The HTTP layer: parses requests, applies auth and faults, dispatches to the Mailjet surface or the
admin surface (`/_sandbox/...`), and answers in Mailjet's shapes. Never lets a traceback reach a client."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import socket
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from sandbox import settings
from sandbox.exceptions import ApiError, BadRequest, NotFound, Unauthorized, V31Error
from sandbox.http_types import Reply, Request
from sandbox.resources import data_namespace, route_rest
from sandbox.send import send_v31, v4

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

log = logging.getLogger("sandbox.server")

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def split_path(raw_path: str) -> tuple[list[str], str]:
    """Percent-decoded path segments (strict UTF-8) and the raw query string."""
    parts = urlsplit(raw_path)
    segments = []
    for piece in parts.path.split("/"):
        if not piece:
            continue
        try:
            segments.append(unquote(piece, encoding="utf-8", errors="strict"))
        except UnicodeDecodeError as exc:
            raise BadRequest("Invalid path: not valid UTF-8 after percent-decoding") from exc
    return segments, parts.query


def parse_params(query: str) -> dict[str, str]:
    """Query parameters with lower-cased names; the first occurrence of a name wins."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("Invalid query string: not valid UTF-8") from exc
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name.lower(), value)
    return params


def endpoint_key(method: str, segments: list[str]) -> str:
    """A stable name for counting requests: IDs and emails become `{id}`."""
    shown = []
    for i, seg in enumerate(segments):
        low = seg.lower()
        if i >= 2 and (seg.isdigit() or "@" in seg or "|" in seg or low.startswith("mj.nl=")):
            shown.append("{id}")
        elif i < 2:
            shown.append(seg if i == 1 and seg.isupper() else low)
        else:
            shown.append(low)
    return f"{method} /" + "/".join(shown)


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer
    error_content_type = "application/json"
    error_message_format = '{"ErrorInfo": "", "ErrorMessage": "%(message)s", "StatusCode": %(code)d}'

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY a small body waits ~40 ms
        # for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.app.handle(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def send_reply(
        self, status: int, body: bytes, content_type: str, drop: bool = False, close: bool = False
    ) -> None:
        """Write a full response, or (drop=True) its headers and half its body, then cut the connection."""
        self.send_response_only(status, STATUS_TEXT.get(status))
        self.send_header("Date", self.date_time_string())
        if status not in (204, 304):
            self.send_header(
                "Content-Type", f"{content_type}; charset=UTF-8" if "json" in content_type else content_type
            )
            self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Provide an apiKey and secretKey"')
        if close or drop:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if status in (204, 304) or self.command == "HEAD":
            return
        if drop:
            self.wfile.write(body[: max(len(body) // 2, 1)])
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threaded server bound to loopback."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: SandboxApp, host: str, port: int) -> None:
        self.app = app
        super().__init__((host, port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class Dispatcher:
    """Turns one HTTP exchange into a Reply, with auth, faults, counters and error mapping."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        # The latest API requests with their query parameters, for tests that check what was asked.
        self.log: deque[dict[str, Any]] = deque(maxlen=settings.REQUEST_LOG_SIZE)

    def handle(self, http: Handler) -> None:
        try:
            self._handle(http)
        except (ConnectionError, TimeoutError, OSError):
            http.close_connection = True
        except Exception:
            ident = ApiError("Internal Server Error", status=500)
            log.exception("unhandled error on %s %s", http.command, http.path)
            try:
                http.send_reply(500, orjson.dumps(ident.body()), "application/json", close=True)
            except OSError:
                http.close_connection = True

    def _read_body(self, http: Handler) -> bytes | None:
        """The request body, or None when it is too large or malformed (answered and closed here)."""
        if "chunked" in (http.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = http.rfile.readline(64)
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self._fail(http, BadRequest("Malformed chunked body"), close=True)
                    return None
                if size == 0:
                    http.rfile.readline(64)
                    break
                total += size
                if total > settings.MAX_BODY_BYTES:
                    self._fail(http, BadRequest("Request body too large (max 64 MiB)"), close=True)
                    return None
                chunks.append(http.rfile.read(size))
                http.rfile.readline(64)
            return b"".join(chunks)
        raw_length = http.headers.get("Content-Length") or "0"
        if not raw_length.strip().isdigit():
            self._fail(http, BadRequest("Invalid Content-Length header"), close=True)
            return None
        length = int(raw_length)
        if length > settings.MAX_BODY_BYTES:
            self._fail(http, BadRequest(f"Request body too large ({length} bytes, max 64 MiB)"), close=True)
            return None
        return http.rfile.read(length) if length else b""

    def _fail(self, http: Handler, error: ApiError, close: bool = False) -> None:
        status = error.status
        body = b"" if status == 304 else orjson.dumps(error.body())
        http.send_reply(status, body, "application/json", close=close)

    def _handle(self, http: Handler) -> None:
        app = self.app
        method = http.command.upper()
        try:
            segments, query = split_path(http.path)
            params = parse_params(query)
        except ApiError as exc:
            self._fail(http, exc, close=True)
            return
        body = self._read_body(http)
        if body is None:
            return
        if segments and segments[0] == "_sandbox":
            reply = app.admin.handle(method, segments[1:], params, body)
            http.send_reply(reply.status, reply.encode(), reply.content_type)
            return
        with app.stats_lock:
            self.counts[endpoint_key(method, segments)] += 1
            self.log.append({"method": method, "path": "/" + "/".join(segments), "params": params})
        faults = app.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        fault = faults.decide()
        if fault == "rate_limited":
            http.send_reply(429, settings.TOO_MANY_REQUESTS_HTML, "text/html")
            return
        if fault == "error":
            self._fail(http, ApiError("Internal Server Error", status=500))
            return
        try:
            reply = self._dispatch(method, segments, params, body, http)
        except ApiError as exc:
            self._fail(http, exc)
            return
        http.send_reply(reply.status, reply.encode(), reply.content_type, drop=fault == "drop")

    def _dispatch(
        self, method: str, segments: list[str], params: dict[str, str], body: bytes, http: Handler
    ) -> Reply:
        app = self.app
        if not segments:
            raise NotFound()
        api = segments[0].lower()
        headers = {k.lower(): v for k, v in http.headers.items()}
        if api == "v3" and len(segments) >= 2 and segments[1].upper() in ("REST", "DATA"):
            self._basic_auth(headers, v31=False)
            namespace = segments[1].upper()
            req = Request(method, "v3", namespace, segments[2:], params, body, headers)
            if not req.parts:
                raise ApiError('Unknown resource: ""', info="Bad Request")
            with app.store_lock():
                app.store.run_due_jobs(app.store.wallclock())
                return route_rest(app.store, req) if namespace == "REST" else data_namespace(app.store, req)
        if api == "v3.1" and len(segments) == 2 and segments[1].lower() == "send":
            self._basic_auth(headers, v31=True)
            with app.store_lock():
                return send_v31(app.store, Request(method, "v3.1", "", segments[1:], params, body, headers))
        if api == "v4" and len(segments) >= 2:
            if segments[1].lower() == "contacts":
                self._basic_auth(headers, v31=True)
            else:
                self._bearer_auth(headers)
            with app.store_lock():
                return v4(app.store, Request(method, "v4", "", segments[1:], params, body, headers))
        if api in ("v3", "v3.1", "v4"):
            raise ApiError(f'Unknown resource: "{"/".join(segments[1:])}"', info="Bad Request")
        raise NotFound()

    def _basic_auth(self, headers: dict[str, str], v31: bool) -> None:
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        ok = False
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            key, _, secret = decoded.partition(":")
            cfg = self.app.config
            ok = hmac.compare_digest(key.encode(), cfg.api_key.encode()) & hmac.compare_digest(
                secret.encode(), cfg.api_secret.encode()
            )
        if not ok:
            if v31:
                raise V31Error("mj-0015", settings.UNAUTHORIZED_MESSAGE, status=401)
            raise Unauthorized(settings.UNAUTHORIZED_MESSAGE)

    def _bearer_auth(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self.app.config.sms_token.encode()
        ):
            raise V31Error("mj-0015", settings.UNAUTHORIZED_MESSAGE, status=401)
