"""What the read-back of a job's contacts reads, chosen from counts alone (pure: the reads are in
`mailjet.py`). A job's new memberships are the list's newest, so an add is read from the list's newest
memberships (and newest contacts, for those whose contact ID is unknown), a few pages bounded by the batch,
not by the list; what that does not find, and the other actions, cost the fewest requests of: one
`listrecipient` look-up per contact, or the list's pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sources.mailjet.settings import PAGE_SIZE_MAX

Rest = Literal["lookups", "list"]


def pages(rows: int) -> int:
    """The pages of a listing of `rows` rows."""
    return -(-rows // PAGE_SIZE_MAX)


def newest_pages(wanted: int) -> int:
    """How many pages of a list's newest memberships (or contacts) an add of `wanted` contacts reads at
    most before the contacts it did not find there are read otherwise: the pages its own changes fill
    (one that others' changes pushed past them is looked up, cheaper than another page for a few). None
    when one look-up each costs no more (two contacts or fewer)."""
    return pages(wanted) if wanted > 2 else 0


def whole_list_cost(members: int, unsub: bool) -> int:
    """Requests to read a list of `members` (counted) whole: its contacts' pages; for an unsubscribe, the
    count and pages of its unsubscribed members too (at most as many)."""
    return 2 * pages(members) + 1 if unsub else pages(members)


def rest_reads(rest: int, members: int, unsub: bool) -> Rest:
    """How to read `rest` contacts (two or more, the list counted: `members`): look each up, or read the
    list whole, whichever takes fewer requests (look-ups on a tie: they are exact one by one)."""
    return "list" if whole_list_cost(members, unsub) < rest else "lookups"


def unsub_listing(wanted: int, unsubscribed: int) -> bool:
    """Whether an unsubscribe of `wanted` contacts whose IDs are known is read from the list's
    unsubscribed members (`unsubscribed`, counted: their pages) rather than by one look-up each."""
    return pages(unsubscribed) < wanted


def newest_first(ids: Sequence[int], after: int | None) -> bool:
    """Whether a page's row `ids` come newest first, below the last ID of the page before (`after`):
    a listing that does not honour `Sort=ID DESC` is noticed and not trusted to be the newest."""
    bound = after
    for current in ids:
        if bound is not None and current >= bound:
            return False
        bound = current
    return True


def read_on(wanted: int, found: int, hits: int, rows: int, ordered: bool) -> bool:
    """Whether the newest pages of a list are read on after one that held `rows` rows (a full page or
    not), `hits` of them contacts sought, `found` of the `wanted` found so far, in order (`newest_first`):
    not once all are found, at the list's end, out of order, or after a page that found none (the list
    does not show the batch yet, or others' changes came after it: what is missing is read otherwise)."""
    return found < wanted and rows >= PAGE_SIZE_MAX and ordered and hits > 0
