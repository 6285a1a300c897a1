"""What the read-back of a job's contacts reads, chosen from counts alone."""

from __future__ import annotations

import pytest

from destinations.mailjet_lists.readplan import (
    newest_first,
    newest_pages,
    pages,
    read_on,
    rest_reads,
    unsub_listing,
    whole_list_cost,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("wanted", "read"), [(1, 0), (2, 0), (3, 1), (1000, 1), (1001, 2), (5000, 5)])
def test_an_add_reads_as_many_newest_pages_as_its_batch_fills_whatever_the_list(
    wanted: int, read: int
) -> None:
    assert newest_pages(wanted) == read


def test_what_an_add_did_not_find_is_looked_up_when_few_and_the_list_read_when_cheaper() -> None:
    assert pages(0) == 0 and pages(1000) == 1 and pages(1001) == 2
    assert whole_list_cost(250_000, unsub=False) == 250 and whole_list_cost(250_000, unsub=True) == 501
    assert rest_reads(3, 250_000, unsub=False) == "lookups"
    assert rest_reads(5000, 250_000, unsub=False) == "list"
    assert rest_reads(250, 250_000, unsub=False) == "lookups"  # a tie: looked up, exact one by one
    assert rest_reads(251, 250_000, unsub=False) == "list"
    assert rest_reads(300, 250_000, unsub=True) == "lookups"  # the unsubscribed members' pages too


def test_an_unsubscribe_reads_the_unsubscribed_members_only_when_their_pages_are_fewer() -> None:
    assert unsub_listing(wanted=10, unsubscribed=800)  # one page for ten contacts
    assert not unsub_listing(wanted=1, unsubscribed=800)
    assert not unsub_listing(wanted=3, unsubscribed=3000)  # three pages for three contacts: looked up
    assert unsub_listing(wanted=3, unsubscribed=0)  # no page at all


@pytest.mark.parametrize(
    ("ids", "after", "ordered"),
    [
        ([9, 7, 3], None, True),
        ([9, 7, 3], 10, True),
        ([], 10, True),
        ([9, 7, 3], 8, False),  # not below the page before: the Sort was not honoured
        ([3, 7, 9], None, False),  # oldest first: the API's default order
        ([9, 9], None, False),
    ],
)
def test_a_listing_that_is_not_newest_first_is_noticed(
    ids: list[int], after: int | None, ordered: bool
) -> None:
    assert newest_first(ids, after) is ordered


@pytest.mark.parametrize(
    ("found", "hits", "rows", "ordered", "more"),
    [
        (1000, 1000, 1000, True, True),  # a full page of the batch: the next holds more of it
        (4000, 1, 1000, True, True),
        (5000, 1000, 1000, True, False),  # all found
        (700, 700, 700, True, False),  # the list's end
        (1000, 1000, 1000, False, False),  # out of order: not the newest
        (1000, 0, 1000, True, False),  # a page without any: not shown yet, or others came after
    ],
)
def test_the_newest_pages_are_read_on_only_while_they_hold_the_batch(
    found: int, hits: int, rows: int, ordered: bool, more: bool
) -> None:
    assert read_on(5000, found, hits, rows, ordered) is more
