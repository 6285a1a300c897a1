"""How a delivery's body and a request's length are read: plain data, no receiver."""

from __future__ import annotations

import http.client
import io

import orjson
import pytest

from sources.mailjet_webhooks.delivery import read_delivery
from sources.mailjet_webhooks.exceptions import DeliveryRefused
from sources.mailjet_webhooks.framing import body_length
from sources.mailjet_webhooks.spool import events_line

pytestmark = pytest.mark.unit


def stored(body: bytes, max_events: int = 10) -> tuple[list[object], list[str]]:
    """The events as the spool would read them back, and the items that are not events."""
    delivery = read_delivery(body, max_events)
    record = orjson.loads(events_line("2026-06-15T12:00:00+00:00", delivery.events))
    assert len(record["events"]) == delivery.count
    return record["events"], delivery.strays


@pytest.mark.parametrize(
    ("body", "events", "strays"),
    [
        pytest.param(b'{"event": "open"}', [{"event": "open"}], [], id="one object"),
        pytest.param(
            b' \r\n[ {"a": 1} ,{"b": [2, {"c": null}]}\t] \n',
            [{"a": 1}, {"b": [2, {"c": None}]}],
            [],
            id="an array, blanks anywhere JSON allows",
        ),
        pytest.param(b"[]", [], [], id="an empty array"),
        pytest.param(
            b'[{"a": "\\u00e9\\n"}, 42, "x", [1, 2]]',
            [{"a": "é\n"}],
            ["42", '"x"', "[1, 2]"],
            id="items that are not objects, as sent",
        ),
        pytest.param(
            b'[{"MessageID": 18446744073709551616}]',
            [{"MessageID": 18446744073709551616.0}],
            [],
            id="numbers as orjson reads them",
        ),
    ],
)
def test_a_delivery_is_read_item_by_item_as_the_spool_reads_it(
    body: bytes, events: list[object], strays: list[str]
) -> None:
    assert stored(body) == (events, strays)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b'[{"a": 1},]', "malformed_json", id="a trailing comma"),
        pytest.param(b'[{"a": 1}] []', "malformed_json", id="data after the array"),
        pytest.param(b'[{"a": 1} {"b": 2}]', "malformed_json", id="no comma"),
        pytest.param(b'[{"a": NaN}]', "malformed_json", id="NaN"),
        pytest.param(b'[{"a": "\\ud800"}]', "malformed_json", id="half a surrogate pair"),
        pytest.param(b'[{"a": "\xff"}]', "malformed_json", id="not UTF-8"),
        pytest.param(b"[" + b"[" * 5000 + b"]" * 5000 + b"]", "malformed_json", id="nested past any parser"),
        pytest.param(b'{"a": ' * 300 + b"1" + b"}" * 300, "unstorable", id="an event nested 300 deep"),
        pytest.param(b"[" + b"{}," * 10 + b"{}]", "too_many_events", id="eleven items"),
    ],
)
def test_a_body_that_cannot_be_stored_whole_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        read_delivery(body, max_events=10)
    assert refused.value.reason == reason
    assert refused.value.status == (413 if reason == "too_many_events" else 400)


def test_the_cap_counts_every_array_item() -> None:
    assert stored(b"[" + b",".join([b"{}"] * 10) + b"]")[0] == [{}] * 10
    with pytest.raises(DeliveryRefused, match="more than 10 events"):
        read_delivery(b"[" + b",".join([b"{}"] * 5 + [b"1"] * 6) + b"]", max_events=10)


def headers(raw: bytes) -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(raw + b"\r\n"))


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"Content-Length: 12\r\nContent-Length: 12\r\n", 400, id="two, the same"),
        pytest.param(b"Content-Length: 12\r\nContent-Length: 99\r\n", 400, id="two, different"),
        pytest.param(b"Content-Length: +12\r\n", 400, id="a sign"),
        pytest.param(b"Content-Length: 1_2\r\n", 400, id="an underscore"),
        pytest.param("Content-Length: ١٢\r\n".encode(), 400, id="other digits"),
        pytest.param(b"Content-Length: 12\r\nTransfer-Encoding : chunked\r\n", 400, id="not a header line"),
        pytest.param(
            b"Content-Length: 12\r\nTransfer-Encoding: chunked\r\n", 411, id="with Transfer-Encoding"
        ),
        pytest.param(b"Host: x\r\n", 411, id="none"),
    ],
)
def test_a_length_that_could_be_read_two_ways_is_refused(raw: bytes, status: int) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        body_length(headers(raw))
    assert (refused.value.status, refused.value.reason) == (status, "bad_framing")


def test_one_plain_length_is_the_body_length() -> None:
    assert body_length(headers(b"Host: x\r\nContent-Length:  42 \r\n")) == 42


def outcome(body: bytes, whole_bytes: int) -> object:
    try:
        delivery = read_delivery(body, max_events=3, whole_bytes=whole_bytes)
    except DeliveryRefused as refused:
        return refused.status, refused.reason
    return bytes(delivery.events), delivery.count, delivery.strays


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"event": "open", "n": 1.5e3, "s": "\\u00e9"}', id="one object"),
        pytest.param(b'[ {"a": 1}, {"b": [2, {"c": null}]} ]', id="an array"),
        pytest.param(b"[]", id="an empty array"),
        pytest.param(b'[{"MessageID": 18446744073709551616, "x": -9223372036854775808}]', id="big numbers"),
        pytest.param(b"[{}, {}, {}, {}]", id="over the cap"),
        pytest.param(b'[{"a": 1}, 2]', id="a stray"),
        pytest.param(b'[{"a": ' * 300 + b"1" + b"}" * 300 + b"]", id="too deep to store"),
        pytest.param(b'[{"a": 1e400}]', id="a number out of range"),
        pytest.param(b'[{"a": 1}', id="cut short"),
    ],
)
def test_a_small_body_parsed_at_once_has_the_outcome_of_one_read_item_by_item(body: bytes) -> None:
    assert outcome(body, whole_bytes=len(body)) == outcome(body, whole_bytes=0)
