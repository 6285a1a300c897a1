"""Reading whole Mailjet listings fast: count once, then fetch the Offset pages in parallel lanes.

A listing of N rows costs 1 + ceil(N / page_size) calls. `Count`/`Total` are page sizes in Mailjet's
envelope, so the total comes from a `countOnly=1` call; the pages are then split into lanes: lane k of
n reads offsets k, k+n, k+2n... pages through dlt's RESTClient.paginate with a strided RangePaginator,
and stops at the counted total or on a short page. Lanes run on a bounded thread pool and hand pages to
the consumer through a bounded queue, so memory stays flat however large the account."""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import requests
from dlt.sources.helpers.rest_client.paginators import RangePaginator

from sources.mailjet.client import MailjetHttp, classify
from sources.mailjet.exceptions import MailjetError
from sources.mailjet.schema import Table

T = TypeVar("T")
log = logging.getLogger(__name__)
Progress = Callable[[int], None]
_DONE = object()


class OffsetLane(RangePaginator):
    """dlt's range paginator over `Offset`, starting at one page and striding over the other lanes'.
    It stops at the counted total, or early on a short or empty page (rows deleted meanwhile)."""

    def __init__(self, first_offset: int, stride: int, total: int, page_size: int) -> None:
        self.page_size = page_size
        super().__init__(
            param_name="Offset",
            initial_value=first_offset,
            value_step=stride,
            maximum_value=total,
            total_path=None,
            stop_after_empty_page=True,
        )

    def _stop_after_this_page(self, data: list[Any] | None = None) -> bool:
        return not data or len(data) < self.page_size


@dataclass(frozen=True)
class Listing:
    """One listing to read in full: a path, its filters, and the row count `countOnly` gave."""

    path: str
    params: Mapping[str, Any]
    total: int


Window = tuple[int, int, int]  # FromTS, ToTS (Unix seconds, both inclusive), rows in it


def split_windows(
    count: Callable[[list[tuple[int, int]]], list[int]], start: int, end: int, max_rows: int
) -> list[Window]:
    """[start, end] cut into time windows of at most `max_rows` rows each, by halving any window that
    holds more (`count` gives the rows of several windows at once). Empty windows are dropped; a single
    second holding more than `max_rows` rows stays one window."""
    done: list[Window] = []
    pending = [(start, end)]
    while pending:
        halves: list[tuple[int, int]] = []
        for (lo, hi), rows in zip(pending, count(pending), strict=True):
            if rows == 0:
                continue
            if rows <= max_rows or lo == hi:
                done.append((lo, hi, rows))
            else:
                mid = (lo + hi) // 2
                halves += [(lo, mid), (mid + 1, hi)]
        pending = halves
    return sorted(done)


class PageReader:
    """Reads listings of one account with bounded concurrency."""

    def __init__(self, http: MailjetHttp, page_size: int, concurrency: int) -> None:
        self.http = http
        self.page_size = page_size
        self.concurrency = max(1, concurrency)

    def count(self, path: str, params: Mapping[str, Any], count_path: str | None = None) -> int:
        """Rows matching `params`: `countOnly=1` on v3 (`Total`), or a v4 `/count` path (`Count`)."""
        if count_path is not None:
            return int(self.http.get_json(count_path, params)["Count"])
        return int(self.http.get_json(path, {**params, "countOnly": 1})["Total"])

    def counts(self, path: str, windows: list[Mapping[str, Any]], count_path: str | None = None) -> list[int]:
        """`count` for several filter sets, in parallel."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="mailjet-count") as pool:
            return list(pool.map(lambda p: self.count(path, p, count_path), windows))

    def first(self, path: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a listing (one call)."""
        rows = self.http.get_json(path, {**params, "Limit": 1})["Data"]
        return rows[0] if rows else None

    def read(
        self,
        listings: list[Listing],
        convert: Callable[[list[dict[str, Any]]], T],
        progress: Progress | None = None,
    ) -> Iterator[T]:
        """Every page of every listing, converted in the worker threads, in completion order."""
        lanes: list[tuple[int, int, int]] = []  # (listing, lane, lanes of that listing)
        for i, listing in enumerate(listings):
            pages = math.ceil(listing.total / self.page_size)
            n = min(self.concurrency, pages)
            lanes.extend((i, k, n) for k in range(n))
        if not lanes:
            return
        out: queue.Queue[Any] = queue.Queue(maxsize=self.concurrency * 2)
        cancelled = threading.Event()
        fetched = [0] * len(listings)
        tally = threading.Lock()

        def put(item: Any) -> bool:
            while not cancelled.is_set():
                try:
                    out.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def run_lane(i: int, k: int, n: int) -> None:
            listing = listings[i]
            paginator = OffsetLane(k * self.page_size, n * self.page_size, listing.total, self.page_size)
            params = {**listing.params, "Limit": self.page_size}
            try:
                for page in self.http.rest().paginate(listing.path, params=params, paginator=paginator):
                    if cancelled.is_set() or not put(convert(list(page))):
                        return
                    with tally:
                        fetched[i] += len(page)
                    if progress is not None:
                        progress(len(page))
            except requests.RequestException as exc:
                put(classify(exc, listing.path))
            except (MailjetError, ValueError) as exc:
                put(exc)
            finally:
                put(_DONE)

        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="mailjet-lane")
        try:
            for lane in lanes:
                pool.submit(run_lane, *lane)
            finished = 0
            while finished < len(lanes):
                item = out.get()
                if item is _DONE:
                    finished += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            cancelled.set()
            pool.shutdown(wait=True, cancel_futures=True)
        for listing, rows in zip(listings, fetched, strict=True):
            if rows < listing.total:
                log.warning(
                    "%s %s: read %d of the %d rows Mailjet counted; rows deleted while the listing was "
                    "read come back on the next run, otherwise the API answered pages shorter than Limit",
                    listing.path,
                    {k: v for k, v in listing.params.items() if k in ("FromTS", "ToTS")},
                    rows,
                    listing.total,
                )


def start_of_history(
    reader: PageReader,
    path: str,
    params: Mapping[str, Any],
    table: Table,
    end: int,
    cursor_start: datetime | None,
) -> int | None:
    """Unix second to read from: the cursor's (lag applied by dlt), else the oldest row's (one call,
    sorted by `params`' Sort), else None when there is no row at all. Without a Sort (the v4 SMS API)
    history starts at 1. `FromTS=1` asks for all history; absent or 0 means today only."""
    if cursor_start is not None:
        return max(1, int(cursor_start.timestamp()))
    if "Sort" not in params:
        return 1
    oldest = reader.first(path, {**params, "FromTS": 1, "ToTS": end})
    if oldest is None:
        return None
    column = next(c for c in table.columns if c.name == table.cursor)
    stamp = str(column.read(oldest))
    return max(1, int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()))
