"""The budget of pages every read of a run shares (sources/mailjet/lanes.py): never more than its pages
held at once (one more for the read whose consumer waits on it), and never a read starved while its
consumer waits on it, however many pages other reads hold."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from sources.mailjet.lanes import PageBudget

pytestmark = pytest.mark.unit


@dataclass
class Read:
    held: int = 0
    waiting: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)


def test_pages_held_stop_at_the_budget() -> None:
    budget, read = PageBudget(3), Read()
    assert all(budget.acquire(read) for _ in range(3))
    assert budget.held == 3
    read.cancelled.set()  # a fourth page waits; a cancelled read stops waiting
    assert not budget.acquire(read)
    assert budget.held == 3
    budget.release(read, 3)
    assert budget.held == read.held == 0


def test_a_read_its_consumer_waits_on_gets_a_page_beyond_the_budget() -> None:
    budget, full, starved = PageBudget(2), Read(), Read()
    assert budget.acquire(full) and budget.acquire(full)  # queued pages the consumer does not take yet
    got = threading.Event()

    def lane() -> None:
        if budget.acquire(starved):
            got.set()

    thread = threading.Thread(target=lane, daemon=True)
    thread.start()
    assert not got.wait(0.3)  # over budget, and nobody waits on this read
    budget.waiting(starved, True)  # its consumer now waits for it: it may take one page
    assert got.wait(5)
    assert (budget.held, starved.held) == (3, 1)
    starved.cancelled.set()
    assert not budget.acquire(starved)  # not a second one
    thread.join(5)


def test_the_read_being_consumed_takes_its_spare_pages_and_no_more() -> None:
    budget, queued, consumed = PageBudget(2, spare=2), Read(), Read()
    assert budget.acquire(queued) and budget.acquire(queued)
    budget.waiting(consumed, True)
    assert budget.acquire(consumed) and budget.acquire(consumed)  # its spare pages
    assert budget.held == 4
    consumed.cancelled.set()
    assert not budget.acquire(consumed)  # beyond budget and spare, holding some already
