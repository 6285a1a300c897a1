"""A delivery's body read as the spool will store it: at most `max_events` items, each parsed as the spool
will read it back and serialized as it will write it, so that what is acknowledged can be stored, and a
body of millions of tiny items costs no more memory than a few times its bytes.

A small body of events only (the common case: Mailjet groups a second's events) is parsed at once by
orjson. Any other is read one item at a time: the standard library's decoder finds where each array item
ends (`raw_decode`, from an offset) without the whole array in memory, and orjson parses each item as
`read_spool` will. Parsed whole, the 1.4 million `{}` that fit in 4 MiB would be as many Python objects,
some 140 MiB; read one at a time, they stop at the cap."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from sources.mailjet_webhooks.exceptions import DeliveryRefused
from sources.mailjet_webhooks.settings import WHOLE_BODY_BYTES

_DECODER = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")  # JSON's whitespace


@dataclass
class Delivery:
    """The items of one delivery: the events as the spool stores them, and the other items as sent."""

    # One buffer rather than a bytes object per event: orjson's output keeps its writer's spare capacity,
    # about 4 KiB an event however small, until it is copied.
    events: bytearray = field(default_factory=bytearray)  # serialized, separated by commas
    count: int = 0  # events in `events`
    strays: list[str] = field(default_factory=list)  # array items that are not objects


def read_delivery(body: bytes, max_events: int, whole_bytes: int = WHOLE_BODY_BYTES) -> Delivery:
    """The delivery's items; DeliveryRefused (400 or 413) when the body cannot be stored whole. A body of
    at most `whole_bytes` is parsed at once when it holds events only (the outcome is the same)."""
    if len(body) <= whole_bytes and (whole := _whole(body, max_events)) is not None:
        return whole
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _malformed(f"not UTF-8 ({exc})") from None
    delivery = Delivery()
    for number, item in enumerate(_items(text), start=1):
        if number > max_events:
            raise DeliveryRefused(
                413,
                "too_many_events",
                f"more than {max_events} events in one delivery, the limit ([mailjet.webhooks] max_events)",
                f"more than {max_events} events in one delivery: send at most {max_events} per request",
            )
        try:
            value = orjson.loads(item)
        except orjson.JSONDecodeError as exc:
            raise _malformed(f"item {number}: {exc}") from None
        if not isinstance(value, dict):
            delivery.strays.append(item)
            continue
        try:
            serialized = orjson.dumps(value)
        except orjson.JSONEncodeError as exc:  # nested deeper than the spool can write, say
            raise DeliveryRefused(
                400,
                "unstorable",
                f"event {number} cannot be stored ({exc})",
                f"event {number} cannot be stored ({exc}); nothing of this delivery was kept",
            ) from None
        if delivery.count:
            delivery.events += b","
        delivery.events += serialized
        delivery.count += 1
    return delivery


def _whole(body: bytes, max_events: int) -> Delivery | None:
    """A body of at most `max_events` events and nothing else, parsed at once; None for any other (read
    item by item then, which says what is wrong with it)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    items = value if isinstance(value, list) else [value]
    if len(items) > max_events or not all(isinstance(item, dict) for item in items):
        return None
    try:
        serialized = orjson.dumps(items)
    except orjson.JSONEncodeError:
        return None
    return Delivery(events=bytearray(serialized[1:-1]), count=len(items))  # the array's brackets dropped


def _items(text: str) -> Iterator[str]:
    """The text of each item of a JSON array, one at a time; the whole text when it is not an array."""
    at = _skip(text, 0)
    if not text.startswith("[", at):
        yield text
        return
    at = _skip(text, at + 1)
    if text.startswith("]", at):
        at = _skip(text, at + 1)
    else:
        while True:
            try:
                _, end = _DECODER.raw_decode(text, at)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise _malformed(f"at character {at}: {str(exc)[:200]}") from None
            yield text[at:end]
            at = _skip(text, end)
            if text.startswith(",", at):
                at = _skip(text, at + 1)
            elif text.startswith("]", at):
                at = _skip(text, at + 1)
                break
            else:
                raise _malformed(f"at character {at}: expected ',' or ']' after an array item")
    if at != len(text):
        raise _malformed(f"at character {at}: data after the array")


def _skip(text: str, at: int) -> int:
    """Where the whitespace from `at` on ends."""
    return _BLANK.match(text, at).end()  # type: ignore[union-attr]  # it matches the empty string


def _malformed(detail: str) -> DeliveryRefused:
    return DeliveryRefused(400, "malformed_json", detail, "the body is not JSON")
