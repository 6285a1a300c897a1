"""The receiver's lean reading of a request's header section, against the standard library's (the email
parser's) reading of it, and its answers: each one a single write."""

from __future__ import annotations

import http.client
import io
import socket
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from sources.mailjet_webhooks.framing import MAX_LINE, HeadersTooLarge, read_headers
from sources.mailjet_webhooks.receiver import Handler

SECTIONS = [
    b"Host: x\r\nContent-Length: 12\r\n\r\n",
    b"host: x\r\ncontent-length:12\r\nCONTENT-LENGTH: 13 \r\n\r\n",  # names in any case; two of one name
    b"Host: x\n\n",  # bare line feeds
    b"Authorization: Basic  abc \r\nX-Empty:\r\nX-Tab:\tv\r\n\r\n",  # blanks after the colon dropped
    b"X-Folded: one\r\n two\r\nContent-Length: 3\r\n\r\n",  # a folded (obsolete) continuation line
    "X-Latin: caf\xe9\r\n\r\n".encode("latin-1"),
    b"Content-Length: 12\r\nTransfer-Encoding : chunked\r\nHost: y\r\n\r\n",  # not a header: no more read
    b"Host: x\r\n",  # the stream ends before the blank line
    b"\r\n",
]


@pytest.mark.unit
@pytest.mark.parametrize("raw", SECTIONS)
def test_the_header_section_reads_as_the_standard_library_reads_it(raw: bytes) -> None:
    mine, theirs = (
        read_headers(io.BytesIO(raw + b"BODY")),
        http.client.parse_headers(io.BytesIO(raw + b"BODY")),
    )
    for name in (
        "Host",
        "content-length",
        "Authorization",
        "X-Empty",
        "X-Tab",
        "X-Folded",
        "X-Latin",
        "Nope",
    ):
        assert mine.get(name) == theirs.get(name), name
        assert mine.get_all(name) == theirs.get_all(name), name
    assert [type(d) for d in mine.defects] == [type(d) for d in theirs.defects]


@pytest.mark.unit
def test_the_blank_line_ends_the_section_and_the_body_is_left_unread() -> None:
    stream = io.BytesIO(b"Content-Length: 4\r\n\r\nBODYPOST /events HTTP/1.1\r\n")
    assert read_headers(stream).get("Content-Length") == "4"
    assert stream.read(4) == b"BODY"


@pytest.mark.unit
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"X-Long: " + b"a" * MAX_LINE + b"\r\n\r\n", id="a line over 64 KiB"),
        pytest.param(b"X-A: 1\r\n" * 100 + b"\r\n", id="100 headers"),
    ],
)
def test_past_the_standard_library_limits_the_section_is_refused(raw: bytes) -> None:
    with pytest.raises(HeadersTooLarge):
        read_headers(io.BytesIO(raw))
    with pytest.raises(http.client.HTTPException):  # the standard library refuses them too
        http.client.parse_headers(io.BytesIO(raw))


@pytest.mark.unit
def test_a_header_of_no_name_is_a_defect() -> None:
    """The email parser takes `: value` for a header of an empty name; no HTTP header is one."""
    assert read_headers(io.BytesIO(b"Host: x\r\n: 12\r\n\r\n")).defects


class Counted(Handler):
    """The receiver's handler, counting the writes of its answers."""

    writes: list[bytes]
    disable_nagle_algorithm = False  # a socket pair is no TCP socket

    def setup(self) -> None:
        super().setup()
        writes = self.writes = []
        socket_writer = self.wfile

        class Writer(io.RawIOBase):
            def write(self, data: Any) -> int:
                writes.append(bytes(data))
                return int(socket_writer.write(data))

        self.wfile = Writer()  # type: ignore[assignment]


class Refusing:
    """What the handler asks of the server, for requests refused before any body is read."""

    def authorized(self, header: str | None) -> bool:
        return False


def test_each_answer_is_one_write_of_its_headers_and_body() -> None:
    """The standard library writes an answer's headers, then its body: two sends, two wake-ups of the
    client. The receiver's answers leave in one."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(
            b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"  # 404, kept alive
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"  # 401, closed
        )
        handled: list[Counted] = []
        thread = threading.Thread(
            target=lambda: handled.append(Counted(ours, ("127.0.0.1", 0), Refusing()))  # type: ignore[arg-type]
        )
        thread.start()
        thread.join(timeout=30)
        ours.shutdown(socket.SHUT_WR)  # as the server does once the handler closed the connection
        theirs.settimeout(10)
        answers = b""
        while chunk := theirs.recv(65536):
            answers += chunk
    [handler] = handled
    assert [w.split(b" ", 2)[1] for w in handler.writes] == [b"404", b"401"]
    assert answers == b"".join(handler.writes)
    assert answers.count(b"\r\nConnection: close\r\n") == 1
    for answer in handler.writes:
        head, body = answer.split(b"\r\n\r\n", 1)
        assert f"Content-Length: {len(body)}".encode() in head and body.endswith(b"\n")


class Plain(BaseHTTPRequestHandler):
    """The standard library's handler, as the receiver's was configured before its lean reading."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


def status_line(handler: type[BaseHTTPRequestHandler], request: bytes) -> bytes:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(request)
        theirs.shutdown(socket.SHUT_WR)
        unix = type("OnASocketPair", (handler,), {"disable_nagle_algorithm": False})  # no TCP socket
        thread = threading.Thread(target=unix, args=(ours, ("127.0.0.1", 0), Refusing()))
        thread.start()
        thread.join(timeout=30)
        ours.shutdown(socket.SHUT_WR)
        theirs.settimeout(10)
        answer = b""
        while chunk := theirs.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"BREW /events HTTP/1.1\r\n\r\n", id="a method it does not serve"),
        pytest.param(b"GET /x HTTP/2.0\r\n\r\n", id="HTTP/2"),
        pytest.param(b"GET /x HTTP/1.x\r\n\r\n", id="a bad version"),
        pytest.param(b"GET /x HTTP/1.1 more\r\n\r\n", id="four words"),
        pytest.param(b"POST /x\r\n\r\n", id="HTTP/0.9 but not a GET"),
        pytest.param(b"GET /x HTTP/1.1\r\n" + b"X: y\r\n" * 100 + b"\r\n", id="too many headers"),
        pytest.param(b"GET /x HTTP/1.1\r\nX: " + b"y" * 70_000 + b"\r\n\r\n", id="a header line too long"),
        pytest.param(b"GET /x HTTP/1.0\r\n\r\n", id="HTTP/1.0"),
    ],
)
def test_an_odd_request_line_is_answered_as_the_standard_library_answers_it(request_bytes: bytes) -> None:
    assert status_line(Handler, request_bytes) == status_line(Plain, request_bytes)
