"""The threads that read Mailjet's pages, and the budget of pages they share: daemon threads over a queue of
tasks (`start_daemons`), and `PageBudget`, the pages in flight or queued over every read of a run."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from dlt.common.runtime import signals

T = TypeVar("T")
POLL_SECONDS = 0.2  # how often a waiting reader checks for a signal
# A run's budget of pages, per lane of a read (bench/extract.py, 100,000 contacts, 50 ms latency, 20
# calls/s): 2 per lane (8 pages) slowed the fetch from 29 to 41 s (dlt takes the reads' pages in turn, so
# pages queued for the other listings hold the budget); 6 (24) fetched in 30 s, its peak RSS no higher.
PAGES_PER_LANE = 6


class Holder(Protocol):
    """A read that takes pages of a budget: what it holds, whether its consumer waits for it, and
    whether it was cancelled (guarded by the budget's lock)."""

    held: int
    waiting: bool
    cancelled: threading.Event


def start_daemons(
    work: Callable[[T], None],
    tasks: Iterable[T],
    workers: int,
    name: str,
    cancelled: threading.Event | None = None,
) -> list[threading.Thread]:
    """Run `work` over `tasks` on `workers` daemon threads and return them. Daemon threads, unlike a
    ThreadPoolExecutor's, never hold up the exit of an interrupted process waiting for a request."""
    pending: queue.SimpleQueue[T] = queue.SimpleQueue()
    for task in tasks:
        pending.put(task)

    def loop() -> None:
        while not (cancelled is not None and cancelled.is_set()) and not signals.was_signal_received():
            try:
                task = pending.get_nowait()
            except queue.Empty:
                return
            work(task)

    threads = [threading.Thread(target=loop, name=f"{name}-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    return threads


def run_in_daemons(work: Callable[[T], None], tasks: Iterable[T], workers: int, name: str) -> None:
    """`start_daemons` and wait for them, watching for a signal while waiting."""
    threads = start_daemons(work, tasks, workers, name)
    for thread in threads:
        while thread.is_alive():
            thread.join(POLL_SECONDS)
            signals.raise_if_signalled()


class PageBudget:
    """The pages a reader may hold at once, over all its reads: a page counts from its request until the
    consumer takes it. dlt's extract consumes the reads one at a time, in turn, so the read its consumer
    waits on may go `spare` pages beyond the budget (its lanes keep their requests going while pages queued
    for the other listings hold the budget), and one more when it holds none (never stuck behind them): at
    most `pages` + `spare` + 1 pages are held."""

    def __init__(self, pages: int, spare: int = 0) -> None:
        self.pages = max(1, pages)
        self.spare = max(0, spare)
        self.held = 0
        self.changed = threading.Condition()

    def _may_take(self, read: Holder) -> bool:
        if self.held < self.pages:
            return True
        return read.waiting and (self.held < self.pages + self.spare or read.held == 0)

    def acquire(self, read: Holder) -> bool:
        """Wait for a page of budget for `read`; False once the read was cancelled (or a signal came)."""
        with self.changed:
            while not self._may_take(read):
                if read.cancelled.is_set() or signals.was_signal_received():
                    return False
                self.changed.wait(POLL_SECONDS)
            self.held += 1
            read.held += 1
            return True

    def release(self, read: Holder, pages: int = 1) -> None:
        """`pages` of `read` taken by its consumer (or never queued)."""
        with self.changed:
            self.held -= pages
            read.held -= pages
            self.changed.notify_all()

    def waiting(self, read: Holder, waits: bool) -> None:
        """Whether the consumer of `read` waits for its next page."""
        with self.changed:
            read.waiting = waits
            if waits:
                self.changed.notify_all()
