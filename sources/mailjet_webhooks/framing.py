"""How long a request's body is, from its headers, or why the request is refused unread.

One reading only: a request whose length a proxy in front could read otherwise (two `Content-Length`s, a
`Transfer-Encoding`, a length that is not plain ASCII digits, a header line that is not a header) is
refused, and its connection closed, so that no part of it is ever taken for a request of its own."""

from __future__ import annotations

from email.message import Message

from sources.mailjet_webhooks.exceptions import DeliveryRefused


def body_length(headers: Message) -> int:
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
