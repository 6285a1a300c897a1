"""HTTP framing and credentials the client got wrong: a request line that is not HTTP/1.x, a bad
Content-Length, a malformed or oversized chunked body, an undecodable Basic token. Each gets a status
line, a Mailjet-shaped JSON error and (for framing) a closed connection; no traceback reaches the log."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest

from sandbox import settings
from tests.conftest import Api

AUTH = b"Authorization: Basic " + base64.b64encode(b"sandbox-api-key:sandbox-api-secret") + b"\r\n"
CONTACT = b'{"Email": "framing@example.com"}'


@dataclass
class RawReply:
    status_line: bytes
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = orjson.loads(self.body)
        assert isinstance(value, dict)
        return value


def exchange(api: Api, *parts: bytes) -> RawReply:
    """Send raw bytes, read until the server closes the connection (a timeout fails the test)."""
    port = int(api.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for part in parts:
            sock.sendall(part)
        received = []
        while chunk := sock.recv(1 << 20):
            received.append(chunk)
    head, _, body = b"".join(received).partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawReply(status_line, headers, body)


def assert_mailjet_error(reply: RawReply, status: int, closed: bool = True) -> dict[str, object]:
    """Status line, Content-Length, Mailjet's v3 error body; `Connection: close` for framing errors."""
    assert reply.status_line.startswith(f"HTTP/1.1 {status} ".encode()), reply.status_line
    assert int(reply.headers["content-length"]) == len(reply.body)
    assert reply.headers["content-type"].startswith("application/json")
    if closed:
        assert reply.headers.get("connection") == "close"
    body = reply.json()
    assert {"ErrorInfo", "ErrorMessage", "StatusCode"} <= set(body), body
    assert body["StatusCode"] == status and isinstance(body["ErrorMessage"], str) and body["ErrorMessage"]
    assert "Traceback" not in reply.body.decode("utf-8")
    return body


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Fails the test if the sandbox logged a traceback (at any level) or printed one to stderr."""
    caplog.set_level(logging.DEBUG, logger="sandbox")
    yield
    with_trace = [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text or r.stack_info]
    assert not with_trace, with_trace
    assert "Traceback" not in caplog.text
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"GARBAGE\r\n\r\n", id="one-word"),
        pytest.param(b"GET\r\n\r\n", id="method-only"),
        pytest.param(b"GET /v3/REST/contactslist\r\n\r\n", id="http-0.9-get"),
        pytest.param(b'POST "/x\r\n\r\n', id="http-0.9-post-quote"),
        pytest.param(b"\x00\x01\x02\xff\xfe\x80\r\n\r\n", id="binary"),
        pytest.param(b"GET / HTTP/1.1 extra\r\n\r\n", id="four-words"),
        pytest.param(b"GET / FTP/1.0\r\n\r\n", id="not-http"),
        pytest.param(b"GET / HTTP/1.1.1\r\n\r\n", id="bad-version"),
    ],
)
def test_garbage_request_line_gets_a_400_status_line_and_a_closed_connection(
    api: Api, server_log: None, line: bytes
) -> None:
    body = assert_mailjet_error(exchange(api, line), 400)
    assert body["ErrorInfo"] == "Bad Request"
    assert api.get("contactslist").status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"\xb2", id="superscript-two"),
        pytest.param(b"\xb9\xb2\xb3", id="superscripts"),
        pytest.param("١٢".encode(), id="arabic-indic-utf8"),
        pytest.param(b"9" * 5000, id="5000-digits"),
        pytest.param(b"-1", id="negative"),
        pytest.param(b"1.5", id="decimal"),
        pytest.param(b"0x10", id="hex"),
        pytest.param(b"\xff\xfe", id="binary"),
    ],
)
def test_bad_content_length_is_a_400(api: Api, server_log: None, value: bytes) -> None:
    reply = exchange(
        api,
        b"POST /v3/REST/contact HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: " + value + b"\r\n\r\n",
        CONTACT,
    )
    body = assert_mailjet_error(reply, 400)
    assert "Content-Length" in str(body["ErrorMessage"]) or "too large" in str(body["ErrorMessage"])
    assert api.get("contact/framing@example.com").status_code == 404


def chunked_post(*chunks: bytes) -> list[bytes]:
    head = b"POST /v3/REST/contact HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Transfer-Encoding: chunked\r\n\r\n"
    return [head, *chunks]


@pytest.mark.parametrize(
    "size_line",
    [
        pytest.param(b"-1\r\n", id="negative"),
        pytest.param(b"-0x20\r\n", id="negative-hex"),
        pytest.param(b"0x20\r\n", id="0x-prefix"),
        pytest.param(b"+20\r\n", id="plus-sign"),
        pytest.param(b"2_0\r\n", id="underscore"),
        pytest.param(b"zz\r\n", id="not-hex"),
        pytest.param(b"\r\n", id="empty"),
        pytest.param(b"\xb2\r\n", id="non-ascii"),
        pytest.param(b"1" * 5000 + b"\r\n", id="overlong-line"),
    ],
)
def test_invalid_chunk_size_is_a_400_and_reads_no_further(
    api: Api, server_log: None, size_line: bytes
) -> None:
    # A valid JSON body follows, so a server that misreads the size as a length creates the contact.
    reply = exchange(api, *chunked_post(size_line, CONTACT + b"\r\n0\r\n\r\n"))
    body = assert_mailjet_error(reply, 400)
    assert "chunk" in str(body["ErrorMessage"]).lower()
    assert api.get("contact/framing@example.com").status_code == 404


@pytest.mark.parametrize(
    "size_line",
    [
        pytest.param(b"%x\r\n" % (settings.MAX_BODY_BYTES + 1), id="one-chunk-over-cap"),
        pytest.param(b"f" * 16 + b"\r\n", id="2**64-1"),
        pytest.param(b"f" * 40 + b"\r\n", id="160-bit"),
    ],
)
def test_chunk_larger_than_the_cap_is_refused_before_reading(
    api: Api, server_log: None, size_line: bytes
) -> None:
    body = assert_mailjet_error(exchange(api, *chunked_post(size_line, b"{")), 400)
    assert "too large" in str(body["ErrorMessage"])


def test_chunks_adding_up_past_the_cap_are_refused(api: Api, server_log: None) -> None:
    quarter = settings.MAX_BODY_BYTES // 4
    piece = b"%x\r\n" % quarter + b" " * quarter + b"\r\n"
    reply = exchange(api, *chunked_post(piece, piece, piece, piece, b"1\r\n{\r\n0\r\n\r\n"))
    body = assert_mailjet_error(reply, 400)
    assert "too large" in str(body["ErrorMessage"])


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b"5\r\nabcdefgh\r\n0\r\n\r\n", id="data-longer-than-size"),
        pytest.param(b"0\r\n" + b"X-Trailer: 1\r\n" * 200, id="endless-trailers"),
    ],
)
def test_malformed_chunk_framing_is_a_400(api: Api, server_log: None, tail: bytes) -> None:
    body = assert_mailjet_error(exchange(api, *chunked_post(tail)), 400)
    assert "chunk" in str(body["ErrorMessage"]).lower()


def test_well_formed_chunked_body_still_works(api: Api, server_log: None) -> None:
    first, second = CONTACT[:10], CONTACT[10:]
    reply = exchange(
        api,
        *chunked_post(
            b"%x;ext=1\r\n" % len(first) + first + b"\r\n",
            b"%X\r\n" % len(second) + second + b"\r\n",
            b"0\r\nX-Checksum: none\r\n\r\n",
        ),
        b"GET /v3/REST/contact/framing@example.com HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"Connection: close\r\n\r\n",
    )
    assert reply.status_line.startswith(b"HTTP/1.1 201 ")
    assert api.data("contact/framing@example.com")[0]["Email"] == "framing@example.com"


@pytest.mark.parametrize(
    ("path", "token"),
    [
        pytest.param("/v3/REST/contactslist", b"\xff\xff\xff", id="latin1-bytes"),
        pytest.param("/v3/REST/contactslist", "ÿÿÿ".encode(), id="utf8-non-ascii"),
        pytest.param("/v3/REST/contactslist", base64.b64encode(b"\xff\xfe:\xfd"), id="decodes-to-non-utf8"),
        pytest.param("/v3/REST/contactslist", b"!!!!", id="not-base64"),
        pytest.param("/v3/REST/contactslist", b"", id="empty"),
        pytest.param("/v3.1/send", b"\xff\xff\xff", id="v31-non-ascii"),
        pytest.param("/v4/contacts/1", "é".encode(), id="v4-non-ascii"),
    ],
)
def test_undecodable_basic_token_is_mailjets_401(api: Api, server_log: None, path: str, token: bytes) -> None:
    # Mailjet answers bad credentials with 401 (contract §3, §10.1), whatever is wrong with them.
    reply = exchange(
        api,
        f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode()
        + b"Authorization: Basic "
        + token
        + b"\r\nConnection: close\r\n\r\n",
    )
    assert reply.status_line.startswith(b"HTTP/1.1 401 "), reply.status_line
    body = reply.json()
    assert body["StatusCode"] == 401 and "authentication" in str(body["ErrorMessage"])
    if path.startswith("/v3/"):
        assert set(body) == {"ErrorInfo", "ErrorMessage", "StatusCode"}
    else:
        assert body["ErrorCode"] == "mj-0015"


def test_non_ascii_bearer_token_is_mailjets_401(api: Api, server_log: None) -> None:
    reply = exchange(
        api,
        b"GET /v4/sms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n",
    )
    assert reply.status_line.startswith(b"HTTP/1.1 401 ")
    assert reply.json()["ErrorCode"] == "mj-0015"
