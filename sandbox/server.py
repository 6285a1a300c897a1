"""The HTTP layer: parses requests, applies auth and faults, dispatches to the Mailjet surface or the
admin surface (`/_sandbox/...`), and answers in Mailjet's shapes. Never lets a traceback reach a client."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import re
import socket
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
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


CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")
# A chunk-size line (size plus extensions) and a trailer line; longer lines are refused.
MAX_CHUNK_LINE = 4096
MAX_TRAILERS = 100


def read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    """A chunked body, decoded; BadRequest on bad framing or once the decoded size would pass `limit`.

    The size is checked before each chunk is read, so no more than `limit` bytes are ever read."""
    chunks = []
    total = 0
    while True:
        line = _chunk_line(rfile, "chunk size")
        token = line.split(b";", 1)[0].strip(b" \t")
        if not CHUNK_SIZE.fullmatch(token):
            shown = token[:40].decode("latin-1")
            raise BadRequest(f'Malformed chunked body: invalid chunk size "{shown}" (expected hex digits)')
        size = int(token, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BadRequest(f"Request body too large (chunked, over {limit} bytes, max 64 MiB)")
        data = rfile.read(size)
        if len(data) < size:
            raise BadRequest(f"Malformed chunked body: chunk of {size} bytes ended after {len(data)}")
        chunks.append(data)
        if _chunk_line(rfile, "chunk end") != b"":
            raise BadRequest(f"Malformed chunked body: chunk data longer than its size ({size} bytes)")
    for _ in range(MAX_TRAILERS):
        if _chunk_line(rfile, "trailer") == b"":
            return b"".join(chunks)
    raise BadRequest(f"Malformed chunked body: more than {MAX_TRAILERS} trailer lines")


def _chunk_line(rfile: BufferedIOBase, what: str) -> bytes:
    """One CRLF- (or LF-) terminated line of chunked framing, without its terminator."""
    line = rfile.readline(MAX_CHUNK_LINE + 1)
    if not line.endswith(b"\n"):
        reason = "the body ended" if len(line) <= MAX_CHUNK_LINE else f"over {MAX_CHUNK_LINE} bytes"
        raise BadRequest(f"Malformed chunked body: {what} line not terminated ({reason})")
    return line.rstrip(b"\r\n")


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
    # http.server writes neither status line nor headers for an HTTP/0.9 request, which is what it takes
    # an unparseable request line for; the sandbox speaks HTTP/1.x only, so its errors must carry both.
    default_request_version = "HTTP/1.1"
    server: SandboxHTTPServer
    raw_requestline: bytes

    def parse_request(self) -> bool:
        """http.server's parsing, minus HTTP/0.9 (`GET /path` without a version): that is a 400 too."""
        if not super().parse_request():
            if self.requestline.strip() == "" and self.raw_requestline.strip(b"\r\n"):
                self.send_error(400, "Bad request line: no method, path or version")
            return False
        if len(self.requestline.split()) != 3:
            self.send_error(400, f"Bad request line {self.requestline!r}: expected METHOD PATH HTTP/1.1")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer what http.server could not parse in Mailjet's v3 error shape, and close."""
        reason = self.responses.get(code, ("Bad Request", ""))[0]
        self.log_error("code %d, message %s", code, message)
        error = ApiError(message or reason, info=reason, status=code)
        self.send_reply(code, orjson.dumps(error.body()), "application/json", close=True)

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
        try:
            return self._body(http)
        except BadRequest as exc:
            self._fail(http, exc, close=True)
            return None

    def _body(self, http: Handler) -> bytes:
        transfer = (http.headers.get("Transfer-Encoding") or "").strip().lower()
        if transfer:
            if transfer.rsplit(",", 1)[-1].strip() != "chunked":
                raise BadRequest(
                    f'Unsupported Transfer-Encoding "{transfer}": send "chunked" or a Content-Length'
                )
            return read_chunked(http.rfile, settings.MAX_BODY_BYTES)
        raw_length = (http.headers.get("Content-Length") or "0").strip()
        # isdigit() alone accepts "²" and other Unicode digits that int() rejects.
        if not (raw_length.isascii() and raw_length.isdigit()):
            raise BadRequest(
                f'Invalid Content-Length header "{raw_length[:40]}": expected a decimal number of bytes'
            )
        # Compared as text first: int() refuses strings over 4300 digits.
        if len(raw_length) > 12 or int(raw_length) > settings.MAX_BODY_BYTES:
            raise BadRequest(f"Request body too large ({raw_length[:40]} bytes, max 64 MiB)")
        length = int(raw_length)
        body = http.rfile.read(length) if length else b""
        if len(body) < length:
            raise BadRequest(f"Incomplete request body: {len(body)} of {length} bytes (Content-Length)")
        return body

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
        if faults.latency_ms and faults.hits(method):
            time.sleep(faults.latency_ms / 1000)
        fault = faults.decide(method)
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
                decoded = base64.b64decode(token.strip().encode("ascii"), validate=True).decode("utf-8")
            except (UnicodeError, binascii.Error):
                # Not ASCII, not base64 or not UTF-8: wrong credentials like any other, Mailjet's 401.
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
