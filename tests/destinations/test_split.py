"""A batch Mailjet refuses whole for one contact, bisected to that contact, with plain data: `start` is a
plain function that refuses any part holding a bad address, as the `bulk-invalid-email-400` reading does."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from destinations.mailjet_lists.payloads import Row
from destinations.mailjet_lists.split import Start, start_parts
from sources.mailjet.exceptions import MailjetBadRequest

pytestmark = pytest.mark.unit


def rows(n: int) -> list[Row]:
    return [
        {"run_id": 1, "audience": "a", "list_id": 10, "email": f"p{i}@x.com", "reason": "r"} for i in range(n)
    ]


def refusing(bad: set[str], names: bool = True) -> tuple[list[int], Start]:
    """A `start` that refuses any part holding one of `bad` (naming it when `names`); the sizes it saw."""
    seen: list[int] = []

    def start(part: Sequence[Row]) -> tuple[str, int]:
        seen.append(len(part))
        offenders = sorted(str(r["email"]) for r in part if r["email"] in bad)
        if offenders:
            said = f"'{offenders[0]}' is not a valid email address" if names else "Invalid email"
            raise MailjetBadRequest(f"POST /v3/REST/contactslist/10/managemanycontacts: {said}", 400)
        return "contactslist/10/managemanycontacts", 100 + len(seen)

    return seen, start


def test_one_bad_address_the_400_names_is_set_aside_and_the_rest_sent_at_once() -> None:
    batch = rows(64)
    seen, start = refusing({"p37@x.com"})
    parts = start_parts(batch, start)
    assert [(r["email"], outcome) for r, outcome, _ in parts.refused] == [("p37@x.com", "refused")]
    assert "p37@x.com" in parts.refused[0][2]
    sent = [str(r["email"]) for _, _, part in parts.jobs for r in part]
    assert sorted(sent) == sorted(str(r["email"]) for r in batch if r["email"] != "p37@x.com")
    assert seen == [64, 63] and parts.extra_requests == 1


def test_an_address_inside_another_is_not_taken_for_it() -> None:
    batch = [*rows(3), {**rows(1)[0], "email": "ap1@x.com"}]
    _, start = refusing({"ap1@x.com"})
    parts = start_parts(batch, start)
    assert [r["email"] for r, _, _ in parts.refused] == ["ap1@x.com"]
    assert sorted(str(r["email"]) for _, _, part in parts.jobs for r in part) == [
        "p0@x.com",
        "p1@x.com",
        "p2@x.com",
    ]


def test_a_message_naming_nobody_is_bisected_to_the_lone_offender() -> None:
    seen, start = refusing({"p3@x.com"}, names=False)
    parts = start_parts(rows(8), start)
    assert parts.extra_requests == len(seen) - 1 == 2 * 3  # two POSTs per halving, 8 -> 1
    assert [(r["email"], outcome) for r, outcome, _ in parts.refused] == [("p3@x.com", "refused")]
    assert len([r for _, _, part in parts.jobs for r in part]) == 7


def test_two_bad_addresses_are_each_refused() -> None:
    _, start = refusing({"p1@x.com", "p6@x.com"})
    parts = start_parts(rows(8), start)
    assert sorted(str(r["email"]) for r, _, _ in parts.refused) == ["p1@x.com", "p6@x.com"]
    assert len([r for _, _, part in parts.jobs for r in part]) == 6


def test_a_400_that_is_the_batchs_own_stops_after_one_halving() -> None:
    """Both halves refused with the batch's very message, naming nobody: the batch is refused whole
    (failed), three POSTs, not one per contact."""
    seen: list[int] = []

    def start(part: Sequence[Row]) -> tuple[str, int]:
        seen.append(len(part))
        raise MailjetBadRequest("POST /v3/REST/contactslist/10/managemanycontacts: Action invalid", 400)

    parts = start_parts(rows(5000), start)
    assert seen == [5000, 2500, 2500]
    assert {outcome for _, outcome, _ in parts.refused} == {"failed"} and len(parts.refused) == 5000
    assert parts.jobs == [] and parts.extra_requests == 2


def test_a_batch_mailjet_takes_is_one_job_and_no_extra_request() -> None:
    seen, start = refusing(set())
    parts = start_parts(rows(10), start)
    assert (len(parts.jobs), parts.refused, parts.extra_requests, seen) == (1, [], 0, [10])
