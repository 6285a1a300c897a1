"""The Mailjet source's resource factories: full-refresh listings, incremental time-windowed logs, and the
transformers derived from another resource's pages; `mailjet_source` in `__init__.py` declares them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dlt
from dlt.extract.resource import DltResource

from sources.mailjet import schema, settings
from sources.mailjet.paging import Listing, PageReader, ReadOutcome
from sources.mailjet.windows import Window, split_windows, start_of_history

if TYPE_CHECKING:  # imported when a page is converted (schema.py)
    import pyarrow as pa

# dlt names a resource's configuration section after its module, unless the module sets
# `__source_name__`: the resources keep the source's section, `mailjet`.
__source_name__ = "mailjet"

# The source's lines are logged under the package's name, one logger for the whole source.
log = logging.getLogger("sources.mailjet")
# (resource name, rows fetched, rows expected): the CLI's progress lines.
ProgressCallback = Callable[[str, int, int], None]
# (resource name, how the read went): a full-refresh listing was read to its end.
ListedCallback = Callable[[str, ReadOutcome], None]


def endpoint_path(table: schema.Table) -> str:
    """The v3 REST path of the endpoint a table is read from."""
    return f"{settings.REST_PREFIX}/{settings.ENDPOINTS[table.name]}"


def edges(lo: int, hi: int) -> dict[str, int]:
    """The filters of the window [lo, hi] (seconds, both ends included), one second wider on each side:
    the reference says "after FromTS" and "before ToTS", and a widely used reader takes FromTS as
    exclusive, so the window holds [lo, hi] whichever way Mailjet reads its edges. Read inclusively,
    neighbouring windows share a second or two: the merge on the table's key keeps one row. Costs no
    request. (FromTS=0 would mean "today": the lowest is 1, all history.)"""
    return {"FromTS": max(1, lo - 1), "ToTS": hi + 1}


def _tell(progress: ProgressCallback | None, name: str, done: int, expected: int) -> None:
    """Report progress, when someone listens."""
    if progress is not None:
        progress(name, done, expected)


def full_refresh(
    reader: PageReader,
    table: schema.Table,
    sort: str,
    *,
    extracted_at: datetime,
    params: Mapping[str, Any] | None = None,
    transform: schema.Transform | None = None,
    progress: ProgressCallback | None = None,
    listed: ListedCallback | None = None,
) -> DltResource:
    """A resource that reads the whole listing and replaces the table with it; when the listing was
    not read whole, it merges on the table's key instead (nothing is removed that run)."""
    path = endpoint_path(table)
    query = {**(params or {}), "Sort": sort}

    def rows() -> Iterator[Any]:
        total = reader.count(path, query)
        log.info("%s: %s rows counted at %s; reading the whole listing", table.name, f"{total:,}", path)
        _tell(progress, table.name, 0, total)
        outcomes: list[ReadOutcome] = []
        yield from reader.read(
            [Listing(path, query, total, overlap=True)],
            lambda page: table.to_arrow(transform(page) if transform else page, extracted_at),
            lambda n: _tell(progress, table.name, n, 0),
            outcomes.append,
        )
        outcome = outcomes[0]
        if not outcome.whole:
            # dlt takes the table's hints as they stand at the end of the run's data: merge it.
            yield dlt.mark.with_hints([], dlt.mark.make_hints(write_disposition="merge"))
        if listed is not None:
            listed(table.name, outcome)

    return table.resource(rows, "replace")


def incremental(
    reader: PageReader,
    table: schema.Table,
    sort: str | None,
    *,
    extracted_at: datetime,
    lag_seconds: int,
    window_rows: int,
    params: Mapping[str, Any] | None = None,
    path: str | None = None,
    count_path: str | None = None,
    horizon: int = 0,
    refresh: int = 0,
    progress: ProgressCallback | None = None,
) -> DltResource:
    """A resource read in time windows from its cursor (minus the lag) to now, merged on its key.
    Without a cursor it backfills the whole history: as one window when it fits in one, else from
    the oldest row, found with one sorted call (or from the start of time when the endpoint cannot
    sort). Windows are halved until each holds at most `window_rows` rows, so offsets stay shallow
    and every window's pages can be read in parallel.
    With a `horizon` (seconds), a run with a cursor starts that much earlier: rows older than the
    cursor are read and passed over (dlt's incremental keeps only those from the cursor on), but an
    event Mailjet lists under its message's send time arrives.
    With a `refresh` (seconds), a run with a cursor starts that much earlier and keeps those rows: it is
    added to dlt's lag, so dlt's incremental starts that much before the cursor too, and a row that
    changed since it was read (a message's status) replaces the old one in the merge. dlt never moves
    the cursor back for a lag (it keeps the greater of the stored cursor and the rows' newest)."""
    assert table.cursor is not None
    where = path or endpoint_path(table)
    base = {**(params or {}), **({"Sort": sort} if sort else {})}

    def rows(
        # dlt binds the cursor through this default; it is dlt's documented incremental pattern.
        cursor: dlt.sources.incremental[datetime] = dlt.sources.incremental(  # noqa: B008
            table.cursor, lag=lag_seconds + refresh, range_start="closed"
        ),
    ) -> Iterator[pa.Table]:
        end = int(datetime.now(UTC).timestamp())
        start = None if cursor.start_value is None else int(cursor.start_value.timestamp())
        windows = plan_windows(reader, table, where, base, count_path, start, end, horizon, window_rows)
        counted = sum(rows for _, _, rows in windows)
        since = "all history" if start is None else "the cursor, minus the lag"
        if start is not None and (horizon or refresh):
            since += f" and {(horizon or refresh) / 86400:g} days (event_horizon_days)"
        log.info(
            "%s: %s rows at %s, from %s, in %d window(s)",
            table.name,
            f"{counted:,}",
            where,
            since,
            len(windows),
        )
        _tell(progress, table.name, 0, counted)
        yield from reader.read(
            [Listing(where, {**base, **edges(lo, hi)}, rows) for lo, hi, rows in windows],
            lambda page: table.to_arrow(page, extracted_at),
            lambda n: _tell(progress, table.name, n, 0),
        )

    return table.resource(rows)


def plan_windows(
    reader: PageReader,
    table: schema.Table,
    path: str,
    base: Mapping[str, Any],
    count_path: str | None,
    start: int | None,
    end: int,
    horizon: int,
    window_rows: int,
) -> list[Window]:
    """The time windows a run reads up to `end`: from `start` (the cursor, Unix seconds) less the
    horizon, or over all history when there is no cursor yet (`start` None)."""

    def count(spans: list[tuple[int, int]]) -> list[int]:
        return reader.counts(path, [{**base, **edges(lo, hi)} for lo, hi in spans], count_path)

    if start is not None:
        return split_windows(count, max(1, start - horizon), end, window_rows)
    # A first run: one count of all history. A history that fits in one window is read as it is (its
    # listing costs that count and its pages); a larger one starts its windows at the oldest row,
    # rather than halving its way there from 1970.
    whole = count([(1, end)])[0]
    if whole <= window_rows:
        return [(1, end, whole)] if whole else []
    oldest = start_of_history(reader, path, base, table, end)
    return [] if oldest is None else split_windows(count, oldest, end, window_rows)


def contacts_listed(page: Any) -> Iterator[pa.Table]:
    """A `contacts` page as `contacts_listed` rows: IDs and MD5s of the emails."""
    import pyarrow as pa

    if isinstance(page, pa.Table):  # not the end-of-listing hint
        emails = page.column("email").to_pylist()
        hashed = pa.array([schema.email_md5(e) if e else None for e in emails], pa.string())
        stamp = schema.EXTRACTED_AT_COLUMN
        table = pa.table({"id": page.column("id"), "email_md5": hashed, stamp: page.column(stamp)})
        yield table.drop_null().cast(schema.CONTACTS_LISTED.arrow_schema())


def memberships_listed(page: Any) -> Iterator[pa.Table]:
    """A `list_recipients` page as `memberships_listed` rows."""
    import pyarrow as pa

    if isinstance(page, pa.Table):
        target = schema.MEMBERSHIPS_LISTED.arrow_schema()
        yield page.select(target.names).drop_null().cast(target)


def listed_resource(
    table: schema.Table, parent: DltResource, make: Callable[[Any], Iterator[pa.Table]]
) -> DltResource:
    """A transformer of `parent`'s pages into `table`, merged on its key (nothing is ever deleted)."""

    # An inner function: dlt registers a module-level one as a standalone source of its own.
    def rows(page: Any) -> Iterator[pa.Table]:
        yield from make(page)

    return dlt.transformer(
        rows,
        data_from=parent,
        name=table.name,
        primary_key=list(table.primary_key),
        write_disposition="merge",
        columns=table.column_hints(),
    )
