"""Reading whole Mailjet listings fast: count once, then fetch the Offset pages in parallel lanes.

A listing of N rows costs 1 + ceil(N / page_size) calls. `Count`/`Total` are page sizes in Mailjet's
envelope, so the total comes from a `countOnly=1` call; the pages are then split into lanes: lane k of
n reads offsets k, k+n, k+2n... pages through dlt's RESTClient.paginate with a strided RangePaginator,
and stops at the counted total or on an empty page (a page shorter than `Limit` is completed, not taken
for the end: the count is trusted, not page lengths). Lanes run on a bounded thread pool and hand pages to
the consumer through a bounded queue; every read of one reader (all the listings of a run, read at once by
dlt) shares one budget of pages in flight or queued (`PageBudget`), so memory stays flat however large the
account and however many listings are read together."""

from __future__ import annotations

import itertools
import logging
import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import requests
from dlt.common.runtime import signals
from dlt.sources.helpers.rest_client.paginators import RangePaginator

from sources.mailjet import settings
from sources.mailjet.client import MailjetHttp, classify
from sources.mailjet.exceptions import MailjetBadRequest, MailjetError
from sources.mailjet.lanes import PAGES_PER_LANE, POLL_SECONDS, PageBudget, run_in_daemons, start_daemons

T = TypeVar("T")
log = logging.getLogger(__name__)
Progress = Callable[[int], None]
_DONE = object()


class OffsetLane(RangePaginator):
    """dlt's range paginator over `Offset`, starting at one page and striding over the other lanes'.
    It stops at the counted total, or early on an empty page (rows deleted meanwhile). A short page does
    not stop it: the count is trusted, not the page's length (an API may answer fewer rows than `Limit`
    asks for; the lane then reads the rest of its page's range, see `PageReader.read`)."""

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
        return not data


@dataclass(frozen=True)
class Listing:
    """One listing to read in full: a path, its filters, and the row count `countOnly` gave. With
    `overlap`, each page starts on the last row of the page before (a page holds one new row fewer): a
    row deleted in Mailjet while the listing is read shifts the later pages, and the first row of a
    shifted page then differs from the last row of the page before, so the reader knows the listing may
    have missed a row. Removing rows Mailjet no longer has relies on that."""

    path: str
    params: Mapping[str, Any]
    total: int
    overlap: bool = False

    def key(self) -> str:
        """The field the listing is sorted on (each row's place in it)."""
        return str(self.params.get("Sort", "ID")).split()[0]


@dataclass(frozen=True)
class ReadOutcome:
    """How a whole read went: rows read, rows Mailjet counted, and whether overlapping pages met."""

    read: int
    counted: int
    pages_met: bool

    @property
    def whole(self) -> bool:
        """Whether the read can stand for the whole listing: every counted row read, pages unshifted."""
        return self.read >= self.counted and self.pages_met


def page_count(total: int, page_size: int, step: int) -> int:
    """Pages covering `total` rows when each page after the first advances `step` rows."""
    if total <= 0:
        return 0
    return 1 + math.ceil(max(total - page_size, 0) / step)


class PageReader:
    """Reads listings of one account with bounded concurrency: `concurrency` lanes per read, and pages in
    flight or queued over all reads at once bounded by `budget` (default: PAGES_PER_LANE times
    `concurrency`, and `concurrency` more for the read being consumed)."""

    def __init__(
        self, http: MailjetHttp, page_size: int, concurrency: int, budget: PageBudget | None = None
    ) -> None:
        self.http = http
        self.page_size = page_size
        self.concurrency = max(1, concurrency)
        self.budget = budget or PageBudget(PAGES_PER_LANE * self.concurrency, spare=self.concurrency)
        self.unsorted: set[str] = set()  # paths whose Sort Mailjet refused: read in its default order

    def filters(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """`params` as this path takes them (without a Sort it refused)."""
        return {k: v for k, v in params.items() if not (k == "Sort" and path in self.unsorted)}

    def get(self, path: str, params: Mapping[str, Any]) -> Any:
        """One GET; a `Sort` Mailjet refuses (a field it does not sort on: several are undocumented) is
        dropped for this path from then on, and the call made again in Mailjet's default order."""
        try:
            return self.http.get_json(path, self.filters(path, params))
        except MailjetBadRequest as exc:
            if "Sort" not in params or path in self.unsorted or "sort" not in str(exc).lower():
                raise
            log.warning(
                "%s refused Sort=%s (%s); reading it in Mailjet's default order", path, params["Sort"], exc
            )
            self.unsorted.add(path)
            return self.http.get_json(path, self.filters(path, params))

    def count(self, path: str, params: Mapping[str, Any], count_path: str | None = None) -> int:
        """Rows matching `params`: `countOnly=1` on v3 (`Total`), or a v4 `/count` path (`Count`)."""
        if count_path is not None:
            return int(self.http.get_json(count_path, params)["Count"])
        answer = self.get(path, {**params, "countOnly": 1})
        if answer.get("Data"):
            # countOnly was ignored (undocumented on some resources): `Total` is this page's size, not
            # the listing's. Count by reading pages to the first short one (costs that many calls).
            return self._count_by_paging(path, params)
        return int(answer["Total"])

    def _count_by_paging(self, path: str, params: Mapping[str, Any]) -> int:
        total = 0
        while True:
            rows = self.get(path, {**params, "Limit": self.page_size, "Offset": total})["Data"]
            total += len(rows)
            if len(rows) < self.page_size:
                return total

    def counts(self, path: str, windows: list[Mapping[str, Any]], count_path: str | None = None) -> list[int]:
        """`count` for several filter sets, in parallel."""
        results: list[int | BaseException] = [0] * len(windows)

        def count_one(i: int) -> None:
            try:
                results[i] = self.count(path, windows[i], count_path)
            except (MailjetError, ValueError, KeyError, TypeError) as exc:
                results[i] = exc

        run_in_daemons(count_one, range(len(windows)), self.concurrency, "mailjet-count")
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [int(r) for r in results]  # type: ignore[arg-type]  # exceptions raised above

    def _rest_of_page(
        self,
        listing: Listing,
        params: Mapping[str, Any],
        offset: int,
        rows: list[dict[str, Any]],
        key: str | None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """The page at `offset`, whole, and whether its parts met: when the API answered fewer rows than
        `Limit` and the count says more lie in the page's range, the rest is read from where the answer
        ended (an API that caps its pages below `Limit`, like the v4 SMS listing's 21, costs one call per
        capped part, no row). With a sort `key` (an overlapping listing), each part starts on the last
        row already read, which must come first again: else rows shifted in between, as between pages."""
        wanted = min(self.page_size, listing.total - offset)
        met = True
        while rows and len(rows) < wanted:
            start = offset + len(rows) - (1 if key is not None else 0)
            more = self.get(listing.path, {**params, "Offset": start})["Data"]
            if key is not None and more:
                met = met and more[0].get(key) == rows[-1].get(key)
                more = more[1:]
            if not more:
                break  # rows deleted while the listing was read: the listing ends sooner
            rows.extend(more[: wanted - len(rows)])
        return rows, met

    def first(self, path: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a listing (one call)."""
        rows = self.get(path, {**params, "Limit": 1})["Data"]
        return rows[0] if rows else None

    def rows(self, resource: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row of one v3 REST listing (`resource`, e.g. "listrecipient"), as Mailjet states it: counted,
        then read in pages of `page_size`, in parallel. The one pager of every listing read, the sync's
        included."""
        path = f"{settings.REST_PREFIX}/{resource}"
        query = dict(params or {})
        total = self.count(path, query)
        found: list[dict[str, Any]] = []
        for page in self.read([Listing(path, query, total)], lambda page: page):
            found.extend(page)
        return found

    def read(
        self,
        listings: list[Listing],
        convert: Callable[[list[dict[str, Any]]], T],
        progress: Progress | None = None,
        complete: Callable[[ReadOutcome], None] | None = None,
    ) -> Iterator[T]:
        """Every page of every listing, converted in the worker threads, in completion order. Once every
        page was read, `complete` is told how the read went."""
        run = _Read(self, listings, convert, progress)
        if run.lanes:
            yield from run.pages()
        if complete is not None:
            complete(run.outcome())
        run.warn_if_short()


class _Read(Generic[T]):
    """One `PageReader.read`: its lanes (each reads every n-th page of one listing), the queue the lanes
    hand converted pages to, and what they found (rows per listing, overlapping pages' edges)."""

    def __init__(
        self,
        reader: PageReader,
        listings: list[Listing],
        convert: Callable[[list[dict[str, Any]]], T],
        progress: Progress | None,
    ) -> None:
        self.reader, self.listings, self.convert, self.progress = reader, listings, convert, progress
        self.lanes: list[tuple[int, int, int, int]] = []  # (listing, lane, lanes of that listing, step)
        self.page_counts: list[int] = []
        size = reader.page_size
        for i, listing in enumerate(listings):
            step = size - 1 if listing.overlap and size > 1 else size
            self.page_counts.append(page_count(listing.total, size, step))
            n = min(reader.concurrency, self.page_counts[-1])
            self.lanes.extend((i, k, n, step) for k in range(n))
        self.out: queue.Queue[Any] = queue.Queue(maxsize=reader.concurrency * 2)
        self.cancelled = threading.Event()
        self.fetched = [0] * len(listings)
        # (listing, page) -> the sort keys of the page's first and last rows, for overlapping listings
        self.bounds: dict[tuple[int, int], tuple[Any, Any]] = {}
        self.torn: set[int] = set()  # listings a page of which was read in parts that did not meet
        self.tally = threading.Lock()
        self.budget = reader.budget
        self.held = 0  # pages of the budget this read holds (guarded by the budget's lock)
        self.waiting = False  # whether the consumer waits for this read's next page (idem)

    def put(self, item: Any) -> bool:
        """Hand `item` to the consumer; False once the read was cancelled."""
        while not self.cancelled.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run_lane(self, i: int, k: int, n: int, step: int) -> None:
        """Read pages k, k + n, k + 2n, ... of listing `i`, each `step` rows after the one before."""
        listing, size = self.listings[i], self.reader.page_size
        overlap = step < size
        # An overlapping page is needed while it brings a row past the one it shares.
        last = listing.total - 1 if overlap else listing.total
        paginator = OffsetLane(k * step, n * step, last, size)
        params = {**self.reader.filters(listing.path, listing.params), "Limit": size}
        key = listing.key() if overlap else None
        holding = False
        try:
            pages = iter(self.reader.http.rest().paginate(listing.path, params=params, paginator=paginator))
            for m in itertools.count():
                if not self.budget.acquire(self):  # a page of the budget, before its request
                    return
                holding = True
                page = next(pages, None)
                if page is None:
                    return
                number = k + m * n
                rows = self._page(i, number, listing, params, number * step, list(page), key)
                if self.cancelled.is_set() or signals.was_signal_received():
                    return
                if rows:
                    if not self.put(self.convert(rows)):
                        return
                    holding = False  # the consumer releases it as it takes the page
                else:
                    self.budget.release(self)
                    holding = False
                with self.tally:
                    self.fetched[i] += len(rows)
                if self.progress is not None:
                    self.progress(len(rows))
        except requests.RequestException as exc:
            self.put(classify(exc, listing.path))
        except Exception as exc:  # noqa: BLE001  # handed to the consumer, which raises it
            self.put(exc)
        finally:
            if holding:
                self.budget.release(self)
            self.put(_DONE)

    def _page(
        self,
        i: int,
        number: int,
        listing: Listing,
        params: Mapping[str, Any],
        offset: int,
        rows: list[dict[str, Any]],
        key: str | None,
    ) -> list[dict[str, Any]]:
        """Page `number` of listing `i` made whole, its edges noted; without the row it shares with the
        page before (an overlapping listing)."""
        rows, joined = self.reader._rest_of_page(listing, params, offset, rows, key)
        if not joined:
            with self.tally:
                self.torn.add(i)
        if key is not None and rows:
            with self.tally:
                self.bounds[(i, number)] = (rows[0].get(key), rows[-1].get(key))
            if number:
                rows = rows[1:]  # the row the page before ended on
        return rows

    def pages(self) -> Iterator[T]:
        """The converted pages, as the lanes hand them over; a lane's error is raised here."""
        workers = start_daemons(
            lambda lane: self.run_lane(*lane),
            self.lanes,
            self.reader.concurrency,
            "mailjet-lane",
            self.cancelled,
        )
        try:
            finished = 0
            while finished < len(self.lanes):
                try:
                    item = self.out.get_nowait()
                except queue.Empty:
                    self.budget.waiting(self, True)
                    try:
                        item = self.out.get(timeout=POLL_SECONDS)
                    except queue.Empty:
                        signals.raise_if_signalled()
                        if not any(w.is_alive() for w in workers) and self.out.empty():
                            raise MailjetError("page readers stopped without finishing") from None
                        continue
                    finally:
                        self.budget.waiting(self, False)
                if item is _DONE:
                    finished += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    self.budget.release(self)
                    yield item
        finally:
            # Lanes are daemon threads: a lane stuck in a request never holds up an interrupted run's
            # exit; each one stops at its next page.
            self.cancelled.set()
            self._give_back()

    def _give_back(self) -> None:
        """The budget held by pages left in the queue of a read that stopped early."""
        while True:
            try:
                item = self.out.get_nowait()
            except queue.Empty:
                return
            if item is not _DONE and not isinstance(item, BaseException):
                self.budget.release(self)

    def outcome(self) -> ReadOutcome:
        """Rows read, rows counted, and whether every overlapping page began where the one before ended."""
        met = not self.torn and all(
            self.bounds.get((i, j), (None, None))[0] == self.bounds.get((i, j - 1), (None, None))[1]
            for i, listing in enumerate(self.listings)
            if listing.overlap
            for j in range(1, self.page_counts[i])
        )
        return ReadOutcome(sum(self.fetched), sum(listing.total for listing in self.listings), met)

    def warn_if_short(self) -> None:
        for listing, rows in zip(self.listings, self.fetched, strict=True):
            if rows < listing.total:
                log.warning(
                    "%s %s: read %d of the %d rows Mailjet counted; rows deleted while the listing was "
                    "read come back on the next run, otherwise the API answered pages shorter than Limit",
                    listing.path,
                    {k: v for k, v in listing.params.items() if k in ("FromTS", "ToTS")},
                    rows,
                    listing.total,
                )
