"""A request's header section, and how long its body is, or why the request is refused unread.

`read_headers` reads the header lines as `http.client.parse_headers` does (the same limits: lines of at
most 65,536 bytes, at most 100 headers; the same unfolding and Latin-1 text) without building an email
message of them, which costs more than the rest of a small delivery's handling. A line that is not
`Name: value` (nor the continuation of one) is a defect, as the email parser records it.

One reading only: a request whose length a proxy in front could read otherwise (two `Content-Length`s, a
`Transfer-Encoding`, a length that is not plain ASCII digits, a header line that is not a header) is
refused, and its connection closed, so that no part of it is ever taken for a request of its own."""

from __future__ import annotations

import re
from email.errors import MessageDefect, MissingHeaderBodySeparatorDefect
from email.message import Message
from typing import Protocol

from sources.mailjet_webhooks.exceptions import DeliveryRefused

MAX_LINE = 65_536  # bytes of a header line (http.client's _MAXLINE)
MAX_HEADERS = 100  # header lines (http.client's _MAXHEADERS)
# A header line as the email parser takes one: a name of printable ASCII but the colon, then a colon.
_FIELD = re.compile(r"([\041-\071\073-\176]+):[ \t]*")


class Lines(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


class HeadersTooLarge(Exception):
    """A header line over MAX_LINE bytes, or more than MAX_HEADERS of them: answered 431, with the
    standard library's message and explanation (the exception's two arguments)."""


class Headers:
    """A request's header fields in the order sent, looked up by name in any case; `defects` as the email
    parser's (a line that is not a header)."""

    __slots__ = ("_fields", "defects")

    def __init__(self) -> None:
        self._fields: list[tuple[str, str]] = []  # (lowercase name, value)
        self.defects: list[MessageDefect] = []

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first field of that name's value, or `default`."""
        name = name.lower()
        for key, value in self._fields:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str] | None:
        """Every field of that name's value, in order; None when there is none."""
        name = name.lower()
        return [value for key, value in self._fields if key == name] or None


def read_headers(rfile: Lines) -> Headers:
    """The header section from `rfile`, up to and including its blank line (or the end of the stream).
    Raises HeadersTooLarge. Values as the email parser gives them: blanks after the colon dropped, a
    folded continuation line kept (with its line break) in the value it continues."""
    headers = Headers()
    fields = headers._fields
    count = 0
    separated = True  # no defect yet: once a line is not a header, the email parser reads no more fields
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise HeadersTooLarge("Line too long", "header line")
        count += 1  # the blank line too, as http.client counts
        if count > MAX_HEADERS:
            raise HeadersTooLarge("Too many headers", f"got more than {MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            return headers
        if not separated:
            continue
        text = line.decode("iso-8859-1")
        if text[0] in " \t" and fields:  # a folded line: it continues the field before it
            name, value = fields[-1]
            fields[-1] = (name, value + "\r\n" + text.rstrip("\r\n"))
            continue
        field = _FIELD.match(text)
        if field is None:
            headers.defects.append(MissingHeaderBodySeparatorDefect())
            separated = False
            continue
        fields.append((field[1].lower(), text[field.end() :].rstrip("\r\n")))


def body_length(headers: Headers | Message) -> int:
    """The body's length in bytes; DeliveryRefused (400 or 411) when the framing is not one plain length."""
    if headers.defects:
        raise DeliveryRefused(
            400,
            "bad_framing",
            f"malformed header section ({headers.defects[0].__class__.__name__})",
            "malformed headers: every header line is `Name: value`",
        )
    if headers.get("Transfer-Encoding") is not None:
        raise DeliveryRefused(
            411,
            "bad_framing",
            "a Transfer-Encoding header",
            "send the body with a Content-Length (no Transfer-Encoding)",
        )
    lengths = [value.strip() for value in headers.get_all("Content-Length") or []]
    if not lengths:
        raise DeliveryRefused(411, "bad_framing", "no Content-Length", "a Content-Length is required")
    if len(lengths) > 1:
        raise DeliveryRefused(
            400,
            "bad_framing",
            f"{len(lengths)} Content-Length headers ({', '.join(lengths)[:200]})",
            "one Content-Length header, not several",
        )
    if not (lengths[0].isascii() and lengths[0].isdigit()):
        raise DeliveryRefused(
            400,
            "bad_framing",
            f"Content-Length {lengths[0][:40]!r}",
            "the Content-Length must be a number of bytes (ASCII digits)",
        )
    return int(lengths[0])
